package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"time"
)

// Wire is a run's requests as the bytes sent: a scenario formats once
// what does not change between requests (request line, headers, most of
// a body) and Append adds request i's bytes to dst.
type Wire struct {
	Addr  string // host:port to connect to
	TLS   bool   // https
	Label string // method and path, for error texts ("GET /api/v1/me")
	// Append appends request i (0, 1, 2, …), a whole HTTP/1.1 request,
	// to dst.
	Append func(dst []byte, i int64) ([]byte, error)
	// Check, when set, reads the whole body of each 2xx answer to
	// request i; an error counts the request as failed (an answer the
	// server gave that the scenario does not accept: a sample not
	// created). The body is valid during the call only.
	Check func(i int64, body []byte) error
}

// Limits of what conn reads.
const (
	readBuffer   = 32 << 10 // a header line must fit in it
	excerptBytes = 200      // of a body answering other than 2xx
	maxHeaders   = 100
)

// conn is one worker's connection: HTTP/1.1 with keep-alive, one request
// at a time. It is made again when the server closes it (Connection:
// close, an answer ending with the connection) or after an error.
type conn struct {
	ctx     context.Context
	wire    *Wire
	timeout time.Duration

	c       net.Conn
	br      *bufio.Reader
	stop    func() bool // the context's AfterFunc of c
	req     []byte      // the request being sent
	excerpt []byte      // of a body answering other than 2xx
	got     bool        // a byte of the answer came on c
	i       int64       // the request being sent
	keeping bool        // the body goes whole into kept (Wire.Check)
	kept    []byte
}

func newConn(ctx context.Context, w *Wire, timeout time.Duration) *conn {
	return &conn{ctx: ctx, wire: w, timeout: timeout}
}

// done tells whether the context ended or its deadline passed (the
// connection's deadline, the same time, may fire before the context's).
func (c *conn) done() bool {
	if c.ctx.Err() != nil {
		return true
	}
	d, ok := c.ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// close closes the connection, if one is open.
func (c *conn) close() {
	if c.c == nil {
		return
	}
	c.stop()
	c.c.Close()
	c.c = nil
}

func (c *conn) dial() error {
	d := net.Dialer{Timeout: c.timeout}
	nc, err := d.DialContext(c.ctx, "tcp", c.wire.Addr)
	if err != nil {
		return err
	}
	if c.wire.TLS {
		host, _, _ := net.SplitHostPort(c.wire.Addr)
		tc := tls.Client(nc, &tls.Config{ServerName: host, NextProtos: []string{"http/1.1"}})
		ctx, cancel := context.WithTimeout(c.ctx, c.timeout)
		err = tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			nc.Close()
			return err
		}
		nc = tc
	}
	c.c = nc
	// A context ended (the open loop's drain time, an interrupt) ends
	// what is in flight on the connection.
	c.stop = context.AfterFunc(c.ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	if c.br == nil {
		c.br = bufio.NewReaderSize(nc, readBuffer)
	} else {
		c.br.Reset(nc)
	}
	return nil
}

// do sends request i and reads its whole answer. It returns when the first
// byte of the answer came, the bytes of the body and an error for a failed
// request or an answer other than 2xx. A request on a kept-alive
// connection that the server closed before answering (it may close an
// idle one at any time) is sent once more on a new connection, as
// net/http does for requests it may replay; POSTs too here (a scan sent
// twice carries the same client_id).
func (c *conn) do(i int64) (first time.Time, n int64, err error) {
	c.i = i
	c.req, err = c.wire.Append(c.req[:0], i)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("loadgen: make request %d: %w", i, err)
	}
	for try := 0; ; try++ {
		reused := c.c != nil
		if !reused {
			if err := c.dial(); err != nil {
				return time.Time{}, 0, err
			}
		}
		c.got = false
		first, n, err = c.exchange()
		if err == nil {
			return first, n, nil
		}
		if !answered(err) {
			c.close()
		}
		if c.done() && isTimeout(err) {
			return first, n, fmt.Errorf("%s: no answer before the run's end (%w)", c.wire.Label, context.DeadlineExceeded)
		}
		if isTimeout(err) {
			return first, n, fmt.Errorf("%s: no answer within %s: %w", c.wire.Label, c.timeout, err)
		}
		if try > 0 || !reused || c.got || c.ctx.Err() != nil {
			return first, n, err
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// answered tells whether err is of a whole answer read (the connection
// may carry the next request).
func answered(err error) bool {
	switch err.(type) {
	case *statusError, *checkError:
		return true
	}
	return false
}

// checkError is a 2xx answer Wire.Check refused.
type checkError struct {
	label string
	err   error
}

func (e *checkError) Error() string { return fmt.Sprintf("%s: %v", e.label, e.err) }

func (e *checkError) Unwrap() error { return e.err }

// statusError is an answer other than 2xx, read to its end.
type statusError struct {
	label   string
	status  int
	excerpt []byte
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s: status %d: %s", e.label, e.status, e.excerpt)
}

// exchange writes c.req and reads the answer.
func (c *conn) exchange() (first time.Time, n int64, err error) {
	deadline := time.Now().Add(c.timeout)
	if d, ok := c.ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.c.SetDeadline(deadline)
	if err := c.ctx.Err(); err != nil { // its AfterFunc may have run before SetDeadline
		return time.Time{}, 0, err
	}
	if _, err := c.c.Write(c.req); err != nil {
		return time.Time{}, 0, err
	}
	if _, err := c.br.Peek(1); err != nil {
		return time.Time{}, 0, err
	}
	first = time.Now()
	c.got = true
	status, n, keep, err := c.answer()
	if err != nil {
		return first, n, err
	}
	if !keep {
		c.close()
	}
	if status < 200 || status > 299 {
		return first, n, &statusError{label: c.wire.Label, status: status, excerpt: bytes.Clone(c.excerpt)}
	}
	if c.wire.Check != nil {
		if err := c.wire.Check(c.i, c.kept); err != nil {
			return first, n, &checkError{label: c.wire.Label, err: err}
		}
	}
	return first, n, nil
}

var (
	errMalformed = errors.New("malformed answer")
	errLongLine  = errors.New("answer header line too long")
)

// line is the next line of the answer without its CRLF; it is valid until
// the next read.
func (c *conn) line() ([]byte, error) {
	b, err := c.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, errLongLine
	case errors.Is(err, io.EOF) && len(b) > 0:
		return nil, io.ErrUnexpectedEOF
	case err != nil:
		return nil, err
	}
	return bytes.TrimRight(b, "\r\n"), nil
}

// head is what an answer's header says of its body and its connection.
type head struct {
	status  int
	http10  bool
	length  int64 // -1: none given
	chunked bool
	close   bool // Connection: close (or HTTP/1.0 without keep-alive)
}

// readHead reads the status line and the header of one answer.
func (c *conn) readHead() (h head, err error) {
	l, err := c.line()
	if err != nil {
		return h, err
	}
	if len(l) < 12 || !bytes.HasPrefix(l, []byte("HTTP/1.")) || l[8] != ' ' || (len(l) > 12 && l[12] != ' ') {
		return h, fmt.Errorf("%w: status line %q", errMalformed, trim(l))
	}
	h.status, err = strconv.Atoi(string(l[9:12]))
	if err != nil || h.status < 100 {
		return h, fmt.Errorf("%w: status line %q", errMalformed, trim(l))
	}
	h.http10, h.length, h.close = l[7] == '0', -1, l[7] == '0'
	for k := 0; ; k++ {
		if l, err = c.line(); err != nil {
			return h, err
		}
		if len(l) == 0 {
			return h, nil
		}
		if k == maxHeaders {
			return h, fmt.Errorf("%w: more than %d header lines", errMalformed, maxHeaders)
		}
		if err := h.field(l); err != nil {
			return h, err
		}
	}
}

// field reads one header line into h.
func (h *head) field(l []byte) error {
	name, value, ok := bytes.Cut(l, []byte(":"))
	if !ok {
		return fmt.Errorf("%w: header line %q", errMalformed, trim(l))
	}
	value = bytes.TrimSpace(value)
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		n, err := strconv.ParseInt(string(value), 10, 64)
		if err != nil || n < 0 || (h.length >= 0 && h.length != n) {
			return fmt.Errorf("%w: Content-Length %q", errMalformed, trim(value))
		}
		h.length = n
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		codings := bytes.Split(value, []byte(","))
		h.chunked = bytes.EqualFold(bytes.TrimSpace(codings[len(codings)-1]), []byte("chunked"))
		if !h.chunked { // the body ends with the connection
			h.length, h.close = -1, true
		}
	case bytes.EqualFold(name, []byte("Connection")):
		for _, t := range bytes.Split(value, []byte(",")) {
			t = bytes.TrimSpace(t)
			if bytes.EqualFold(t, []byte("close")) {
				h.close = true
			} else if h.http10 && bytes.EqualFold(t, []byte("keep-alive")) {
				h.close = false
			}
		}
	}
	return nil
}

func trim(b []byte) []byte { return b[:min(len(b), 80)] }

// answer reads an answer's head and body (informational answers before it
// are skipped). keep tells whether the connection may carry the next
// request.
func (c *conn) answer() (status int, n int64, keep bool, err error) {
	var h head
	for {
		if h, err = c.readHead(); err != nil {
			return 0, 0, false, err
		}
		if h.status >= 200 || h.status == 101 {
			break
		}
	}
	c.excerpt, c.kept = c.excerpt[:0], c.kept[:0]
	want := 0
	if h.status < 200 || h.status > 299 {
		want = excerptBytes
	}
	c.keeping = c.wire.Check != nil && want == 0
	switch {
	case h.status == 101:
		return h.status, 0, false, nil // switched protocols: nothing more of HTTP/1.1 on it
	case h.status == 204 || h.status == 304 || bytes.HasPrefix([]byte(c.wire.Label), []byte("HEAD ")):
	case h.chunked:
		n, err = c.chunks(want)
	case h.length >= 0:
		n, err = c.body(h.length, want)
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
	default: // until the connection ends
		h.close = true
		n, err = c.body(-1, want)
		if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	return h.status, n, err == nil && !h.close, err
}

// body reads n bytes of a body (n < 0: until the connection ends), keeping
// the first want of them in c.excerpt.
func (c *conn) body(n int64, want int) (read int64, err error) {
	if c.keeping {
		return c.keep(n)
	}
	if want -= len(c.excerpt); want > 0 {
		k := want
		if n >= 0 {
			k = int(min(n, int64(want)))
		}
		b, err := c.br.Peek(k)
		if len(b) == 0 && err != nil {
			return 0, err
		}
		if len(b) < k {
			k = len(b) // the connection may end before
		}
		c.excerpt = append(c.excerpt, b[:k]...)
		c.br.Discard(k)
		read, n = int64(k), n-int64(k)
		if n < 0 {
			n = -1
		}
	}
	for n != 0 {
		step := 1 << 30
		if n > 0 {
			step = int(min(n, int64(step)))
		}
		d, err := c.br.Discard(step)
		read += int64(d)
		if n > 0 {
			n -= int64(d)
		}
		if err != nil {
			return read, err
		}
	}
	return read, nil
}

// keep reads n bytes of a body (n < 0: until the connection ends) onto
// c.kept.
func (c *conn) keep(n int64) (int64, error) {
	if n < 0 {
		b, err := io.ReadAll(c.br)
		c.kept = append(c.kept, b...)
		return int64(len(b)), err
	}
	start := len(c.kept)
	c.kept = slices.Grow(c.kept, int(n))[:start+int(n)]
	k, err := io.ReadFull(c.br, c.kept[start:])
	c.kept = c.kept[:start+k]
	return int64(k), err
}

// chunks reads a chunked body and its trailer.
func (c *conn) chunks(want int) (read int64, err error) {
	for {
		l, err := c.line()
		if err != nil {
			return read, unexpected(err)
		}
		if i := bytes.IndexAny(l, "; \t"); i >= 0 {
			l = l[:i] // chunk extensions
		}
		size, err := strconv.ParseInt(string(l), 16, 64)
		if err != nil || size < 0 {
			return read, fmt.Errorf("%w: chunk size %q", errMalformed, trim(l))
		}
		if size == 0 {
			break
		}
		k, err := c.body(size, want)
		read += k
		if err != nil {
			return read, unexpected(err)
		}
		if l, err = c.line(); err != nil || len(l) != 0 {
			return read, fmt.Errorf("%w: no CRLF after a chunk", errMalformed)
		}
	}
	for { // the trailer
		l, err := c.line()
		if err != nil {
			return read, unexpected(err)
		}
		if len(l) == 0 {
			return read, nil
		}
	}
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
