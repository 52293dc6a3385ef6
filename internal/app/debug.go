package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// checkDebugAddr accepts an address for the debug listener: empty (off),
// or on the loopback interface only. Profiles show the program's inner
// workings, and a heap profile may hold fragments of the data it served,
// so they are never reachable from the network.
func checkDebugAddr(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageError(fmt.Sprintf("--debug-addr %q：须为 主机:端口", addr))
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usageError(fmt.Sprintf("--debug-addr %q：调试端口只能监听本机回环地址（127.0.0.1 或 [::1]）", addr))
	}
	return nil
}

// debugMux serves Go's profiler (net/http/pprof) under /debug/pprof/, on a
// mux of its own: nothing of it is on the public listener.
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// startDebug listens on addr (checked by checkDebugAddr) and serves the
// profiler until the function returned is called; an empty addr starts
// nothing.
func startDebug(addr string, log *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s (--debug-addr): %w", addr, err)
	}
	// No WriteTimeout: a CPU profile or trace streams for as many seconds
	// as it is asked for.
	hs := &http.Server{Handler: debugMux(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("debug listener failed", "err", err.Error())
		}
	}()
	log.Info("debug listener (pprof)", "addr", ln.Addr().String())
	return func() { hs.Close() }, nil
}
