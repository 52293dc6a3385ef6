package checkpoint

import (
	"errors"
	"fmt"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/passtoken"
)

// What a code showed is stored once and its id remembered only once the
// transaction that stored it has committed: a load that rolls back
// leaves no id behind that would refer to nothing.
func TestShownIDsFollowCommits(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		c := f.checkpoint("株洲大桥", Bridge, "430211001")
		p1, p2 := claims("P1", "430211"), claims("P2", "430211")
		info1, info2 := passInfo(&p1, passtoken.OK), passInfo(&p2, passtoken.OK)
		row := func(id string, info *PassInfo) *scanRow {
			return &scanRow{checkpoint: c.ID, clientID: id, claims: info, reason: passtoken.OK, scannedAt: testBase, officer: "kakou"}
		}
		var sh shownIDs
		refused := errors.New("refused after the rows")
		err := f.DB.Write(f.Ctx, func(tx *db.Tx) error {
			if err := loadScans(f.Ctx, tx, &sh, []*scanRow{row("rolled-back-1", info1), row("rolled-back-2", info1)}); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) || len(sh.ids) != 0 || f.Count(`SELECT COUNT(*) FROM scan_shown`) != 0 {
			t.Fatalf("after a rollback: %v, %d ids remembered, %d stored", err, len(sh.ids), f.Count(`SELECT COUNT(*) FROM scan_shown`))
		}
		for _, rows := range [][]*scanRow{
			{row("a-1", info1), row("a-2", info2), row("a-3", info1)},
			{row("b-1", info2), row("b-2", info1)},
		} {
			if err := f.DB.Write(f.Ctx, func(tx *db.Tx) error { return loadScans(f.Ctx, tx, &sh, rows) }); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.Count(`SELECT COUNT(*) FROM scan_shown`); n != 2 || len(sh.ids) != 2 {
			t.Fatalf("%d contents stored, %d remembered; want 2 and 2", n, len(sh.ids))
		}
		if n := f.Count(`SELECT COUNT(DISTINCT shown_id) FROM checkpoint_scans`); n != 2 {
			t.Fatalf("the scans refer to %d contents, want 2", n)
		}
		// A second service (another process, a restart) finds the stored
		// contents rather than storing them again.
		var fresh shownIDs
		if err := f.DB.Write(f.Ctx, func(tx *db.Tx) error { return loadScans(f.Ctx, tx, &fresh, []*scanRow{row("c-1", info2)}) }); err != nil {
			t.Fatal(err)
		}
		if n := f.Count(`SELECT COUNT(*) FROM scan_shown`); n != 2 {
			t.Fatalf("%d contents stored after a restart, want 2", n)
		}
	})
}

// A remembered id that no longer refers to a row (removed by hand) fails
// one load; the loader then forgets the ids it remembered and loads the
// scans, rather than failing the same way at every try.
func TestJournalForgetsShownIDsAfterAFailedLoad(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.journaled(t)
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		tok := f.ver.sign(t, claims("P1"), "")
		scan := func(id string) *Scan {
			t.Helper()
			s, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: tok, ClientID: id})
			if err != nil || s.Pass == nil {
				t.Fatalf("scan %s: %+v %v", id, s, err)
			}
			return s
		}
		first := scan("forget-first-01")
		if _, list, err := f.svc.Scans(f.Ctx, officer, ref(bridge), ScanQuery{Limit: 10}); err != nil || len(list) != 1 {
			t.Fatalf("the first scan loaded: %d %v", len(list), err)
		}
		text := string(first.Pass.AppendJSON(nil))
		f.svc.shown.mu.Lock()
		if f.svc.shown.ids[text] == nil {
			f.svc.shown.mu.Unlock()
			t.Fatal("the pass's content is not remembered after its load")
		}
		f.svc.shown.ids[text] = any(int64(987654)) // as if its row had been removed
		f.svc.shown.mu.Unlock()
		for i := range 3 {
			scan(fmt.Sprintf("forget-next-%02d", i))
		}
		_, list, err := f.svc.Scans(f.Ctx, officer, ref(bridge), ScanQuery{Limit: 10})
		if err != nil || len(list) != 4 {
			t.Fatalf("%d scans after a failed load, want 4: %v", len(list), err)
		}
		for _, s := range list {
			if s.Pass == nil || s.Pass.PID != "P1" {
				t.Errorf("scan %s read back with pass %+v", s.ClientID, s.Pass)
			}
		}
	})
}
