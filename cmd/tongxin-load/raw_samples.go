package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/loadgen"
)

// runRawSamples is `tongxin-load raw-samples`: the floor of batched
// sample ingestion (issue 14). Each transaction inserts a batch of
// samples straight into testing_samples, and their tubes (ten samples a
// tube, already full) into testing_tubes, each table by one multi-row
// INSERT with anonymous parameters, from this process, back to back:
// the rows POST /api/v1/rounds/{id}/samples stores, without HTTP, JSON,
// authorization, the lookups of the resident, the client id and the
// first sample, the coverage counts and the answer. The residents are
// those of the communities, in turn; when they are used up in a round a
// new round is made (one INSERT copying the template round) and the
// residents start again. After the window the rows and rounds it made
// are deleted (-keep leaves them). Its result is a run's with a
// transaction as a request: rows/s is req/s × -batch.
func runRawSamples(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("raw-samples", stderr)
	dbURL := fs.String("db", "", "the installation's database (sqlite:PATH or postgres://…)")
	round := fs.String("round", "", "a round whose campaign, window and mode the rounds it makes copy")
	comms := fs.String("community", "", "community codes, comma-separated, whose residents are sampled in turn")
	batch := fs.Int("batch", loadgen.DefaultSampleBatch, "samples a transaction")
	duration := fs.Duration("duration", 10*time.Second, "the measured window")
	warmup := fs.Duration("warmup", time.Second, "the warm-up before the window")
	keep := fs.Bool("keep", false, "keep the rows and rounds made")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	template, err := strconv.ParseInt(*round, 10, 64)
	switch {
	case *dbURL == "":
		return badUsage("-db is required")
	case err != nil || template <= 0:
		return badUsage("-round must be a round's id, not %q", *round)
	case len(list(*comms)) == 0:
		return badUsage("-community needs at least one code")
	case *batch < 1 || *batch > loadgen.DefaultSampleBatch:
		return badUsage("-batch must be 1 to %d", loadgen.DefaultSampleBatch)
	case *duration <= 0 || *warmup < 0:
		return badUsage("-duration must be above 0 and -warmup not below")
	}
	d, err := db.Open(ctx, *dbURL, nil)
	if err != nil {
		return fmt.Errorf("open %s: %w", *dbURL, err)
	}
	defer d.Close()
	r := &rawSampler{d: d, template: template, batch: *batch, run: strconv.FormatInt(time.Now().UnixNano(), 36)}
	if err := r.residents(ctx, list(*comms)); err != nil {
		return err
	}
	res, err := r.insert(ctx, *warmup, *duration)
	if !*keep {
		if cerr := r.cleanUp(ctx); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "raw-samples %s (%.0f rows/s)\n", res, res.ReqPerSec*float64(*batch))
	return nil
}

// rawSampler is a raw-samples run.
type rawSampler struct {
	d          *db.DB
	template   int64
	batch      int
	run        string
	resident   []int64 // ids and households, in turn
	household  []int64
	rounds     []int64 // made so far; the last is being filled
	tubeArgs   []any
	sampleArgs []any
}

// residents reads the residents of the communities; a whole number of
// batches of them is used.
func (r *rawSampler) residents(ctx context.Context, comms []string) error {
	marks := make([]string, len(comms))
	args := make([]any, len(comms))
	for i, c := range comms {
		marks[i], args[i] = "$"+strconv.Itoa(i+1), c
	}
	rows, err := r.d.ReadPool().QueryContext(ctx, `SELECT r.id, r.household_id FROM testing_residents r
		JOIN testing_households h ON h.id = r.household_id WHERE h.community_code IN (`+strings.Join(marks, ",")+`) ORDER BY r.id`, args...)
	if err != nil {
		return fmt.Errorf("the residents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, hh int64
		if err := rows.Scan(&id, &hh); err != nil {
			return err
		}
		r.resident, r.household = append(r.resident, id), append(r.household, hh)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	n := len(r.resident) / r.batch * r.batch
	if n == 0 {
		return fmt.Errorf("%d residents in %s: not one batch of %d", len(r.resident), strings.Join(comms, ","), r.batch)
	}
	r.resident, r.household = r.resident[:n], r.household[:n]
	return nil
}

// insert runs transactions for warmup, then measures for duration.
func (r *rawSampler) insert(ctx context.Context, warmup, duration time.Duration) (loadgen.Result, error) {
	tubeQ, sampleQ := r.statements()
	start := time.Now()
	window, end := start.Add(warmup), start.Add(warmup+duration)
	var lats []time.Duration
	var sent int64
	for i := int64(0); ; i++ {
		t0 := time.Now()
		if !t0.Before(end) || ctx.Err() != nil {
			break
		}
		if err := r.transaction(ctx, i, tubeQ, sampleQ, t0.UnixMilli()); err != nil {
			return loadgen.Result{}, err
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

// statements are the two multi-row INSERTs of a batch.
func (r *rawSampler) statements() (tubes, samples string) {
	mark := func(k int) string {
		if r.d.Dialect == db.SQLite {
			return "?"
		}
		return "$" + strconv.Itoa(k)
	}
	var t, s strings.Builder
	t.WriteString(`INSERT INTO testing_tubes (barcode, round_id, pool_size, filled) VALUES `)
	for k := range r.tubes() {
		if k > 0 {
			t.WriteByte(',')
		}
		fmt.Fprintf(&t, "(%s,%s,%d,%s)", mark(3*k+1), mark(3*k+2), loadgen.SamplePool, mark(3*k+3))
	}
	t.WriteString(` RETURNING id`)
	s.WriteString(`INSERT INTO testing_samples (round_id, resident_id, household_id, tube_id, mode, collector, client_id, sampled_at,
		received_at) VALUES `)
	for k := range r.batch {
		if k > 0 {
			s.WriteByte(',')
		}
		a := 8 * k
		fmt.Fprintf(&s, "(%s,%s,%s,%s,'site',%s,%s,%s,%s)", mark(a+1), mark(a+2), mark(a+3), mark(a+4), mark(a+5), mark(a+6),
			mark(a+7), mark(a+8))
	}
	return t.String(), s.String()
}

// tubes is the tubes of a batch.
func (r *rawSampler) tubes() int { return (r.batch + loadgen.SamplePool - 1) / loadgen.SamplePool }

// transaction inserts batch i: its tubes, then its samples.
func (r *rawSampler) transaction(ctx context.Context, i int64, tubeQ, sampleQ string, now int64) error {
	perRound := int64(len(r.resident) / r.batch)
	for int64(len(r.rounds)) <= i/perRound {
		if err := r.newRound(ctx); err != nil {
			return err
		}
	}
	round := r.rounds[i/perRound]
	first := int(i%perRound) * r.batch
	tx, err := r.d.WritePool().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	r.tubeArgs = r.tubeArgs[:0]
	for k := range r.tubes() {
		r.tubeArgs = append(r.tubeArgs, "R"+r.run+"-"+strconv.FormatInt(i, 10)+"-"+strconv.Itoa(k), round,
			min(loadgen.SamplePool, r.batch-k*loadgen.SamplePool))
	}
	rows, err := tx.QueryContext(ctx, tubeQ, r.tubeArgs...)
	if err != nil {
		return fmt.Errorf("insert tubes: %w", err)
	}
	tubes, err := db.CollectRows(rows, db.Value[int64])
	if err != nil || len(tubes) != r.tubes() {
		return fmt.Errorf("insert tubes: %d of %d: %v", len(tubes), r.tubes(), err)
	}
	slices.Sort(tubes) // made in order: the ids rise
	r.sampleArgs = r.sampleArgs[:0]
	for k := range r.batch {
		j := first + k
		r.sampleArgs = append(r.sampleArgs, round, r.resident[j], r.household[j], tubes[k/loadgen.SamplePool], "tongxin-load",
			"raw-"+r.run+"-"+strconv.FormatInt(i*int64(r.batch)+int64(k), 10), now, now)
	}
	if _, err := tx.ExecContext(ctx, sampleQ, r.sampleArgs...); err != nil {
		return fmt.Errorf("insert samples: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// newRound makes a round like the template, numbered after the
// campaign's last.
func (r *rawSampler) newRound(ctx context.Context) error {
	var id int64
	err := r.d.WritePool().QueryRowContext(ctx, `INSERT INTO testing_rounds (campaign_id, number, starts_at, ends_at, mode, created_at,
		created_by) SELECT campaign_id, (SELECT max(number) + 1 FROM testing_rounds WHERE campaign_id = t.campaign_id), starts_at, ends_at,
		mode, created_at, 'tongxin-load' FROM testing_rounds t WHERE id = $1 RETURNING id`, r.template).Scan(&id)
	if err != nil {
		return fmt.Errorf("a round like %d: %w", r.template, err)
	}
	r.rounds = append(r.rounds, id)
	return nil
}

// cleanUp deletes the samples, tubes and rounds the run made.
func (r *rawSampler) cleanUp(ctx context.Context) error {
	for _, id := range r.rounds {
		for _, q := range []string{`DELETE FROM testing_samples WHERE round_id = $1`, `DELETE FROM testing_tubes WHERE round_id = $1`,
			`DELETE FROM testing_rounds WHERE id = $1`} {
			if _, err := r.d.WritePool().ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("clean up round %d: %w", id, err)
			}
		}
	}
	return nil
}
