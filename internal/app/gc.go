package app

import (
	"os"
	"runtime/debug"
)

// The collector's settings for serve, unless the environment gives its
// own (GOGC, GOMEMLIMIT, read by the runtime itself).
//
// A server under scan load allocates some 5 KB a request against a live
// heap of 30–50 MB. At Go's default (GOGC 100) the collector ran every
// 0.2 s and took 4–5 % of the core with its write barriers; at 400 it
// runs a fifth as often, for under 1 %, and the heap may grow to five
// times what is live (some 200 MB under load). The soft limit brings the
// collections back before the heap passes 512 MiB, whatever is live: an
// import of 100,000 rows, for instance, holds more for a while.
const (
	gcPercent   = 400
	memoryLimit = 512 << 20
)

// tuneCollector applies gcPercent and memoryLimit, each unless the
// process's environment (which the runtime read) sets it.
func tuneCollector() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryLimit)
	}
}
