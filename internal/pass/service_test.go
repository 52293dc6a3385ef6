package pass

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
)

// verifyPlain checks a compact JWS against a JWK Set JSON document with
// nothing but the standard library: no code of this package.
func verifyPlain(t *testing.T, jwks []byte, token string) (kid string, payload map[string]any) {
	t.Helper()
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid, Alg string }
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatalf("jwks: %v", err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h struct{ Alg, Kid, Typ string }
	if err := json.Unmarshal(hb, &h); err != nil || h.Alg != "EdDSA" || h.Typ != "tongxin-pass" {
		t.Fatalf("header %s: %v", hb, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid != h.Kid {
			continue
		}
		if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" {
			t.Fatalf("key %+v", k)
		}
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			t.Fatalf("x of %s: %v", k.Kid, err)
		}
		if !ed25519.Verify(ed25519.PublicKey(x), []byte(parts[0]+"."+parts[1]), sig) {
			t.Fatalf("signature of %s does not verify", token)
		}
		pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
		if err := json.Unmarshal(pb, &payload); err != nil {
			t.Fatal(err)
		}
		return h.Kid, payload
	}
	t.Fatalf("kid %s is not in the JWK Set %s", h.Kid, jwks)
	return "", nil
}

func (f *fixture) jwksJSON() []byte {
	f.T.Helper()
	set, err := f.svc.JWKS(f.Ctx)
	if err != nil {
		f.T.Fatal(err)
	}
	b, err := json.Marshal(set)
	if err != nil {
		f.T.Fatal(err)
	}
	return b
}

// 410 workers: one upload, one approval, 410 passes whose tokens verify
// with a plain Ed25519 verifier and the JWK Set; no personal data beyond
// the masked name and the last four ID characters is in them.
func TestBatchOf410Workers(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		b := f.upload(workersCSV(410))
		if b.Status != Submitted || b.RowCount != 410 || b.Persons != 410 {
			t.Fatalf("batch %+v", b)
		}
		// The reviewer's queue has it; the other enterprise's contact does not see it.
		queue, err := f.svc.ListBatches(f.Ctx, f.gxj, BatchFilter{Statuses: []BatchStatus{Submitted}})
		if err != nil || len(queue) != 1 || queue[0].ID != b.ID {
			t.Fatalf("queue %+v %v", queue, err)
		}
		if mine, _ := f.svc.ListBatches(f.Ctx, f.other, BatchFilter{}); len(mine) != 0 {
			t.Fatalf("other contact sees %+v", mine)
		}
		b = f.approve(b.ID)
		if b.Status != Approved || b.ApprovedCount != 410 || b.ReviewedBy != "gxj" {
			t.Fatalf("approved %+v", b)
		}
		passes, err := f.svc.BatchPasses(f.Ctx, f.contact, b.ID)
		if err != nil || len(passes) != 410 {
			t.Fatalf("passes: %d %v", len(passes), err)
		}
		jwks := f.jwksJSON()
		pids, numbers := map[string]bool{}, map[string]bool{}
		for i, p := range passes {
			kid, payload := verifyPlain(t, jwks, p.Token)
			if kid != p.Kid || payload["pid"] != p.PID || payload["ent"] != qianjin || payload["k"] != "person" {
				t.Fatalf("pass %d: kid %s payload %v", i, kid, payload)
			}
			if n := payload["n"].(string); !strings.Contains(n, "*") {
				t.Fatalf("name %q is not masked", n)
			}
			if id4 := payload["id4"].(string); len(id4) != 4 {
				t.Fatalf("id4 %q", id4)
			}
			// The enterprise by name too, for checkpoints offline.
			if payload["en"] != "株洲千金药业股份有限公司" {
				t.Fatalf("pass %d names the enterprise %v", i, payload["en"])
			}
			// A short number on each, distinct, with a good check digit.
			if n, msg := passtoken.NumberProblem(passtoken.FormatNumber(p.Number)); msg != "" || n != p.Number || numbers[n] {
				t.Fatalf("pass %d: number %q (%s), seen before %v", i, p.Number, msg, numbers[n])
			}
			numbers[p.Number] = true
			for k := range payload {
				switch k {
				case "pid", "k", "n", "id4", "ent", "en", "z", "nbf", "exp":
				default:
					t.Fatalf("unexpected claim %q in %v", k, payload)
				}
			}
			if strings.Contains(p.Token, "1390") || p.Status != StatusActive {
				t.Fatalf("pass %+v", p)
			}
			pids[p.PID] = true
			if c, r := f.svc.verifier.Verify(f.Ctx, p.Token, testBase); r != passtoken.OK || c.PID != p.PID {
				t.Fatalf("Verify: %v %v", c, r)
			}
		}
		if len(pids) != 410 {
			t.Fatalf("%d distinct pids", len(pids))
		}
		// Rows carry their decision and pass.
		full, err := f.svc.GetBatch(f.Ctx, f.gxj, b.ID)
		if err != nil || len(full.Rows) != 410 || full.Rows[0].Decision != RowApproved || full.Rows[0].PID == "" ||
			!strings.Contains(full.Rows[0].IDNumber, "****") || full.Rows[0].Row != 2 {
			t.Fatalf("rows: %+v %v", full.Rows[:1], err)
		}
		// The key file is private.
		fi, err := os.Stat(filepath.Join(f.dataDir, KeyDirName, passes[0].Kid+".key"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v %v", fi, err)
		}
		di, _ := os.Stat(filepath.Join(f.dataDir, KeyDirName))
		if di.Mode().Perm() != 0o700 {
			t.Fatalf("key dir mode %v", di.Mode())
		}
	})
}

// A bad row refuses the whole batch, naming row and column; nothing is
// stored.
func TestBadRowRefusesBatch(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		good := residentID("430211", "19900101", 1)
		badCheck := good[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", good[17])+1)%11])
		data := workersCSV(3,
			"李四,"+badCheck+",13907331111,,430211001,2022-11-20,2022-12-19",
			"王五,"+residentID("430211", "19800101", 2)+",13907332222,湘B1234I,430211001,2022-11-20,2022-12-19",
			"赵六,"+residentID("430211", "19800101", 3)+",13907333333,,430203001,2022-11-20,2022-12-19",
			"钱七,"+residentID("430211", "19800101", 4)+",13907334444,,430211001,2022-12-19,2022-11-20",
			"孙八,"+residentID("430211", "19800101", 5)+",13907335555,,430211001,2022-11-20,2023-03-01",
		)
		_, err := f.svc.Upload(f.Ctx, f.contact, UploadInput{Data: data})
		e := mustErr(t, err, errs.Invalid, "import_rejected")
		want := map[int]string{5: "身份证号", 6: "车牌", 7: "区域", 8: "止", 9: "止"}
		got := map[int]string{}
		for _, fe := range e.Fields {
			got[fe.Row] = fe.Column
			if fe.Message == "" {
				t.Fatalf("no message: %+v", fe)
			}
		}
		for row, col := range want {
			if got[row] != col {
				t.Errorf("row %d: column %q, want %q (%+v)", row, got[row], col, e.Fields)
			}
		}
		if len(got) != len(want) {
			t.Errorf("errors %+v", e.Fields)
		}
		if n := f.Count(`SELECT COUNT(*) FROM pass_batches`) + f.Count(`SELECT COUNT(*) FROM pass_batch_rows`); n != 0 {
			t.Fatalf("%d rows stored", n)
		}
		// A vehicle row is a vehicle pass; its ID number may be left out.
		b := f.upload([]byte("姓名,手机,车牌,区域,起,止\n司机甲,13907336666,湘B·12345,430211,2022-11-20,2022-11-30\n"))
		if b.Vehicles != 1 || b.Persons != 0 {
			t.Fatalf("vehicle batch %+v", b)
		}
	})
}

func TestQuotaAndRowByRowApproval(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		five := 5
		if _, err := f.svc.SetQuota(f.Ctx, f.contact, qianjin, QuotaInput{Quota: &five}); err == nil {
			t.Fatal("a contact set the quota")
		}
		q, err := f.svc.SetQuota(f.Ctx, f.gxj, qianjin, QuotaInput{Quota: &five})
		if err != nil || q.Quota != 5 || q.Default {
			t.Fatalf("quota %+v %v", q, err)
		}
		b := f.upload(workersCSV(6))
		_, err = f.svc.Approve(f.Ctx, f.gxj, b.ID, ApproveInput{})
		e := mustErr(t, err, errs.Conflict, "pass_quota_exceeded")
		if !strings.Contains(e.Message, "配额 5") {
			t.Fatalf("message %q", e.Message)
		}
		if n := f.Count(`SELECT COUNT(*) FROM passes`); n != 0 {
			t.Fatalf("%d passes after refusal", n)
		}
		_, err = f.svc.Approve(f.Ctx, f.gxj, b.ID, ApproveInput{Rows: []int{2, 99}})
		mustErr(t, err, errs.Invalid, "unknown_rows")
		// A row left out needs its reason; a reason names only a row left out.
		_, err = f.svc.Approve(f.Ctx, f.gxj, b.ID, ApproveInput{Rows: []int{2, 3, 4, 5, 6}, Note: "第7行另行核实"})
		e = mustErr(t, err, errs.Invalid, "row_reason_required")
		if len(e.Fields) != 1 || e.Fields[0].Row != 7 || !strings.Contains(e.Message, "第 7 行") {
			t.Fatalf("fields %+v", e.Fields)
		}
		_, err = f.svc.Approve(f.Ctx, f.gxj, b.ID, ApproveInput{Rows: []int{2, 3, 4, 5, 6},
			Reasons: []RowReason{{Row: 7, Reason: "身份待核实"}, {Row: 2, Reason: "多余"}}})
		if e = mustErr(t, err, errs.Invalid, "row_reason_required"); len(e.Fields) != 1 || e.Fields[0].Row != 2 {
			t.Fatalf("fields %+v", e.Fields)
		}
		b, err = f.svc.Approve(f.Ctx, f.gxj, b.ID, ApproveInput{Rows: []int{2, 3, 4, 5, 6}, Note: "第7行另行核实",
			Reasons: []RowReason{{Row: 7, Reason: " 身份待核实 "}}})
		if err != nil || b.Status != PartlyApproved || b.ApprovedCount != 5 || b.RejectedCount != 1 {
			t.Fatalf("partly %+v %v", b, err)
		}
		full, _ := f.svc.GetBatch(f.Ctx, f.contact, b.ID)
		if full.Rows[5].Decision != RowRejected || full.Rows[5].PID != "" || full.Rows[5].Reason != "身份待核实" ||
			full.Rows[0].Decision != RowApproved || full.Rows[0].Reason != "" {
			t.Fatalf("rows %+v", full.Rows)
		}
		_, err = f.svc.Approve(f.Ctx, f.gxj, b.ID, ApproveInput{})
		mustErr(t, err, errs.Conflict, "batch_decided")
		// Quota full: one more is refused; a revocation frees a place.
		b2 := f.upload(workersFrom(10, 1))
		_, err = f.svc.Approve(f.Ctx, f.gxj, b2.ID, ApproveInput{})
		mustErr(t, err, errs.Conflict, "pass_quota_exceeded")
		if _, err := f.svc.Revoke(f.Ctx, f.gxj, full.Rows[0].PID, ReasonInput{Reason: "离职"}); err != nil {
			t.Fatal(err)
		}
		f.approve(b2.ID)
		q, _ = f.svc.GetQuota(f.Ctx, f.contact, qianjin)
		if q.Active != 5 || q.Quota != 5 {
			t.Fatalf("quota %+v", q)
		}
		// Back to the default: employees.
		q, _ = f.svc.SetQuota(f.Ctx, f.gxj, qianjin, QuotaInput{})
		if q.Quota != 2100 || !q.Default {
			t.Fatalf("default quota %+v", q)
		}
		// Rejection.
		b3 := f.upload(workersFrom(20, 2))
		_, err = f.svc.Reject(f.Ctx, f.gxj, b3.ID, ReasonInput{})
		mustErr(t, err, errs.Invalid, "invalid_reason")
		b3, err = f.svc.Reject(f.Ctx, f.gxj, b3.ID, ReasonInput{Reason: "名单未盖章"})
		if err != nil || b3.Status != Rejected || b3.RejectedCount != 2 || b3.Note != "名单未盖章" {
			t.Fatalf("rejected %+v %v", b3, err)
		}
	})
}

// Who may do what: contacts for their own enterprise only (404 for
// another's), reviewers not uploading (403), reviewers of another area
// seeing nothing.
func TestAccess(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		_, err := f.svc.Upload(f.Ctx, f.other, UploadInput{Enterprise: qianjin, Data: workersCSV(1)})
		mustErr(t, err, errs.NotFound, "enterprise_not_found")
		_, err = f.svc.Upload(f.Ctx, f.gxj, UploadInput{Enterprise: qianjin, Data: workersCSV(1)})
		mustErr(t, err, errs.Forbidden, "")
		_, err = f.svc.Upload(f.Ctx, nil, UploadInput{Data: workersCSV(1)})
		mustErr(t, err, errs.Unauthorized, "")
		b := f.upload(workersCSV(2))
		_, err = f.svc.GetBatch(f.Ctx, f.other, b.ID)
		mustErr(t, err, errs.NotFound, "batch_not_found")
		_, err = f.svc.Approve(f.Ctx, f.contact, b.ID, ApproveInput{})
		mustErr(t, err, errs.Forbidden, "")
		lusong := f.user("lusong", "district_officer", "430203")
		_, err = f.svc.GetBatch(f.Ctx, lusong, b.ID)
		mustErr(t, err, errs.NotFound, "batch_not_found")
		f.approve(b.ID)
		passes, _ := f.svc.BatchPasses(f.Ctx, f.contact, b.ID)
		_, err = f.svc.GetPass(f.Ctx, f.other, passes[0].PID)
		mustErr(t, err, errs.NotFound, "pass_not_found")
		_, err = f.svc.GetPass(f.Ctx, lusong, passes[0].PID)
		mustErr(t, err, errs.NotFound, "pass_not_found")
		tianyuan := f.user("tianyuan", "district_officer", "430211")
		if p, err := f.svc.GetPass(f.Ctx, tianyuan, passes[0].PID); err != nil || p.Token == "" {
			t.Fatalf("district officer: %v", err)
		}
		_, err = f.svc.Revoke(f.Ctx, tianyuan, passes[0].PID, ReasonInput{Reason: "x"})
		mustErr(t, err, errs.Forbidden, "")
		if list, _ := f.svc.ListPasses(f.Ctx, lusong, PassFilter{}); len(list) != 0 {
			t.Fatalf("lusong sees %d passes", len(list))
		}
		if list, _ := f.svc.ListPasses(f.Ctx, f.contact, PassFilter{Status: StatusActive}); len(list) != 2 || list[0].Token != "" {
			t.Fatalf("contact's passes %+v", list)
		}
	})
}

func TestRevocationList(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		b := f.approve(f.upload(workersCSV(5)).ID)
		passes, _ := f.svc.BatchPasses(f.Ctx, f.gxj, b.ID)
		list, tag0, err := f.svc.Revocations(f.Ctx, 0, 0)
		if err != nil || len(list.Items) != 0 || list.Next != 0 {
			t.Fatalf("empty list %+v %v", list, err)
		}
		if _, err := f.svc.Revoke(f.Ctx, f.gxj, passes[1].PID, ReasonInput{Reason: "证件遗失"}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Revoke(f.Ctx, f.gxj, passes[1].PID, ReasonInput{Reason: "again"})
		mustErr(t, err, errs.Conflict, "pass_revoked")
		tag1, _ := f.svc.RevocationTag(f.Ctx, 0, 0)
		if tag1 == tag0 {
			t.Fatal("tag unchanged by a revocation")
		}
		if again, _ := f.svc.RevocationTag(f.Ctx, 0, 0); again != tag1 {
			t.Fatal("tag not stable")
		}
		res, err := f.svc.RevokeEnterprise(f.Ctx, f.gxj, qianjin, ReasonInput{Reason: "企业停工"})
		if err != nil || res.Revoked != 4 {
			t.Fatalf("enterprise revocation %+v %v", res, err)
		}
		list, _, _ = f.svc.Revocations(f.Ctx, 0, 0)
		if len(list.Items) != 5 || list.Items[0].PID != passes[1].PID {
			t.Fatalf("list %+v", list)
		}
		for i := 1; i < len(list.Items); i++ {
			if list.Items[i].Seq <= list.Items[i-1].Seq {
				t.Fatalf("seq not increasing: %+v", list.Items)
			}
		}
		page, _, _ := f.svc.Revocations(f.Ctx, list.Items[1].Seq, 2)
		if len(page.Items) != 2 || !page.More || page.Next != list.Items[3].Seq {
			t.Fatalf("page %+v", page)
		}
		for _, p := range passes {
			if _, r := f.svc.verifier.Verify(f.Ctx, p.Token, testBase); r != passtoken.Revoked {
				t.Fatalf("revoked pass verifies %s", r)
			}
		}
		got, _ := f.svc.GetPass(f.Ctx, f.gxj, passes[1].PID)
		if got.Status != StatusRevoked || got.RevokeReason != "证件遗失" || got.RevokedBy != "gxj" {
			t.Fatalf("revoked pass %+v", got)
		}
		_, err = f.svc.RevokeEnterprise(f.Ctx, f.user("lusong", "hq_staff", "430203"), qianjin, ReasonInput{Reason: "x"})
		mustErr(t, err, errs.NotFound, "enterprise_not_found")
	})
}

// Verdicts of the online check.
func TestServiceVerify(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		b := f.approve(f.upload(workersCSV(1)).ID)
		passes, _ := f.svc.BatchPasses(f.Ctx, f.gxj, b.ID)
		tok := passes[0].Token
		day := func(s string) time.Time { d, _ := parseDay(s); return d }
		cases := []struct {
			name  string
			token string
			at    time.Time
			want  passtoken.Reason
		}{
			{"valid", tok, testBase, passtoken.OK},
			{"first day at midnight", tok, day("2022-11-20"), passtoken.OK},
			{"day before", tok, day("2022-11-20").Add(-time.Second), passtoken.NotYetValid},
			{"last day", tok, day("2022-12-19").Add(23 * time.Hour), passtoken.OK},
			{"day after", tok, day("2022-12-20"), passtoken.Expired},
			{"flipped signature", tok[:len(tok)-5] + flip(tok[len(tok)-5]) + tok[len(tok)-4:], testBase, passtoken.BadSignature},
			{"garbage", "not a token", testBase, passtoken.Malformed},
			{"empty", "", testBase, passtoken.Malformed},
		}
		for _, c := range cases {
			if _, r := f.svc.verifier.Verify(f.Ctx, c.token, c.at); r != c.want {
				t.Errorf("%s: %s, want %s", c.name, r, c.want)
			}
		}
		// A key we never published.
		_, priv, _ := ed25519.GenerateKey(nil)
		claims := passtoken.Claims{PID: passes[0].PID, Kind: passtoken.Person, Name: "张*", Ent: qianjin, Areas: []string{"430211"},
			NBF: testBase.Unix() - 10, EXP: testBase.Unix() + 3600}
		forged, _ := passtoken.Sign(priv, "AAAAAAAAAAAA", claims)
		if _, r := f.svc.verifier.Verify(f.Ctx, forged, testBase); r != passtoken.UnknownKey {
			t.Errorf("unknown key: %s", r)
		}
		// Our kid, another key: the signature fails.
		forged, _ = passtoken.Sign(priv, passes[0].Kid, claims)
		if _, r := f.svc.verifier.Verify(f.Ctx, forged, testBase); r != passtoken.BadSignature {
			t.Errorf("forged with our kid: %s", r)
		}
	})
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// Rotation: new passes carry the new kid, old passes still verify, the
// JWK Set has both until the old key's last pass expires. Revoking a key
// revokes every pass it signed.
func TestKeysRotateAndRevoke(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		b1 := f.approve(f.upload(workersCSV(3)).ID)
		old, _ := f.svc.BatchPasses(f.Ctx, f.gxj, b1.ID)
		oldKid := old[0].Kid
		k, err := f.svc.Rotate(f.Ctx)
		if err != nil || k.Kid == oldKid || !k.Signing || !k.Published {
			t.Fatalf("rotate %+v %v", k, err)
		}
		// A second instance sharing the data directory signs with the new key.
		other := f.newService(f.dataDir)
		b2, err := f.upload(workersFrom(10, 2)), error(nil)
		if b2, err = other.Approve(f.Ctx, f.gxj, b2.ID, ApproveInput{}); err != nil {
			t.Fatal(err)
		}
		fresh, _ := f.svc.BatchPasses(f.Ctx, f.gxj, b2.ID)
		if fresh[0].Kid != k.Kid {
			t.Fatalf("new pass signed by %s, want %s", fresh[0].Kid, k.Kid)
		}
		jwks := f.jwksJSON()
		for _, p := range append(old, fresh...) {
			verifyPlain(t, jwks, p.Token)
			if _, r := f.svc.verifier.Verify(f.Ctx, p.Token, testBase); r != passtoken.OK {
				t.Fatalf("verify after rotation: %s", r)
			}
			if _, r := other.verifier.Verify(f.Ctx, p.Token, testBase); r != passtoken.OK {
				t.Fatalf("other instance: %s", r)
			}
		}
		// The old key leaves the JWK Set once its last pass has expired.
		f.Clock.Set(time.Date(2022, 12, 20, 0, 0, 1, 0, time.UTC))
		if strings.Contains(string(f.jwksJSON()), oldKid) {
			t.Fatal("retired key still published after its passes expired")
		}
		f.Clock.Set(testBase)
		keys, _ := f.svc.ListKeys(f.Ctx)
		if len(keys) != 2 || !keys[0].Signing || keys[1].Signing || !keys[0].HasPrivate {
			t.Fatalf("keys %+v", keys)
		}
		// Leaked: revoke the old key.
		n, err := f.svc.RevokeKey(f.Ctx, oldKid, "")
		if err != nil || n != 3 {
			t.Fatalf("revoke key: %d %v", n, err)
		}
		_, err = f.svc.RevokeKey(f.Ctx, oldKid, "")
		mustErr(t, err, errs.Conflict, "key_revoked")
		for _, p := range old {
			if _, r := f.svc.verifier.Verify(f.Ctx, p.Token, testBase); r != passtoken.Revoked {
				t.Fatalf("pass of a revoked key: %s", r)
			}
			if got, _ := f.svc.GetPass(f.Ctx, f.gxj, p.PID); got.Status != StatusRevoked {
				t.Fatalf("status %s", got.Status)
			}
		}
		if _, r := f.svc.verifier.Verify(f.Ctx, fresh[0].Token, testBase); r != passtoken.OK {
			t.Fatalf("pass of the new key: %s", r)
		}
		list, _, _ := f.svc.Revocations(f.Ctx, 0, 0)
		if len(list.Items) != 3 || len(list.RevokedKeys) != 1 || list.RevokedKeys[0] != oldKid {
			t.Fatalf("revocation list %+v", list)
		}
		if strings.Contains(string(f.jwksJSON()), oldKid) {
			t.Fatal("revoked key still published")
		}
		if _, err := os.Stat(filepath.Join(f.dataDir, KeyDirName, oldKid+".key")); !os.IsNotExist(err) {
			t.Fatalf("revoked key file still there: %v", err)
		}
		// Revoking the signing key: the next approval makes a new one.
		if _, err := f.svc.RevokeKey(f.Ctx, k.Kid, "测试"); err != nil {
			t.Fatal(err)
		}
		b3 := f.approve(f.upload(workersFrom(20, 1)).ID)
		p3, _ := f.svc.BatchPasses(f.Ctx, f.gxj, b3.ID)
		if p3[0].Kid == k.Kid || p3[0].Kid == oldKid {
			t.Fatalf("signed by revoked key %s", p3[0].Kid)
		}
		if _, r := other.verifier.Verify(f.Ctx, p3[0].Token, testBase); r != passtoken.OK {
			t.Fatalf("other instance on a key it has not seen: %s", r)
		}
	})
}

// An instance whose data directory lacks the signing key's file says so.
func TestMissingKeyFile(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.approve(f.upload(workersCSV(1)).ID)
		lonely := f.newService(t.TempDir())
		b := f.upload(workersFrom(10, 1))
		_, err := lonely.Approve(f.Ctx, f.gxj, b.ID, ApproveInput{})
		if e := errs.As(err); e == nil || e.Code != "pass_key_missing" {
			t.Fatalf("err %v", err)
		}
	})
}
