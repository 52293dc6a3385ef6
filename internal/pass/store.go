package pass

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/passtoken"
	"tongxin/internal/pii"
)

func noRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

type scanner interface{ Scan(dest ...any) error }

const batchCols = `id, enterprise_key, enterprise_name, area_code, area_path, status, file_name, row_count, approved_count,
	rejected_count, uploaded_by, uploaded_at, reviewed_by, reviewed_at, note,
	(SELECT COUNT(*) FROM pass_batch_rows r WHERE r.batch_id = pass_batches.id AND r.kind = 'vehicle')`

func scanBatch(sc scanner) (*Batch, error) {
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

// batch loads a batch, with its rows when withRows, without authorization.
func (s *Service) batch(ctx context.Context, id int64, withRows bool) (*Batch, error) {
	var b *Batch
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		b, err = scanBatch(tx.QueryRowContext(ctx, `SELECT `+batchCols+` FROM pass_batches WHERE id = $1`, id))
		if noRows(err) {
			return errBatchNotFound()
		}
		if err != nil || !withRows {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT r.row_no, r.kind, r.name_masked, r.id_enc, r.phone_enc, r.plate, r.areas,
			r.checkpoints, r.valid_from, r.valid_to, r.decision, r.reason, COALESCE(p.pid, '')
			FROM pass_batch_rows r LEFT JOIN passes p ON p.batch_id = r.batch_id AND p.batch_row = r.row_no
			WHERE r.batch_id = $1 ORDER BY r.row_no`, id)
		if err != nil {
			return fmt.Errorf("pass: batch rows: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r BatchRow
			var kind, areas, cps, decision string
			var idEnc, phoneEnc []byte
			var from, to int64
			if err := rows.Scan(&r.Row, &kind, &r.Name, &idEnc, &phoneEnc, &r.Plate, &areas, &cps, &from, &to, &decision, &r.Reason, &r.PID); err != nil {
				return err
			}
			r.Kind, r.Decision = passtoken.Kind(kind), Decision(decision)
			r.Areas, r.Checkpoints = splitStored(areas), splitStored(cps)
			r.ValidFrom, r.ValidTo = clock.FromMillis(from), clock.FromMillis(to)
			if r.IDNumber, err = s.masked(idEnc, pii.MaskID); err != nil {
				return err
			}
			if r.Phone, err = s.masked(phoneEnc, pii.MaskPhone); err != nil {
				return err
			}
			b.Rows = append(b.Rows, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	tp := s.transferPointer(ctx)
	for i := range b.Rows {
		if b.Rows[i].TransferPoint, err = tp(b.Rows[i].Kind, b.Rows[i].Checkpoints); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// masked opens a sealed value and masks it.
func (s *Service) masked(sealed []byte, mask func(string) string) (string, error) {
	v, err := s.box.Open(sealed)
	if err != nil {
		return "", err
	}
	return mask(v), nil
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

func loadRows(ctx context.Context, tx *db.Tx, id int64) ([]storedRow, error) {
	rows, err := tx.QueryContext(ctx, `SELECT row_no, kind, name_masked, name_enc, id_enc, id_idx, id4, phone_enc, plate,
		areas, checkpoints, valid_from, valid_to FROM pass_batch_rows WHERE batch_id = $1 ORDER BY row_no`, id)
	if err != nil {
		return nil, fmt.Errorf("pass: batch rows: %w", err)
	}
	defer rows.Close()
	var out []storedRow
	for rows.Next() {
		var r storedRow
		var kind, areas, cps string
		if err := rows.Scan(&r.num, &kind, &r.nameMasked, &r.nameEnc, &r.idEnc, &r.idIdx, &r.id4, &r.phoneEnc, &r.plate,
			&areas, &cps, &r.from, &r.to); err != nil {
			return nil, err
		}
		r.kind, r.areas, r.cps = passtoken.Kind(kind), splitStored(areas), splitStored(cps)
		out = append(out, r)
	}
	return out, rows.Err()
}

const passCols = `id, pid, kind, enterprise_key, enterprise_name, area_path, name_masked, id_enc, phone_enc, id4, plate, areas,
	checkpoints, valid_from, valid_to, status, kid, token, COALESCE(batch_id, 0), batch_row, issued_at, issued_by, revoked_at,
	revoke_reason, revoked_by, COALESCE(number, '')`

// passes loads the passes matching where (a condition with its ORDER BY
// and LIMIT), masked, with tokens when withToken.
func (s *Service) passes(ctx context.Context, where string, args []any, withToken bool) ([]Pass, error) {
	var out []Pass
	now := s.clock.Now()
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+passCols+` FROM passes WHERE `+where, args...)
		if err != nil {
			return fmt.Errorf("pass: passes: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var p Pass
			var id, from, to, issued int64
			var kind, areas, cps, status string
			var idEnc, phoneEnc []byte
			var revoked sql.NullInt64
			if err := rows.Scan(&id, &p.PID, &kind, &p.EnterpriseKey, &p.EnterpriseName, &p.AreaPath, &p.Name, &idEnc, &phoneEnc,
				&p.ID4, &p.Plate, &areas, &cps, &from, &to, &status, &p.Kid, &p.Token, &p.BatchID, &p.BatchRow, &issued,
				&p.IssuedBy, &revoked, &p.RevokeReason, &p.RevokedBy, &p.Number); err != nil {
				return err
			}
			p.id, p.Kind, p.Areas, p.Checkpoints = id, passtoken.Kind(kind), splitStored(areas), splitStored(cps)
			p.ValidFrom, p.ValidTo, p.IssuedAt = clock.FromMillis(from), clock.FromMillis(to), clock.FromMillis(issued)
			p.RevokedAt = nullTime(revoked)
			p.Status = statusAt(Status(status), p.ValidTo, now)
			if p.IDNumber, err = s.masked(idEnc, pii.MaskID); err != nil {
				return err
			}
			if p.Phone, err = s.masked(phoneEnc, pii.MaskPhone); err != nil {
				return err
			}
			if !withToken {
				p.Token = ""
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	tp := s.transferPointer(ctx)
	for i := range out {
		if out[i].TransferPoint, err = tp(out[i].Kind, out[i].Checkpoints); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// probe is a row of a batch looking for what its holder already has: a
// person by the blind index of the ID number, a vehicle by its plate, and
// the validity asked for, [from, to) in Unix milliseconds.
type probe struct {
	num      int
	kind     passtoken.Kind
	key      string
	from, to int64
}

// holdKey names a person (kind person, blind index) or a vehicle (kind
// vehicle, plate).
type holdKey struct {
	kind passtoken.Kind
	key  string
}

// holding is what a person or vehicle already has: an active pass (pid
// set), or a row of a batch awaiting review.
type holding struct {
	pid                           string
	batch                         int64
	row                           int
	enterpriseKey, enterpriseName string
	from, to                      int64
}

// holdChunk is how many keys one lookup names: a power of two, well under
// the parameter limits of both databases.
const holdChunk = 512

// findHoldings returns, per person and vehicle of probes, their active
// passes not yet expired at now, of any enterprise, and when pending also
// their rows in batches awaiting review (status submitted), each list in
// order of validity. A person is looked up among person passes only, a
// vehicle among vehicle passes.
func findHoldings(ctx context.Context, tx *db.Tx, probes []probe, now int64, pending bool) (map[holdKey][]holding, error) {
	out := map[holdKey][]holding{}
	for _, k := range []passtoken.Kind{passtoken.Person, passtoken.Vehicle} {
		col := "id_idx"
		if k == passtoken.Vehicle {
			col = "plate"
		}
		var keys []string
		seen := map[string]bool{}
		for _, p := range probes {
			if p.kind == k && p.key != "" && !seen[p.key] {
				seen[p.key] = true
				keys = append(keys, p.key)
			}
		}
		err := db.Chunks(len(keys), holdChunk, func(lo, hi int) error {
			args := []any{string(k), now}
			in := make([]string, 0, hi-lo)
			for _, key := range keys[lo:hi] {
				args = append(args, key)
				in = append(in, "$"+strconv.Itoa(len(args)))
			}
			list := strings.Join(in, ", ")
			rows, err := tx.QueryContext(ctx, `SELECT `+col+`, pid, enterprise_key, enterprise_name, valid_from, valid_to FROM passes
				WHERE kind = $1 AND status = 'active' AND valid_to > $2 AND `+col+` IN (`+list+`) ORDER BY valid_from, id`, args...)
			if err != nil {
				return fmt.Errorf("pass: passes held: %w", err)
			}
			if err := scanHoldings(rows, k, out, func(h *holding) []any {
				return []any{&h.pid, &h.enterpriseKey, &h.enterpriseName, &h.from, &h.to}
			}); err != nil {
				return err
			}
			if !pending {
				return nil
			}
			rows, err = tx.QueryContext(ctx, `SELECT r.`+col+`, r.batch_id, r.row_no, b.enterprise_key, b.enterprise_name, r.valid_from, r.valid_to
				FROM pass_batch_rows r JOIN pass_batches b ON b.id = r.batch_id
				WHERE r.kind = $1 AND b.status = 'submitted' AND r.valid_to > $2 AND r.`+col+` IN (`+list+`)
				ORDER BY r.valid_from, r.batch_id, r.row_no`, args...)
			if err != nil {
				return fmt.Errorf("pass: rows pending: %w", err)
			}
			return scanHoldings(rows, k, out, func(h *holding) []any {
				return []any{&h.batch, &h.row, &h.enterpriseKey, &h.enterpriseName, &h.from, &h.to}
			})
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanHoldings reads rows of (key, fields…) into out, closing rows.
func scanHoldings(rows *sql.Rows, k passtoken.Kind, out map[holdKey][]holding, fields func(*holding) []any) error {
	defer rows.Close()
	for rows.Next() {
		var key string
		var h holding
		if err := rows.Scan(append([]any{&key}, fields(&h)...)...); err != nil {
			return err
		}
		out[holdKey{k, key}] = append(out[holdKey{k, key}], h)
	}
	return rows.Err()
}
