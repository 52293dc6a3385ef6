package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is a loopback net/http server that counts the
// connections it accepted.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func meWire(t *testing.T, url string) *Wire {
	t.Helper()
	w, err := NewWire("me", Options{BaseURL: url, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Answers of every shape net/http writes — a Content-Length, chunks with
// a trailer, none at all (204), a long one — read to their end on one
// kept-alive connection.
func TestConnReadsAnswers(t *testing.T) {
	long := strings.Repeat("z", 100_000)
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t" || r.Header.Get("Accept-Encoding") != "" {
			http.Error(w, "headers", http.StatusBadRequest)
			return
		}
		switch r.URL.Query().Get("k") {
		case "chunked":
			w.Header().Set("Trailer", "X-Sum")
			for i := range 5 {
				fmt.Fprintf(w, "part %d;", i)
				w.(http.Flusher).Flush()
			}
			w.Header().Set("X-Sum", "5")
		case "empty":
			w.WriteHeader(http.StatusNoContent)
		case "long":
			io.WriteString(w, long)
		default:
			io.WriteString(w, "{}\n")
		}
	})
	want := map[string]int64{"plain": 3, "chunked": int64(len("part 0;") * 5), "empty": 0, "long": int64(len(long))}
	for _, kind := range []string{"plain", "chunked", "empty", "long", "chunked", "plain", "long", "empty"} {
		w, err := targetWire(func(int64) (*http.Request, error) {
			req, err := http.NewRequest("GET", srv.URL+"/x?k="+kind, nil)
			req.Header.Set("Authorization", "Bearer t")
			return req, err
		})
		if err != nil {
			t.Fatal(err)
		}
		c := sharedConn(t, w)
		_, n, err := c.do(0)
		if err != nil || n != want[kind] {
			t.Errorf("%s: %d bytes, %v; want %d", kind, n, err, want[kind])
		}
	}
	if conns.Load() != 1 {
		t.Errorf("%d connections for 8 requests, want 1 (keep-alive)", conns.Load())
	}
}

// sharedConn is one conn kept across calls of a test, its Wire swapped.
var shared *conn

func sharedConn(t *testing.T, w *Wire) *conn {
	if shared == nil {
		shared = newConn(context.Background(), w, 5*time.Second)
		t.Cleanup(func() { shared.close(); shared = nil })
	}
	shared.wire = w
	return shared
}

// An answer other than 2xx is an error with the first 200 bytes of its
// body, read to its end: the connection carries the next request.
func TestConnStatusError(t *testing.T) {
	var n atomic.Int64
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			http.Error(w, "refused "+strings.Repeat("r", 5000), http.StatusForbidden)
			return
		}
		io.WriteString(w, "{}\n")
	})
	c := newConn(context.Background(), meWire(t, srv.URL), 5*time.Second)
	defer c.close()
	for i := range 6 {
		_, _, err := c.do(int64(i))
		if i%2 == 0 && err != nil {
			t.Errorf("request %d: %v", i, err)
		}
		if i%2 == 1 {
			if err == nil || !strings.HasPrefix(err.Error(), "GET /api/v1/me: status 403: refused rrr") || len(err.Error()) > 240 {
				t.Errorf("request %d: %v", i, err)
			}
		}
	}
	if conns.Load() != 1 {
		t.Errorf("%d connections, want 1", conns.Load())
	}
}

// Connection: close from the server: the answer is read and the next
// request goes on a new connection, without an error.
func TestConnServerCloses(t *testing.T) {
	var n atomic.Int64
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 == 0 {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, "{}\n")
	})
	c := newConn(context.Background(), meWire(t, srv.URL), 5*time.Second)
	defer c.close()
	for i := range 9 {
		if _, _, err := c.do(int64(i)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if got := conns.Load(); got != 3 {
		t.Errorf("%d connections for 9 requests with every third closed, want 3", got)
	}
}

// rawServer answers each connection with what answer returns for the
// requests read on it, then closes it when answer says so.
func rawServer(t *testing.T, answer func(conn, req int) (text string, close bool)) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var accepted atomic.Int64
	go func() {
		for k := 0; ; k++ {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				for r := 0; ; r++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					text, end := answer(k, r)
					io.WriteString(nc, text)
					if end {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String(), &accepted
}

// Answers net/http does not write: HTTP/1.0 ending with the connection,
// chunk extensions and a trailer, a 100 Continue before the answer, an
// idle connection the server closed (sent again on a new one), and broken
// answers, which are errors.
func TestConnRawAnswers(t *testing.T) {
	cases := []struct {
		name, answer string
		close        bool
		bytes        int64
		err          string
	}{
		{"http/1.0 until close", "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello, world", true, 12, ""},
		{"chunks", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n", false, 12, ""},
		{"continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok", false, 2, ""},
		{"idle closed", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true, 2, ""},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nok", true, 2, "unexpected EOF"},
		{"bad status line", "HTTP/1.1 2xx OK\r\n\r\n", true, 0, "malformed answer"},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", true, 0, "chunk size"},
		{"error until close", "HTTP/1.1 500 Oops\r\n\r\nbroken", true, 6, "status 500: broken"},
	}
	for _, tc := range cases {
		url, _ := rawServer(t, func(int, int) (string, bool) { return tc.answer, tc.close })
		c := newConn(context.Background(), meWire(t, url), 5*time.Second)
		for i := range 3 {
			_, n, err := c.do(int64(i))
			if n != tc.bytes || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("%s, request %d: %d bytes, %v; want %d, %q", tc.name, i, n, err, tc.bytes, tc.err)
			}
		}
		c.close()
	}
}

// A server that closes a kept-alive connection without answering, then
// a new one too: the request is sent again once only, and fails.
func TestConnRetriesOnce(t *testing.T) {
	url, accepted := rawServer(t, func(conn, req int) (string, bool) {
		if conn == 0 && req == 0 {
			return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false
		}
		return "", true
	})
	c := newConn(context.Background(), meWire(t, url), 5*time.Second)
	defer c.close()
	if _, _, err := c.do(0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.do(1); err == nil {
		t.Error("a request nobody answered succeeded")
	}
	if got := accepted.Load(); got != 2 {
		t.Errorf("%d connections, want 2 (one retry)", got)
	}
}

// A server that stalls: the request fails after the timeout, and the next
// one goes on a new connection; an ended context ends a request in
// flight at once.
func TestConnStall(t *testing.T) {
	var stall atomic.Bool
	release := make(chan struct{})
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if stall.Load() {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "{}\n")
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newConn(ctx, meWire(t, srv.URL), 200*time.Millisecond)
	defer c.close()
	stall.Store(true)
	start := time.Now()
	_, _, err := c.do(0)
	if took := time.Since(start); err == nil || !isTimeout(err) || took < 200*time.Millisecond || took > 2*time.Second {
		t.Errorf("stalled request: %v after %v; want a timeout after 200 ms", err, took)
	}
	stall.Store(false)
	if _, _, err := c.do(1); err != nil {
		t.Errorf("after the stall: %v", err)
	}
	if conns.Load() != 2 {
		t.Errorf("%d connections, want 2 (the stalled one closed)", conns.Load())
	}
	stall.Store(true)
	c.timeout = time.Minute
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	if _, _, err := c.do(2); err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled request: %v after %v", err, time.Since(start))
	}
}

// Time to first byte: the answer's head comes at once, its body 300 ms
// later (wide margins: the machine may be busy).
func TestConnFirstByte(t *testing.T) {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "{}\n")
	})
	c := newConn(context.Background(), meWire(t, srv.URL), 5*time.Second)
	defer c.close()
	start := time.Now()
	first, n, err := c.do(0)
	done := time.Since(start)
	if err != nil || n != 3 || first.Sub(start) > 250*time.Millisecond || done < 300*time.Millisecond {
		t.Errorf("first byte after %v, done after %v, %d bytes, %v", first.Sub(start), done, n, err)
	}
}

// The scenarios' bytes are HTTP net/http reads, with the headers it
// expects; the pages ask for gzip, the API calls do not.
func TestWireRequests(t *testing.T) {
	o := Options{BaseURL: "http://127.0.0.1:8080/base/", Token: "tok", Checkpoint: "2", PassTokens: []string{"a.b.c", "d.e.f.g"}, RunID: "r1",
		Enterprises: []string{"K1", "K2"}, Date: "2026-12-06", Rounds: []string{"5"}, Residents: []string{"ra", "rb"}, Batch: 2}
	for _, sc := range Scenarios {
		w, err := NewWire(sc, o)
		if err != nil {
			t.Fatal(err)
		}
		var b []byte
		for i := range int64(3) {
			if b, err = w.Append(b, i+999_999_999_998); err != nil {
				t.Fatal(err)
			}
		}
		br := bufio.NewReader(strings.NewReader(string(b)))
		for i := range 3 {
			req, err := http.ReadRequest(br)
			if err != nil {
				t.Fatalf("%s, request %d: %v in %q", sc, i, err, b)
			}
			body, err := io.ReadAll(req.Body)
			gzip := req.Header.Get("Accept-Encoding") == BrowserAcceptEncoding
			if err != nil || req.Host != "127.0.0.1:8080" || !strings.HasPrefix(req.URL.Path, "/base/") || req.Header.Get("Authorization") != "Bearer tok" ||
				gzip != strings.HasSuffix(sc, "-page") || (req.Method == "POST") != (len(body) > 0) || w.Addr != "127.0.0.1:8080" {
				t.Errorf("%s, request %d: %s %s host %q, %q, %v", sc, i, req.Method, req.URL, req.Host, body, err)
			}
			if sc == "scan" && !strings.Contains(string(body), fmt.Sprintf(`"client_id":"load-r1-%d"`, 999_999_999_998+i)) {
				t.Errorf("scan %d: %s", i, body)
			}
			if strings.HasPrefix(sc, "samples-") && !json.Valid(body) {
				t.Errorf("%s %d: %s", sc, i, body)
			}
		}
	}
	if _, err := NewWire("me", Options{BaseURL: "http://h", Token: "a\r\nX-Evil: 1"}); err == nil {
		t.Error("a token with a line break is taken")
	}
}
