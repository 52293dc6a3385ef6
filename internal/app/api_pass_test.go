package app

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	qr "github.com/piglig/go-qr"

	"tongxin/internal/clock"
	"tongxin/internal/db/dbtest"
)

// passIDNumber is a valid GB 11643 ID number, computed here.
func passIDNumber(region, birth string, seq int) string {
	base := fmt.Sprintf("%s%s%03d", region, birth, seq%1000)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range w {
		sum += int(base[i]-'0') * w[i]
	}
	return base + string("10X98765432"[sum%11])
}

// passCSV is n workers of 千金药业, valid for 30 days from today.
func passCSV(n int) string {
	today := time.Now().In(clock.Shanghai)
	var b strings.Builder
	b.WriteString("姓名,身份证号,手机,车牌,区域,起,止\n")
	for i := 0; i < n; i++ {
		birth := fmt.Sprintf("19%02d%02d%02d", 60+i%40, 1+i%12, 1+i%28)
		fmt.Fprintf(&b, "工人%d,%s,139%08d,,430211001,%s,%s\n", i, passIDNumber("430211", birth, i), 7340000+i,
			today.Format("2006-01-02"), today.AddDate(0, 0, 29).Format("2006-01-02"))
	}
	return b.String()
}

// The whole pass flow through the real router: 410 workers uploaded by
// the contact, approved in one call by the industry bureau, every token
// verified with crypto/ed25519 and the public JWK Set alone; the QR
// decodes to the token; the revocation list with its ETag.
func TestPassFlowOverHTTP(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			contact, gxj, lusong := ts.tokenFor(t, "qianjin"), ts.tokenFor(t, "gxj"), ts.tokenFor(t, "lusong")
			csv := passCSV(410)
			if r := ts.do(t, "POST", "/api/v1/pass-batches", gxj, "text/csv", strings.NewReader(csv)); r.status != 403 {
				t.Fatalf("reviewer uploads: %d %s", r.status, r.body)
			}
			if r := ts.do(t, "POST", "/api/v1/pass-batches?enterprise=91430200616784000D", contact, "text/csv",
				strings.NewReader(csv)); r.status != 404 {
				t.Fatalf("contact uploads for another enterprise: %d %s", r.status, r.body)
			}
			// Multipart, as the page sends it.
			var mp bytes.Buffer
			mw := multipart.NewWriter(&mp)
			fw, _ := mw.CreateFormFile("file", "410.csv")
			fw.Write([]byte(csv))
			mw.WriteField("enterprise", "914302001838260003")
			mw.Close()
			r := ts.do(t, "POST", "/api/v1/pass-batches", contact, mw.FormDataContentType(), &mp)
			if r.status != 201 {
				t.Fatalf("upload: %d %s", r.status, r.body)
			}
			var b struct {
				ID       int64  `json:"id"`
				Status   string `json:"status"`
				RowCount int    `json:"row_count"`
				FileName string `json:"file_name"`
			}
			json.Unmarshal(r.body, &b)
			if b.RowCount != 410 || b.Status != "submitted" || b.FileName != "410.csv" {
				t.Fatalf("batch %s", r.body)
			}
			path := fmt.Sprintf("/api/v1/pass-batches/%d", b.ID)
			if r := ts.do(t, "GET", path, lusong, "", nil); r.status != 404 {
				t.Fatalf("district officer of another district: %d", r.status)
			}
			if r := ts.do(t, "POST", path+"/approve", contact, "application/json", strings.NewReader(`{}`)); r.status != 403 {
				t.Fatalf("contact approves: %d", r.status)
			}
			start := time.Now()
			r = ts.do(t, "POST", path+"/approve", gxj, "application/json", strings.NewReader(`{"note":"同意"}`))
			if r.status != 200 || !strings.Contains(string(r.body), `"approved_count":410`) {
				t.Fatalf("approve: %d %s", r.status, r.body)
			}
			t.Logf("%s: approving 410 rows took %v", kind, time.Since(start))
			r = ts.do(t, "GET", path+"/passes", contact, "", nil)
			var passes struct {
				Items []struct{ PID, Token, Kid string }
			}
			if err := json.Unmarshal(r.body, &passes); err != nil || len(passes.Items) != 410 {
				t.Fatalf("passes: %d %v", len(passes.Items), err)
			}
			jwks := ts.do(t, "GET", "/api/v1/passes/jwks.json", "", "", nil)
			if jwks.status != 200 || !strings.Contains(jwks.header.Get("Cache-Control"), "max-age") {
				t.Fatalf("jwks: %d %v", jwks.status, jwks.header)
			}
			var set struct {
				Keys []struct{ Kty, Crv, X, Kid, Use, Alg string }
			}
			json.Unmarshal(jwks.body, &set)
			keys := map[string]ed25519.PublicKey{}
			for _, k := range set.Keys {
				x, err := base64.RawURLEncoding.DecodeString(k.X)
				if err != nil || len(x) != 32 || k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" || k.Use != "sig" {
					t.Fatalf("jwk %+v", k)
				}
				keys[k.Kid] = x
			}
			for _, p := range passes.Items {
				parts := strings.Split(p.Token, ".")
				hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
				var h struct{ Kid string }
				json.Unmarshal(hdr, &h)
				sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
				if key := keys[h.Kid]; key == nil || !ed25519.Verify(key, []byte(parts[0]+"."+parts[1]), sig) {
					t.Fatalf("token of %s does not verify with the JWK Set", p.PID)
				}
			}
			// QR codes carry the token.
			one := passes.Items[0]
			png1 := ts.do(t, "GET", "/api/v1/passes/"+one.PID+"/qr.png?scale=4", contact, "", nil)
			if png1.status != 200 || png1.header.Get("Content-Type") != "image/png" {
				t.Fatalf("qr.png: %d %s", png1.status, png1.body)
			}
			img, err := png.Decode(bytes.NewReader(png1.body))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := qr.Decode(img); err != nil || got != one.Token {
				t.Fatalf("QR decodes to %q (%v)", got, err)
			}
			svg := ts.do(t, "GET", "/api/v1/passes/"+one.PID+"/qr.svg", contact, "", nil)
			if svg.status != 200 || !strings.HasPrefix(string(svg.body), "<svg") {
				t.Fatalf("qr.svg: %d %.80s", svg.status, svg.body)
			}
			if r := ts.do(t, "GET", "/api/v1/passes/"+one.PID+"/qr.svg", ts.tokenFor(t, "volunteer"), "", nil); r.status != 403 {
				t.Fatalf("volunteer reads a QR: %d", r.status)
			}
			// Cards: eight per page.
			cards := ts.do(t, "GET", fmt.Sprintf("/pass-batches/%d/cards", b.ID), contact, "", nil)
			if cards.status != 200 || strings.Count(string(cards.body), `class="pass-card"`) != 410 ||
				strings.Count(string(cards.body), `class="pass-sheet"`) != 52 {
				t.Fatalf("cards: %d, %d cards, %d sheets", cards.status, strings.Count(string(cards.body), `class="pass-card"`),
					strings.Count(string(cards.body), `class="pass-sheet"`))
			}
			// Revocation list: ETag, 304, a revocation changes it.
			rl := ts.do(t, "GET", "/api/v1/passes/revocations?since=0", "", "", nil)
			tag := rl.header.Get("ETag")
			if rl.status != 200 || tag == "" {
				t.Fatalf("revocations: %d %s", rl.status, rl.body)
			}
			if r := ts.do(t, "GET", "/api/v1/passes/revocations?since=0", "", "", nil, "If-None-Match", tag); r.status != 304 {
				t.Fatalf("If-None-Match: %d", r.status)
			}
			if r := ts.do(t, "POST", "/api/v1/passes/"+one.PID+"/revoke", gxj, "application/json",
				strings.NewReader(`{"reason":"离职"}`)); r.status != 200 || !strings.Contains(string(r.body), `"status":"revoked"`) {
				t.Fatalf("revoke: %d %s", r.status, r.body)
			}
			r = ts.do(t, "GET", "/api/v1/passes/revocations?since=0", "", "", nil, "If-None-Match", tag)
			if r.status != 200 || r.header.Get("ETag") == tag || !strings.Contains(string(r.body), one.PID) {
				t.Fatalf("after a revocation: %d %s", r.status, r.body)
			}
			// The online check says revoked.
			if _, reason := ts.sys.Passes.Verify(t.Context(), one.Token, time.Now()); reason != "revoked" {
				t.Fatalf("Verify: %s", reason)
			}
			// Quota: 5 demo passes + 410 of a quota of 500; 100 more is 409.
			r = ts.do(t, "POST", "/api/v1/pass-batches", contact, "text/csv", strings.NewReader(passCSV(100)))
			json.Unmarshal(r.body, &b)
			r = ts.do(t, "POST", fmt.Sprintf("/api/v1/pass-batches/%d/approve", b.ID), gxj, "application/json", strings.NewReader(`{}`))
			if r.status != 409 || r.problemCode(t) != "pass_quota_exceeded" {
				t.Fatalf("over quota: %d %s", r.status, r.body)
			}
			// A bad row names its row and column.
			id := passIDNumber("430211", "19900101", 1)
			wrong := id[:17] + map[bool]string{true: "1", false: "0"}[id[17] == '0']
			bad := strings.SplitAfter(passCSV(1), "\n")[0] + "甲," + wrong + ",13907330000,,430211001,2030-01-01,2030-01-02\n"
			r = ts.do(t, "POST", "/api/v1/pass-batches", contact, "text/csv", strings.NewReader(bad))
			if r.status != 400 || r.problemCode(t) != "import_rejected" || !strings.Contains(string(r.body), `"row":2`) {
				t.Fatalf("bad row: %d %s", r.status, r.body)
			}
			// The pages answer.
			for _, p := range []string{"/pass-batches", fmt.Sprintf("/pass-batches/%d", b.ID)} {
				if r := ts.do(t, "GET", p, gxj, "", nil); r.status != 200 {
					t.Fatalf("%s: %d", p, r.status)
				}
			}
		})
	}
}

// The pages: a contact uploads through the form (a refused file lists its
// rows), the reviewer unchecks a row and approves, another batch is
// rejected; the menu shows the entry to both.
func TestPassPages(t *testing.T) {
	ts := newTestSystem(t, "sqlite")
	contact, gxj := ts.tokenFor(t, "qianjin"), ts.tokenFor(t, "gxj")
	form := func(csv string) (string, *bytes.Buffer) {
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		fw, _ := mw.CreateFormFile("file", "list.csv")
		fw.Write([]byte(csv))
		mw.Close()
		return mw.FormDataContentType(), &mp
	}
	page := ts.do(t, "GET", "/pass-batches", contact, "", nil)
	if page.status != 200 || !strings.Contains(string(page.body), `action="/pass-batches"`) || !strings.Contains(string(page.body), `href="/pass-batches"`) {
		t.Fatalf("contact's page: %d", page.status)
	}
	ct, body := form(strings.Replace(passCSV(3), ",430211001,", ",430203001,", 1))
	r := ts.do(t, "POST", "/pass-batches", contact, ct, body)
	if r.status != 400 || !strings.Contains(string(r.body), "430203001") || !strings.Contains(string(r.body), "<td class=\"num\">2</td>") {
		t.Fatalf("refused upload: %d %s", r.status, r.body)
	}
	ct, body = form(passCSV(3))
	r = ts.do(t, "POST", "/pass-batches", contact, ct, body)
	loc := r.header.Get("Location")
	if r.status != 303 || !strings.HasPrefix(loc, "/pass-batches/") {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	queue := ts.do(t, "GET", "/pass-batches", gxj, "", nil)
	if !strings.Contains(string(queue.body), `href="`+loc+`"`) || strings.Contains(string(queue.body), `enctype="multipart/form-data"`) {
		t.Fatalf("review queue lacks %s or offers the upload", loc)
	}
	detail := ts.do(t, "GET", loc, gxj, "", nil)
	if strings.Count(string(detail.body), `name="row"`) != 3 || !strings.Contains(string(detail.body), loc+"/approve") {
		t.Fatalf("detail: %s", detail.body)
	}
	if d := ts.do(t, "GET", loc, contact, "", nil); strings.Contains(string(d.body), loc+"/approve") {
		t.Fatal("the contact is offered the review")
	}
	r = ts.do(t, "POST", loc+"/approve", gxj, "application/x-www-form-urlencoded", strings.NewReader("total=3&row=2&row=4&note=ok"))
	if r.status != 303 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	detail = ts.do(t, "GET", loc, gxj, "", nil)
	if !strings.Contains(string(detail.body), "部分批准") || strings.Count(string(detail.body), "未批准") < 1 || strings.Contains(string(detail.body), `name="row"`) {
		t.Fatalf("after approval: %s", detail.body)
	}
	cards := ts.do(t, "GET", loc+"/cards", contact, "", nil)
	if strings.Count(string(cards.body), `class="pass-card"`) != 2 || !strings.Contains(string(cards.body), "<svg") {
		t.Fatalf("cards: %s", cards.body)
	}
	ct, body = form(passCSV(2))
	loc2 := ts.do(t, "POST", "/pass-batches", contact, ct, body).header.Get("Location")
	if r := ts.do(t, "POST", loc2+"/reject", gxj, "application/x-www-form-urlencoded", strings.NewReader("reason=")); r.status != 400 {
		t.Fatalf("reject without reason: %d", r.status)
	}
	if r := ts.do(t, "POST", loc2+"/reject", gxj, "application/x-www-form-urlencoded", strings.NewReader("reason=名单不全")); r.status != 303 {
		t.Fatalf("reject: %d %s", r.status, r.body)
	}
	if d := ts.do(t, "GET", loc2, contact, "", nil); !strings.Contains(string(d.body), "名单不全") {
		t.Fatal("the rejection's reason is not shown")
	}
	// The demo's passes are made once.
	before := ts.do(t, "GET", "/api/v1/pass-batches", gxj, "", nil).body
	if _, err := Demo(t.Context(), ts.sys); err != nil {
		t.Fatal(err)
	}
	if after := ts.do(t, "GET", "/api/v1/pass-batches", gxj, "", nil).body; !bytes.Equal(before, after) {
		t.Fatalf("demo again changed the batches:\n%s\n%s", before, after)
	}
}
