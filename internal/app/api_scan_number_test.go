package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/checkpoint"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/pass"
	"tongxin/internal/passtoken"
)

// An officer without a camera types the short number printed on the card
// instead of the token: the server finds the pass, verifies its token as
// for a scan, logs the scan and shows the enterprise by name with its
// credit code. A mistyped number is caught by its check digit, a number
// no pass has is said to be unknown, and neither is logged; offline
// uploads cannot carry numbers (the device cannot check them).
func TestCheckpointScanByNumberOverHTTP(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			admin, kakou := ts.tokenFor(t, "admin"), ts.tokenFor(t, "kakou")
			jianning := demoCheckpointID(t, ts, "建宁大桥")
			passes := demoPassTokens(t, ts)
			var p pass.Pass
			for _, ps := range passes {
				if ps.Number != "" && ps.Status == pass.StatusActive {
					p = ps
					break
				}
			}
			if p.Number == "" {
				t.Fatalf("no demo pass has a number: %+v", passes)
			}
			// The pass API gives the number too.
			r := ts.do(t, "GET", "/api/v1/passes/"+p.PID, admin, "", nil)
			if r.status != 200 || !strings.Contains(string(r.body), `"number":"`+p.Number+`"`) {
				t.Fatalf("GET pass: %d %s", r.status, r.body)
			}
			// The same pass by token and by number (as printed, with spaces):
			// the same verdict, both logged.
			scan := func(body string) res {
				t.Helper()
				return ts.do(t, "POST", "/api/v1/checkpoints/"+jianning+"/scans", kakou, "application/json", strings.NewReader(body))
			}
			byToken := scan(fmt.Sprintf(`{"token":%q,"client_id":"num-test-token"}`, p.Token))
			byNumber := scan(fmt.Sprintf(`{"number":%q,"client_id":"num-test-number"}`, passtoken.FormatNumber(p.Number)))
			var a, b struct {
				Verdict, Reason string
				Pass            *checkpoint.PassInfo
			}
			if byToken.status != 200 || byNumber.status != 200 || json.Unmarshal(byToken.body, &a) != nil || json.Unmarshal(byNumber.body, &b) != nil {
				t.Fatalf("scans: %d %s / %d %s", byToken.status, byToken.body, byNumber.status, byNumber.body)
			}
			if a.Verdict != b.Verdict || a.Reason != b.Reason || b.Pass == nil || b.Pass.PID != p.PID {
				t.Fatalf("by token %s, by number %s", byToken.body, byNumber.body)
			}
			if b.Pass.EntName != p.EnterpriseName || b.Pass.Ent != demoPassEnterprise || p.EnterpriseName == "" {
				t.Fatalf("the verdict names the enterprise %q (%q), want %q", b.Pass.EntName, b.Pass.Ent, p.EnterpriseName)
			}
			// Typed in full-width digits with hyphens, as an IME may give them.
			full := strings.Map(func(r rune) rune { return r - '0' + '０' }, p.Number[:5]) + "-" + p.Number[5:]
			if r := scan(fmt.Sprintf(`{"number":%q,"client_id":"num-test-full"}`, full)); r.status != 200 {
				t.Fatalf("full-width number: %d %s", r.status, r.body)
			}

			// Mistakes, each a clear problem and no scan logged.
			wrong := []byte(p.Number)
			wrong[4] = '0' + (wrong[4]-'0'+1)%10
			unknown := passtoken.NewNumber()
			for unknown == p.Number {
				unknown = passtoken.NewNumber()
			}
			for _, c := range []struct {
				body   string
				status int
				code   string
			}{
				{fmt.Sprintf(`{"number":%q,"client_id":"num-bad-00001"}`, wrong), 400, "invalid_pass_number"},
				{fmt.Sprintf(`{"number":%q,"client_id":"num-bad-00002"}`, p.Number[:9]), 400, "invalid_pass_number"},
				{`{"number":"12345abcde","client_id":"num-bad-00003"}`, 400, "invalid_pass_number"},
				{fmt.Sprintf(`{"number":%q,"client_id":"num-bad-00004"}`, unknown), 404, "pass_number_not_found"},
				{fmt.Sprintf(`{"number":%q,"token":%q,"client_id":"num-bad-00005"}`, p.Number, p.Token), 400, "invalid_scan"},
			} {
				r := scan(c.body)
				if r.status != c.status || r.problemCode(t) != c.code {
					t.Errorf("%s: %d %s, want %d %s", c.body, r.status, r.body, c.status, c.code)
				}
			}
			batch := fmt.Sprintf(`{"scans":[{"number":%q,"client_id":"num-off-00001","scanned_at":"2022-11-20T10:00:00+08:00"}]}`, p.Number)
			r = ts.do(t, "POST", "/api/v1/checkpoints/"+jianning+"/scans/batch", kakou, "application/json", strings.NewReader(batch))
			if r.status != 200 || !strings.Contains(string(r.body), "须联网核验") || !strings.Contains(string(r.body), `"refused":1`) {
				t.Fatalf("a number in an offline batch: %d %s", r.status, r.body)
			}

			// The log: the three good scans, by pass id; none of the mistakes.
			_, list, err := ts.sys.Checkpoints.Scans(context.Background(), auth.System(), jianning, checkpoint.ScanQuery{})
			if err != nil {
				t.Fatal(err)
			}
			logged := map[string]string{}
			for _, sc := range list {
				pid := ""
				if sc.Pass != nil {
					pid = sc.Pass.PID
				}
				logged[sc.ClientID] = pid
			}
			for _, id := range []string{"num-test-token", "num-test-number", "num-test-full"} {
				if logged[id] != p.PID {
					t.Errorf("scan %s logged for pass %q, want %s (log %v)", id, logged[id], p.PID, logged)
				}
			}
			for id := range logged {
				if strings.HasPrefix(id, "num-bad") || strings.HasPrefix(id, "num-off") {
					t.Errorf("a refused number was logged as %s", id)
				}
			}
		})
	}
}
