package masstest

import (
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/testcity"
)

// The testing group's figures add up: 10 persons in two communities, 8
// sampled, one exempt, one missed; a positive pool of five, one of whose
// retests is positive.
func TestLabFigures(t *testing.T) {
	eachLab(t, func(t *testing.T, f *labFixture) {
		dy, gdq := f.people(dayuan, "1栋", 6), f.people(gudaqiao, "2栋", 4)
		round := f.startRound()
		f.pool("T-A", 5, dy[:5]...)
		f.pool("T-B", 5, gdq[:3]...)
		f.exec(func(tx *db.Tx) error {
			if _, err := tx.ExecContext(f.Ctx, `INSERT INTO testing_exemptions (round_id, resident_id, reason, created_at, created_by)
				VALUES ($1, $2, 'away', $3, 'tester')`, round, dy[5], tx.NowMS()); err != nil {
				return err
			}
			for _, c := range []string{dayuan, gudaqiao} {
				a, err := f.Areas.Lookup(f.Ctx, c)
				if err != nil {
					return err
				}
				if err := rebuildCommunity(f.Ctx, tx, round, a.Path); err != nil {
					return err
				}
			}
			return nil
		})
		f.store(f.Sys, rec("T-A", "positive"), rec("T-B", "negative"))
		f.sample(dy[0], f.tube("R-A0", 1), f.openRetest(dy[0]))
		f.store(f.Sys, rec("R-A0", "positive"))

		fig, err := f.svc.Figures(f.Ctx, f.User("hesuan", auth.HQStaff, "430200"), "2022-11-20", "430203001")
		if err != nil {
			t.Fatal(err)
		}
		c := fig.Latest
		if fig.RoundsInProgress != 1 || fig.Samples != 9 || fig.RetestSamples != 1 || c == nil || c.RoundID != round ||
			c.Persons != 10 || c.Sampled != 8 || c.Exempt != 1 || c.Missed != 1 || c.Rate != 90 ||
			fig.PositivesDay != 1 || fig.PositivesTotal != 1 || fig.RetestsOpen != 4 {
			t.Fatalf("figures = %+v, latest %+v", fig, c)
		}
		if c.Persons != c.Sampled+c.Exempt+c.Missed {
			t.Fatalf("coverage does not add up: %+v", c)
		}
		worker := f.User("dayuan_w", auth.CommunityWorker, dayuan)
		mine, err := f.svc.Figures(f.Ctx, worker, "2022-11-20", dayuan)
		if err != nil {
			t.Fatal(err)
		}
		if mine.Samples != 6 || mine.Latest.Persons != 6 || mine.Latest.Missed != 0 || mine.Latest.Rate != 100 || mine.RetestsOpen != 4 {
			t.Fatalf("大园's figures = %+v, latest %+v", mine, mine.Latest)
		}
		before, err := f.svc.Figures(f.Ctx, f.Sys, "2022-11-19", "430203")
		if err != nil {
			t.Fatal(err)
		}
		if before.RoundsInProgress != 0 || before.Samples != 0 || before.Latest != nil || before.PositivesDay != 0 ||
			before.PositivesTotal != 0 || before.RetestsOpen != 0 {
			t.Fatalf("the day before = %+v", before)
		}
		_, err = f.svc.Figures(f.Ctx, worker, "2022-11-20", "430203001")
		testcity.MustErr(t, err, errs.Invalid, "area_not_found")
		_, err = f.svc.Figures(f.Ctx, f.Sys, "20.11.2022", "430203")
		testcity.MustErr(t, err, errs.Invalid, "bad_day")
	})
}
