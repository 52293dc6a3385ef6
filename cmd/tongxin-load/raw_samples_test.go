package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/loadgen"
)

// rawFixture is a migrated database with a campaign, a round and twelve
// residents in four households of one community.
func rawFixture(t *testing.T, kind string) (url string, d *db.DB, round int64) {
	t.Helper()
	url = dbtest.URL(t, kind)
	d = dbtest.OpenURL(t, url, nil)
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := d.WritePool().ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO areas (code, name, level, path, depth, created_at, updated_at) VALUES ('430203001002', '古大桥社区', 'community',
		'/430203001002/', 0, 0, 0)`)
	exec(`INSERT INTO testing_campaigns (name, area_code, area_path, created_at, created_by) VALUES ('c', '430203001002', '/430203001002/', 0, 't')`)
	exec(`INSERT INTO testing_rounds (campaign_id, number, starts_at, ends_at, mode, created_at, created_by) VALUES (1, 1, 0, 1, 'both', 0, 't')`)
	for h := 1; h <= 4; h++ {
		exec(`INSERT INTO testing_households (code, community_code, area_path, estate, building, room, members, created_at, updated_at)
			VALUES ($1, '430203001002', '/430203001002/', 'e', 'b', $2, 3, 0, 0)`, fmt.Sprint("h", h), fmt.Sprint(h))
		for k := 1; k <= 3; k++ {
			n := fmt.Sprint(h*10 + k)
			exec(`INSERT INTO testing_residents (code, household_id, name_masked, name_enc, id_enc, id_idx, id4, birth_year, status,
				created_at, updated_at) VALUES ($1, $2, 'x', $3, $3, $1, '0000', 1980, 'present', 0, 0)`, "r"+n, h, []byte{1})
		}
	}
	return url, d, 1
}

// raw-samples inserts batches into rounds it makes, each resident once a
// round and tubes of ten; without -keep it leaves nothing behind.
func TestRawSamplesInserts(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			url, d, round := rawFixture(t, kind)
			args := []string{"raw-samples", "-json", "-db", url, "-round", fmt.Sprint(round), "-community", "430203001002",
				"-batch", "5", "-duration", "300ms", "-warmup", "0s"}
			count := func(q string) (n int64) {
				t.Helper()
				if err := d.ReadPool().QueryRow(q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			code, out, stderr := runArgs(append(args, "-keep")...)
			var res loadgen.Result
			if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.Requests == 0 || res.Errors != 0 {
				t.Fatalf("exit %d, %q %q: %v", code, out, stderr, err)
			}
			samples := count(`SELECT count(*) FROM testing_samples`)
			// Twelve residents make two batches of five a round.
			if samples != 5*res.Sent || count(`SELECT max(n) FROM (SELECT count(*) AS n FROM testing_samples GROUP BY round_id) c`) != 10 ||
				count(`SELECT count(*) FROM (SELECT 1 FROM testing_samples GROUP BY round_id, resident_id HAVING count(*) > 1) c`) != 0 ||
				count(`SELECT sum(filled) FROM testing_tubes`) != samples ||
				count(`SELECT count(*) FROM testing_samples s JOIN testing_tubes t ON t.id = s.tube_id WHERE t.round_id <> s.round_id`) != 0 {
				t.Errorf("%d batches sent: %d samples, %d tubes", res.Sent, samples, count(`SELECT count(*) FROM testing_tubes`))
			}
			d.WritePool().Exec(`DELETE FROM testing_samples`)
			d.WritePool().Exec(`DELETE FROM testing_tubes`)
			d.WritePool().Exec(`DELETE FROM testing_rounds WHERE id <> 1`)
			if code, out, stderr := runArgs(args...); code != 0 || count(`SELECT count(*) FROM testing_samples`) != 0 ||
				count(`SELECT count(*) FROM testing_rounds`) != 1 || count(`SELECT count(*) FROM testing_tubes`) != 0 {
				t.Errorf("without -keep: exit %d, %q %q", code, out, stderr)
			}
			if code, _, stderr := runArgs("raw-samples", "-db", url, "-round", "1", "-community", "430203001002", "-batch", "13"); code != 1 ||
				!strings.Contains(stderr, "not one batch of 13") {
				t.Errorf("too few residents: exit %d, %q", code, stderr)
			}
		})
	}
}

// The table's mass-testing rows: single records against 5,000/s, batches
// (req/s × batch) against raw-samples; none when they did not run.
func TestReportSampleRows(t *testing.T) {
	at := func(rps float64) measured { return measured{Result: loadgen.Result{ReqPerSec: rps}} }
	rd := round{"tongxin/samples-one": at(6000), "tongxin/samples-batch": at(30), "raw/samples-batch": at(80)}
	s := &suiteFlags{conns: 16, duration: 10 * time.Second, rounds: 1, inst: &install{residentCount: 50000},
		samples: sampleFlags{batch: 1000, conns: 64, batchConns: 4}}
	md := newReport(s, []round{rd}).markdown()
	for _, want := range []string{
		"closed loop of 64: samples/s ÷ 5,000/s (each answered once committed) | 6 000 | — | **1.20 (÷ 5,000/s)** | ≥ 1.00 (issue 14: 5,000/s) ✔ |",
		"1000 a request, closed loop of 4, ÷ the same rows inserted straight into SQLite by multi-row INSERTs, 1000 a transaction " +
			"(`raw-samples`): samples/s | 30 000 | 80 000 | **0.38** | ≥ 0.50 ✘ |",
		"50000 residents imported by `jianshe`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("no %q in\n%s", want, md)
		}
	}
	if md := newReport(s, []round{{}}).markdown(); strings.Contains(md, "mass testing") || strings.Contains(md, "residents imported") {
		t.Errorf("not run:\n%s", md)
	}
}
