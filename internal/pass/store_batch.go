package pass

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/passtoken"
)

const batchCols = `id, enterprise_key, enterprise_name, area_code, area_path, status, file_name, row_count, approved_count,
	rejected_count, uploaded_by, uploaded_at, reviewed_by, reviewed_at, note,
	(SELECT COUNT(*) FROM pass_batch_rows r WHERE r.batch_id = pass_batches.id AND r.kind = 'vehicle')`

func scanBatch(sc db.Scanner) (*Batch, error) {
	var b Batch
	var status string
	var uploaded int64
	var reviewed sql.NullInt64
	if err := sc.Scan(&b.ID, &b.EnterpriseKey, &b.EnterpriseName, &b.AreaCode, &b.AreaPath, &status, &b.FileName, &b.RowCount,
		&b.ApprovedCount, &b.RejectedCount, &b.UploadedBy, &uploaded, &b.ReviewedBy, &reviewed, &b.Note, &b.Vehicles); err != nil {
		return nil, err
	}
	b.Status = BatchStatus(status)
	b.UploadedAt = clock.FromMillis(uploaded)
	b.ReviewedAt = nullTime(reviewed)
	b.Persons = b.RowCount - b.Vehicles
	return &b, nil
}

// batchByID reads a batch without its rows; sql.ErrNoRows when there is
// none.
func batchByID(ctx context.Context, tx *db.Tx, id int64) (*Batch, error) {
	return scanBatch(tx.QueryRowContext(ctx, `SELECT `+batchCols+` FROM pass_batches WHERE id = $1`, id))
}

// batchEnterprise reads the enterprise of a batch; sql.ErrNoRows when
// there is none.
func batchEnterprise(ctx context.Context, tx *db.Tx, id int64) (string, error) {
	var key string
	err := tx.QueryRowContext(ctx, `SELECT enterprise_key FROM pass_batches WHERE id = $1`, id).Scan(&key)
	return key, err
}

// listBatches reads the batches v reaches that f selects, newest first.
func listBatches(ctx context.Context, tx *db.Tx, v visibility, f BatchFilter) ([]Batch, error) {
	var args db.Args
	where := []string{v.where(&args, "")}
	if len(f.Statuses) > 0 {
		statuses := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			statuses[i] = string(st)
		}
		where = append(where, "status IN "+db.In(&args, statuses))
	}
	if f.Enterprise != "" {
		where = append(where, "enterprise_key = "+args.Add(normalizeKey(f.Enterprise)))
	}
	if f.Before > 0 {
		where = append(where, "id < "+args.Add(f.Before))
	}
	q := `SELECT ` + batchCols + ` FROM pass_batches WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY id DESC LIMIT ` + args.Add(f.Limit)
	list, err := db.Collect(ctx, tx, func(sc db.Scanner) (Batch, error) {
		b, err := scanBatch(sc)
		if err != nil {
			return Batch{}, err
		}
		return *b, nil
	}, q, args.List...)
	if err != nil {
		return nil, fmt.Errorf("pass: batches: %w", err)
	}
	return list, nil
}

// countBatches counts the batches v reaches in status.
func countBatches(ctx context.Context, tx *db.Tx, v visibility, status BatchStatus) (int, error) {
	var n int
	var a db.Args
	q := `SELECT COUNT(*) FROM pass_batches WHERE status = ` + a.Add(string(status)) +
		` AND ` + v.where(&a, "")
	err := tx.QueryRowContext(ctx, q, a.List...).Scan(&n)
	return n, err
}

// sealedBatchRow is a row of a batch as read, its ID number and phone
// still sealed.
type sealedBatchRow struct {
	BatchRow
	idEnc, phoneEnc []byte
}

// batchRows reads the rows of a batch with their decision and pass, in
// order.
func batchRows(ctx context.Context, tx *db.Tx, id int64) ([]sealedBatchRow, error) {
	list, err := db.Collect(ctx, tx, scanBatchRow, `SELECT r.row_no, r.kind, r.name_masked, r.id_enc, r.phone_enc, r.plate, r.areas,
		r.checkpoints, r.valid_from, r.valid_to, r.decision, r.reason, COALESCE(p.pid, '')
		FROM pass_batch_rows r LEFT JOIN passes p ON p.batch_id = r.batch_id AND p.batch_row = r.row_no
		WHERE r.batch_id = $1 ORDER BY r.row_no`, id)
	if err != nil {
		return nil, fmt.Errorf("pass: batch rows: %w", err)
	}
	return list, nil
}

func scanBatchRow(sc db.Scanner) (sealedBatchRow, error) {
	var r sealedBatchRow
	var kind, areas, cps, decision string
	var from, to int64
	if err := sc.Scan(&r.Row, &kind, &r.Name, &r.idEnc, &r.phoneEnc, &r.Plate, &areas, &cps, &from, &to, &decision,
		&r.Reason, &r.PID); err != nil {
		return r, err
	}
	r.Kind, r.Decision = passtoken.Kind(kind), Decision(decision)
	r.Areas, r.Checkpoints = splitStored(areas), splitStored(cps)
	r.ValidFrom, r.ValidTo = clock.FromMillis(from), clock.FromMillis(to)
	return r, nil
}

// storedRow is a batch row as issuing needs it.
type storedRow struct {
	num                      int
	kind                     passtoken.Kind
	nameMasked, id4, plate   string
	nameEnc, idEnc, phoneEnc []byte
	idIdx                    sql.NullString
	areas, cps               []string
	from, to                 int64
}

// loadRows reads the rows of a batch as issuing needs them, in order.
func loadRows(ctx context.Context, tx *db.Tx, id int64) ([]storedRow, error) {
	list, err := db.Collect(ctx, tx, func(sc db.Scanner) (storedRow, error) {
		var r storedRow
		var kind, areas, cps string
		err := sc.Scan(&r.num, &kind, &r.nameMasked, &r.nameEnc, &r.idEnc, &r.idIdx, &r.id4, &r.phoneEnc, &r.plate,
			&areas, &cps, &r.from, &r.to)
		r.kind, r.areas, r.cps = passtoken.Kind(kind), splitStored(areas), splitStored(cps)
		return r, err
	}, `SELECT row_no, kind, name_masked, name_enc, id_enc, id_idx, id4, phone_enc, plate,
		areas, checkpoints, valid_from, valid_to FROM pass_batch_rows WHERE batch_id = $1 ORDER BY row_no`, id)
	if err != nil {
		return nil, fmt.Errorf("pass: batch rows: %w", err)
	}
	return list, nil
}

// rowSealedID reads the sealed ID number and the masked name of a row of
// a batch; sql.ErrNoRows when there is no such row.
func rowSealedID(ctx context.Context, tx *db.Tx, id int64, rowNo int) ([]byte, string, error) {
	var sealed []byte
	var name string
	err := tx.QueryRowContext(ctx, `SELECT id_enc, name_masked FROM pass_batch_rows WHERE batch_id = $1 AND row_no = $2`,
		id, rowNo).Scan(&sealed, &name)
	return sealed, name, err
}

// insertBatch stores a batch submitted by actor for sub and its rows, and
// returns its id.
func insertBatch(ctx context.Context, tx *db.Tx, sub *subject, fileName, actor string, rows []row) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO pass_batches (enterprise_key, enterprise_name, area_code, area_path, status,
		file_name, row_count, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, 'submitted', $5, $6, $7, $8) RETURNING id`,
		sub.Key, sub.Name, sub.Area.Code, sub.Area.Path, fileName, len(rows), actor, tx.NowMS()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("pass: insert batch: %w", err)
	}
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, `INSERT INTO pass_batch_rows (batch_id, row_no, kind, name_masked, name_enc,
			id_enc, id_idx, id4, phone_enc, plate, areas, checkpoints, valid_from, valid_to)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			id, r.num, string(r.kind), r.nameMasked, r.nameEnc, r.idEnc, r.idIdx, r.id4, r.phoneEnc, r.plate,
			joinList(r.areas), joinList(r.cps), r.from.UnixMilli(), r.to.UnixMilli()); err != nil {
			return 0, fmt.Errorf("pass: insert batch row: %w", err)
		}
	}
	return id, nil
}

// approveBatch records an approval by actor: every row approved but those
// left out, rejected with their reasons, and the batch's counts.
func approveBatch(ctx context.Context, tx *db.Tx, id int64, status BatchStatus, approved, rejected int, left []RowReason,
	actor, note string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE pass_batch_rows SET decision = 'approved' WHERE batch_id = $1`, id); err != nil {
		return fmt.Errorf("pass: decide rows: %w", err)
	}
	for _, r := range left {
		if _, err := tx.ExecContext(ctx, `UPDATE pass_batch_rows SET decision = 'rejected', reason = $1 WHERE batch_id = $2 AND row_no = $3`,
			r.Reason, id, r.Row); err != nil {
			return fmt.Errorf("pass: decide rows: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE pass_batches SET status = $1, approved_count = $2, rejected_count = $3,
		reviewed_by = $4, reviewed_at = $5, note = $6 WHERE id = $7`, string(status), approved, rejected,
		actor, tx.NowMS(), note, id); err != nil {
		return fmt.Errorf("pass: approve batch: %w", err)
	}
	return nil
}

// rejectBatch records the rejection of a whole batch by actor.
func rejectBatch(ctx context.Context, tx *db.Tx, id int64, actor, reason string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE pass_batch_rows SET decision = 'rejected' WHERE batch_id = $1`, id); err != nil {
		return fmt.Errorf("pass: reject rows: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE pass_batches SET status = 'rejected', rejected_count = row_count,
		reviewed_by = $1, reviewed_at = $2, note = $3 WHERE id = $4`, actor, tx.NowMS(), reason, id); err != nil {
		return fmt.Errorf("pass: reject batch: %w", err)
	}
	return nil
}

// where is the SQL condition selecting the rows v reaches, for a table
// with enterprise_key and area_path columns (prefixed by alias).
func (v visibility) where(args *db.Args, alias string) string {
	if v.all {
		return "1 = 1"
	}
	var ors []string
	for _, p := range v.paths {
		ors = append(ors, alias+"area_path LIKE "+args.Add(db.LikePrefix(p))+` ESCAPE '\'`)
	}
	for _, k := range v.keys {
		ors = append(ors, alias+"enterprise_key = "+args.Add(k))
	}
	if len(ors) == 0 {
		return "1 = 0"
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}
