package checkpoint

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
	"tongxin/internal/zonerule"

	"github.com/xuri/excelize/v2"
)

// The estate gates' fixture: 大园社区 (430203001001) with the estates 大园小区
// (buildings a1, a2) and 建设新村 (b1); 建宁社区 (430203001002) with 枫林苑 (d1).

const (
	dayuan  = "430203001001"
	jianing = "430203001002"
)

// fakeRegister is the household register's estates.
type fakeRegister struct{ estates map[string][]Estate }

func newFakeRegister() *fakeRegister {
	return &fakeRegister{estates: map[string][]Estate{
		dayuan:  {{Name: "大园小区", Buildings: []string{"a1", "a2"}}, {Name: "建设新村", Buildings: []string{"b1"}}},
		jianing: {{Name: "枫林苑", Buildings: []string{"d1"}}},
	}}
}

func (r *fakeRegister) Estates(_ context.Context, community string) ([]Estate, error) {
	return r.estates[community], nil
}

// fakeZones is the zone module: a snapshot, or an error.
type fakeZones struct {
	mu   sync.Mutex
	snap *zonerule.Snapshot
	err  error
}

func (z *fakeZones) GateIndex(context.Context) (*zonerule.Index, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.err != nil {
		return nil, z.err
	}
	if z.snap == nil {
		return zonerule.NewIndex(&zonerule.Snapshot{}), nil
	}
	return zonerule.NewIndex(z.snap), nil
}

func (z *fakeZones) set(s *zonerule.Snapshot, err error) {
	z.mu.Lock()
	z.snap, z.err = s, err
	z.mu.Unlock()
}

// VerifyResident checks a resident code as pass.Verifier does.
func (v *fakeVerifier) VerifyResident(token string) (*passtoken.ResidentClaims, passtoken.Reason) {
	c, _, r := passtoken.VerifyResident(token, func(kid string) ed25519.PublicKey {
		if kid == testKid {
			return v.pub
		}
		return nil
	})
	return c, r
}

// resident signs the resident code of rid in building of community.
func (v *fakeVerifier) resident(t testing.TB, rid, community, building string) string {
	t.Helper()
	tok, err := passtoken.SignResident(v.key, testKid, passtoken.ResidentClaims{RID: rid, HH: "hh-" + rid, Name: "张*",
		Area: community, Building: building, IAT: testBase.Add(-48 * time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// ms is testBase moved by d, in Unix ms.
func ms(d time.Duration) int64 { return testBase.Add(d).UnixMilli() }

// gateSnapshot: 大园小区 sealed from an hour before testBase; 大园社区
// controlled around it from then on; r-med may go out for a medical
// visit from testBase to two hours later.
func gateSnapshot() *zonerule.Snapshot {
	return &zonerule.Snapshot{Seq: 3, Full: true, Zones: []zonerule.Zone{
		{ID: 1, Level: zonerule.Sealed, Buildings: []string{"a1", "a2"}, From: ms(-time.Hour), Seq: 2},
		{ID: 2, Level: zonerule.Controlled, Communities: []string{dayuan}, From: ms(-time.Hour), Seq: 1},
	}, Permits: []zonerule.Permit{{ID: 7, Resident: "r-med", From: ms(0), To: ms(2 * time.Hour), Seq: 3}}}
}

func (f *fixture) estateGate(name, community, estate string) *Checkpoint {
	f.T.Helper()
	c, err := f.svc.Create(f.Ctx, f.Sys, CheckpointInput{Name: name, Kind: EstateGate, AreaCode: community, Estate: estate})
	if err != nil {
		f.T.Fatalf("estate gate %s: %v", name, err)
	}
	return c
}

func TestRegisterEstateGate(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		for _, c := range []struct {
			name string
			in   CheckpointInput
			code string
		}{
			{"no estate", CheckpointInput{Name: "门岗", Kind: EstateGate, AreaCode: dayuan}, "invalid_checkpoint"},
			{"an estate for a road", CheckpointInput{Name: "门岗", Kind: Road, AreaCode: dayuan, Estate: "大园小区"}, "invalid_checkpoint"},
			{"an estate of another community", CheckpointInput{Name: "门岗", Kind: EstateGate, AreaCode: dayuan, Estate: "枫林苑"}, "estate_not_found"},
			{"a street", CheckpointInput{Name: "门岗", Kind: EstateGate, AreaCode: "430203001", Estate: "大园小区"}, "invalid_checkpoint"},
		} {
			_, err := f.svc.Create(f.Ctx, f.Sys, c.in)
			if e := errs.As(err); e == nil || e.Code != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		g := f.estateGate("大园小区东门", dayuan, "大园小区")
		if g.Kind != EstateGate || g.Estate != "大园小区" || g.KindName != "小区门岗" {
			t.Fatalf("created %+v", g)
		}
		// Moved to the other estate, then made a community checkpoint.
		up, err := f.svc.Update(f.Ctx, f.Sys, ref(g), CheckpointInput{Name: g.Name, Kind: EstateGate, AreaCode: dayuan, Estate: "建设新村"})
		if err != nil || up.Estate != "建设新村" {
			t.Fatalf("update: %+v %v", up, err)
		}
		up, err = f.svc.Update(f.Ctx, f.Sys, ref(g), CheckpointInput{Name: g.Name, Kind: Community, AreaCode: dayuan})
		if err != nil || up.Estate != "" || up.Kind != Community {
			t.Fatalf("update to community: %+v %v", up, err)
		}
	})
}

// At the gate of sealed 大园小区: its residents are denied, one with an
// exit permit in force goes out, a resident of 建设新村 (controlled, the
// gate inside that zone) passes, a resident of 建宁社区 passes; passes are
// decided as anywhere; a resident code at a road checkpoint is malformed.
func TestEstateGateScans(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.zones.set(gateSnapshot(), nil)
		gate := f.estateGate("大园小区东门", dayuan, "大园小区")
		other := f.estateGate("枫林苑北门", jianing, "枫林苑")
		road := f.checkpoint("建设南路卡口", Road, "430203001")
		officer := f.user("menggang", auth.CheckpointOfficer, "checkpoint:"+ref(gate))
		manager := f.user("hqstaff", auth.HQStaff, "430200")
		v := f.ver
		cases := []struct {
			name  string
			at    *Checkpoint
			token string
			want  passtoken.Reason
			zone  int64
			shown Shown
		}{
			{"sealed resident", gate, v.resident(t, "r1", dayuan, "a1"), passtoken.ZoneSealed, 1, ShownResident},
			{"sealed resident with a permit", gate, v.resident(t, "r-med", dayuan, "a2"), passtoken.OK, 1, ShownResident},
			{"controlled resident inside the zone", gate, v.resident(t, "r2", dayuan, "b1"), passtoken.OK, 2, ShownResident},
			{"controlled resident outside the zone", other, v.resident(t, "r2", dayuan, "b1"), passtoken.ZoneControlled, 2, ShownResident},
			{"sealed resident at another gate", other, v.resident(t, "r1", dayuan, "a1"), passtoken.ZoneSealed, 1, ShownResident},
			{"resident of an open community", gate, v.resident(t, "r3", jianing, "d1"), passtoken.OK, 0, ShownResident},
			{"forged resident code", gate, flip(v.resident(t, "r3", jianing, "d1")), passtoken.BadSignature, 0, ShownResident},
			{"pass valid in 芦淞区", gate, v.sign(t, claims("P1", "430203"), ""), passtoken.OK, 0, ShownPass},
			{"pass of another district", gate, v.sign(t, claims("P2"), ""), passtoken.AreaNotAllowed, 0, ShownPass},
			{"resident code at a road checkpoint", road, v.resident(t, "r1", dayuan, "a1"), passtoken.Malformed, 0, ShownResident},
		}
		for i, c := range cases {
			who := manager
			if c.at == gate {
				who = officer
			}
			s, err := f.svc.Scan(f.Ctx, who, ref(c.at), ScanInput{Token: c.token, ClientID: "gate-case-" + string(rune('a'+i))})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var zone int64
			if s.Resident != nil {
				zone = s.Resident.Zone
			}
			if s.Reason != c.want || zone != c.zone || s.Shown != c.shown {
				t.Errorf("%s: %s by zone %d, shown %s; want %s by zone %d, shown %s", c.name, s.Reason, zone, s.Shown, c.want, c.zone, c.shown)
			}
			if c.name == "sealed resident with a permit" && (s.Resident.Permit != 7 || s.Resident.Level != zonerule.Sealed) {
				t.Errorf("permit: %+v", s.Resident)
			}
		}
		// The log: the resident's pseudonymous id and masked name, the
		// code shown, the reasons.
		_, list, err := f.svc.Scans(f.Ctx, manager, ref(gate), ScanQuery{})
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]*Scan{}
		for _, s := range list {
			byID[s.ClientID] = s
		}
		if s := byID["gate-case-a"]; s == nil || s.Reason != passtoken.ZoneSealed || s.Shown != ShownResident || s.Resident == nil ||
			s.Resident.RID != "r1" || s.Resident.Name != "张*" || s.Resident.Building != "a1" || s.Pass != nil {
			t.Fatalf("logged sealed scan: %+v", s)
		}
		if s := byID["gate-case-h"]; s == nil || s.Shown != ShownPass || s.Pass == nil || s.Resident != nil {
			t.Fatalf("logged pass scan: %+v", s)
		}
		if n := f.Count(`SELECT COUNT(*) FROM checkpoint_scans WHERE shown = 'resident' AND pid = 'r1'`); n != 2 {
			t.Fatalf("%d resident rows of r1 with their pseudonymous id", n)
		}
	})
}

// Offline scans are decided as of their scanned_at; without the zones an
// estate gate takes neither the online scan nor the batch of a resident
// code (zones_unavailable), and passes still go through.
func TestEstateGateOfflineAndUnavailable(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.zones.set(gateSnapshot(), nil)
		gate := f.estateGate("大园小区东门", dayuan, "大园小区")
		officer := f.user("menggang", auth.CheckpointOfficer, "checkpoint:"+ref(gate))
		r1 := f.ver.resident(t, "r1", dayuan, "a1")
		before, during := testBase.Add(-2*time.Hour), testBase.Add(-30*time.Minute)
		res, err := f.svc.ScanBatch(f.Ctx, officer, ref(gate), BatchInput{Scans: []ScanInput{
			{Token: r1, ClientID: "offline-before", ScannedAt: &before},
			{Token: r1, ClientID: "offline-during", ScannedAt: &during},
		}})
		if err != nil || res.Accepted != 2 {
			t.Fatalf("batch: %+v %v", res, err)
		}
		if a, b := res.Items[0].Scan, res.Items[1].Scan; a.Reason != passtoken.OK || b.Reason != passtoken.ZoneSealed || !b.Offline {
			t.Fatalf("as of scanned_at: %s, %s", a.Reason, b.Reason)
		}
		f.zones.set(nil, errors.New("zone store down"))
		_, err = f.svc.Scan(f.Ctx, officer, ref(gate), ScanInput{Token: r1, ClientID: "online-unavailable"})
		mustErr(t, err, errs.Unavailable, "zones_unavailable")
		_, err = f.svc.ScanBatch(f.Ctx, officer, ref(gate), BatchInput{Scans: []ScanInput{{Token: r1, ClientID: "batch-unavailable", ScannedAt: &during}}})
		mustErr(t, err, errs.Unavailable, "zones_unavailable")
		if s, err := f.svc.Scan(f.Ctx, officer, ref(gate), ScanInput{Token: f.ver.sign(t, claims("P1", "430203"), ""),
			ClientID: "pass-unavailable"}); err != nil || s.Reason != passtoken.OK {
			t.Fatalf("a pass without zones: %+v %v", s, err)
		}
	})
}

// A resident scan goes through the journal and back unchanged.
func TestJournalKeepsResidentScans(t *testing.T) {
	r := &scanRow{checkpoint: 3, clientID: "resident-1", shown: ShownResident, reason: passtoken.ZoneSealed,
		resident:  &ResidentInfo{RID: "r1", Name: "张*", Community: dayuan, Building: "a1", Zone: 1, Level: zonerule.Sealed},
		scannedAt: testBase, receivedAt: testBase.Add(time.Second), officer: "menggang"}
	line := appendJournalLine(nil, r, 0, false)
	got, ok := decodeJournalLine([]byte(strings.TrimSuffix(string(line), "\n")), nil)
	if !ok || got.shown != ShownResident || got.resident == nil || *got.resident != *r.resident || got.claims != nil {
		t.Fatalf("journal line %s read back as %+v", line, got)
	}
	p := &scanRow{checkpoint: 3, clientID: "pass-1", reason: passtoken.OK, claims: &PassInfo{PID: "P1", Name: "王*"},
		scannedAt: testBase, receivedAt: testBase, officer: "kakou"}
	got, ok = decodeJournalLine([]byte(strings.TrimSuffix(string(appendJournalLine(nil, p, 0, false)), "\n")), nil)
	if !ok || got.shown != "" || got.claims == nil || got.claims.PID != "P1" || got.resident != nil {
		t.Fatalf("pass line read back as %+v", got)
	}
}

// The statistics and the scan export name the zone reasons and count and
// show the resident codes, in Chinese.
func TestEstateGateStatsAndExport(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.zones.set(gateSnapshot(), nil)
		gate := f.estateGate("大园小区东门", dayuan, "大园小区")
		officer := f.user("menggang", auth.CheckpointOfficer, "checkpoint:"+ref(gate))
		hq := f.user("hqstaff", auth.HQStaff, "430200")
		for i, tok := range []string{f.ver.resident(t, "r1", dayuan, "a1"), f.ver.resident(t, "r2", dayuan, "b1"),
			f.ver.sign(t, claims("P1", "430203"), "")} {
			if _, err := f.svc.Scan(f.Ctx, officer, ref(gate), ScanInput{Token: tok, ClientID: fmt.Sprintf("stats-scan-%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		st, err := f.svc.ScanStats(f.Ctx, hq, StatsQuery{From: testBase.Add(-time.Hour), To: testBase.Add(time.Hour)})
		if err != nil || st.Total.Scans != 3 || st.Total.Residents != 2 || len(st.Denials) != 1 ||
			st.Denials[0].Reason != passtoken.ZoneSealed || st.Denials[0].Name != "封控区居民，无外出许可不得外出" {
			t.Fatalf("stats: %+v %v", st, err)
		}
		mux := pagesEnv(t, f)
		mustContain(t, page(mux, "GET", "/checkpoints/stats?from=2022-11-20&to=2022-11-20", hq, nil), 200,
			"大园小区东门", "封控区居民，无外出许可不得外出", "居民码")
		w := page(mux, "GET", "/checkpoints/"+ref(gate)+"/scans.xlsx?from=2022-11-20&to=2022-11-20", hq, nil)
		x, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.GetRows(x.GetSheetName(0))
		if err != nil || len(rows) != 4 {
			t.Fatalf("export rows: %v %v", rows, err)
		}
		head := strings.Join(rows[0], "|")
		sealed := strings.Join(rows[1], "|")
		if !strings.Contains(head, "出示的码") || !strings.Contains(head, "居民编号（假名）") ||
			!strings.Contains(sealed, "居民码|") || !strings.Contains(sealed, "封控区居民，无外出许可不得外出") ||
			!strings.Contains(sealed, "张*") || !strings.Contains(sealed, "|r1|封控区|") || !strings.Contains(strings.Join(rows[3], "|"), "通行证") {
			t.Fatalf("export:\n%s\n%s\n%v", head, sealed, rows[2:])
		}
	})
}
