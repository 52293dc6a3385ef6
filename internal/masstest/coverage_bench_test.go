package masstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/testcity"
)

// The size: a district of 500,000 households, in 芦淞区's seven
// communities, 60 households a building, one to three residents each
// (about a million), 95 % of them sampled and 1 % exempt.
const (
	benchHouseholds = 500000
	benchPerBuild   = 60
)

var benchCommunities = []string{"430203001001", "430203001002", "430203001003", "430203002001", "430203002002",
	"430203003001", "430203003002"}

// benchCity loads the district straight into the tables (the import
// would take far too long for a million residents), opens a round over
// it and stores its samples and exemptions the same way, then builds the
// round's coverage as the register's writes do (rebuildCommunity): the
// kept rows are what samples one by one would have left.
func benchCity(b *testing.B, f *fixture) (*Round, int) {
	b.Helper()
	d, now := f.DB, f.Clock.Now().UnixMilli()
	paths := map[string]string{}
	for _, c := range benchCommunities {
		paths[c] = f.path(c)
	}
	members := func(i int) int { return 1 + i%3 }
	dbtest.Insert(b, d, `INSERT INTO testing_households (code, community_code, area_path, estate, building, unit, room, members,
		created_at, updated_at) VALUES `, benchHouseholds, func(i int) string {
		c := benchCommunities[i%len(benchCommunities)]
		j := i / len(benchCommunities)
		return fmt.Sprintf("('BH%07d', '%s', '%s', '小区%d', '%d栋', '%d单元', '%d', %d, %d, %d)", i, c, paths[c], j/6000,
			j/benchPerBuild%100+1, j%benchPerBuild/20+1, 100+j%20, members(i), now, now)
	})
	var firstHH int64
	if err := d.ReadPool().QueryRow(`SELECT MIN(id) FROM testing_households`).Scan(&firstHH); err != nil {
		b.Fatal(err)
	}
	sealed, _ := f.Box.Seal("居民")
	idSealed, _ := f.Box.Seal("430203198001010012")
	hex := fmt.Sprintf("%x", sealed)
	idHex := fmt.Sprintf("%x", idSealed)
	blob := func(h string) string {
		if d.Dialect == db.Postgres {
			return `'\x` + h + `'::bytea`
		}
		return "X'" + h + "'"
	}
	// Resident k of household i: k < members(i).
	var owners []int
	for i := 0; i < benchHouseholds; i++ {
		for k := 0; k < members(i); k++ {
			owners = append(owners, i)
		}
	}
	dbtest.Insert(b, d, `INSERT INTO testing_residents (code, household_id, name_masked, name_enc, id_enc, id_idx, id4, birth_year,
		status, created_at, updated_at) VALUES `, len(owners), func(n int) string {
		return fmt.Sprintf("('BR%07d', %d, '居*', %s, %s, 'bench%07d', '0012', 1980, 'present', %d, %d)", n, firstHH+int64(owners[n]),
			blob(hex), blob(idHex), n, now, now)
	})
	if d.Dialect == db.Postgres {
		if err := d.Exec(context.Background(), `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
	r := f.round("430203")
	var firstRes int64
	if err := d.ReadPool().QueryRow(`SELECT MIN(id) FROM testing_residents`).Scan(&firstRes); err != nil {
		b.Fatal(err)
	}
	var tube int64
	if err := d.ReadPool().QueryRow(`SELECT COUNT(*) FROM testing_tubes`).Scan(&tube); err != nil {
		b.Fatal(err)
	}
	sampled := func(n int) bool { return n%20 != 7 && n%100 != 3 }
	var taken []int
	for n := range owners {
		if sampled(n) {
			taken = append(taken, n)
		}
	}
	dbtest.Insert(b, d, `INSERT INTO testing_tubes (barcode, round_id, pool_size, filled) VALUES `, (len(taken)+9)/10, func(i int) string {
		return fmt.Sprintf("('BT%07d', %d, 10, %d)", i, r.ID, min(10, len(taken)-i*10))
	})
	var firstTube int64
	if err := d.ReadPool().QueryRow(`SELECT MIN(id) FROM testing_tubes WHERE round_id = $1`, r.ID).Scan(&firstTube); err != nil {
		b.Fatal(err)
	}
	at := f.Clock.Now().Add(-time.Minute).UnixMilli()
	dbtest.Insert(b, d, `INSERT INTO testing_samples (round_id, resident_id, household_id, tube_id, mode, collector, client_id,
		sampled_at, received_at) VALUES `, len(taken), func(i int) string {
		n := taken[i]
		return fmt.Sprintf("(%d, %d, %d, %d, 'site', 'bench', 'bc%07d', %d, %d)", r.ID, firstRes+int64(n), firstHH+int64(owners[n]),
			firstTube+int64(i/10), i, at, now)
	})
	exempt := (len(owners)-4)/100 + 1 // residents n%100 == 3
	dbtest.Insert(b, d, `INSERT INTO testing_exemptions (round_id, resident_id, reason, created_at, created_by) VALUES `,
		exempt, func(i int) string {
			return fmt.Sprintf("(%d, %d, 'away', %d, 'bench')", r.ID, firstRes+int64(i*100+3), now)
		})
	err := d.Write(context.Background(), func(tx *db.Tx) error {
		for _, c := range benchCommunities {
			if err := rebuildCommunity(context.Background(), tx, r.ID, paths[c]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if d.Dialect == db.Postgres {
		if err := d.Exec(context.Background(), `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
	return r, len(owners) - len(taken) - exempt
}

// BenchmarkCoverage measures, for a district of 500,000 households and a
// million residents, the coverage of the district (target: under 100 ms)
// and the first page of its missed list (under 50 ms), beside a bare
// COUNT of the round's samples in the district, the least a coverage
// read from the samples themselves would cost.
//
//	go test -run '^$' -bench BenchmarkCoverage -benchtime 20x ./internal/masstest/
//
// runs it on SQLite, and on PostgreSQL too when TONGXIN_TEST_POSTGRES is set.
func BenchmarkCoverage(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(kind, func(b *testing.B) {
			clk := clock.NewManual(testcity.Base)
			f := newFixture(b, dbtest.Open(b, kind, clk), clk)
			start := time.Now()
			r, missed := benchCity(b, f)
			b.Logf("%s: loaded %d households, sampled and built the coverage in %v", kind, benchHouseholds,
				time.Since(start).Round(time.Millisecond))
			ctx, ref := context.Background(), fmt.Sprint(r.ID)
			c, err := f.svc.Coverage(ctx, f.Sys, ref, "430203")
			if err != nil {
				b.Fatal(err)
			}
			if c.Households.Total != benchHouseholds || c.Persons.Missed != missed {
				b.Fatalf("coverage %+v, want %d households and %d missed", c.Cover, benchHouseholds, missed)
			}
			b.Run("coverage-district", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.svc.Coverage(ctx, f.Sys, ref, "430203"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("missed-first-page", func(b *testing.B) {
				for b.Loop() {
					l, err := f.svc.Missed(ctx, f.Sys, ref, MissedQuery{Area: "430203", Page: 1, PerPage: 50})
					if err != nil || len(l.Items) != 50 {
						b.Fatalf("missed: %v", err)
					}
				}
			})
			b.Run("limit-count-samples", func(b *testing.B) {
				for b.Loop() {
					var n int
					if err := f.DB.ReadPool().QueryRowContext(ctx, `SELECT COUNT(*) FROM testing_samples WHERE round_id = $1`, r.ID).
						Scan(&n); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
