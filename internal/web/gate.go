package web

import (
	"net/http"
	"strconv"

	"tongxin/internal/errs"
)

// MaxConcurrentImports is how many imports (file uploads of the API and
// the pages) one process runs at once.
const MaxConcurrentImports = 2

// ImportRetryAfter is the Retry-After, in seconds, of an import refused
// because MaxConcurrentImports are running.
const ImportRetryAfter = 10

// Gate bounds how many requests through it run at once in this process.
// A request beyond the bound is answered at once — 503, code
// "import_busy", with Retry-After — and never queued, so that a burst of
// uploads costs a bounded amount of memory. The slot is taken before the
// body is read (an upload holds it for at most the server's ReadTimeout
// while it arrives) and given back when the handler returns.
type Gate struct {
	slots chan struct{}
}

// NewGate returns a gate that lets n requests through at once.
func NewGate(n int) *Gate {
	return &Gate{slots: make(chan struct{}, max(n, 1))}
}

// H wraps h in the gate.
func (g *Gate) H(h Handler) Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		select {
		case g.slots <- struct{}{}:
		default:
			w.Header().Set("Retry-After", strconv.Itoa(ImportRetryAfter))
			return errs.Newf(errs.Unavailable, "import_busy",
				"服务器正在处理其他导入文件，请约 %d 秒后重试", ImportRetryAfter)
		}
		defer func() { <-g.slots }()
		return h(w, r)
	}
}

// InUse returns the number of requests running through the gate.
func (g *Gate) InUse() int { return len(g.slots) }
