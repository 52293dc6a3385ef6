package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tongxin/internal/app"
)

// Online scans through `tongxin serve` are journaled in the data
// directory and in the database once the server has stopped, each once,
// with nothing left in the journal; the next server lists them.
func TestScanJournalThroughServe(t *testing.T) {
	t.Parallel()
	in, _ := setup(t, "sqlite")
	token := strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", "kakou", "--name", "扫码枪"))
	srv := serve(t, in)
	var list struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	do(t, "GET", srv.URL+"/api/v1/checkpoints", token, "", nil).json(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("kakou's checkpoints: %+v", list.Items)
	}
	path := fmt.Sprintf("/api/v1/checkpoints/%d/scans", list.Items[0].ID)
	scans := srv.URL + path
	for i := range 3 {
		for range 2 { // each sent twice: a retry after a lost answer
			body := fmt.Sprintf(`{"token":"not-a-pass","client_id":"e2e-journal-%d"}`, i)
			res := do(t, "POST", scans, token, "application/json", []byte(body))
			if res.Status != 200 || !strings.Contains(string(res.Body), `"reason":"malformed"`) {
				t.Fatalf("scan %d: %d %s", i, res.Status, res.Body)
			}
		}
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(in.data, "scan-journal", "LOCK")); err != nil {
		t.Fatalf("serve kept no scan journal: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(in.data, "scan-journal", "scans-*.log")); len(left) != 0 {
		t.Fatalf("journal left after a clean stop: %v", left)
	}
	srv = serve(t, in)
	var logged struct {
		Items []struct {
			ID       int64  `json:"id"`
			ClientID string `json:"client_id"`
			Reason   string `json:"reason"`
		} `json:"items"`
	}
	do(t, "GET", srv.URL+path, token, "", nil).json(t, &logged)
	// The demo city's scans of the last days at 建宁大桥 are logged too
	// (their client ids start with "demo-").
	mine := 0
	for _, s := range logged.Items {
		if strings.HasPrefix(s.ClientID, "demo-") {
			continue
		}
		mine++
		if s.ID == 0 || s.Reason != "malformed" || !strings.HasPrefix(s.ClientID, "e2e-journal-") {
			t.Fatalf("logged %+v", s)
		}
	}
	if mine != 3 {
		t.Fatalf("logged %+v, want 3 scans besides the demo's", logged.Items)
	}
}

// serve --offline-scan-max-age bounds how old an uploaded offline scan may
// be: an older item of a batch is refused with scan_too_old, the others
// are logged. A window under a minute is a usage error.
func TestOfflineScanMaxAgeThroughServe(t *testing.T) {
	t.Parallel()
	in, _ := setup(t, "sqlite")
	err := app.Run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--offline-scan-max-age", "10s"},
		in.getenv, strings.NewReader(""), io.Discard, io.Discard)
	var ue *app.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--offline-scan-max-age") {
		t.Fatalf("a window of 10s: %v", err)
	}
	token := strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", "kakou", "--name", "扫码枪"))
	srv := serve(t, in, "--offline-scan-max-age", "2h")
	var list struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	do(t, "GET", srv.URL+"/api/v1/checkpoints", token, "", nil).json(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("kakou's checkpoints: %+v", list.Items)
	}
	at := func(ago time.Duration) string { return time.Now().Add(-ago).UTC().Format(time.RFC3339) }
	body := fmt.Sprintf(`{"scans":[{"token":"x","client_id":"e2e-age-0001","scanned_at":%q},`+
		`{"token":"x","client_id":"e2e-age-0002","scanned_at":%q}]}`, at(3*time.Hour), at(time.Hour))
	res := do(t, "POST", fmt.Sprintf("%s/api/v1/checkpoints/%d/scans/batch", srv.URL, list.Items[0].ID), token, "application/json", []byte(body))
	var got struct {
		Accepted, Refused int
		Items             []struct {
			Error *struct{ Code, Message string } `json:"error"`
		} `json:"items"`
	}
	res.json(t, &got)
	if res.Status != 200 || got.Accepted != 1 || got.Refused != 1 || got.Items[0].Error == nil ||
		got.Items[0].Error.Code != "scan_too_old" || !strings.Contains(got.Items[0].Error.Message, "2 小时") || got.Items[1].Error != nil {
		t.Fatalf("batch: %d %s", res.Status, res.Body)
	}
}
