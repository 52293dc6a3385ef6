package app

import (
	"bytes"
	"context"
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
	"github.com/xuri/excelize/v2"

	"tongxin/internal/auth"
	"tongxin/internal/checkpoint"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/pass"
	"tongxin/internal/passtoken"
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
func passCSV(n int) string { return passCSVFrom(0, n) }

// passCSVFrom is passCSV of the workers first … first+n-1, each with an
// ID number of their own (for fewer than 21000): a person holds one pass
// at a time.
func passCSVFrom(first, n int) string {
	today := time.Now().In(clock.Shanghai)
	var b strings.Builder
	b.WriteString("姓名,身份证号,手机,车牌,区域,起,止\n")
	for i := first; i < first+n; i++ {
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
	t.Parallel()
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
				Items []struct{ PID, Token, Kid, Number string }
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
			// Each card prints its short number, grouped as it is read aloud.
			if n := strings.Count(string(cards.body), `class="number"`); n != 410 ||
				!strings.Contains(string(cards.body), "通行证号 <strong>"+passtoken.FormatNumber(one.Number)+"</strong>") {
				t.Fatalf("%d cards carry a number; %s's (%q) is not printed", n, one.PID, one.Number)
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
			if _, reason := ts.sys.Verifier.Verify(t.Context(), one.Token, time.Now()); reason != "revoked" {
				t.Fatalf("Verify: %s", reason)
			}
			// Quota: 6 demo passes + 410 of a quota of 500; 100 more is 409.
			r = ts.do(t, "POST", "/api/v1/pass-batches", contact, "text/csv", strings.NewReader(passCSVFrom(1000, 100)))
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
	t.Parallel()
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
	if strings.Count(string(detail.body), `type="checkbox" name="row"`) != 3 || !strings.Contains(string(detail.body), loc+"/approve") {
		t.Fatalf("detail: %s", detail.body)
	}
	if d := ts.do(t, "GET", loc, contact, "", nil); strings.Contains(string(d.body), loc+"/approve") {
		t.Fatal("the contact is offered the review")
	}
	// The unchecked row needs a reason; then a confirmation with the
	// counts; only its form approves.
	r = ts.do(t, "POST", loc+"/approve", gxj, "application/x-www-form-urlencoded", strings.NewReader("total=3&row=2&row=4&note=ok"))
	if r.status != 400 || !strings.Contains(string(r.body), "未批准的行须逐行填写理由") {
		t.Fatalf("approve without a reason: %d %s", r.status, r.body)
	}
	r = ts.do(t, "POST", loc+"/approve", gxj, "application/x-www-form-urlencoded",
		strings.NewReader("total=3&row=2&row=4&note=ok&reason_3=%E8%BA%AB%E4%BB%BD%E5%BE%85%E6%A0%B8&reason_2=x"))
	if r.status != 200 || !strings.Contains(string(r.body), "批准 2 行") || !strings.Contains(string(r.body), "第 3 行：身份待核") ||
		!strings.Contains(string(r.body), `name="confirm" value="1"`) {
		t.Fatalf("confirmation: %d %s", r.status, r.body)
	}
	if d := ts.do(t, "GET", loc, gxj, "", nil); !strings.Contains(string(d.body), `type="checkbox" name="row"`) {
		t.Fatal("the confirmation page decided the batch")
	}
	r = ts.do(t, "POST", loc+"/approve", gxj, "application/x-www-form-urlencoded",
		strings.NewReader("confirm=1&row=2&row=4&note=ok&reason_3=%E8%BA%AB%E4%BB%BD%E5%BE%85%E6%A0%B8"))
	if r.status != 303 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	detail = ts.do(t, "GET", loc, gxj, "", nil)
	if !strings.Contains(string(detail.body), "部分批准") || strings.Count(string(detail.body), "未批准") < 1 || strings.Contains(string(detail.body), `type="checkbox" name="row"`) ||
		!strings.Contains(string(detail.body), "理由：身份待核") {
		t.Fatalf("after approval: %s", detail.body)
	}
	cards := ts.do(t, "GET", loc+"/cards", contact, "", nil)
	if strings.Count(string(cards.body), `class="pass-card"`) != 2 || !strings.Contains(string(cards.body), "<svg") {
		t.Fatalf("cards: %s", cards.body)
	}
	ct, body = form(passCSVFrom(10, 2))
	loc2 := ts.do(t, "POST", "/pass-batches", contact, ct, body).header.Get("Location")
	if r := ts.do(t, "POST", loc2+"/reject", gxj, "application/x-www-form-urlencoded", strings.NewReader("reason=")); r.status != 400 {
		t.Fatalf("reject without reason: %d", r.status)
	}
	if r := ts.do(t, "POST", loc2+"/reject", gxj, "application/x-www-form-urlencoded", strings.NewReader("reason=名单不全")); r.status != 200 ||
		!strings.Contains(string(r.body), "驳回整批 2 行") {
		t.Fatalf("reject's confirmation: %d %s", r.status, r.body)
	}
	if r := ts.do(t, "POST", loc2+"/reject", gxj, "application/x-www-form-urlencoded", strings.NewReader("reason=名单不全&confirm=1")); r.status != 303 {
		t.Fatalf("reject: %d %s", r.status, r.body)
	}
	if d := ts.do(t, "GET", loc2, contact, "", nil); !strings.Contains(string(d.body), "名单不全") {
		t.Fatal("the rejection's reason is not shown")
	}
	// Every row ticked: the confirmation approves the whole batch.
	ct, body = form(passCSVFrom(20, 2))
	loc3 := ts.do(t, "POST", "/pass-batches", contact, ct, body).header.Get("Location")
	r = ts.do(t, "POST", loc3+"/approve", gxj, "application/x-www-form-urlencoded", strings.NewReader("total=2&row=2&row=3"))
	if r.status != 200 || !strings.Contains(string(r.body), "批准 2 行") || !strings.Contains(string(r.body), `name="all" value="1"`) {
		t.Fatalf("confirmation of all rows: %d %s", r.status, r.body)
	}
	if r = ts.do(t, "POST", loc3+"/approve", gxj, "application/x-www-form-urlencoded", strings.NewReader("confirm=1&all=1&note=")); r.status != 303 {
		t.Fatalf("approve all: %d %s", r.status, r.body)
	}
	if d := ts.do(t, "GET", loc3, contact, "", nil); !strings.Contains(string(d.body), "已批准") {
		t.Fatalf("after approving all: %s", d.body)
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

// limitCSV is rows under the header with the 卡口 and 接驳点 columns; each
// row is name, ID number, plate, areas, checkpoints, transfer point, and
// is valid for ten days from today.
func limitCSV(rows ...[6]string) string {
	today := time.Now().In(clock.Shanghai)
	var b strings.Builder
	b.WriteString("姓名,身份证号,手机,车牌,区域,卡口,接驳点,起,止\n")
	for i, r := range rows {
		fmt.Fprintf(&b, "%s,%s,1390733%04d,%s,%s,%s,%s,%s,%s\n", r[0], r[1], 6000+i, r[2], r[3], r[4], r[5],
			today.Format("2006-01-02"), today.AddDate(0, 0, 9).Format("2006-01-02"))
	}
	return b.String()
}

// problemRows reads the row errors of a problem+json answer.
func problemRows(t *testing.T, r res) map[int]struct{ Column, Message string } {
	t.Helper()
	var p struct {
		Errors []struct {
			Row             int
			Column, Message string
		}
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem %s: %v", r.body, err)
	}
	out := map[int]struct{ Column, Message string }{}
	for _, e := range p.Errors {
		out[e.Row] = struct{ Column, Message string }{e.Column, e.Message}
	}
	return out
}

// approvePasses uploads csv as 千金药业's contact, approves it as gxj and
// returns the batch id and its passes.
func approvePasses(t *testing.T, ts *testSystem, csv string) (int64, []pass.Pass) {
	t.Helper()
	r := ts.do(t, "POST", "/api/v1/pass-batches", ts.tokenFor(t, "qianjin"), "text/csv", strings.NewReader(csv))
	var b struct{ ID int64 }
	if r.status != 201 || json.Unmarshal(r.body, &b) != nil {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	path := fmt.Sprintf("/api/v1/pass-batches/%d", b.ID)
	if r := ts.do(t, "POST", path+"/approve", ts.tokenFor(t, "gxj"), "application/json", strings.NewReader(`{}`)); r.status != 200 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	r = ts.do(t, "GET", path+"/passes", ts.tokenFor(t, "gxj"), "", nil)
	var list struct{ Items []pass.Pass }
	if err := json.Unmarshal(r.body, &list); err != nil || r.status != 200 {
		t.Fatalf("passes: %d %s", r.status, r.body)
	}
	return b.ID, list.Items
}

// The checkpoint ids of an application are checked against the registry:
// an unknown one refuses the file naming row and column; a registered one
// is written as the registry writes it.
func TestPassCheckpointIDsAreChecked(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			contact := ts.tokenFor(t, "qianjin")
			jianning := demoCheckpointID(t, ts, "建宁大桥")
			r := ts.do(t, "POST", "/api/v1/pass-batches", contact, "text/csv", strings.NewReader(limitCSV(
				[6]string{"司机甲", "", "湘B·C1001", "430211", "999999", ""},
				[6]string{"司机乙", "", "湘B·C1002", "430211", jianning + ";abc", ""},
				[6]string{"司机丙", "", "湘B·C1003", "430211", jianning, ""})))
			if r.status != 400 || r.problemCode(t) != "import_rejected" {
				t.Fatalf("unknown checkpoint: %d %s", r.status, r.body)
			}
			rows := problemRows(t, r)
			if e := rows[2]; e.Column != "卡口" || e.Message != "卡口 999999 不存在" {
				t.Errorf("row 2: %+v", e)
			}
			if e := rows[3]; e.Column != "卡口" || !strings.Contains(e.Message, "abc") {
				t.Errorf("row 3: %+v", e)
			}
			if len(rows) != 2 {
				t.Errorf("rows %+v", rows)
			}
			_, passes := approvePasses(t, ts, limitCSV([6]string{"司机丙", "", "湘B·C1003", "430211", "0" + jianning, ""}))
			if len(passes) != 1 || len(passes[0].Checkpoints) != 1 || passes[0].Checkpoints[0] != jianning || passes[0].TransferPoint != nil {
				t.Fatalf("pass %+v", passes)
			}
		})
	}
}

// A vehicle pass limited to reaching a transfer point (接驳点): only on
// vehicle rows, only a transfer point, not with 卡口. Its token names that
// point alone: a scan there allows, a scan at another checkpoint of the
// same district denies checkpoint_not_allowed (where an ordinary vehicle
// pass of the district is allowed). The pages say where it may go.
func TestPassTransferPointOverHTTP(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			ctx := context.Background()
			contact, gxj := ts.tokenFor(t, "qianjin"), ts.tokenFor(t, "gxj")
			transfer := demoCheckpointID(t, ts, "株洲高新区物资接驳点")
			jianning := demoCheckpointID(t, ts, "建宁大桥")
			zhuzhou := demoCheckpointID(t, ts, "株洲大桥")
			r := ts.do(t, "POST", "/api/v1/pass-batches", contact, "text/csv", strings.NewReader(limitCSV(
				[6]string{"王五", passIDNumber("430211", "19850505", 5), "", "430211", "", transfer},
				[6]string{"司机甲", "", "湘B·J0001", "430211", "", zhuzhou},
				[6]string{"司机乙", "", "湘B·J0002", "430211", jianning, transfer})))
			if r.status != 400 || r.problemCode(t) != "import_rejected" {
				t.Fatalf("bad rows: %d %s", r.status, r.body)
			}
			rows := problemRows(t, r)
			for row, want := range map[int]string{2: "只用于车辆通行证", 3: "卡口 " + zhuzhou + "「株洲大桥」不是物资接驳点", 4: "不能再指定卡口"} {
				if e := rows[row]; e.Column != "接驳点" || !strings.Contains(e.Message, want) {
					t.Errorf("row %d: %+v, want 接驳点 %s", row, e, want)
				}
			}
			if len(rows) != 3 {
				t.Errorf("rows %+v", rows)
			}

			id, passes := approvePasses(t, ts, limitCSV([6]string{"司机甲", "", "湘B·J0001", "430211", "", transfer}))
			p := passes[0]
			if len(p.Checkpoints) != 1 || p.Checkpoints[0] != transfer || p.TransferPoint == nil || p.TransferPoint.Name != "株洲高新区物资接驳点" {
				t.Fatalf("pass %+v", p)
			}
			scan := func(cp, token, clientID string) *checkpoint.Scan {
				t.Helper()
				s, err := ts.sys.Checkpoints.Scan(ctx, auth.System(), cp, checkpoint.ScanInput{Token: token, ClientID: clientID})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			if s := scan(transfer, p.Token, "tp-scan-0001"); s.Verdict != checkpoint.Allow || s.Reason != passtoken.OK {
				t.Errorf("at the transfer point: %s %s", s.Verdict, s.Reason)
			}
			if s := scan(jianning, p.Token, "tp-scan-0002"); s.Verdict != checkpoint.Deny || s.Reason != passtoken.CheckpointNotAllowed {
				t.Errorf("at 建宁大桥: %s %s", s.Verdict, s.Reason)
			}
			if s := scan(jianning, demoPassTokens(t, ts)["陈*"].Token, "tp-scan-0003"); s.Reason != passtoken.OK {
				t.Errorf("an ordinary vehicle pass at 建宁大桥: %s", s.Reason)
			}
			const note = "仅限到达物资接驳点：株洲高新区物资接驳点"
			for _, path := range []string{fmt.Sprintf("/pass-batches/%d", id), fmt.Sprintf("/pass-batches/%d/cards", id)} {
				if r := ts.do(t, "GET", path, gxj, "", nil); r.status != 200 || !strings.Contains(string(r.body), note) {
					t.Errorf("%s: %d, no %q", path, r.status, note)
				}
			}
			if r := ts.do(t, "GET", "/api/v1/passes/"+p.PID, contact, "", nil); !strings.Contains(string(r.body), `"transfer_point":{"id":"`+transfer+`","name":"株洲高新区物资接驳点"`) {
				t.Errorf("pass JSON: %s", r.body)
			}
			// The batch under review says it as well.
			r = ts.do(t, "POST", "/api/v1/pass-batches", contact, "text/csv", strings.NewReader(limitCSV(
				[6]string{"司机乙", "", "湘B·J0002", "430211", "", transfer})))
			var b struct{ ID int64 }
			json.Unmarshal(r.body, &b)
			if r := ts.do(t, "GET", fmt.Sprintf("/pass-batches/%d", b.ID), gxj, "", nil); !strings.Contains(string(r.body), note) ||
				!strings.Contains(string(r.body), `name="row"`) {
				t.Errorf("review page lacks %q", note)
			}
		})
	}
}

// A person or vehicle holds one pass at a time: an application for the
// demo's workers and vehicle, whose passes are active, or for those in the
// demo's batch awaiting review, names that pass or batch; an approval that
// would issue a second pass is 409 problem+json listing the rows, and the
// review page lists them too.
func TestPassHoldersOverHTTP(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			ctx := context.Background()
			contact, gxj := ts.tokenFor(t, "qianjin"), ts.tokenFor(t, "gxj")
			demo := demoPassTokens(t, ts)
			li := demo["李*国"]
			pending, err := ts.sys.Passes.ListBatches(ctx, auth.System(), pass.BatchFilter{Statuses: []pass.BatchStatus{pass.Submitted},
				Enterprise: demoPassEnterprise})
			if err != nil || len(pending) != 1 {
				t.Fatalf("千金药业's pending batch in the demo: %v %v", pending, err)
			}
			r := ts.do(t, "POST", "/api/v1/pass-batches", contact, "text/csv", strings.NewReader(limitCSV(
				[6]string{"李建国", demoIDNumber("43021119800312201"), "", "430211001", "", ""},
				[6]string{"赵磊", demoIDNumber("43021119870715206"), "", "430211001", "", ""},
				[6]string{"陈伟", "", "湘B·D12345", "430211", "", ""},
				[6]string{"新人", passIDNumber("430211", "19950505", 7), "", "430211001", "", ""})))
			if r.status != 400 || r.problemCode(t) != "import_rejected" {
				t.Fatalf("upload: %d %s", r.status, r.body)
			}
			rows := problemRows(t, r)
			for row, want := range map[int][2]string{
				2: {"身份证号", "该人员已持有有效通行证 " + li.PID + "（株洲千金药业股份有限公司），有效至 " + li.LastDay()},
				3: {"身份证号", fmt.Sprintf("该人员已在待审核的通行证申请第 %d 批第 2 行", pending[0].ID)},
				4: {"车牌", "该车辆已持有有效通行证 " + demo["陈*"].PID},
			} {
				if e := rows[row]; e.Column != want[0] || !strings.Contains(e.Message, want[1]) {
					t.Errorf("row %d: %+v, want %v", row, e, want)
				}
			}
			if len(rows) != 3 {
				t.Errorf("rows %+v", rows)
			}

			// Two batches for the same new worker, both waiting (as two
			// uploads racing leave them): the second approval is refused.
			worker := limitCSV([6]string{"新人", passIDNumber("430211", "19950505", 7), "", "430211001", "", ""})
			upload := func() int64 {
				r := ts.do(t, "POST", "/api/v1/pass-batches", contact, "text/csv", strings.NewReader(worker))
				var b struct{ ID int64 }
				if r.status != 201 || json.Unmarshal(r.body, &b) != nil {
					t.Fatalf("upload: %d %s", r.status, r.body)
				}
				return b.ID
			}
			setStatus := func(id int64, st string) {
				if err := ts.sys.DB.Write(ctx, func(tx *db.Tx) error {
					_, err := tx.ExecContext(ctx, `UPDATE pass_batches SET status = $1 WHERE id = $2`, st, id)
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			first := upload()
			setStatus(first, "rejected")
			second := upload()
			setStatus(first, "submitted")
			if r := ts.do(t, "POST", fmt.Sprintf("/api/v1/pass-batches/%d/approve", first), gxj, "application/json", strings.NewReader(`{}`)); r.status != 200 {
				t.Fatalf("first approval: %d %s", r.status, r.body)
			}
			r = ts.do(t, "POST", fmt.Sprintf("/api/v1/pass-batches/%d/approve", second), gxj, "application/json", strings.NewReader(`{}`))
			if r.status != 409 || r.problemCode(t) != "pass_already_held" {
				t.Fatalf("second approval: %d %s", r.status, r.body)
			}
			if e := problemRows(t, r)[2]; e.Column != "身份证号" || !strings.Contains(e.Message, "该人员已持有有效通行证") {
				t.Fatalf("second approval's rows: %s", r.body)
			}
			page := ts.do(t, "POST", fmt.Sprintf("/pass-batches/%d/approve", second), gxj, "application/x-www-form-urlencoded",
				strings.NewReader("total=1&row=2"))
			if page.status != 409 || !strings.Contains(string(page.body), "该人员已持有有效通行证") || !strings.Contains(string(page.body), `<td class="num">2</td>`) {
				t.Fatalf("review page: %d %s", page.status, page.body)
			}
			var issued int
			if err := ts.sys.DB.Read(ctx, func(tx *db.Tx) error {
				return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM passes WHERE batch_id = $1`, second).Scan(&issued)
			}); err != nil || issued != 0 {
				t.Fatalf("%d passes for the refused batch (%v)", issued, err)
			}
		})
	}
}

// Pass statistics per period over HTTP: ?from=&to= (days in Shanghai,
// both included) counts what was issued and revoked in it, totals without;
// bad dates are 400 problem+json; the XLSX export and the page's date
// form follow the period.
func TestPassStatsOverHTTP(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			gxj := ts.tokenFor(t, "gxj")
			demo := demoPassTokens(t, ts)
			day := demo["李*国"].IssuedAt.In(clock.Shanghai)
			today, before := day.Format("2006-01-02"), day.AddDate(0, 0, -1).Format("2006-01-02")
			if _, err := ts.sys.Passes.Revoke(context.Background(), auth.System(), demo["刘*"].PID, pass.ReasonInput{Reason: "离职"}); err != nil {
				t.Fatal(err)
			}
			// The revocation counts on its own day, which is the issue day
			// unless midnight in Shanghai came between the demo's build and
			// now: a period from the issue day to today holds both.
			revoked := time.Now().In(clock.Shanghai).Format("2006-01-02")
			stats := func(query string) (pass.EnterpriseStats, string, string) {
				t.Helper()
				r := ts.do(t, "GET", "/api/v1/passes/stats"+query, gxj, "", nil)
				var a struct {
					Items    []pass.EnterpriseStats
					From, To string
				}
				if r.status != 200 || json.Unmarshal(r.body, &a) != nil {
					t.Fatalf("stats%s: %d %s", query, r.status, r.body)
				}
				for _, e := range a.Items {
					if e.Enterprise == demoPassEnterprise {
						return e, a.From, a.To
					}
				}
				t.Fatalf("stats%s: no 千金药业 in %s", query, r.body)
				return pass.EnterpriseStats{}, "", ""
			}
			if e, from, to := stats(""); e.Issued != 6 || e.Revoked != 1 || e.Active != 5 || from != "" || to != "" {
				t.Errorf("totals: %+v %q %q", e, from, to)
			}
			if e, from, to := stats("?from=" + today + "&to=" + revoked); e.Issued != 6 || e.Revoked != 1 || e.Vehicles != 2 || from != today || to != revoked {
				t.Errorf("from the issue day to today: %+v %q %q", e, from, to)
			}
			if e, _, _ := stats("?from=" + today + "&to=" + today); e.Issued != 6 || e.Vehicles != 2 {
				t.Errorf("the issue day: %+v", e)
			}
			if e, _, _ := stats("?from=" + before + "&to=" + before); e.Issued != 0 || e.Revoked != 0 || e.Active != 5 {
				t.Errorf("the day before: %+v", e)
			}
			if e, _, _ := stats("?to=" + before); e.Issued != 0 {
				t.Errorf("until the day before: %+v", e)
			}
			for _, q := range []string{"?from=yesterday", "?to=2022-13-40", "?from=" + today + "&to=" + before} {
				for _, path := range []string{"/api/v1/passes/stats", "/api/v1/passes/stats.xlsx"} {
					if r := ts.do(t, "GET", path+q, gxj, "", nil); r.status != 400 || r.problemCode(t) != "bad_period" {
						t.Errorf("%s%s: %d %s", path, q, r.status, r.body)
					}
				}
			}
			x := ts.do(t, "GET", "/api/v1/passes/stats.xlsx?from="+before+"&to="+before, gxj, "", nil)
			if x.status != 200 || !strings.Contains(x.header.Get("Content-Disposition"), ".xlsx") {
				t.Fatalf("xlsx: %d %v", x.status, x.header)
			}
			f, err := excelize.OpenReader(bytes.NewReader(x.body))
			if err != nil {
				t.Fatal(err)
			}
			sheet, _ := f.GetRows(f.GetSheetName(0))
			found := false
			for _, row := range sheet[1:] {
				if row[0] == demoPassEnterprise {
					found = row[2] == "0" && row[3] == "5" && row[5] == "0"
				}
			}
			if !found || sheet[0][2] != "期间签发" {
				t.Errorf("xlsx of the day before: %v", sheet)
			}
			page := ts.do(t, "GET", "/pass-batches?from="+before+"&to="+before, gxj, "", nil)
			body := string(page.body)
			if page.status != 200 || !strings.Contains(body, `name="from" type="date" value="`+before+`"`) ||
				!strings.Contains(body, "统计期间："+before+" 至 "+before) || !strings.Contains(body, "stats.xlsx?from="+before+"&amp;to="+before) {
				t.Errorf("page: %d %s", page.status, body)
			}
			if page := ts.do(t, "GET", "/pass-batches?from=2022-02-30", gxj, "", nil); page.status != 400 || !strings.Contains(string(page.body), "YYYY-MM-DD") {
				t.Errorf("page with a bad date: %d", page.status)
			}
		})
	}
}

// An enterprise contact who uploads someone else's ID number or plate
// learns only that the person or vehicle already has a pass or a pending
// application: not the other enterprise, its credit code, the pass, the
// batch or their dates. The reviewer sees all of it: on the batch awaiting
// review (rows[].conflict, the review page) and in a refused approval.
func TestPassUploadRevealsNoOtherEnterprise(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			ctx := context.Background()
			const ouweiKey = "91430203MA4L1A0000"
			if _, err := ts.sys.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "ouwei", DisplayName: "欧微联系人",
				Password: "Ent-Contact-Pass-2022!", Roles: []auth.RoleInput{{Role: "enterprise_contact", Scope: "enterprise:" + ouweiKey}}}); err != nil {
				t.Fatal(err)
			}
			ouwei, contact, gxj := ts.tokenFor(t, "ouwei"), ts.tokenFor(t, "qianjin"), ts.tokenFor(t, "gxj")
			demo := demoPassTokens(t, ts)
			li, chen := demo["李*国"], demo["陈*"]
			pending, err := ts.sys.Passes.ListBatches(ctx, auth.System(), pass.BatchFilter{Statuses: []pass.BatchStatus{pass.Submitted},
				Enterprise: demoPassEnterprise})
			if err != nil || len(pending) != 1 {
				t.Fatalf("千金药业's pending batch in the demo: %v %v", pending, err)
			}
			secrets := []string{"株洲千金药业", demoPassEnterprise, li.PID, chen.PID, li.FirstDay(), li.LastDay(),
				fmt.Sprintf("第 %d 批", pending[0].ID), "有效至"}

			// 李建国 and the lorry 湘B·D12345 hold 千金药业's passes; 赵磊
			// is in its batch awaiting review.
			r := ts.do(t, "POST", "/api/v1/pass-batches", ouwei, "text/csv", strings.NewReader(limitCSV(
				[6]string{"李建国", demoIDNumber("43021119800312201"), "", "430203002", "", ""},
				[6]string{"赵磊", demoIDNumber("43021119870715206"), "", "430203002", "", ""},
				[6]string{"陈伟", "", "湘B·D12345", "430203", "", ""})))
			if r.status != 400 || r.problemCode(t) != "import_rejected" {
				t.Fatalf("upload: %d %s", r.status, r.body)
			}
			for _, s := range secrets {
				if strings.Contains(string(r.body), s) {
					t.Errorf("the refusal shows %q: %s", s, r.body)
				}
			}
			var p struct {
				Errors []struct {
					Row                   int
					Column, Code, Message string
				}
			}
			if err := json.Unmarshal(r.body, &p); err != nil || len(p.Errors) != 3 {
				t.Fatalf("errors %s (%v)", r.body, err)
			}
			for i, e := range p.Errors {
				want := "此人已持有有效通行证或有待审核的申请"
				if i == 2 {
					want = "此车辆已持有有效通行证或有待审核的申请"
				}
				if e.Row != i+2 || e.Code != "pass_already_held" || !strings.HasPrefix(e.Message, want) {
					t.Errorf("error %d: %+v", i, e)
				}
			}
			// The same page for a browser upload shows no more.
			var form bytes.Buffer
			mw := multipart.NewWriter(&form)
			fw, _ := mw.CreateFormFile("file", "workers.csv")
			fw.Write([]byte(limitCSV([6]string{"李建国", demoIDNumber("43021119800312201"), "", "430203002", "", ""})))
			mw.Close()
			page := ts.do(t, "POST", "/pass-batches", ouwei, mw.FormDataContentType(), &form)
			if page.status != 400 || !strings.Contains(string(page.body), "此人已持有有效通行证或有待审核的申请") {
				t.Fatalf("upload page: %d %s", page.status, page.body)
			}
			for _, s := range secrets {
				if strings.Contains(string(page.body), s) {
					t.Errorf("the upload page shows %q", s)
				}
			}

			// A new worker applied for by both, as two uploads racing
			// leave them, and 千金药业's batch approved first: 欧微's batch
			// awaits review with a row whose worker holds 千金药业's pass.
			worker := [6]string{"新人", passIDNumber("430211", "19950505", 7), "", "430211001", "", ""}
			upload := func(token string, row [6]string) int64 {
				r := ts.do(t, "POST", "/api/v1/pass-batches", token, "text/csv", strings.NewReader(limitCSV(row)))
				var b struct{ ID int64 }
				if r.status != 201 || json.Unmarshal(r.body, &b) != nil {
					t.Fatalf("upload: %d %s", r.status, r.body)
				}
				return b.ID
			}
			setStatus := func(id int64, st string) {
				if err := ts.sys.DB.Write(ctx, func(tx *db.Tx) error {
					_, err := tx.ExecContext(ctx, `UPDATE pass_batches SET status = $1 WHERE id = $2`, st, id)
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			first := upload(contact, worker)
			setStatus(first, "rejected")
			worker[3] = "430203002"
			second := upload(ouwei, worker)
			setStatus(first, "submitted")
			if r := ts.do(t, "POST", fmt.Sprintf("/api/v1/pass-batches/%d/approve", first), gxj, "application/json", strings.NewReader(`{}`)); r.status != 200 {
				t.Fatalf("first approval: %d %s", r.status, r.body)
			}
			var issued struct{ Items []pass.Pass }
			if r := ts.do(t, "GET", fmt.Sprintf("/api/v1/pass-batches/%d/passes", first), gxj, "", nil); json.Unmarshal(r.body, &issued) != nil || len(issued.Items) != 1 {
				t.Fatalf("issued %d %s", r.status, r.body)
			}
			held := issued.Items[0]

			// The reviewer: the row's conflict names the pass, its
			// enterprise and its days.
			var b pass.Batch
			if r := ts.do(t, "GET", fmt.Sprintf("/api/v1/pass-batches/%d", second), gxj, "", nil); json.Unmarshal(r.body, &b) != nil || len(b.Rows) == 0 {
				t.Fatalf("the batch: %d %s", r.status, r.body)
			}
			c := b.Rows[0].Conflict
			if len(b.Rows) != 1 || c == nil || c.PID != held.PID || c.Enterprise != demoPassEnterprise ||
				c.EnterpriseName != "株洲千金药业股份有限公司" || !c.ValidTo.Equal(held.ValidTo) || !strings.Contains(c.Message, held.PID) {
				t.Fatalf("the reviewer's rows: %+v %+v", b.Rows, c)
			}
			review := ts.do(t, "GET", fmt.Sprintf("/pass-batches/%d", second), gxj, "", nil)
			if !strings.Contains(string(review.body), held.PID) || !strings.Contains(string(review.body), "株洲千金药业股份有限公司") {
				t.Fatalf("the review page lacks the conflict: %s", review.body)
			}
			r = ts.do(t, "POST", fmt.Sprintf("/api/v1/pass-batches/%d/approve", second), gxj, "application/json", strings.NewReader(`{}`))
			if r.status != 409 || r.problemCode(t) != "pass_already_held" || !strings.Contains(string(r.body), held.PID) ||
				!strings.Contains(string(r.body), "株洲千金药业股份有限公司") {
				t.Fatalf("the approval: %d %s", r.status, r.body)
			}
			// 欧微's contact reads its own batch without any of it.
			own := ts.do(t, "GET", fmt.Sprintf("/api/v1/pass-batches/%d", second), ouwei, "", nil)
			ownPage := ts.do(t, "GET", fmt.Sprintf("/pass-batches/%d", second), ouwei, "", nil)
			if own.status != 200 || ownPage.status != 200 {
				t.Fatalf("own batch: %d %d", own.status, ownPage.status)
			}
			for _, body := range [][]byte{own.body, ownPage.body} {
				for _, s := range []string{held.PID, "株洲千金药业", demoPassEnterprise, `"conflict"`} {
					if strings.Contains(string(body), s) {
						t.Errorf("欧微's own batch shows %q", s)
					}
				}
			}
		})
	}
}
