package pass

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/passtoken"
)

const passCols = `id, pid, kind, enterprise_key, enterprise_name, area_path, name_masked, id_enc, phone_enc, id4, plate, areas,
	checkpoints, valid_from, valid_to, status, kid, token, COALESCE(batch_id, 0), batch_row, issued_at, issued_by, revoked_at,
	revoke_reason, revoked_by, COALESCE(number, '')`

// sealedPass is a pass as read: its stored status, its ID number and
// phone still sealed.
type sealedPass struct {
	Pass
	idEnc, phoneEnc []byte
}

func scanPass(sc db.Scanner) (sealedPass, error) {
	var p sealedPass
	var from, to, issued int64
	var kind, areas, cps, status string
	var revoked sql.NullInt64
	if err := sc.Scan(&p.id, &p.PID, &kind, &p.EnterpriseKey, &p.EnterpriseName, &p.AreaPath, &p.Name, &p.idEnc, &p.phoneEnc,
		&p.ID4, &p.Plate, &areas, &cps, &from, &to, &status, &p.Kid, &p.Token, &p.BatchID, &p.BatchRow, &issued,
		&p.IssuedBy, &revoked, &p.RevokeReason, &p.RevokedBy, &p.Number); err != nil {
		return p, err
	}
	p.Kind, p.Areas, p.Checkpoints = passtoken.Kind(kind), splitStored(areas), splitStored(cps)
	p.ValidFrom, p.ValidTo, p.IssuedAt = clock.FromMillis(from), clock.FromMillis(to), clock.FromMillis(issued)
	p.RevokedAt = nullTime(revoked)
	p.Status = Status(status)
	return p, nil
}

// selectPasses reads the passes matching where (a condition with its
// ORDER BY and LIMIT).
func selectPasses(ctx context.Context, tx *db.Tx, where string, args ...any) ([]sealedPass, error) {
	list, err := db.Collect(ctx, tx, scanPass, `SELECT `+passCols+` FROM passes WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("pass: passes: %w", err)
	}
	return list, nil
}

// passByPID reads the pass pid (none or one).
func passByPID(ctx context.Context, tx *db.Tx, pid string) ([]sealedPass, error) {
	return selectPasses(ctx, tx, `pid = $1`, pid)
}

// passesOfBatch reads the passes issued for a batch, by row.
func passesOfBatch(ctx context.Context, tx *db.Tx, id int64) ([]sealedPass, error) {
	return selectPasses(ctx, tx, `batch_id = $1 ORDER BY batch_row`, id)
}

// listPasses reads the passes v reaches that f selects at now (Unix
// milliseconds), newest first.
func listPasses(ctx context.Context, tx *db.Tx, v visibility, f PassFilter, now int64) ([]sealedPass, error) {
	var args db.Args
	where := []string{v.where(&args, "")}
	if f.Enterprise != "" {
		where = append(where, "enterprise_key = "+args.Add(normalizeKey(f.Enterprise)))
	}
	switch f.Status {
	case StatusActive:
		where = append(where, "status = 'active' AND valid_to > "+args.Add(now))
	case StatusExpired:
		where = append(where, "status = 'active' AND valid_to <= "+args.Add(now))
	case StatusRevoked:
		where = append(where, "status = 'revoked'")
	}
	if f.Batch > 0 {
		where = append(where, "batch_id = "+args.Add(f.Batch))
	}
	if f.Before > 0 {
		where = append(where, "id < "+args.Add(f.Before))
	}
	q := strings.Join(where, " AND ") + " ORDER BY id DESC LIMIT " + args.Add(f.Limit)
	return selectPasses(ctx, tx, q, args.List...)
}

// tokenOfNumber reads the token of the pass numbered number;
// sql.ErrNoRows when there is none.
func tokenOfNumber(ctx context.Context, tx *db.Tx, number string) (string, error) {
	var token string
	err := tx.QueryRowContext(ctx, `SELECT token FROM passes WHERE number = $1`, number).Scan(&token)
	return token, err
}

// takenNumbers reads which of numbers a pass already has.
func takenNumbers(ctx context.Context, tx *db.Tx, numbers []string) (map[string]bool, error) {
	var args db.Args
	taken := map[string]bool{}
	q := `SELECT number FROM passes WHERE number IN ` + db.In(&args, numbers)
	err := db.Each(ctx, tx, func(sc db.Scanner) error {
		var num string
		if err := sc.Scan(&num); err != nil {
			return err
		}
		taken[num] = true
		return nil
	}, q, args.List...)
	if err != nil {
		return nil, fmt.Errorf("pass: numbers: %w", err)
	}
	return taken, nil
}

// activeCount counts an enterprise's active, unexpired passes.
func activeCount(ctx context.Context, tx *db.Tx, key string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM passes WHERE enterprise_key = $1 AND status = 'active' AND valid_to > $2`,
		key, tx.NowMS()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pass: active passes: %w", err)
	}
	return n, nil
}

// countIssuedSince counts the passes v reaches issued since (Unix
// milliseconds).
func countIssuedSince(ctx context.Context, tx *db.Tx, v visibility, since int64) (int, error) {
	var n int
	var a db.Args
	q := `SELECT COUNT(*) FROM passes WHERE issued_at >= ` +
		a.Add(since) + ` AND ` + v.where(&a, "")
	err := tx.QueryRowContext(ctx, q, a.List...).Scan(&n)
	return n, err
}

// enterpriseStats counts per enterprise v reaches the passes issued,
// expired and revoked in [from, to) and those active at now (Unix
// milliseconds), leaving out the enterprises with nothing to count, most
// issued first.
func enterpriseStats(ctx context.Context, tx *db.Tx, v visibility, from, to, at int64) ([]EnterpriseStats, error) {
	var args db.Args
	now := args.Add(at)
	f, t := args.Add(from), args.Add(to)
	issued := "issued_at >= " + f + " AND issued_at < " + t
	where := v.where(&args, "")
	list, err := db.Collect(ctx, tx, func(sc db.Scanner) (EnterpriseStats, error) {
		var e EnterpriseStats
		err := sc.Scan(&e.Enterprise, &e.EnterpriseName, &e.Issued, &e.Active, &e.Expired, &e.Revoked, &e.Persons, &e.Vehicles)
		return e, err
	}, `SELECT enterprise_key, ename, issued, active, expired, revoked, persons, vehicles FROM (
		SELECT enterprise_key, MAX(enterprise_name) AS ename,
		SUM(CASE WHEN `+issued+` THEN 1 ELSE 0 END) AS issued,
		SUM(CASE WHEN status = 'active' AND valid_to > `+now+` THEN 1 ELSE 0 END) AS active,
		SUM(CASE WHEN status = 'active' AND valid_to <= `+now+` AND valid_to >= `+f+` AND valid_to < `+t+` THEN 1 ELSE 0 END) AS expired,
		SUM(CASE WHEN status = 'revoked' AND revoked_at >= `+f+` AND revoked_at < `+t+` THEN 1 ELSE 0 END) AS revoked,
		SUM(CASE WHEN kind = 'person' AND `+issued+` THEN 1 ELSE 0 END) AS persons,
		SUM(CASE WHEN kind = 'vehicle' AND `+issued+` THEN 1 ELSE 0 END) AS vehicles
		FROM passes WHERE `+where+` GROUP BY enterprise_key) counts
		WHERE issued + active + expired + revoked > 0
		ORDER BY issued DESC, active DESC, enterprise_key`, args.List...)
	if err != nil {
		return nil, fmt.Errorf("pass: stats: %w", err)
	}
	return list, nil
}

// insertChunk is how many passes one INSERT writes on PostgreSQL, where
// each statement is a round trip: 23 values each, well under its limit of
// 65535 parameters. SQLite runs in process, and binding thousands of
// parameters costs it more than it saves: one row per statement there,
// each prepared once (see db.Tx).
func insertChunk(d db.Dialect) int {
	if d == db.Postgres {
		return 250
	}
	return sqliteInsertChunk
}

var sqliteInsertChunk = 32

// insertPasses writes passes (the 23 values of insertPassHead each) with
// multi-row INSERTs, insertChunk rows at a time.
func insertPasses(ctx context.Context, tx *db.Tx, values [][]any) error {
	for len(values) > 0 {
		n := min(len(values), insertChunk(tx.Dialect))
		var b strings.Builder
		b.WriteString(insertPassHead)
		args := make([]any, 0, n*len(values[0]))
		for i, v := range values[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for j := range v {
				if j > 0 {
					b.WriteString(", ")
				}
				args = append(args, v[j])
				b.WriteString("$" + strconv.Itoa(len(args)))
			}
			b.WriteString(", 'active')")
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("pass: insert passes: %w", err)
		}
		values = values[n:]
	}
	return nil
}

// insertPassHead lists the columns insertPasses fills; status is the
// constant 'active' after them.
const insertPassHead = `INSERT INTO passes (pid, kind, enterprise_key, enterprise_name, area_path, name_masked, name_enc, id_enc,
	id_idx, id4, phone_enc, plate, areas, checkpoints, valid_from, valid_to, kid, token, batch_id, batch_row, issued_at, issued_by,
	number, status) VALUES `
