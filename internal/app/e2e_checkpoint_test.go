package app_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tongxin/internal/app"
	"tongxin/internal/db"
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

// A server killed (SIGKILL) while online scans pour in loses none it has
// answered: every scan answered 200 is in the scan log once the next
// server has started and loaded the journal the killed one left.
func TestScansSurviveSIGKILLThroughServe(t *testing.T) {
	t.Parallel()
	in := demoInst(t, "sqlite")
	token := strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", "kakou", "--name", "扫码枪"))
	cmd := app.TongxinCommand([]string{"TONGXIN_DB=" + in.db, "TONGXIN_DATA_DIR=" + in.data},
		"serve", "--addr", "127.0.0.1:0", "--log-level", "error")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	i := strings.Index(line, "http://")
	if err != nil || i < 0 {
		t.Fatalf("serve printed %q: %v", line, err)
	}
	go io.Copy(io.Discard, stdout)
	base := strings.TrimSpace(line[i:])
	var list struct{ Items []struct{ ID int64 } }
	do(t, "GET", base+"/api/v1/checkpoints", token, "", nil).json(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("kakou's checkpoints: %+v", list.Items)
	}
	scans := fmt.Sprintf("%s/api/v1/checkpoints/%d/scans", base, list.Items[0].ID)

	// Eight devices scan back to back; the server is killed under them.
	const devices = 8
	answered := make([][]string, devices)
	client := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for d := range devices {
		wg.Go(func() {
			for n := 0; ; n++ {
				id := fmt.Sprintf("kill-%d-%d", d, n)
				req, _ := http.NewRequest("POST", scans, strings.NewReader(`{"token":"not-a-pass","client_id":"`+id+`"}`))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Errorf("scan %s: status %d", id, res.StatusCode)
					return
				}
				answered[d] = append(answered[d], id)
			}
		})
	}
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	cmd.Wait()

	// The next server loads what the killed one journaled.
	serve(t, in).stop()
	d, err := db.Open(context.Background(), in.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	logged := map[string]int{}
	err = d.Read(context.Background(), func(tx *db.Tx) error {
		return db.Each(context.Background(), tx, func(sc db.Scanner) error {
			var id string
			err := sc.Scan(&id)
			logged[id]++
			return err
		}, `SELECT client_id FROM checkpoint_scans WHERE client_id LIKE 'kill-%'`)
	})
	if err != nil {
		t.Fatal(err)
	}
	total, lost := 0, 0
	for _, ids := range answered {
		for _, id := range ids {
			total++
			if logged[id] != 1 {
				lost++
				if lost <= 5 {
					t.Errorf("scan %s was answered, logged %d times", id, logged[id])
				}
			}
		}
	}
	if total < 100 {
		t.Fatalf("only %d scans answered before the kill: too few to tell", total)
	}
	t.Logf("answered before SIGKILL: %d; logged after restart: %d (lost %d)", total, len(logged), lost)
}
