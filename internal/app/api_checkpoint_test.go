package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/checkpoint"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/pass"
	"tongxin/internal/passtoken"
)

// demoPassTokens returns the tokens of the demo's approved pass batch by
// holder's masked name.
func demoPassTokens(t *testing.T, ts *testSystem) map[string]pass.Pass {
	t.Helper()
	ctx := context.Background()
	batches, err := ts.sys.Passes.ListBatches(ctx, auth.System(), pass.BatchFilter{Enterprise: demoPassEnterprise})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]pass.Pass{}
	for _, b := range batches {
		list, err := ts.sys.Passes.BatchPasses(ctx, auth.System(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range list {
			out[p.Name] = p
		}
	}
	if len(out) == 0 {
		t.Fatal("the demo has no passes")
	}
	return out
}

// demoCheckpointID is the id of a demo checkpoint by name.
func demoCheckpointID(t testing.TB, ts *testSystem, name string) string {
	t.Helper()
	list, err := ts.sys.Checkpoints.List(context.Background(), auth.System(), checkpoint.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.Name == name {
			return c.Ref()
		}
	}
	t.Fatalf("no demo checkpoint %s", name)
	return ""
}

type scanAnswer struct {
	ID       int64  `json:"id"`
	Verdict  string `json:"verdict"`
	Reason   string `json:"reason"`
	Replayed bool   `json:"replayed"`
	Pass     *struct {
		PID   string `json:"pid"`
		Name  string `json:"name"`
		Plate string `json:"plate"`
	} `json:"pass"`
}

// Scans through the real router with real passes: every verdict the
// server can give here, the same client id answered once, offline
// batches, and no input that makes it fail.
func TestCheckpointScansOverHTTP(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			admin, kakou := ts.tokenFor(t, "admin"), ts.tokenFor(t, "kakou")
			transfer := demoCheckpointID(t, ts, "株洲高新区物资接驳点")
			jianning := demoCheckpointID(t, ts, "建宁大桥")
			// An officer for the transfer point, through the users API: the
			// checkpoint scope resolves.
			body := `{"username":"jiebo","display_name":"接驳点执勤","password":"long-enough-1","roles":[{"role":"checkpoint_officer","scope":"checkpoint:` + transfer + `"}]}`
			if r := ts.do(t, "POST", "/api/v1/users", admin, "application/json", strings.NewReader(body)); r.status != 201 ||
				!strings.Contains(string(r.body), "株洲高新区物资接驳点") {
				t.Fatalf("officer: %d %s", r.status, r.body)
			}
			jiebo := ts.tokenFor(t, "jiebo")
			// The demo city's scans of the last days count too: the test's
			// own are what the figures gain.
			type totals struct{ Scans, Allowed, Denied int }
			statsTotal := func() totals {
				t.Helper()
				var stats struct {
					Total totals `json:"total"`
				}
				r := ts.do(t, "GET", "/api/v1/checkpoints/stats", admin, "", nil)
				if err := json.Unmarshal(r.body, &stats); err != nil || r.status != 200 {
					t.Fatalf("stats: %d %s", r.status, r.body)
				}
				return stats.Total
			}
			baseline := statsTotal()
			passes := demoPassTokens(t, ts)
			vehicle, local := passes["陈*"], passes["李*国"]
			if vehicle.Token == "" || local.Token == "" {
				t.Fatalf("demo passes: %v", passes)
			}
			scan := func(token, cp, tok string, in map[string]any) (res, scanAnswer) {
				t.Helper()
				b, _ := json.Marshal(in)
				r := ts.do(t, "POST", "/api/v1/checkpoints/"+cp+"/scans", token, "application/json", bytes.NewReader(b))
				var a scanAnswer
				if r.status == 200 {
					if err := json.Unmarshal(r.body, &a); err != nil {
						t.Fatal(err)
					}
				}
				return r, a
			}
			parts := strings.Split(vehicle.Token, ".")
			enc := base64.RawURLEncoding.EncodeToString
			flipped := []byte(vehicle.Token)
			i := strings.LastIndexByte(vehicle.Token, '.') + 5
			if flipped[i] == 'A' {
				flipped[i] = 'B'
			} else {
				flipped[i] = 'A'
			}
			_, otherKey, _ := ed25519.GenerateKey(nil)
			stranger, err := passtoken.Sign(otherKey, "kid-nobody-knows", passtoken.Claims{PID: "X1", Kind: passtoken.Person, Name: "某*", Ent: demoPassEnterprise,
				Areas: []string{"430211"}, NBF: time.Now().Add(-time.Hour).Unix(), EXP: time.Now().Add(time.Hour).Unix()})
			if err != nil {
				t.Fatal(err)
			}
			garbage := make([]byte, 3000)
			rnd := rand.New(rand.NewPCG(3, 4))
			for i := range garbage {
				garbage[i] = byte(rnd.IntN(256))
			}
			cases := []struct {
				name, token, want string
			}{
				{"valid", vehicle.Token, "ok"},
				{"outside the pass's areas", local.Token, "area_not_allowed"},
				{"one flipped character", string(flipped), "bad_signature"},
				{"unknown kid", stranger, "unknown_key"},
				{"alg none", enc([]byte(`{"alg":"none","kid":"x","typ":"tongxin-pass"}`)) + "." + parts[1] + ".", "malformed"},
				{"HS256", enc([]byte(`{"alg":"HS256","kid":"x","typ":"tongxin-pass"}`)) + "." + parts[1] + "." + parts[2], "malformed"},
				{"10 KB string", strings.Repeat("x", 10<<10), "malformed"},
				{"binary garbage", string(garbage), "malformed"},
				{"empty", "", "malformed"},
			}
			for n, c := range cases {
				r, a := scan(jiebo, transfer, c.token, map[string]any{"token": c.token, "client_id": fmt.Sprintf("http-scan-%04d", n)})
				if r.status != 200 || a.Reason != c.want || (a.Verdict == "allow") != (c.want == "ok") {
					t.Errorf("%s: %d %s, want %s", c.name, r.status, r.body, c.want)
				}
			}
			// The same client id: the stored answer, one row.
			r1, a1 := scan(jiebo, transfer, "", map[string]any{"token": vehicle.Token, "client_id": "http-scan-0000"})
			if r1.status != 200 || !a1.Replayed || a1.Reason != "ok" || a1.Pass == nil || a1.Pass.Plate != "湘BD12345" {
				t.Fatalf("replay: %d %s", r1.status, r1.body)
			}
			// Revoked through the pass service.
			if _, err := ts.sys.Passes.Revoke(context.Background(), auth.System(), vehicle.PID, pass.ReasonInput{Reason: "车辆转作他用"}); err != nil {
				t.Fatal(err)
			}
			if r, a := scan(jiebo, transfer, "", map[string]any{"token": vehicle.Token, "client_id": "http-scan-revoked"}); a.Reason != "revoked" {
				t.Fatalf("revoked: %d %s", r.status, r.body)
			}
			// Offline: a scan before the pass was valid, and one sent twice.
			before := vehicle.ValidFrom.Add(-time.Hour).Format(time.RFC3339)
			batch := fmt.Sprintf(`{"scans":[{"token":%q,"client_id":"http-off-0001","scanned_at":%q},{"token":"x","client_id":"http-scan-0000","scanned_at":%q}]}`,
				local.Token, before, before)
			r := ts.do(t, "POST", "/api/v1/checkpoints/"+transfer+"/scans/batch", jiebo, "application/json", strings.NewReader(batch))
			if r.status != 200 || !strings.Contains(string(r.body), `"reason":"not_yet_valid"`) || !strings.Contains(string(r.body), `"accepted":1,"replayed":1`) {
				t.Fatalf("batch: %d %s", r.status, r.body)
			}
			// Whoever stands elsewhere does not see this checkpoint.
			if r, _ := scan(kakou, transfer, "", map[string]any{"token": vehicle.Token, "client_id": "http-scan-kakou"}); r.status != 404 {
				t.Fatalf("officer of another checkpoint: %d %s", r.status, r.body)
			}
			if r := ts.do(t, "GET", "/api/v1/checkpoints/"+transfer, kakou, "", nil); r.status != 404 {
				t.Fatalf("officer of another checkpoint reads it: %d", r.status)
			}
			if r, a := scan(kakou, jianning, "", map[string]any{"token": vehicle.Token, "client_id": "http-scan-kakou"}); r.status != 200 || a.Reason != "revoked" {
				t.Fatalf("kakou at 建宁大桥: %d %s", r.status, r.body)
			}
			// Nothing a client sends makes a 500.
			big := `{"token":"` + strings.Repeat("A", 2<<20) + `","client_id":"http-big-00001"}`
			for _, c := range []struct {
				path, ctype, body string
			}{
				{"/scans", "application/json", string(garbage)},
				{"/scans", "application/json", `{"token":` + strings.Repeat("[", 5000)},
				{"/scans", "application/json", `{"token":"a","client_id":"../../etc","scanned_at":"yesterday"}`},
				{"/scans", "application/json", `{"token":"a","client_id":"http-future-01","scanned_at":"2999-01-01T00:00:00Z"}`},
				{"/scans", "application/json", `{"token":5}`},
				{"/scans", "text/plain", vehicle.Token},
				{"/scans", "application/json", big},
				{"/scans/batch", "application/json", `{"scans":[]}`},
				{"/scans/batch", "application/json", `{"scans":[{"token":"\u0000\uffff","client_id":"http-nul-0001","scanned_at":"2022-11-20T10:00:00+08:00"}]}`},
				{"/scans/batch", "application/json", `{"scans":` + strings.Repeat(`{},`, 10) + `}`},
				{"/handovers", "application/json", `{"enterprise":"x","quantity":-1,"outside_plate":"湘I","inside_plate":"\u0000"}`},
			} {
				r := ts.do(t, "POST", "/api/v1/checkpoints/"+transfer+c.path, jiebo, c.ctype, strings.NewReader(c.body))
				if r.status >= 500 {
					t.Errorf("POST %s %.60q: %d %s", c.path, c.body, r.status, r.body)
				}
				if r.status != 200 && r.status != 201 {
					r.problemCode(t)
				}
			}
			for _, id := range []string{"0", "-1", "abc", "99999999999999999999", "1e3"} {
				if r := ts.do(t, "POST", "/api/v1/checkpoints/"+id+"/scans", jiebo, "application/json", strings.NewReader(`{"token":"x"}`)); r.status != 404 {
					t.Errorf("checkpoint %q: %d %s", id, r.status, r.body)
				}
			}
			if after := statsTotal(); after.Allowed-baseline.Allowed != 1 || after.Scans-baseline.Scans < 10 {
				t.Fatalf("stats: %+v before the test's scans, %+v after: want 1 more allowed and at least 10 more scans", baseline, after)
			}
		})
	}
}

// Traffic control is public: the measures in force at a moment and the
// notices, without a login; the demo's bridges were released by
// 株疫指通〔2022〕12号.
func TestCheckpointTrafficOverHTTP(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, "sqlite")
	count := func(at string) int {
		t.Helper()
		r := ts.do(t, "GET", "/api/v1/traffic/measures?at="+at, "", "", nil)
		var v struct {
			Items []struct {
				Target  string `json:"target"`
				InForce bool   `json:"in_force"`
			} `json:"items"`
		}
		if err := json.Unmarshal(r.body, &v); err != nil || r.status != 200 {
			t.Fatalf("measures at %s: %d %s", at, r.status, r.body)
		}
		return len(v.Items)
	}
	if n := count("2022-11-15T12:00:00%2B08:00"); n != 5 {
		t.Fatalf("in force on 11-15: %d, want 5", n)
	}
	if n := count(time.Now().UTC().Format(time.RFC3339)); n != 1 {
		t.Fatalf("in force now: %d, want 1 (the emergency lane)", n)
	}
	if r := ts.do(t, "GET", "/api/v1/traffic/measures?at=yesterday", "", "", nil); r.status != 400 || r.problemCode(t) != "bad_at" {
		t.Fatalf("bad at: %d %s", r.status, r.body)
	}
	r := ts.do(t, "GET", "/api/v1/traffic/notices", "", "", nil)
	if r.status != 200 || !strings.Contains(string(r.body), "株疫指通〔2022〕12号") {
		t.Fatalf("notices: %d %s", r.status, r.body)
	}
	r = ts.do(t, "GET", "/traffic", "", "", nil)
	if r.status != 200 || !strings.Contains(string(r.body), "枫溪大道坚固立交路口") || !strings.Contains(string(r.body), "关于调整主城区部分区域临时交通管制措施的通告") {
		t.Fatalf("public page: %d %s", r.status, r.body)
	}
	if r := ts.do(t, "POST", "/api/v1/traffic/measures", "", "application/json", strings.NewReader(`{}`)); r.status != 401 {
		t.Fatalf("anonymous change: %d", r.status)
	}
	lusong := ts.tokenFor(t, "lusong")
	if r := ts.do(t, "POST", "/api/v1/traffic/notices", lusong, "application/json", strings.NewReader(`{"number":"1","title":"x","body":"x"}`)); r.status != 403 {
		t.Fatalf("district officer publishes: %d %s", r.status, r.body)
	}
	// The demo is idempotent.
	created, err := Demo(context.Background(), ts.sys)
	if err != nil || len(created) != 0 {
		t.Fatalf("demo again: %v %v", created, err)
	}
	if r := ts.do(t, "GET", "/api/v1/checkpoints", ts.tokenFor(t, "hqstaff"), "", nil); !strings.Contains(string(r.body), "株洲高新区物资接驳点") ||
		strings.Count(string(r.body), `"name":"建宁大桥"`) != 1 {
		t.Fatalf("checkpoints: %s", r.body)
	}
}
