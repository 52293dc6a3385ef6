package checkpoint

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
	"tongxin/internal/web"
)

// flip changes one character of a token's signature.
func flip(tok string) string {
	b := []byte(tok)
	i := strings.LastIndexByte(tok, '.') + 5
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// Every reason a checkpoint can give, through the service: allow for a
// valid pass, deny with the reason for everything else, and a logged row
// for each.
func TestScanReasons(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		lusong := f.checkpoint("芦淞大桥", Bridge, "430203002")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		manager := f.user("hqstaff", auth.HQStaff, "430200")

		valid := f.ver.sign(t, claims("P1"), "")
		parts := strings.Split(valid, ".")
		enc := base64.RawURLEncoding.EncodeToString
		expired := claims("P2")
		expired.NBF, expired.EXP = testBase.Add(-72*time.Hour).Unix(), testBase.Add(-time.Hour).Unix()
		early := claims("P3")
		early.NBF = testBase.Add(time.Hour).Unix()
		f.ver.revoke("P4")
		limited := claims("P5")
		limited.CPs = []string{"99999"}
		mine := claims("P6")
		mine.CPs = []string{ref(bridge)}
		garbage := make([]byte, 2000)
		rnd := rand.New(rand.NewPCG(1, 2))
		for i := range garbage {
			garbage[i] = byte(rnd.IntN(256))
		}
		cases := []struct {
			name  string
			who   *auth.Principal
			at    *Checkpoint
			token string
			want  passtoken.Reason
		}{
			{"valid", officer, bridge, valid, passtoken.OK},
			{"valid with whitespace", officer, bridge, "  " + valid + "\n", passtoken.OK},
			{"one flipped character", officer, bridge, flip(valid), passtoken.BadSignature},
			{"unknown kid", officer, bridge, f.ver.sign(t, claims("P1"), "other-kid"), passtoken.UnknownKey},
			{"alg none", officer, bridge, enc([]byte(`{"alg":"none","kid":"test-k1","typ":"tongxin-pass"}`)) + "." + parts[1] + ".", passtoken.Malformed},
			{"HS256", officer, bridge, enc([]byte(`{"alg":"HS256","kid":"test-k1","typ":"tongxin-pass"}`)) + "." + parts[1] + "." + parts[2], passtoken.Malformed},
			{"expired", officer, bridge, f.ver.sign(t, expired, ""), passtoken.Expired},
			{"not yet valid", officer, bridge, f.ver.sign(t, early, ""), passtoken.NotYetValid},
			{"revoked", officer, bridge, f.ver.sign(t, claims("P4"), ""), passtoken.Revoked},
			{"area outside the pass", manager, lusong, valid, passtoken.AreaNotAllowed},
			{"other checkpoints only", officer, bridge, f.ver.sign(t, limited, ""), passtoken.CheckpointNotAllowed},
			{"this checkpoint named", officer, bridge, f.ver.sign(t, mine, ""), passtoken.OK},
			{"10 KB string", officer, bridge, strings.Repeat("A", 10<<10), passtoken.Malformed},
			{"binary garbage", officer, bridge, string(garbage), passtoken.Malformed},
			{"empty", officer, bridge, "", passtoken.Malformed},
			{"dots only", officer, bridge, "..", passtoken.Malformed},
		}
		contents := map[string]bool{} // what the scans showed, distinct
		for i, c := range cases {
			s, err := f.svc.Scan(f.Ctx, c.who, ref(c.at), ScanInput{Token: c.token, ClientID: fmt.Sprintf("client-%04d", i)})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if s.Pass != nil {
				contents[string(s.Pass.AppendJSON(nil))] = true
			}
			if s.Reason != c.want || s.Verdict != VerdictOf(c.want) || s.ReasonName != passtoken.ReasonNames[c.want] {
				t.Errorf("%s: %s/%s (%s), want %s", c.name, s.Verdict, s.Reason, s.ReasonName, c.want)
			}
			trusted := c.want != passtoken.Malformed && c.want != passtoken.BadSignature && c.want != passtoken.UnknownKey
			if (s.Pass != nil) != trusted {
				t.Errorf("%s: pass shown = %v, want %v", c.name, s.Pass != nil, trusted)
			}
			if s.Pass != nil && (s.Pass.Name != "王*" || s.Pass.ID4 != "123X" || s.Pass.Ent != qianjin || s.Pass.ValidTo.IsZero()) {
				t.Errorf("%s: pass %+v", c.name, s.Pass)
			}
			if s.Officer != c.who.Username || s.Offline || s.ID == 0 || !s.ReceivedAt.Equal(testBase) {
				t.Errorf("%s: logged %+v", c.name, s)
			}
		}
		if n := f.Count(`SELECT COUNT(*) FROM checkpoint_scans`); n != len(cases) {
			t.Fatalf("%d scans logged, want %d", n, len(cases))
		}
		if n := f.Count(`SELECT COUNT(*) FROM checkpoint_scans WHERE pid IS NULL`); n != 8 {
			t.Fatalf("%d scans without a pass, want 8 (malformed, bad signature, unknown key)", n)
		}
		if n := f.Count(`SELECT COUNT(*) FROM checkpoint_scans WHERE verdict = 'allow'`); n != 3 {
			t.Fatalf("%d allowed, want 3", n)
		}
		// What the passes showed is stored once each, however many scans
		// showed it (migration 0022), and read back with every scan.
		if n := f.Count(`SELECT COUNT(*) FROM scan_shown`); n != len(contents) || n < 4 {
			t.Fatalf("%d contents stored for %d distinct ones shown", n, len(contents))
		}
		if n := f.Count(`SELECT COUNT(*) FROM checkpoint_scans WHERE shown_id IS NULL`); n != 8 {
			t.Fatalf("%d scans refer to no content, want the 8 that showed none", n)
		}
		_, logged, err := f.svc.Scans(f.Ctx, officer, ref(bridge), ScanQuery{Limit: 100})
		if err != nil || len(logged) != len(cases)-1 {
			t.Fatalf("%d scans read back at the bridge: %v", len(logged), err)
		}
		for _, s := range logged {
			trusted := s.Reason != passtoken.Malformed && s.Reason != passtoken.BadSignature && s.Reason != passtoken.UnknownKey
			if (s.Pass != nil) != trusted || s.Pass != nil && (s.Pass.Name != "王*" || s.Pass.ID4 != "123X") {
				t.Errorf("scan %s (%s) read back with pass %+v", s.ClientID, s.Reason, s.Pass)
			}
		}
		// The verdict is the server's: a device clock says nothing.
		s, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: f.ver.sign(t, expired, ""), ClientID: "client-clock",
			ScannedAt: ptr(testBase.Add(-48 * time.Hour))})
		if err != nil || s.Reason != passtoken.Expired || !s.ScannedAt.Equal(testBase.Add(-48*time.Hour)) {
			t.Fatalf("online scan with an old device time: %+v %v", s, err)
		}
		_, err = f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: valid, ClientID: "client-future", ScannedAt: ptr(testBase.Add(time.Hour))})
		mustErr(t, err, errs.Invalid, "invalid_scan")
		_, err = f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: valid, ClientID: "bad id!"})
		mustErr(t, err, errs.Invalid, "invalid_scan")
		// Without a client id the server makes one: logged, not idempotent.
		s, err = f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: valid})
		if err != nil || !strings.HasPrefix(s.ClientID, "srv-") || s.Reason != passtoken.OK {
			t.Fatalf("scan without client id: %+v %v", s, err)
		}
	})
}

// The same client id again answers the stored scan, without a second row,
// whatever the second request carries.
func TestScanIdempotent(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		tok := f.ver.sign(t, claims("P1"), "")
		first, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: tok, ClientID: "3f6c2d1e-aaaa-4bbb-8ccc-000000000001"})
		if err != nil || first.Replayed {
			t.Fatalf("first: %+v %v", first, err)
		}
		f.Clock.Set(testBase.Add(time.Minute))
		f.ver.revoke("P1")
		again, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: "garbage", ClientID: "3f6c2d1e-aaaa-4bbb-8ccc-000000000001"})
		if err != nil || !again.Replayed {
			t.Fatalf("again: %+v %v", again, err)
		}
		again.Replayed = false
		a, _ := json.Marshal(first)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("replay differs:\n%s\n%s", a, b)
		}
		if n := f.Count(`SELECT COUNT(*) FROM checkpoint_scans`); n != 1 {
			t.Fatalf("%d rows, want 1", n)
		}
		// The client id is per checkpoint.
		other := f.checkpoint("枫溪大桥", Bridge, "430211002")
		if _, err := f.svc.Scan(f.Ctx, f.Sys, ref(other), ScanInput{Token: tok, ClientID: "3f6c2d1e-aaaa-4bbb-8ccc-000000000001"}); err != nil {
			t.Fatal(err)
		}
		if n := f.Count(`SELECT COUNT(*) FROM checkpoint_scans`); n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
	})
}

// Many devices scanning at once share transactions; each is answered with
// its own scan, and repeated client ids still make one row.
func TestScanGroupCommit(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		tok := f.ver.sign(t, claims("P1"), "")
		const n = 200
		out := f.scanPairs(t, officer, bridge, tok, "group", n)
		if out == nil {
			return
		}
		for i := 0; i < n; i += 2 {
			a, b := out[i], out[i+1]
			if a.ID != b.ID || a.ClientID != b.ClientID || a.Replayed == b.Replayed || a.Reason != passtoken.OK {
				t.Fatalf("pair %d: %+v / %+v", i/2, a, b)
			}
		}
		if got := f.Count(`SELECT COUNT(*) FROM checkpoint_scans`); got != n/2 {
			t.Fatalf("%d rows, want %d", got, n/2)
		}
	})
}

// scanPairs scans tok at c n times at once, pairs sharing a client id
// (prefix-0000, prefix-0000, prefix-0001, …); nil if a scan failed.
func (f *fixture) scanPairs(t *testing.T, p *auth.Principal, c *Checkpoint, tok, prefix string, n int) []*Scan {
	t.Helper()
	out := make([]*Scan, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := f.svc.Scan(f.Ctx, p, ref(c), ScanInput{Token: tok, ClientID: fmt.Sprintf("%s-%04d", prefix, i/2)})
			if err != nil {
				t.Error(err)
				return
			}
			out[i] = s
		}()
	}
	wg.Wait()
	if t.Failed() {
		return nil
	}
	return out
}

// Only the checkpoint's officers and its managers scan there: an officer
// of another checkpoint does not see it, a reader may not scan, and a
// closed checkpoint refuses online scans.
func TestScanAuthorization(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		bridge := f.checkpoint("建宁大桥", Bridge, "430211001")
		other := f.checkpoint("株洲大桥", Bridge, "430211002")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		elsewhere := f.user("kakou2", auth.CheckpointOfficer, "checkpoint:"+ref(other))
		reader := f.user("tianyuan", auth.DistrictOfficer, "430211")
		manager := f.user("hqstaff", auth.HQStaff, "430200")
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		tok := f.ver.sign(t, claims("P1"), "")
		scan := func(p *auth.Principal, c *Checkpoint, id string) error {
			_, err := f.svc.Scan(f.Ctx, p, ref(c), ScanInput{Token: tok, ClientID: id})
			return err
		}
		if err := scan(officer, bridge, "auth-0001"); err != nil {
			t.Fatalf("officer at own checkpoint: %v", err)
		}
		if err := scan(manager, bridge, "auth-0002"); err != nil {
			t.Fatalf("manager: %v", err)
		}
		mustErr(t, scan(elsewhere, bridge, "auth-0003"), errs.NotFound, "checkpoint_not_found")
		mustErr(t, scan(reader, bridge, "auth-0004"), errs.Forbidden, "forbidden")
		// An officer elsewhere who also reads the district sees it, but is
		// not on duty there.
		both := &auth.Principal{UserID: elsewhere.UserID, Username: elsewhere.Username,
			Assignments: append(append([]auth.Assignment{}, elsewhere.Assignments...), reader.Assignments...)}
		mustErr(t, scan(both, bridge, "auth-0011"), errs.Forbidden, "not_on_duty")
		mustErr(t, scan(worker, bridge, "auth-0005"), errs.Forbidden, "forbidden")
		mustErr(t, scan(nil, bridge, "auth-0006"), errs.Unauthorized, "")
		_, err := f.svc.Scan(f.Ctx, officer, "9999", ScanInput{Token: tok, ClientID: "auth-0007"})
		mustErr(t, err, errs.NotFound, "checkpoint_not_found")
		_, err = f.svc.Scan(f.Ctx, officer, "abc", ScanInput{Token: tok, ClientID: "auth-0008"})
		mustErr(t, err, errs.NotFound, "checkpoint_not_found")
		// Reading: the officer sees their checkpoint only.
		_, err = f.svc.Get(f.Ctx, elsewhere, ref(bridge))
		mustErr(t, err, errs.NotFound, "checkpoint_not_found")
		list, err := f.svc.List(f.Ctx, officer, Filter{})
		if err != nil || len(list) != 1 || list[0].ID != bridge.ID {
			t.Fatalf("officer's list: %v %v", list, err)
		}
		if list, err := f.svc.List(f.Ctx, reader, Filter{}); err != nil || len(list) != 2 {
			t.Fatalf("district reader's list: %d %v", len(list), err)
		}
		_, err = f.svc.List(f.Ctx, worker, Filter{})
		mustErr(t, err, errs.Forbidden, "forbidden")
		// A reader may not change it; the officer neither.
		_, err = f.svc.Update(f.Ctx, officer, ref(bridge), CheckpointInput{Name: "x", Kind: Bridge, AreaCode: "430211001"})
		mustErr(t, err, errs.Forbidden, "forbidden")
		// Closing it: online scans are refused, offline uploads still taken.
		closed, err := f.svc.Update(f.Ctx, manager, ref(bridge), CheckpointInput{Name: bridge.Name, Kind: Bridge, AreaCode: "430211001",
			Place: bridge.Place, Open: ptr(false), Version: bridge.Version})
		if err != nil || closed.Open || closed.Version != 2 {
			t.Fatalf("close: %+v %v", closed, err)
		}
		mustErr(t, scan(officer, bridge, "auth-0009"), errs.Conflict, "checkpoint_closed")
		res, err := f.svc.ScanBatch(f.Ctx, officer, ref(bridge), BatchInput{Scans: []ScanInput{{Token: tok, ClientID: "auth-0010",
			ScannedAt: ptr(testBase.Add(-time.Hour))}}})
		if err != nil || res.Accepted != 1 {
			t.Fatalf("offline upload at a closed checkpoint: %+v %v", res, err)
		}
		// A stale version is refused.
		_, err = f.svc.Update(f.Ctx, manager, ref(bridge), CheckpointInput{Name: bridge.Name, Kind: Bridge, AreaCode: "430211001", Version: 1})
		mustErr(t, err, errs.Conflict, "stale_checkpoint")
	})
}

// Offline scans arrive in a batch, each verified as of its scanned_at;
// uploading the batch again adds nothing.
func TestScanBatch(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		tok := f.ver.sign(t, claims("P1"), "")
		online, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: tok, ClientID: "batch-0000"})
		if err != nil {
			t.Fatal(err)
		}
		// The pass expired an hour ago; the phone scanned it two hours ago.
		old := claims("P2")
		old.EXP = testBase.Add(-time.Hour).Unix()
		expiredNow := f.ver.sign(t, old, "")
		in := BatchInput{Scans: []ScanInput{
			{Token: expiredNow, ClientID: "batch-0001", ScannedAt: ptr(testBase.Add(-2 * time.Hour))},
			{Token: expiredNow, ClientID: "batch-0002", ScannedAt: ptr(testBase.Add(-30 * time.Minute))},
			{Token: "\x00\x01garbage", ClientID: "batch-0003", ScannedAt: ptr(testBase.Add(-20 * time.Minute))},
			{Token: tok, ClientID: "batch-0000", ScannedAt: ptr(testBase.Add(-10 * time.Minute))},
			{Token: tok, ClientID: "batch-0004"},
			{Token: tok, ClientID: "", ScannedAt: ptr(testBase)},
			{Token: tok, ClientID: "batch-0005", ScannedAt: ptr(testBase.Add(time.Hour))},
			{Token: tok, ClientID: "batch-0001", ScannedAt: ptr(testBase.Add(-2 * time.Hour))},
		}}
		res, err := f.svc.ScanBatch(f.Ctx, officer, ref(bridge), in)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 3 || res.Replayed != 2 || res.Refused != 3 || len(res.Items) != len(in.Scans) {
			t.Fatalf("batch: accepted %d replayed %d refused %d", res.Accepted, res.Replayed, res.Refused)
		}
		want := []passtoken.Reason{passtoken.OK, passtoken.Expired, passtoken.Malformed, passtoken.OK}
		for i, r := range want {
			it := res.Items[i]
			if it.Scan == nil || it.Scan.Reason != r || (i < 3 && !it.Scan.Offline) {
				t.Fatalf("item %d: %+v, want %s", i, it, r)
			}
		}
		if res.Items[3].Scan.ID != online.ID || !res.Items[3].Scan.Replayed || res.Items[3].Scan.Offline {
			t.Fatalf("the online scan sent again: %+v", res.Items[3].Scan)
		}
		for _, i := range []int{4, 5, 6} {
			if res.Items[i].Error == nil || res.Items[i].Scan != nil {
				t.Fatalf("item %d: %+v, want an error", i, res.Items[i])
			}
		}
		if !res.Items[7].Scan.Replayed || res.Items[7].Scan.ID != res.Items[0].Scan.ID {
			t.Fatalf("a client id twice in one batch: %+v", res.Items[7].Scan)
		}
		if !res.Items[0].Scan.ScannedAt.Equal(testBase.Add(-2*time.Hour)) || !res.Items[0].Scan.ReceivedAt.Equal(testBase) {
			t.Fatalf("times: %+v", res.Items[0].Scan)
		}
		rows := f.Count(`SELECT COUNT(*) FROM checkpoint_scans`)
		again, err := f.svc.ScanBatch(f.Ctx, officer, ref(bridge), in)
		if err != nil || again.Accepted != 0 || again.Replayed != 5 {
			t.Fatalf("again: %+v %v", again, err)
		}
		if n := f.Count(`SELECT COUNT(*) FROM checkpoint_scans`); n != rows || n != 4 {
			t.Fatalf("rows %d → %d, want 4", rows, n)
		}
		_, err = f.svc.ScanBatch(f.Ctx, officer, ref(bridge), BatchInput{})
		mustErr(t, err, errs.Invalid, "invalid_batch")
		_, err = f.svc.ScanBatch(f.Ctx, officer, ref(bridge), BatchInput{Scans: make([]ScanInput, MaxBatchScans+1)})
		mustErr(t, err, errs.TooLarge, "batch_too_large")
		// The list, newest scan first.
		_, list, err := f.svc.Scans(f.Ctx, officer, ref(bridge), ScanQuery{})
		if err != nil || len(list) != 4 || list[0].ClientID != "batch-0000" || list[3].ClientID != "batch-0001" {
			t.Fatalf("scans: %v %v", list, err)
		}
		_, list, _ = f.svc.Scans(f.Ctx, officer, ref(bridge), ScanQuery{Verdict: Deny})
		if len(list) != 2 {
			t.Fatalf("denied scans: %d", len(list))
		}
	})
}

// Statistics: scans per checkpoint and hour, denials by reason.
func TestScanStats(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		a := f.checkpoint("株洲大桥", Bridge, "430211001")
		b := f.checkpoint("芦淞大桥", Bridge, "430203002")
		f.checkpoint("建宁大桥", Bridge, "430202002")
		tok := f.ver.sign(t, claims("P1"), "")
		n := 0
		scan := func(c *Checkpoint, at time.Time, token string) {
			n++
			f.Clock.Set(at)
			if _, err := f.svc.Scan(f.Ctx, f.Sys, ref(c), ScanInput{Token: token, ClientID: fmt.Sprintf("stats-%04d", n)}); err != nil {
				t.Fatal(err)
			}
		}
		scan(a, testBase, tok)
		scan(a, testBase.Add(10*time.Minute), tok)
		scan(a, testBase.Add(10*time.Minute), "bad")
		scan(a, testBase.Add(70*time.Minute), tok)
		scan(b, testBase.Add(5*time.Minute), tok) // area_not_allowed
		scan(b, testBase.Add(-48*time.Hour), tok) // before the pass: not_yet_valid, outside the period
		from, to, err := web.DayRange("2022-11-19", "2022-11-20", f.Clock.Now(), statsDays)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.svc.ScanStats(f.Ctx, f.Sys, StatsQuery{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		if st.Total != (ScanCounts{Scans: 5, Allowed: 3, Denied: 2}) || len(st.Checkpoints) != 3 || st.From != "2022-11-19" || st.To != "2022-11-20" {
			t.Fatalf("stats: %+v", st)
		}
		// Checkpoints come by area: 芦淞区's first.
		if len(st.Hours) != 3 || st.Hours[0].CheckpointID != b.ID || st.Hours[1].CheckpointID != a.ID ||
			st.Hours[1].ScanCounts != (ScanCounts{3, 2, 1, 0}) || !st.Hours[1].Hour.Equal(testBase) ||
			st.Hours[2].ScanCounts != (ScanCounts{1, 1, 0, 0}) {
			t.Fatalf("hours: %+v", st.Hours)
		}
		if len(st.Denials) != 2 || st.Denials[0].Count != 1 {
			t.Fatalf("denials: %+v", st.Denials)
		}
		reader := f.user("lusong", auth.DistrictOfficer, "430203")
		st, err = f.svc.ScanStats(f.Ctx, reader, StatsQuery{From: from, To: to})
		if err != nil || len(st.Checkpoints) != 1 || st.Total.Scans != 1 || st.Denials[0].Reason != passtoken.AreaNotAllowed {
			t.Fatalf("district stats: %+v %v", st, err)
		}
		st, err = f.svc.ScanStats(f.Ctx, f.Sys, StatsQuery{From: from, To: to, Area: "430211"})
		if err != nil || len(st.Checkpoints) != 1 || st.Total.Scans != 4 {
			t.Fatalf("area stats: %+v %v", st, err)
		}
		_, err = f.svc.ScanStats(f.Ctx, f.Sys, StatsQuery{From: to, To: from})
		mustErr(t, err, errs.Invalid, "bad_period")
		_, err = f.svc.ScanStats(f.Ctx, f.Sys, StatsQuery{From: from, To: to, Area: "999999"})
		mustErr(t, err, errs.Invalid, "area_not_found")
	})
}

// An offline batch refuses the items scanned longer ago than the window
// (72 hours unless configured) with scan_too_old, logging none of them,
// and takes the others of the same batch.
func TestScanBatchTooOld(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		tok := f.ver.sign(t, claims("P1"), "")
		in := BatchInput{Scans: []ScanInput{
			{Token: tok, ClientID: "old-00001", ScannedAt: ptr(testBase.Add(-73 * time.Hour))},
			{Token: tok, ClientID: "old-00002", ScannedAt: ptr(testBase.Add(-71 * time.Hour))},
			{Token: tok, ClientID: "old-00003", ScannedAt: ptr(testBase.Add(-30 * 24 * time.Hour))},
			{Token: tok, ClientID: "old-00004", ScannedAt: ptr(testBase.Add(-time.Minute))},
		}}
		res, err := f.svc.ScanBatch(f.Ctx, officer, ref(bridge), in)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 2 || res.Refused != 2 {
			t.Fatalf("accepted %d refused %d: %+v", res.Accepted, res.Refused, res.Items)
		}
		for _, i := range []int{0, 2} {
			e := res.Items[i].Error
			if e == nil || e.Code != "scan_too_old" || !strings.Contains(e.Message, "72 小时") || res.Items[i].Scan != nil {
				t.Errorf("item %d: %+v %+v, want scan_too_old", i, res.Items[i], e)
			}
		}
		if res.Items[1].Scan == nil || res.Items[3].Scan == nil {
			t.Fatalf("the recent items: %+v", res.Items)
		}
		if n := f.Count(`SELECT COUNT(*) FROM checkpoint_scans WHERE client_id IN ('old-00001', 'old-00003')`); n != 0 {
			t.Fatalf("%d refused scans logged", n)
		}
		// A window of one hour, as serve --offline-scan-max-age 1h sets it.
		hour := NewService(f.DB, Deps{Areas: f.Areas, Users: f.Users, Enterprises: f.res, Verifier: f.ver, OfflineMaxAge: time.Hour})
		res, err = hour.ScanBatch(f.Ctx, officer, ref(bridge), BatchInput{Scans: []ScanInput{
			{Token: tok, ClientID: "old-00005", ScannedAt: ptr(testBase.Add(-61 * time.Minute))},
			{Token: tok, ClientID: "old-00006", ScannedAt: ptr(testBase.Add(-59 * time.Minute))},
		}})
		if err != nil || res.Accepted != 1 || res.Refused != 1 || res.Items[0].Error == nil ||
			res.Items[0].Error.Code != "scan_too_old" || !strings.Contains(res.Items[0].Error.Message, "1 小时") {
			t.Fatalf("one hour: %+v %v", res, err)
		}
	})
}

// The verdict names the enterprise: by the name its token carries, or,
// for a token issued before tokens carried one, by the registry's name
// (online only: the browser offline shows the code). A key the registry
// does not know leaves the name empty and the code shown.
func TestScanEnterpriseName(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		named := claims("P1")
		named.EntName = "千金药业（令牌中的名称）"
		unknown := claims("P3")
		unknown.Ent = "91430200MA4XXXXXXX"
		for i, c := range []struct {
			claims passtoken.Claims
			want   string
		}{{named, "千金药业（令牌中的名称）"}, {claims("P2"), "株洲千金药业股份有限公司"}, {unknown, ""}} {
			sc, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: f.ver.sign(t, c.claims, ""), ClientID: fmt.Sprintf("ent-name-%02d", i)})
			if err != nil {
				t.Fatal(err)
			}
			if sc.Pass == nil || sc.Pass.EntName != c.want || sc.Pass.Ent != c.claims.Ent {
				t.Fatalf("scan %d: pass %+v, want the name %q", i, sc.Pass, c.want)
			}
		}
	})
}
