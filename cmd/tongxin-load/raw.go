package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/loadgen"
)

// runRawReport is `tongxin-load raw-report`: the floor of report filing.
// It inserts the rows a filing writes (a report of one of the
// enterprises, in turn) straight into the installation's database, from
// this process, one row per transaction, back to back: what the same rows
// cost without HTTP, authentication, validation, the audit row and
// whatever else a filing does. The suite runs it on the server's core
// while the server is idle, and gives filing through the API as a ratio
// of it. Its result is a run's (req/s is rows/s).
func runRawReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("raw-report", stderr)
	dbURL := fs.String("db", "", "the installation's database (sqlite:PATH or postgres://…)")
	ents := fs.String("enterprise", "", "enterprise keys, comma-separated, used in turn")
	date := fs.String("date", time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly), "the report date")
	duration := fs.Duration("duration", 10*time.Second, "the measured window")
	warmup := fs.Duration("warmup", time.Second, "the warm-up before the window")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	keys := list(*ents)
	switch {
	case *dbURL == "":
		return badUsage("-db is required")
	case len(keys) == 0:
		return badUsage("-enterprise needs at least one key")
	case *duration <= 0 || *warmup < 0:
		return badUsage("-duration must be above 0 and -warmup not below")
	}
	if _, err := time.Parse(time.DateOnly, *date); err != nil {
		return badUsage("-date must be YYYY-MM-DD, not %q", *date)
	}
	d, err := db.Open(ctx, *dbURL, nil)
	if err != nil {
		return fmt.Errorf("open %s: %w", *dbURL, err)
	}
	defer d.Close()
	ids, err := enterpriseIDs(ctx, d, keys)
	if err != nil {
		return err
	}
	res, err := insertReports(ctx, d, ids, *date, *warmup, *duration)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "raw-report %s\n", res)
	return nil
}

// enterpriseIDs resolves enterprise keys to ids.
func enterpriseIDs(ctx context.Context, d *db.DB, keys []string) ([]int64, error) {
	ids := make([]int64, len(keys))
	for i, k := range keys {
		if err := d.WritePool().QueryRowContext(ctx, `SELECT id FROM enterprises WHERE ekey = $1`, k).Scan(&ids[i]); err != nil {
			return nil, fmt.Errorf("enterprise %q: %w", k, err)
		}
	}
	return ids, nil
}

// insertReports inserts report rows one transaction each for warmup, then
// measures for duration.
func insertReports(ctx context.Context, d *db.DB, ids []int64, date string, warmup, duration time.Duration) (loadgen.Result, error) {
	const q = `INSERT INTO resumption_reports (enterprise_id, report_date, status, capacity_pct, staff_expected, staff_on_site,
		closed_loop, note, filed_at, filed_by) VALUES ($1, $2, 'resumed', $3, 100, $4, TRUE, '', $5, 'tongxin-load')`
	pool := d.WritePool()
	start := time.Now()
	window, end := start.Add(warmup), start.Add(warmup+duration)
	var lats []time.Duration
	var sent int64
	for i := int64(0); ; i++ {
		t0 := time.Now()
		if !t0.Before(end) || ctx.Err() != nil {
			break
		}
		tx, err := pool.BeginTx(ctx, nil)
		if err != nil {
			return loadgen.Result{}, fmt.Errorf("begin: %w", err)
		}
		if _, err := tx.ExecContext(ctx, q, ids[i%int64(len(ids))], date, i%100, i%100, t0.UnixMilli()); err != nil {
			tx.Rollback()
			return loadgen.Result{}, fmt.Errorf("insert: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return loadgen.Result{}, fmt.Errorf("commit: %w", err)
		}
		sent++
		if done := time.Now(); !t0.Before(window) && !done.After(end) {
			lats = append(lats, done.Sub(t0))
		}
	}
	res := loadgen.Result{Mode: loadgen.Closed, Window: duration, ReqPerSec: float64(len(lats)) / duration.Seconds(), Sent: sent}
	res.SetLatencies(lats)
	return res, nil
}

// rawArgs are the options of a raw-report run beside the suite's
// installation.
func (s *suiteFlags) rawArgs() []string {
	return []string{"raw-report", "-json", "-db", s.inst.dbURL, "-enterprise", strings.Join(s.inst.enterprises, ","),
		"-duration", s.duration.String(), "-warmup", s.warmup.String()}
}
