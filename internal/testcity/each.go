package testcity

import (
	"testing"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
)

// Each runs fn on every configured database (dbtest.Each) with the
// fixture build makes there, on a manual clock set to Base for each run.
func Each[F any](t *testing.T, build func(testing.TB, *db.DB, *clock.Manual) F, fn func(*testing.T, F)) {
	clk := clock.NewManual(Base)
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(Base)
		fn(t, build(t, d, clk))
	})
}
