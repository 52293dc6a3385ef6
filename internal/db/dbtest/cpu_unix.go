//go:build unix

package dbtest

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time the process has used so far, user and
// system: what a benchmark on SQLite costs with the database's work
// included, and on a shared machine steadier than the wall clock. Zero
// when the system does not say.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
