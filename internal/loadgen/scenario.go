package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Scenarios are the names NewWire knows, in the order of the docs.
var Scenarios = []string{"me", "scan", "gate-scan", "report", "stats-page", "queue-page", "samples-one", "samples-batch"}

// Options are what the scenarios need of the installation under load.
type Options struct {
	BaseURL string // http://host:port, no trailing slash needed
	Token   string // an API token (Authorization: Bearer)
	Cookie  string // or a session cookie, name=value
	// scan: the checkpoint (its id) and the pass tokens scanned in turn;
	// gate-scan: an estate gate and resident codes (居民码), each decided
	// by the zones in force.
	Checkpoint string
	PassTokens []string
	// RunID makes scans' client ids unique across runs (letters,
	// digits, - and _; at most 20 characters).
	RunID string
	// report: the enterprises (their keys) filed for in turn, and the
	// day; empty is today in China.
	Enterprises []string
	Date        string
	// samples-one, samples-batch: the rounds (their ids), used one after
	// the other, and the resident codes' ids of their register, sampled
	// in turn in each; Batch is samples-batch's records a request
	// (0: DefaultSampleBatch).
	Rounds    []string
	Residents []string
	Batch     int
}

var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{0,20}$`)

// NewTarget is the request maker of a scenario: NewWire's requests read
// back by net/http.
func NewTarget(scenario string, o Options) (Target, error) {
	w, err := NewWire(scenario, o)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(o.BaseURL) // NewWire parsed it
	origin := u.Scheme + "://" + u.Host
	return func(i int64) (*http.Request, error) {
		b, err := w.Append(nil, i)
		if err != nil {
			return nil, err
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return nil, err
		}
		req.URL, err = url.Parse(origin + req.RequestURI) // the request line holds the base URL's path
		req.RequestURI = ""
		return req, err
	}, nil
}

// BrowserAcceptEncoding is what Chromium asks for.
const BrowserAcceptEncoding = "gzip, deflate, br, zstd"

// NewWire is the requests of a scenario as bytes: the request line, the
// headers (Host, User-Agent, the token or the cookie, Accept-Encoding for
// the pages as Chromium sends it, so that the server compresses them as
// for a browser; the answer is not decoded),
// and a body for the POSTs.
func NewWire(scenario string, o Options) (*Wire, error) {
	base, err := url.Parse(o.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("loadgen: the url must be http://host:port, not %q", o.BaseURL)
	}
	if o.Token == "" && o.Cookie == "" {
		return nil, errors.New("loadgen: every scenario needs a token or a session cookie")
	}
	if o.Cookie != "" && !strings.Contains(o.Cookie, "=") {
		return nil, errors.New("loadgen: the cookie must be name=value")
	}
	if strings.ContainsAny(o.Token+o.Cookie, "\r\n") {
		return nil, errors.New("loadgen: the token and the cookie must be on one line")
	}
	w := &Wire{Addr: base.Host, TLS: base.Scheme == "https"}
	if base.Port() == "" {
		w.Addr = net.JoinHostPort(base.Hostname(), map[bool]string{false: "80", true: "443"}[w.TLS])
	}
	f := format{o: &o, host: base.Host, prefix: strings.TrimRight(base.EscapedPath(), "/")}
	switch scenario {
	case "me":
		return f.get(w, "/api/v1/me", false), nil
	case "stats-page":
		return f.get(w, "/resumption", true), nil
	case "queue-page":
		return f.get(w, "/tickets", true), nil
	case "scan", "gate-scan":
		return f.scan(w)
	case "report":
		return f.report(w)
	case "samples-one":
		return f.samples(w, 1)
	case "samples-batch":
		if o.Batch == 0 {
			o.Batch = DefaultSampleBatch
		}
		return f.samples(w, o.Batch)
	}
	return nil, fmt.Errorf("loadgen: unknown scenario %q (one of %s)", scenario, strings.Join(Scenarios, ", "))
}

// format writes a scenario's requests.
type format struct {
	o      *Options
	host   string
	prefix string // the base URL's path, without its trailing slash
}

// head is a request's line and headers up to the blank line; a POST's
// ends with "Content-Length: ", its value to come.
func (f *format) head(method, path string, gzip bool) []byte {
	b := fmt.Appendf(nil, "%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tongxin-load\r\n", method, f.prefix, path, f.host)
	if f.o.Token != "" {
		b = fmt.Appendf(b, "Authorization: Bearer %s\r\n", f.o.Token)
	}
	if f.o.Cookie != "" {
		b = fmt.Appendf(b, "Cookie: %s\r\n", f.o.Cookie)
	}
	if gzip {
		b = append(b, "Accept-Encoding: "+BrowserAcceptEncoding+"\r\n"...)
	}
	if method == http.MethodPost {
		return append(b, "Content-Type: application/json\r\nContent-Length: "...)
	}
	return append(b, "\r\n"...)
}

// get is the same GET every time.
func (f *format) get(w *Wire, path string, gzip bool) *Wire {
	req := f.head(http.MethodGet, path, gzip)
	w.Label = "GET " + f.prefix + path
	w.Append = func(dst []byte, _ int64) ([]byte, error) { return append(dst, req...), nil }
	return w
}

// post appends a POST of head (from f.head) and body.
func post(dst, head, body []byte) []byte {
	dst = append(dst, head...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}

// scan posts online scans, the pass tokens (gate-scan: the resident
// codes) in turn, each with a new client id: every request is a new scan
// row. The bodies differ only in
// the client id's last twelve digits.
func (f *format) scan(w *Wire) (*Wire, error) {
	o := f.o
	if o.Checkpoint == "" || len(o.PassTokens) == 0 {
		return nil, errors.New("loadgen: scan needs a checkpoint id and at least one pass token (gate-scan: resident code)")
	}
	if !runIDPattern.MatchString(o.RunID) {
		return nil, errors.New("loadgen: the run id may hold letters, digits, - and _, at most 20")
	}
	if o.RunID == "" {
		o.RunID = fmt.Sprintf("%x", time.Now().UnixNano())
	}
	path := "/api/v1/checkpoints/" + url.PathEscape(o.Checkpoint) + "/scans"
	head := f.head(http.MethodPost, path, false)
	starts := make([][]byte, len(o.PassTokens)) // each token's body up to the digits
	for k, tok := range o.PassTokens {
		starts[k] = fmt.Appendf(nil, `{"token":%q,"client_id":"load-%s-`, tok, o.RunID)
	}
	w.Label = "POST " + f.prefix + path
	w.Append = func(dst []byte, i int64) ([]byte, error) {
		var body [160]byte
		b := append(body[:0], starts[i%int64(len(starts))]...)
		b = appendPadded(b, i, 12)
		b = append(b, `"}`...)
		return post(dst, head, b), nil
	}
	return w, nil
}

// appendPadded appends n (not negative) in at least width digits.
func appendPadded(dst []byte, n int64, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], n, 10)
	for k := len(s); k < width; k++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// report files daily reports, the enterprises in turn.
func (f *format) report(w *Wire) (*Wire, error) {
	o := f.o
	if len(o.Enterprises) == 0 {
		return nil, errors.New("loadgen: report needs at least one enterprise key")
	}
	if o.Date == "" {
		o.Date = time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	} else if _, err := time.Parse(time.DateOnly, o.Date); err != nil {
		return nil, fmt.Errorf("loadgen: the report date must be YYYY-MM-DD, not %q", o.Date)
	}
	heads := make([][]byte, len(o.Enterprises))
	for k, key := range o.Enterprises {
		heads[k] = f.head(http.MethodPost, "/api/v1/enterprises/"+url.PathEscape(key)+"/reports", false)
	}
	w.Label = "POST " + f.prefix + "/api/v1/enterprises/{key}/reports"
	w.Append = func(dst []byte, i int64) ([]byte, error) {
		var body [200]byte
		b := fmt.Appendf(body[:0], `{"date":%q,"status":"resumed","capacity_pct":%d,"staff_expected":100,"staff_on_site":%d,"closed_loop":true}`,
			o.Date, i%100, i%100)
		return post(dst, heads[i%int64(len(heads))], b), nil
	}
	return w, nil
}
