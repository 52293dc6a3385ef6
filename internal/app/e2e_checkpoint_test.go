package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Online scans through `tongxin serve` are journaled in the data
// directory and in the database once the server has stopped, each once,
// with nothing left in the journal; the next server lists them.
func TestScanJournalThroughServe(t *testing.T) {
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
	if len(logged.Items) != 3 {
		t.Fatalf("logged %+v, want 3 scans", logged.Items)
	}
	for _, s := range logged.Items {
		if s.ID == 0 || s.Reason != "malformed" || !strings.HasPrefix(s.ClientID, "e2e-journal-") {
			t.Fatalf("logged %+v", s)
		}
	}
}
