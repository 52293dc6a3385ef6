package app_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"

	"tongxin/internal/clock"
	"tongxin/internal/pass"
	"tongxin/internal/passtoken"
)

var b64 = base64.RawURLEncoding

// signRaw signs any header and payload bytes, so that the test can make
// tokens the pass package never would (odd JSON that still verifies).
func signRaw(priv ed25519.PrivateKey, header, payload string) string {
	input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	return input + "." + b64.EncodeToString(ed25519.Sign(priv, []byte(input)))
}

// goVerdict is the server's decision without the database, in the order
// of pass.Verifier.Verify (a revoked key's tokens, then passtoken.Parsed.Verify,
// then the pass's revocation) and checkpoint.Service.decide
// (Claims.AllowedAt).
func goVerdict(tok string, keys passtoken.Keys, revokedKeys map[string]ed25519.PublicKey, at time.Time, revoked map[string]bool, areaPath, cp string) passtoken.Reason {
	p, r := passtoken.Parse(tok)
	if r != passtoken.OK {
		return r
	}
	if key, ok := revokedKeys[p.Header.Kid]; ok {
		if !p.SignedBy(key) {
			return passtoken.BadSignature
		}
		return passtoken.Revoked
	}
	c, r := p.Verify(keys, at)
	if r != passtoken.OK {
		return r
	}
	if revoked[c.PID] {
		return passtoken.Revoked
	}
	return c.AllowedAt(areaPath, cp)
}

// The browser's verifier (static/js/scan-verify.js) gives the server's
// reason for every token: valid ones, each character of a valid token
// changed, JSON and base64 the Go decoders accept or refuse in their own
// ways, times, areas, checkpoints, revocation and garbage. This is the
// promise of offline verification: the same verdict as online.
func TestBrowserScanVerifierMatchesServer(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	src, err := os.ReadFile("../web/static/js/scan-verify.js")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v.js":
			w.Header().Set("Content-Type", "text/javascript")
			w.Write(src)
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><title>v</title><script src="/v.js"></script>`)
		}
	}))
	defer ts.Close()

	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	const kid = "k1test000001"
	keys := func(k string) ed25519.PublicKey {
		if k == kid {
			return pub
		}
		return nil
	}
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	// A leaked key, revoked: the browser still holds its public key from
	// an earlier JWK Set. Another, revoked before this device saw it.
	leakedPub, leakedPriv, _ := ed25519.GenerateKey(nil)
	const leakedKid, unseenKid = "k3leaked0003", "k4unseen0004"
	unseenPub, unseenPriv, _ := ed25519.GenerateKey(nil)
	revokedKeys := map[string]ed25519.PublicKey{leakedKid: leakedPub, unseenKid: unseenPub}
	now := time.Now().Truncate(time.Second)
	nbf, exp := now.Add(-time.Hour).Unix(), now.Add(48*time.Hour).Unix()
	base := passtoken.Claims{PID: "P000123", Kind: passtoken.Person, Name: "张*", ID4: "123X", Ent: "914302001838260003",
		Areas: []string{"430211"}, NBF: nbf, EXP: exp}
	sign := func(c passtoken.Claims) string {
		tok, err := passtoken.Sign(priv, kid, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	valid := sign(base)
	hdr := `{"alg":"EdDSA","kid":"` + kid + `","typ":"tongxin-pass"}`
	body := func(extra string) string {
		return fmt.Sprintf(`{"pid":"P9","k":"vehicle","n":"李*","pl":"湘B12345","ent":"x","z":["430211"],"nbf":%d,"exp":%d%s}`, nbf, exp, extra)
	}
	payload := body("")

	var tokens []string
	add := func(ts ...string) { tokens = append(tokens, ts...) }
	add(valid)
	// Every character of the valid token replaced, in turn.
	for i := range len(valid) {
		bs := []byte(valid)
		for _, c := range []byte{'A', 'g', '_', '.', '='} {
			if bs[i] != c {
				bs[i] = c
				break
			}
		}
		add(string(bs))
	}
	// Areas, checkpoints, revocation, times.
	for _, c := range []passtoken.Claims{
		{Areas: []string{"430200"}}, {Areas: []string{"430211001"}}, {Areas: []string{"430203"}},
		{Areas: []string{"", "430211"}}, {Areas: []string{"4302"}}, {Areas: []string{"430211", "430203"}},
		// Whole codes only: prefixes, extensions, codes joined by slashes.
		{Areas: []string{"43021"}}, {Areas: []string{"4302110"}}, {Areas: []string{"430211001001"}},
		{Areas: []string{"430200/430211"}}, {Areas: []string{"430211/"}}, {Areas: []string{"/430211"}},
		{Areas: []string{"430211/430211001"}}, {Areas: []string{"/"}}, {Areas: []string{"30211"}},
		{CPs: []string{"7"}}, {CPs: []string{"8"}}, {CPs: []string{"8", "7"}},
		{PID: "REVOKED1"}, {NBF: now.Unix() + 1}, {NBF: now.Unix()}, {EXP: now.Unix()}, {EXP: now.Unix() + 1},
		{EXP: now.Unix() - 1, PID: "REVOKED1"}, {Kind: passtoken.Vehicle, Plate: "湘B12345"},
		{EntName: "株洲千金药业股份有限公司"}, {EntName: "\u0000\"<b>"},
	} {
		cl := base
		if c.Areas != nil {
			cl.Areas = c.Areas
		}
		if c.CPs != nil {
			cl.CPs = c.CPs
		}
		if c.PID != "" {
			cl.PID = c.PID
		}
		if c.NBF != 0 {
			cl.NBF = c.NBF
		}
		if c.EXP != 0 {
			cl.EXP = c.EXP
		}
		if c.Kind != "" {
			cl.Kind, cl.Plate = c.Kind, c.Plate
		}
		cl.EntName = c.EntName
		add(sign(cl))
	}
	other, _ := passtoken.Sign(otherPriv, "k2test000002", base)
	forged, _ := passtoken.Sign(otherPriv, kid, base)
	add(other, forged)
	expiredClaims := base
	expiredClaims.EXP = now.Unix() - 10
	for _, k := range []struct {
		priv ed25519.PrivateKey
		kid  string
		c    passtoken.Claims
	}{{leakedPriv, leakedKid, base}, {leakedPriv, leakedKid, expiredClaims}, {otherPriv, leakedKid, base},
		{unseenPriv, unseenKid, base}} {
		tok, _ := passtoken.Sign(k.priv, k.kid, k.c)
		add(tok)
	}
	// Headers, each signed so that only the decoding decides.
	for _, h := range []string{
		`{"alg":"none","kid":"` + kid + `","typ":"tongxin-pass"}`,
		`{"alg":"HS256","kid":"` + kid + `","typ":"tongxin-pass"}`,
		`{"alg":"EdDSA","typ":"tongxin-pass"}`,
		`{"alg":"EdDSA","kid":"","typ":"tongxin-pass"}`,
		`{"alg":"EdDSA","kid":"` + kid + `","typ":"JWT"}`,
		`{"alg":"EdDSA","kid":"` + kid + `","typ":"tongxin-pass","x5u":"http://evil"}`,
		`{"ALG":"EdDSA","Kid":"` + kid + `","TYP":"tongxin-pass"}`,
		`{"alg":"EdDSA","\u212aid":"` + kid + `","typ":"tongxin-pass"}`,
		`{"alg":"EdDSA","kid":"zzz","typ":"tongxin-pass","kid":"` + kid + `"}`,
		`{"alg":"EdDSA","kid":"` + kid + `","typ":"tongxin-pass"}]`,
		`{"alg":"EdDSA","kid":"` + kid + `","typ":"tongxin-pass"}}`,
		`{"alg":"EdDSA","kid":"` + kid + `","typ":"tongxin-pass"} x`,
		`{"alg":"EdDSA","kid":"` + kid + `","typ":"tongxin-pass"}{}`,
		" \t\r\n" + `{"alg":"EdDSA","kid":"` + kid + `","typ":"tongxin-pass"}` + " \n",
		`{"alg":"EdDSA","kid":"` + kid + `","typ":"tongxin-pass","alg":null}`,
		`{"alg":"Ed\u0044SA","kid":"` + kid + `","typ":"tongxin\/pass"}`,
		`{"alg":"EdDSA","kid":1,"typ":"tongxin-pass"}`,
		`null`, `[]`, `"x"`, `{}`, ``, `{"alg":"EdDSA","kid":"` + kid + `","typ":"tongxin-pass"`,
	} {
		add(signRaw(priv, h, payload))
	}
	// Payloads.
	for _, p := range []string{
		body(`,"cp":null`), body(`,"cp":[]`), body(`,"cp":["7"]`), body(`,"cp":[7]`), body(`,"id4":null`),
		body(`,"extra":1`), body(`,"Z":["430203"]`), body(`,"PID":"P10"`), body(`,"z":null`), body(`,"z":[]`),
		body(`,"z":[null,"430211"]`), body(`,"z":["430211",1]`), body(`,"z":"430211"`), body(`,"nbf":1.5`),
		body(`,"nbf":"1"`), body(`,"exp":1e12`), body(`,"exp":-0`), body(`,"exp":9223372036854775807`),
		body(`,"exp":9223372036854775808`), body(`,"nbf":-5`), body(`,"nbf":null`), body(`,"k":"admin"`),
		body(`,"k":"PERSON"`), body(`,"pid":""`), body(`,"pid":null`), body(`,"n":"\ud800"`), body(`,"n":"\u00e9\t"`),
		body(`,"n":"a` + "\x01" + `"`), body(`,"n":"\x"`), body(`,"n":true`), body(`,"pl":{}`),
		body(`,"en":"株洲千金药业"`), body(`,"EN":"x"`), body(`,"En":null`), body(`,"en":5`), body(`,"en":["x"]`),
		`{"pid":"P9","k":"person","ent":"x","z":["430211"],"nbf":01,"exp":5000000000}`,
		`{"pid":"P9","k":"person","ent":"x","z":["430211"],"nbf":1,"exp":5000000000,}`,
		"{\"pid\":\"P9\",\"k\":\"person\",\"ent\":\"x\xff\xfe\",\"z\":[\"430211\"],\"nbf\":1,\"exp\":5000000000}",
		`{"pid":"P9","k":"person","ent":"x","z":["430211"],"nbf":1,"exp":5000000000}]`,
		`{"pid":"P9","k":"person","ent":"x","z":["430211"],"nbf":1,"exp":5000000000}]]`,
		`{"pid":"P9","k":"person","ent":"x","z":["430211"],"nbf":1,"exp":5000000000} 1`,
		`{"pid":"P9","k":"person","ent":"x","z":["430211"],"nbf":1E0,"exp":5000000000}`,
	} {
		add(signRaw(priv, hdr, p))
	}
	// Encodings of a valid token: padding, newlines, other alphabets,
	// spaces Go trims and spaces it does not, other characters.
	parts := strings.Split(valid, ".")
	add(parts[0]+"=."+parts[1]+"."+parts[2], parts[0]+"\n."+parts[1][:10]+"\r\n"+parts[1][10:]+"."+parts[2],
		parts[0]+"."+parts[1]+"."+parts[2]+"A", parts[0]+"."+parts[1]+"."+parts[2][:len(parts[2])-1],
		parts[0]+"."+parts[1]+"."+parts[2]+"AA", parts[0]+"."+parts[1]+"."+parts[2]+"AAAA",
		strings.ReplaceAll(valid, "-", "+"), strings.ReplaceAll(valid, "_", "/"),
		" \t"+valid+"\r\n", "\u0085"+valid, "\u3000"+valid+"\u00a0", "\ufeff"+valid, valid+"\u200b",
		valid+".", "."+valid, parts[0]+"."+parts[1], "", "   ", "a.b.c", "..", "é.é.é",
		strings.Repeat("A", 10*1024), strings.Repeat("A", 4096), "\x00\x01\x02\xff",
		strings.Repeat(" ", 5000)+valid)
	// The last character of a segment carries unused bits a lenient
	// decoder ignores: only the canonical spelling (bits zero) is a token.
	last := []byte(valid)
	last[len(last)-1] ^= 1
	add(string(last))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range parts {
		for _, bit := range []int{1, 2, 4, 8} {
			seg := parts[i]
			unused := map[int]int{2: 15, 3: 3}[len(seg)%4]
			if bit&unused == 0 {
				continue
			}
			v := strings.IndexByte(alphabet, seg[len(seg)-1])
			changed := append([]string(nil), parts...)
			changed[i] = seg[:len(seg)-1] + string(alphabet[v^bit])
			add(strings.Join(changed, "."))
		}
	}
	add(parts[0]+"."+parts[1]+"\n."+parts[2], parts[0]+"."+parts[1]+"."+parts[2][:20]+"\r"+parts[2][20:])

	const areaPath, cp = "/430200/430211/430211001/", "7"
	revoked := map[string]bool{"REVOKED1": true}
	want := make([]string, len(tokens))
	for i, tok := range tokens {
		want[i] = string(goVerdict(tok, keys, revokedKeys, now, revoked, areaPath, cp))
	}

	lists := map[string]any{
		"keys": []map[string]string{{"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64.EncodeToString(pub)},
			{"kty": "OKP", "crv": "Ed25519", "kid": leakedKid, "x": b64.EncodeToString(leakedPub)}},
		"revoked": map[string]any{"pids": map[string]bool{"REVOKED1": true}, "kids": map[string]bool{leakedKid: true, unseenKid: true}},
	}
	err = rod.Try(func() {
		page := b.MustPage(ts.URL).Timeout(pageBudget)
		page.MustWaitLoad()
		res := page.MustEval(`async (tokens, at, lists, site) => {
			const v = new TongxinPass.Verifier();
			const out = [];
			for (const t of tokens) out.push((await v.verify(t, at, lists, site)).reason);
			return JSON.stringify(out);
		}`, tokens, now.UnixMilli(), lists, map[string]string{"id": cp, "area_path": areaPath}).Str()
		var got []string
		if err := json.Unmarshal([]byte(res), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tokens) {
			t.Fatalf("the browser answered %d verdicts for %d tokens", len(got), len(tokens))
		}
		seen := map[string]int{}
		for i := range tokens {
			seen[want[i]]++
			if got[i] != want[i] {
				tok := tokens[i]
				if len(tok) > 300 {
					tok = tok[:300] + "…"
				}
				t.Errorf("token %d %q: browser says %s, server %s", i, tok, got[i], want[i])
			}
		}
		// The cases must cover every reason the verifier decides.
		for _, r := range []passtoken.Reason{passtoken.OK, passtoken.Malformed, passtoken.BadSignature, passtoken.UnknownKey, passtoken.NotYetValid,
			passtoken.Expired, passtoken.Revoked, passtoken.AreaNotAllowed, passtoken.CheckpointNotAllowed} {
			if seen[string(r)] == 0 {
				t.Errorf("no case ends in %s", r)
			}
		}
		t.Logf("%d tokens, verdicts %v", len(tokens), seen)

		// A browser without Ed25519 in WebCrypto says it cannot check a
		// signature, never that a pass is forged; what needs no signature
		// is decided as before.
		old := b.MustPage("").Timeout(pageBudget)
		old.MustEvalOnNewDocument(`(() => {
			const imp = crypto.subtle.importKey.bind(crypto.subtle);
			crypto.subtle.importKey = (f, k, alg, ...rest) =>
				(alg === "Ed25519" || (alg && alg.name === "Ed25519")) ? Promise.reject(new DOMException("no", "NotSupportedError")) : imp(f, k, alg, ...rest);
		})()`)
		old.MustNavigate(ts.URL)
		old.MustWaitLoad()
		res = old.MustEval(`async (tokens, at, lists, site) => {
			const v = new TongxinPass.Verifier();
			const out = [String(await TongxinPass.supported())];
			for (const t of tokens) out.push((await v.verify(t, at, lists, site)).reason);
			return JSON.stringify(out);
		}`, []string{valid, "garbage", other}, now.UnixMilli(), lists, map[string]string{"id": cp, "area_path": areaPath}).Str()
		if res != `["false","unverifiable","malformed","unknown_key"]` {
			t.Errorf("without Ed25519 in WebCrypto: %s", res)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// scanIDNumber completes 17 digits with the GB 11643 check character.
func scanIDNumber(base string) string {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range w {
		sum += int(base[i]-'0') * w[i]
	}
	return base + string("10X98765432"[sum%11])
}

// freeAddr picks a port that is free now, so that serve can be stopped and
// started again on the same origin (the service worker, the page's storage
// and its session cookie belong to that origin).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// serverKey reads the signing key kid from the data directory, so that the
// test can sign tokens the service never would (expired, limited to other
// checkpoints) with the key the server trusts.
func serverKey(t *testing.T, in inst, kid string) ed25519.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(in.data, pass.KeyDirName, kid+".key"))
	if err != nil {
		t.Fatal(err)
	}
	_, enc, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	seed, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(seed) != ed25519.SeedSize {
		t.Fatalf("key file of %s: %v", kid, err)
	}
	return ed25519.NewKeyFromSeed(seed)
}

var uuid7RE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// The scan page on a checkpoint officer's phone, opened once with the
// server up, then used with the server stopped: the service worker serves
// the page, the browser verifies passes against the lists it kept (a valid
// pass, a tampered one, a revoked one, one for another area), warns when
// the lists grow old, and queues the scans; once the server is back the
// queue arrives, each scan once. On the way, the browser's offline verdicts
// are compared with the real server's for the same tokens.
func TestBrowserScanOffline(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	in, _ := setup(t, "sqlite")
	addr := freeAddr(t)
	s := serve(t, in, "--addr", addr)
	base := s.URL
	tok := func(user string) string {
		return strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", user, "--name", "scan test"))
	}
	admin, contact, gxj := tok("admin"), tok("qianjin"), tok("gxj")
	jsonBody := func(v any) []byte {
		bs, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}

	// A bridge checkpoint in 天元区's 嵩山路街道 and its officer.
	r := do(t, "POST", base+"/api/v1/checkpoints", admin, "application/json",
		jsonBody(map[string]any{"name": "测试大桥卡口", "kind": "bridge", "area_code": "430211001", "place": "北桥头"}))
	if r.Status != 201 && r.Status != 200 {
		t.Fatalf("create checkpoint: %d %s", r.Status, r.Body)
	}
	var cp struct {
		ID int64 `json:"id"`
	}
	r.json(t, &cp)
	cpRef := fmt.Sprint(cp.ID)
	mustCLI(t, in, "officer-pass-2022\n", "user", "add", "--username", "kakou9", "--display-name", "卡口值守",
		"--role", "checkpoint_officer", "--scope", "checkpoint:"+cpRef, "--password-stdin")

	// Three workers of 千金药业: one valid here, one to be revoked, one for
	// the next street (泰山路街道) only.
	today := time.Now().In(clock.Shanghai)
	from, to := today.Format("2006-01-02"), today.AddDate(0, 0, 29).Format("2006-01-02")
	csv := "姓名,身份证号,手机,车牌,区域,起,止\n" +
		fmt.Sprintf("欧阳明,%s,13907335001,,430211001,%s,%s\n", scanIDNumber("43021119800101001"), from, to) +
		fmt.Sprintf("谭晓红,%s,13907335002,,430211001,%s,%s\n", scanIDNumber("43021119810202002"), from, to) +
		fmt.Sprintf("龙大勇,%s,13907335003,湘B·T5678,430211002,%s,%s\n", scanIDNumber("43021119820303003"), from, to)
	r = do(t, "POST", base+"/api/v1/pass-batches?enterprise=914302001838260003", contact, "text/csv", []byte(csv))
	if r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	var batch struct {
		ID int64 `json:"id"`
	}
	r.json(t, &batch)
	if r = do(t, "POST", fmt.Sprintf("%s/api/v1/pass-batches/%d/approve", base, batch.ID), gxj, "application/json", []byte(`{}`)); r.Status != 200 {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	r = do(t, "GET", fmt.Sprintf("%s/api/v1/pass-batches/%d/passes", base, batch.ID), contact, "", nil)
	var issued struct {
		Items []struct {
			PID, Name, Token, Kid string
			Areas                 []string
		}
	}
	r.json(t, &issued)
	if len(issued.Items) != 3 {
		t.Fatalf("passes: %s", r.Body)
	}
	byArea := func(name string) (pid, token string) {
		for _, p := range issued.Items {
			if strings.HasPrefix(p.Name, name) {
				return p.PID, p.Token
			}
		}
		t.Fatalf("no pass for %s in %+v", name, issued.Items)
		return "", ""
	}
	_, validTok := byArea("欧")
	revokedPID, revokedTok := byArea("谭")
	_, otherAreaTok := byArea("龙")
	if r = do(t, "POST", base+"/api/v1/passes/"+revokedPID+"/revoke", gxj, "application/json", []byte(`{"reason":"离职"}`)); r.Status != 200 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	tampered := []byte(validTok)
	i := strings.LastIndexByte(validTok, '.') + 10
	tampered[i] = map[bool]byte{true: 'B', false: 'A'}[tampered[i] == 'A']

	// Tokens only a holder of the signing key could make, for the
	// comparison with the server.
	kid := issued.Items[0].Kid
	key := serverKey(t, in, kid)
	claims := passtoken.Claims{PID: "TEST-CRAFTED", Kind: passtoken.Person, Name: "测*", Ent: "914302001838260003",
		Areas: []string{"430211"}, NBF: today.Add(-time.Hour).Unix(), EXP: today.Add(time.Hour).Unix()}
	craft := func(edit func(*passtoken.Claims)) string {
		c := claims
		edit(&c)
		tok, err := passtoken.Sign(key, kid, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	_, strangerKey, _ := ed25519.GenerateKey(nil)
	strangerTok, _ := passtoken.Sign(strangerKey, "zzzzzzzzzzzz", claims)
	compare := []string{
		validTok, string(tampered), revokedTok, otherAreaTok,
		craft(func(c *passtoken.Claims) {}),
		craft(func(c *passtoken.Claims) {
			c.EXP = today.Add(-time.Minute).Unix()
			c.NBF = today.Add(-2 * time.Hour).Unix()
		}),
		craft(func(c *passtoken.Claims) {
			c.NBF = today.Add(time.Hour).Unix()
			c.EXP = today.Add(2 * time.Hour).Unix()
		}),
		craft(func(c *passtoken.Claims) { c.CPs = []string{cpRef} }),
		craft(func(c *passtoken.Claims) { c.CPs = []string{cpRef + "0"} }),
		craft(func(c *passtoken.Claims) { c.Areas = []string{"430200"} }),
		craft(func(c *passtoken.Claims) { c.Areas = []string{"4302110"} }),
		craft(func(c *passtoken.Claims) { c.PID = revokedPID }),
		strangerTok, signRaw(key, `{"alg":"none","kid":"`+kid+`","typ":"tongxin-pass"}`, `{}`),
		"garbage", strings.Repeat("x", 10*1024),
	}

	scanURL := "/checkpoints/" + cpRef + "/scan"
	attr := func(page *rod.Page, sel, name string) string {
		v := page.MustElement(sel).MustAttribute(name)
		if v == nil {
			return ""
		}
		return *v
	}
	// scanOnce types a token into the field as a scanner does, Enter
	// last, and answers the verdict shown.
	scanOnce := func(page *rod.Page, token string, keyByKey bool) (verdict, reason, source, text string) {
		page.MustEval(`() => { document.getElementById("scan-verdict").hidden = true; }`)
		field := page.MustElement("#scan-token")
		field.MustFocus()
		if keyByKey {
			page.Keyboard.MustType([]input.Key(token)...)
		} else {
			page.MustInsertText(token)
		}
		page.Keyboard.MustType(input.Enter)
		page.MustWait(`() => !document.getElementById("scan-verdict").hidden`)
		v := page.MustElement("#scan-verdict")
		return attr(page, "#scan-verdict", "data-verdict"), attr(page, "#scan-verdict", "data-reason"),
			attr(page, "#scan-verdict", "data-source"), v.MustText()
	}
	narrow := func(page *rod.Page, what string) {
		t.Helper()
		if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > 360 {
			t.Fatalf("%s is %d px wide on a 360 px screen", what, w)
		}
	}
	queued := func(page *rod.Page) int {
		return page.MustEval(`() => TongxinScan.queue().length`).Int()
	}

	var offlineVerdicts []string
	var queuedIDs []string
	err := rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustSetViewport(360, 740, 2, true)
		page.MustNavigate(base + "/login?next=" + scanURL)
		page.MustWaitLoad()
		login(t, page, "kakou9", "officer-pass-2022")
		if u := page.MustInfo().URL; !strings.HasSuffix(u, scanURL) {
			t.Fatalf("after login the officer is at %s", u)
		}
		// Opened once online: the worker installed, the page cached, the
		// lists loaded.
		page.MustWait(`() => document.documentElement.getAttribute("data-offline-ready") === "true" &&
			document.documentElement.getAttribute("data-scan-ready") === "true"`)
		if at := attr(page, "html", "data-lists-at"); at == "" || at == "0" {
			t.Fatalf("the lists were not loaded (data-lists-at=%q)", at)
		}
		if n := page.MustEval(`() => Object.keys(JSON.parse(localStorage.getItem("tongxin.scan.revocations")).pids).length`).Int(); n != 1 {
			t.Fatalf("the page keeps %d revoked passes, want 1", n)
		}
		// The camera button is there with or without a BarcodeDetector
		// (jsQR stands in; browser_scan_camera_test.go films a card).
		if page.MustElement("#scan-camera").MustProperty("hidden").Bool() {
			t.Fatalf("no camera button (camera mode %q)", attr(page, "html", "data-camera-mode"))
		}
		narrow(page, "the scan page")
		shot(t, page, "scan-360.png")

		// Online: the server decides and logs.
		v, reason, source, text := scanOnce(page, validTok, false)
		if v != "allow" || reason != "ok" || source != "server" || !strings.Contains(text, "通行") || !strings.Contains(text, "欧*") {
			t.Fatalf("online valid pass: %s %s %s\n%s", v, reason, source, text)
		}
		narrow(page, "the verdict")
		shot(t, page, "scan-allow-online-360.png")
		if n := queued(page); n != 0 {
			t.Fatalf("an online scan was queued (%d)", n)
		}

		// The browser's verdicts for the comparison, while the lists are fresh.
		res := page.MustEval(`async (tokens) => JSON.stringify(await Promise.all(tokens.map(async t => (await TongxinScan.verify(t)).reason)))`, compare).Str()
		if err := json.Unmarshal([]byte(res), &offlineVerdicts); err != nil {
			t.Fatal(err)
		}

		// The server goes away. The page, reloaded, comes from the worker.
		if err := s.stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		page.MustReload()
		page.MustWaitLoad()
		page.MustWait(`() => document.documentElement.getAttribute("data-scan-ready") === "true"`)
		if !page.MustEval(`() => navigator.serviceWorker.controller !== null`).Bool() {
			t.Fatal("the reloaded page is not controlled by the service worker")
		}
		if h := page.MustElement("h1").MustText(); h != "测试大桥卡口" {
			t.Fatalf("offline page shows %q", h)
		}
		for _, c := range []struct {
			name, token, verdict, reason, words string
			keys                                bool
		}{
			{"a valid pass", validTok, "allow", "ok", "通行", true},
			{"a tampered pass", string(tampered), "deny", "bad_signature", "签名无效", false},
			{"a revoked pass", revokedTok, "deny", "revoked", "已吊销", false},
			{"a pass for another area", otherAreaTok, "deny", "area_not_allowed", "不在通行区域内", false},
		} {
			v, reason, source, text := scanOnce(page, c.token, c.keys)
			if v != c.verdict || reason != c.reason || source != "local" || !strings.Contains(text, c.words) {
				t.Fatalf("offline, %s: %s %s %s\n%s", c.name, v, reason, source, text)
			}
			if c.verdict == "deny" && !strings.Contains(text, "禁止通行") {
				t.Fatalf("offline, %s: no 禁止通行 in\n%s", c.name, text)
			}
			switch c.reason {
			case "ok":
				shot(t, page, "scan-allow-offline-360.png")
			case "bad_signature":
				shot(t, page, "scan-deny-offline-360.png")
			case "area_not_allowed":
				if !strings.Contains(text, "湘B·T5678") && !strings.Contains(text, "龙*") {
					t.Fatalf("the verdict does not show the holder:\n%s", text)
				}
			}
		}
		// A tap goes back to scanning, with the field focused for the scanner.
		page.MustElement("#scan-verdict").MustClick()
		page.MustWait(`() => document.getElementById("scan-verdict").hidden && document.activeElement.id === "scan-token"`)
		if n := queued(page); n != 4 {
			t.Fatalf("%d scans queued offline, want 4", n)
		}
		if s := page.MustElement("#scan-net").MustText(); s != "离线" {
			t.Fatalf("status reads %q, want 离线", s)
		}
		if q := page.MustElement("#scan-queue").MustText(); !strings.Contains(q, "4") {
			t.Fatalf("queue reads %q", q)
		}
		shot(t, page, "scan-offline-360.png")
		ids := page.MustEval(`() => JSON.stringify(TongxinScan.queue().map(s => s.client_id))`).Str()
		json.Unmarshal([]byte(ids), &queuedIDs)
		// The page's ids are time-ordered (UUID version 7), so that the
		// log's index of them grows at its end.
		for i, id := range queuedIDs {
			ms, err := strconv.ParseInt(strings.ReplaceAll(id, "-", "")[:12], 16, 64)
			if !uuid7RE.MatchString(id) || err != nil || time.Since(time.UnixMilli(ms)).Abs() > time.Hour {
				t.Fatalf("queued scan %d has id %q, not a UUID of version 7 made now", i, id)
			}
		}
		if !sort.StringsAreSorted(queuedIDs) {
			t.Fatalf("the queued scans' ids are not in the order they were scanned: %v", queuedIDs)
		}

		// Lists a day and a half old: an orange warning; three days: red.
		for _, c := range []struct {
			hours int
			class string
		}{{30, "warn"}, {75, "bad"}} {
			page.MustEval(`(h) => {
				for (const k of ["tongxin.scan.keys", "tongxin.scan.revocations"]) {
					const v = JSON.parse(localStorage.getItem(k));
					v.fetched_at = Date.now() - h * 3600 * 1000;
					localStorage.setItem(k, JSON.stringify(v));
				}
			}`, c.hours)
			page.MustReload()
			page.MustWaitLoad()
			page.MustWait(`() => document.documentElement.getAttribute("data-scan-ready") === "true"`)
			banner := page.MustElement("#scan-banner")
			if banner.MustProperty("hidden").Bool() || !strings.Contains(attr(page, "#scan-banner", "class"), c.class) ||
				!strings.Contains(banner.MustText(), fmt.Sprint(c.hours)) {
				t.Fatalf("lists %d h old: banner %q class %q", c.hours, banner.MustText(), attr(page, "#scan-banner", "class"))
			}
			if c.class == "warn" {
				shot(t, page, "scan-stale-360.png")
			}
		}

		// The server is back on the same address: the queue goes up by
		// itself (the page retries every few seconds), and the lists are
		// fresh again.
		saved := page.MustEval(`() => localStorage.getItem("tongxin.scan.queue.` + cpRef + `")`).Str()
		s = serve(t, in, "--addr", addr)
		page.Timeout(2 * time.Minute).MustWait(`() => TongxinScan.queue().length === 0`)
		page.MustWait(`() => document.getElementById("scan-banner").hidden`)
		// The same scans uploaded again (an answer lost on the way, a second
		// tab) are not logged twice.
		page.MustEval(`(q) => { localStorage.setItem("tongxin.scan.queue.`+cpRef+`", q); return TongxinScan.flush(); }`, saved)
		if n := queued(page); n != 0 {
			t.Fatalf("%d scans left after the second upload", n)
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	// Each queued scan arrived once, with the verdict the page showed.
	r = do(t, "GET", base+"/api/v1/checkpoints/"+cpRef+"/scans?limit=100", admin, "", nil)
	var logged struct {
		Items []struct {
			ClientID string `json:"client_id"`
			Verdict  string `json:"verdict"`
			Reason   string `json:"reason"`
			Offline  bool   `json:"offline"`
			Officer  string `json:"officer"`
		}
	}
	r.json(t, &logged)
	if len(logged.Items) != 5 {
		t.Fatalf("%d scans logged, want 1 online and 4 offline:\n%s", len(logged.Items), r.Body)
	}
	want := map[string]string{}
	for i, id := range queuedIDs {
		want[id] = []string{"ok", "bad_signature", "revoked", "area_not_allowed"}[i]
	}
	for _, it := range logged.Items {
		if w, ok := want[it.ClientID]; ok {
			if it.Reason != w || !it.Offline {
				t.Errorf("queued scan %s logged as %s (offline %v), want %s", it.ClientID, it.Reason, it.Offline, w)
			}
			delete(want, it.ClientID)
		} else if it.Offline || it.Reason != "ok" {
			t.Errorf("unexpected scan %+v", it)
		}
	}
	if len(want) > 0 {
		t.Errorf("queued scans missing: %v", want)
	}

	// The real server agrees with the browser on every token.
	for i, token := range compare {
		r := do(t, "POST", base+"/api/v1/checkpoints/"+cpRef+"/scans", admin, "application/json",
			jsonBody(map[string]string{"token": token, "client_id": fmt.Sprintf("compare-%04d", i)}))
		var sc struct{ Reason string }
		r.json(t, &sc)
		if r.Status != 200 || sc.Reason != offlineVerdicts[i] {
			short := token
			if len(short) > 80 {
				short = short[:80] + "…"
			}
			t.Errorf("token %d %q: server %d %s, browser offline %s", i, short, r.Status, sc.Reason, offlineVerdicts[i])
		}
	}
}
