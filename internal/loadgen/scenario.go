package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Scenarios are the names NewTarget knows, in the order of the docs.
var Scenarios = []string{"me", "scan", "report", "stats-page", "queue-page"}

// Options are what the scenarios need of the installation under load.
type Options struct {
	BaseURL string // http://host:port, no trailing slash needed
	Token   string // an API token (Authorization: Bearer)
	Cookie  string // or a session cookie, name=value
	// scan: the checkpoint (its id) and the pass tokens scanned in turn.
	Checkpoint string
	PassTokens []string
	// RunID makes scans' client ids unique across runs (letters,
	// digits, - and _; at most 20 characters).
	RunID string
	// report: the enterprises (their keys) filed for in turn, and the
	// day; empty is today in China.
	Enterprises []string
	Date        string
}

var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{0,20}$`)

// NewTarget is the request maker of a scenario.
func NewTarget(scenario string, o Options) (Target, error) {
	base, err := url.Parse(o.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("loadgen: the url must be http://host:port, not %q", o.BaseURL)
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.Token == "" && o.Cookie == "" {
		return nil, errors.New("loadgen: every scenario needs a token or a session cookie")
	}
	if o.Cookie != "" && !strings.Contains(o.Cookie, "=") {
		return nil, errors.New("loadgen: the cookie must be name=value")
	}
	switch scenario {
	case "me":
		return getTarget(o, "/api/v1/me"), nil
	case "stats-page":
		return getTarget(o, "/resumption"), nil
	case "queue-page":
		return getTarget(o, "/tickets"), nil
	case "scan":
		return scanTarget(o)
	case "report":
		return reportTarget(o)
	}
	return nil, fmt.Errorf("loadgen: unknown scenario %q (one of %s)", scenario, strings.Join(Scenarios, ", "))
}

func authorize(req *http.Request, o *Options) {
	if o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+o.Token)
	}
	if o.Cookie != "" {
		req.Header.Set("Cookie", o.Cookie)
	}
}

func getTarget(o Options, path string) Target {
	u := o.BaseURL + path
	return func(int64) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		authorize(req, &o)
		return req, nil
	}
}

func postTarget(o *Options, u string, body []byte) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	authorize(req, o)
	return req, nil
}

// scanTarget posts online scans, the pass tokens in turn, each with a
// new client id: every request is a new scan row.
func scanTarget(o Options) (Target, error) {
	if o.Checkpoint == "" || len(o.PassTokens) == 0 {
		return nil, errors.New("loadgen: scan needs a checkpoint id and at least one pass token")
	}
	if !runIDPattern.MatchString(o.RunID) {
		return nil, errors.New("loadgen: the run id may hold letters, digits, - and _, at most 20")
	}
	if o.RunID == "" {
		o.RunID = fmt.Sprintf("%x", time.Now().UnixNano())
	}
	u := o.BaseURL + "/api/v1/checkpoints/" + url.PathEscape(o.Checkpoint) + "/scans"
	return func(i int64) (*http.Request, error) {
		body := fmt.Appendf(nil, `{"token":%q,"client_id":"load-%s-%012d"}`, o.PassTokens[i%int64(len(o.PassTokens))], o.RunID, i)
		return postTarget(&o, u, body)
	}, nil
}

// reportTarget files daily reports, the enterprises in turn.
func reportTarget(o Options) (Target, error) {
	if len(o.Enterprises) == 0 {
		return nil, errors.New("loadgen: report needs at least one enterprise key")
	}
	if o.Date == "" {
		o.Date = time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	} else if _, err := time.Parse(time.DateOnly, o.Date); err != nil {
		return nil, fmt.Errorf("loadgen: the report date must be YYYY-MM-DD, not %q", o.Date)
	}
	return func(i int64) (*http.Request, error) {
		key := o.Enterprises[i%int64(len(o.Enterprises))]
		body := fmt.Appendf(nil, `{"date":%q,"status":"resumed","capacity_pct":%d,"staff_expected":100,"staff_on_site":%d,"closed_loop":true}`,
			o.Date, i%100, i%100)
		return postTarget(&o, o.BaseURL+"/api/v1/enterprises/"+url.PathEscape(key)+"/reports", body)
	}, nil
}
