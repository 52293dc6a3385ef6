package pass

import (
	"context"
	"testing"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/passtoken"
)

// BenchmarkIssue10000 approves a batch of 10,000 workers — signing and
// storing 10,000 passes in one transaction — beside its floor: a raw
// insert of the same 10,000 rows (the same statement and values, tokens
// already made) in one transaction, in the same run. It reports both in
// seconds and their ratio.
//
//	go test ./internal/pass/ -run '^$' -bench Issue10000 -benchtime 3x
func BenchmarkIssue10000(b *testing.B) {
	const n = 10000
	data := workersCSV(n)
	for _, kind := range dbtest.Kinds() {
		b.Run(kind, func(b *testing.B) {
			clk := clock.NewManual(testBase)
			f := newFixture(b, dbtest.Open(b, kind, clk), clk)
			quota := 1000000
			if _, err := f.svc.SetQuota(f.Ctx, f.gxj, qianjin, QuotaInput{Quota: &quota}); err != nil {
				b.Fatal(err)
			}
			var approve, floor time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				batch := f.upload(data)
				b.StartTimer()
				start := time.Now()
				if _, err := f.svc.Approve(f.Ctx, f.gxj, batch.ID, ApproveInput{}); err != nil {
					b.Fatal(err)
				}
				approve += time.Since(start)
				b.StopTimer()
				d, err := rawInsert(f, batch.ID)
				if err != nil {
					b.Fatal(err)
				}
				floor += d
				// The same workers apply again next round: a person holds
				// one pass at a time.
				if _, err := f.svc.RevokeEnterprise(f.Ctx, f.gxj, qianjin, ReasonInput{Reason: "bench"}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.StopTimer()
			a, fl := approve.Seconds()/float64(b.N), floor.Seconds()/float64(b.N)
			b.ReportMetric(a, "approve-s")
			b.ReportMetric(fl, "raw-insert-s")
			b.ReportMetric(a/fl, "ratio")
			b.ReportMetric(0, "ns/op")
			if a > 5 {
				b.Errorf("%s: approving %d rows took %.2f s, over the 5 s limit", kind, n, a)
			}
		})
	}
}

// rawInsert copies the passes of a batch into passes again under new
// pids, with the statements Approve uses (insertPasses) and nothing
// else, and times it.
func rawInsert(f *fixture, batchID int64) (time.Duration, error) {
	ctx := context.Background()
	type rowT struct {
		args []any
	}
	var rows []rowT
	err := f.DB.Read(ctx, func(tx *db.Tx) error {
		rs, err := tx.QueryContext(ctx, `SELECT kind, enterprise_key, enterprise_name, area_path, name_masked, name_enc, id_enc,
			id_idx, id4, phone_enc, plate, areas, checkpoints, valid_from, valid_to, kid, token, batch_row, issued_at, issued_by
			FROM passes WHERE batch_id = $1 ORDER BY batch_row`, batchID)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var kind, ent, entName, path, name, id4, plate, areas, cps, kid, token, by string
			var nameEnc, idEnc, phoneEnc []byte
			var idIdx any
			var from, to, at int64
			var row int
			if err := rs.Scan(&kind, &ent, &entName, &path, &name, &nameEnc, &idEnc, &idIdx, &id4, &phoneEnc, &plate, &areas,
				&cps, &from, &to, &kid, &token, &row, &at, &by); err != nil {
				return err
			}
			rows = append(rows, rowT{[]any{nil, kind, ent, entName, path, name, nameEnc, idEnc, idIdx, id4, phoneEnc, plate,
				areas, cps, from, to, kid, token, batchID, row, at, by}})
		}
		return rs.Err()
	})
	if err != nil {
		return 0, err
	}
	for i := range rows {
		rows[i].args[0] = NewPID()
	}
	values := make([][]any, len(rows))
	for i := range rows {
		values[i] = rows[i].args
	}
	start := time.Now()
	err = f.DB.Write(ctx, func(tx *db.Tx) error { return insertPasses(ctx, tx, values) })
	return time.Since(start), err
}

// BenchmarkVerify is the online check of one token: signature, validity
// and the revocation lookup (one prepared, indexed query), beside the
// signature check alone (passtoken.Verify with the in-memory keys).
//
//	go test ./internal/pass/ -run '^$' -bench Verify
func BenchmarkVerify(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(kind, func(b *testing.B) {
			clk := clock.NewManual(testBase)
			f := newFixture(b, dbtest.Open(b, kind, clk), clk)
			batch := f.approve(f.upload(workersCSV(100)).ID)
			passes, err := f.svc.BatchPasses(f.Ctx, f.gxj, batch.ID)
			if err != nil {
				b.Fatal(err)
			}
			tok := passes[0].Token
			// A pass scanned again: its signature is remembered.
			b.Run("online", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, r := f.svc.verifier.Verify(f.Ctx, tok, testBase); r != passtoken.OK {
							b.Fatal(r)
						}
					}
				})
			})
			// A pass seen for the first time: the signature is checked.
			b.Run("online-first", func(b *testing.B) {
				for range b.N {
					f.svc.verifier.verified = newVerified[passtoken.Claims]()
					if _, r := f.svc.verifier.Verify(f.Ctx, tok, testBase); r != passtoken.OK {
						b.Fatal(r)
					}
				}
			})
			b.Run("signature-only", func(b *testing.B) {
				keys := f.svc.verifier.Keys()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, r := passtoken.Verify(tok, keys, testBase); r != passtoken.OK {
							b.Fatal(r)
						}
					}
				})
			})
		})
	}
}
