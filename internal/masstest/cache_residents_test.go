package masstest

import (
	"fmt"
	"testing"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/testcity"
)

// Samples read the register as it is, though batches on SQLite keep the
// residents they read (cache_residents.go): after a re-import, a resident
// who moved out is refused and one who moved to another building counts
// there, by resident code and by ID number.
func TestSamplesSeeTheRegisterAfterAnImport(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		all, people := f.imported(gudaqiao, 7, 1, 2), register(gudaqiao, 7, 1, 2)
		r1 := f.round(gudaqiao)
		f.sampleAll(r1, all, 10, "R1")
		gone, moved := all[0], all[len(all)-1]
		var next []regPerson
		for i, p := range people {
			switch i {
			case 0:
				continue
			case len(people) - 1:
				p.building, p.unit, p.room = "9栋", "1单元", "101"
			}
			next = append(next, p)
		}
		if _, err := f.svc.ImportHouseholds(f.Ctx, f.Sys, csvOf(next)); err != nil {
			t.Fatal(err)
		}
		r2 := f.nextRound(r1.CampaignID)
		byID := sample(moved, "R2-B", 1)
		byID.Resident, byID.IDNumber = "", moved.idNumber
		res := f.record(f.Sys, r2, sample(gone, "R2-A", 1), byID)
		if res[0].Status != Refused || res[0].Code != "resident_not_registered" {
			t.Errorf("moved out: %+v", res[0])
		}
		if res[1].Status != Created {
			t.Fatalf("moved: %+v", res[1])
		}
		if got, want := f.tallySnapshot(r2.ID), f.rebuilt(r2); got != want {
			t.Errorf("kept counts after the move:\n%s\nrebuilt:\n%s", got, want)
		}
	})
}

// A change another process commits to the register (a second handle on
// the same SQLite file) is seen by the next batch: data_version moved.
func TestSamplesSeeAnotherProcessesRegisterChange(t *testing.T) {
	clk := clock.NewManual(testcity.Base)
	url := dbtest.URL(t, "sqlite")
	f := newFixture(t, dbtest.OpenURL(t, url, clk), clk)
	all := f.imported(gudaqiao, 8, 1, 1)
	r1 := f.round(gudaqiao)
	f.sampleAll(r1, all, 10, "P1")
	other := dbtest.OpenURL(t, url, clk)
	err := other.Write(f.Ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(f.Ctx, `UPDATE testing_residents SET status = 'moved_out' WHERE id = $1`, all[0].id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r2 := f.nextRound(r1.CampaignID)
	res := f.record(f.Sys, r2, sample(all[0], "P2-A", 1), sample(all[1], "P2-B", 1))
	if res[0].Status != Refused || res[0].Code != "resident_not_registered" || res[1].Status != Created {
		t.Errorf("after another process's change: %+v, %+v", res[0], res[1])
	}
}

// An import by another instance on the same database (a second server
// on PostgreSQL, a command beside the server on SQLite) is seen by this
// instance's next batch, though its own cache was never told: the
// register's version (PostgreSQL) or data_version (SQLite) moved.
func TestSamplesSeeAnotherInstancesImport(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			clk := clock.NewManual(testcity.Base)
			url := dbtest.URL(t, kind)
			f := newFixture(t, dbtest.OpenURL(t, url, clk), clk)
			all, people := f.imported(gudaqiao, 8, 1, 1), register(gudaqiao, 8, 1, 1)
			r1 := f.round(gudaqiao)
			f.sampleAll(r1, all, 10, "I1") // every resident now kept by f.svc
			other := NewService(dbtest.OpenURL(t, url, clk), Deps{Box: f.Box, Areas: f.Areas, Codes: f.codes, Users: f.Users})
			if _, err := other.ImportHouseholds(f.Ctx, f.Sys, csvOf(people[1:])); err != nil {
				t.Fatal(err)
			}
			r2 := f.nextRound(r1.CampaignID)
			res := f.record(f.Sys, r2, sample(all[0], "I2-A", 1), sample(all[1], "I2-B", 1))
			if res[0].Status != Refused || res[0].Code != "resident_not_registered" || res[1].Status != Created {
				t.Errorf("after another instance's import: %+v, %+v", res[0], res[1])
			}
		})
	}
}

// A batch answers each created sample with the id it was stored under
// (on SQLite known without RETURNING: insertSamplesPart), in pieces of
// every size.
func TestBatchAnswersTheStoredIDs(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		all := f.imported(gudaqiao, 9, 1, 2)
		r := f.round(gudaqiao)
		n := min(len(all), 45) // pieces of 32, 8 and 1
		var in []SampleInput
		for i, s := range all[:n] {
			in = append(in, sample(s, fmt.Sprintf("ID-%d", i/5), 5))
		}
		res := f.record(f.Sys, r, in...)
		stored := f.storedSamples(t, r.ID)
		if len(stored) != n {
			t.Fatalf("%d samples stored, want %d", len(stored), n)
		}
		for i, x := range res {
			if x.Status != Created || x.Sample == nil || x.Sample.ID != stored[in[i].ClientID] {
				t.Errorf("record %d: %+v, stored as %d", i, x, stored[in[i].ClientID])
			}
		}
	})
}
