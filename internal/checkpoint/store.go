package checkpoint

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/passtoken"
)

type scanner interface{ Scan(...any) error }

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := clock.FromMillis(v.Int64)
	return &t
}

// noRows reports a missing row.
func noRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// idList renders ids for an IN (…) list; ids are numbers, never text from
// a user.
func idList(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

// checkpointCols are the columns scanCheckpoint reads, for checkpoints
// aliased c joined with their area aliased a.
const checkpointCols = `c.id, c.name, c.kind, c.place, c.area_code, COALESCE(a.name, c.area_code), c.area_path, c.is_open,
	c.lat, c.lng, c.version, c.created_at, c.created_by, c.updated_at`

const checkpointFrom = ` FROM checkpoints c LEFT JOIN areas a ON a.code = c.area_code`

func scanCheckpoint(sc scanner) (*Checkpoint, error) {
	var c Checkpoint
	var lat, lng sql.NullFloat64
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.Name, &c.Kind, &c.Place, &c.AreaCode, &c.AreaName, &c.AreaPath, &c.Open,
		&lat, &lng, &c.Version, &created, &c.CreatedBy, &updated); err != nil {
		return nil, err
	}
	if lat.Valid && lng.Valid {
		c.Lat, c.Lng = &lat.Float64, &lng.Float64
	}
	c.KindName = KindNames[c.Kind]
	c.CreatedAt, c.UpdatedAt = clock.FromMillis(created), clock.FromMillis(updated)
	c.OnDuty = []Shift{}
	return &c, nil
}

// loadCheckpoint reads checkpoint id, without authorization.
func loadCheckpoint(ctx context.Context, tx *db.Tx, id int64) (*Checkpoint, error) {
	c, err := scanCheckpoint(tx.QueryRowContext(ctx, `SELECT `+checkpointCols+checkpointFrom+` WHERE c.id = $1`, id))
	if noRows(err) {
		return nil, errNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: load: %w", err)
	}
	return c, nil
}

// queryCheckpoints lists the checkpoints matching where, by area and name.
func queryCheckpoints(ctx context.Context, tx *db.Tx, where string, args []any) ([]*Checkpoint, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+checkpointCols+checkpointFrom+` WHERE `+where+
		` ORDER BY c.area_path, c.name, c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: list: %w", err)
	}
	defer rows.Close()
	var out []*Checkpoint
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: list: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const shiftCols = `id, checkpoint_id, name, username, post, starts_at, ends_at`

func scanShift(sc scanner) (int64, Shift, error) {
	var sh Shift
	var cp, start, end int64
	if err := sc.Scan(&sh.ID, &cp, &sh.Name, &sh.Username, &sh.Post, &start, &end); err != nil {
		return 0, sh, err
	}
	sh.Start, sh.End = clock.FromMillis(start), clock.FromMillis(end)
	return cp, sh, nil
}

// loadShifts reads the shifts of a checkpoint overlapping [from, to).
func loadShifts(ctx context.Context, tx *db.Tx, id, from, to int64) ([]Shift, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+shiftCols+` FROM checkpoint_shifts
		WHERE checkpoint_id = $1 AND ends_at > $2 AND starts_at < $3 ORDER BY starts_at, id`, id, from, to)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: shifts: %w", err)
	}
	defer rows.Close()
	out := []Shift{}
	for rows.Next() {
		_, sh, err := scanShift(rows)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: shifts: %w", err)
		}
		out = append(out, sh)
	}
	return out, rows.Err()
}

// loadOnDuty fills the shifts running at the transaction's time.
func loadOnDuty(ctx context.Context, tx *db.Tx, list []*Checkpoint) error {
	if len(list) == 0 {
		return nil
	}
	byID := map[int64]*Checkpoint{}
	ids := make([]int64, len(list))
	for i, c := range list {
		byID[c.ID], ids[i] = c, c.ID
	}
	now := tx.NowMS()
	rows, err := tx.QueryContext(ctx, `SELECT `+shiftCols+` FROM checkpoint_shifts
		WHERE checkpoint_id IN (`+idList(ids)+`) AND starts_at <= $1 AND ends_at > $1 ORDER BY starts_at, id`, now)
	if err != nil {
		return fmt.Errorf("checkpoint: on duty: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		cp, sh, err := scanShift(rows)
		if err != nil {
			return fmt.Errorf("checkpoint: on duty: %w", err)
		}
		byID[cp].OnDuty = append(byID[cp].OnDuty, sh)
	}
	return rows.Err()
}

// scanCols are the columns readScan reads, for checkpoint_scans aliased s.
const scanCols = `s.id, s.checkpoint_id, s.client_id, s.pass, s.verdict, s.reason, s.scanned_at, s.received_at, s.officer, s.offline`

func readScan(sc scanner) (*Scan, error) {
	var s Scan
	var info sql.NullString
	var scanned, received int64
	if err := sc.Scan(&s.ID, &s.CheckpointID, &s.ClientID, &info, &s.Verdict, &s.Reason, &scanned, &received, &s.Officer, &s.Offline); err != nil {
		return nil, err
	}
	if info.Valid {
		s.Pass = &PassInfo{}
		if err := json.Unmarshal([]byte(info.String), s.Pass); err != nil {
			return nil, fmt.Errorf("checkpoint: scan %d: pass: %w", s.ID, err)
		}
	}
	s.ReasonName = passtoken.ReasonNames[s.Reason]
	s.ScannedAt, s.ReceivedAt = clock.FromMillis(scanned), clock.FromMillis(received)
	return &s, nil
}

// scanRow is a decided scan waiting to be logged.
type scanRow struct {
	checkpoint int64
	clientID   string
	claims     *PassInfo
	reason     passtoken.Reason
	scannedAt  time.Time
	receivedAt time.Time // zero: the logging transaction's time
	officer    string
	info       []byte // claims as JSON, once encoded (passJSON)
}

// scanChunk bounds the rows of one INSERT (scanValues each), so that its
// SQL stays short enough to be prepared once and cached (db.Tx).
const (
	scanChunk  = 32
	scanValues = 10
)

// passJSON is the pass's masked content as stored, encoded once.
func (r *scanRow) passJSON() ([]byte, error) {
	if r.info == nil && r.claims != nil {
		j, err := json.Marshal(r.claims)
		if err != nil {
			return nil, err
		}
		r.info = j
	}
	return r.info, nil
}

// scanKey identifies a scan: the device's id at one checkpoint.
type scanKey struct {
	checkpoint int64
	clientID   string
}

// scanInsert is the INSERT of rows, a client id already logged at its
// checkpoint adding nothing.
func scanInsert(tx *db.Tx, rows []*scanRow, offline bool) (string, []any, error) {
	var b strings.Builder
	b.WriteString(`INSERT INTO checkpoint_scans (checkpoint_id, client_id, pid, pass, reason, scanned_at, officer, received_at,
		verdict, offline) VALUES `)
	args := make([]any, 0, scanValues*len(rows))
	for n, r := range rows {
		if n > 0 {
			b.WriteByte(',')
		}
		// SQLite looks each named parameter ($n) up in a list, so a
		// statement of hundreds binds in quadratic time; anonymous ones
		// (?) bind in order.
		b.WriteByte('(')
		for c := range scanValues {
			if c > 0 {
				b.WriteByte(',')
			}
			if tx.Dialect == db.SQLite {
				b.WriteByte('?')
			} else {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(len(args) + c + 1))
			}
		}
		b.WriteByte(')')
		var pid, info any
		if c := r.claims; c != nil {
			j, err := r.passJSON()
			if err != nil {
				return "", nil, fmt.Errorf("checkpoint: log scans: %w", err)
			}
			pid, info = c.PID, string(j)
		}
		received := tx.NowMS()
		if !r.receivedAt.IsZero() {
			received = r.receivedAt.UnixMilli()
		}
		args = append(args, r.checkpoint, r.clientID, pid, info, string(r.reason), r.scannedAt.UnixMilli(), r.officer, received,
			string(VerdictOf(r.reason)), offline)
	}
	b.WriteString(` ON CONFLICT (checkpoint_id, client_id) DO NOTHING`)
	return b.String(), args, nil
}

// loadScans logs online scans without answering them (the journal's
// loader): a client id already logged adds nothing.
func loadScans(ctx context.Context, tx *db.Tx, rows []*scanRow) error {
	return db.Chunks(len(rows), scanChunk, func(lo, hi int) error {
		q, args, err := scanInsert(tx, rows[lo:hi], false)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("checkpoint: log scans: %w", err)
		}
		return nil
	})
}

// insertScans logs scans (online or offline ones), many rows per
// statement, scanValues bound values a row. A
// scan whose client id was already logged at its checkpoint (before, or
// earlier in rows) adds no row: it answers the stored scan, Replayed. The
// answers are in the order of rows.
func insertScans(ctx context.Context, tx *db.Tx, rows []*scanRow, offline bool) ([]*Scan, error) {
	out := make([]*Scan, len(rows))
	first := map[scanKey]int{}
	var fresh []int // indexes of the first row of each key
	for i, r := range rows {
		k := scanKey{r.checkpoint, r.clientID}
		if _, dup := first[k]; !dup {
			first[k] = i
			fresh = append(fresh, i)
		}
	}
	err := db.Chunks(len(fresh), scanChunk, func(lo, hi int) error {
		chunk := make([]*scanRow, hi-lo)
		for n, i := range fresh[lo:hi] {
			chunk[n] = rows[i]
		}
		q, args, err := scanInsert(tx, chunk, offline)
		if err != nil {
			return err
		}
		res, err := tx.QueryContext(ctx, q+` RETURNING id, checkpoint_id, client_id`, args...)
		if err != nil {
			return fmt.Errorf("checkpoint: log scans: %w", err)
		}
		defer res.Close()
		for res.Next() {
			var id int64
			var k scanKey
			if err := res.Scan(&id, &k.checkpoint, &k.clientID); err != nil {
				return fmt.Errorf("checkpoint: log scans: %w", err)
			}
			i := first[k]
			r := rows[i]
			out[i] = &Scan{ID: id, CheckpointID: r.checkpoint, ClientID: r.clientID, Verdict: VerdictOf(r.reason), Reason: r.reason,
				ReasonName: passtoken.ReasonNames[r.reason], Pass: r.claims, ScannedAt: r.scannedAt.UTC().Truncate(time.Millisecond),
				ReceivedAt: received(r, tx.Now), Officer: r.officer, Offline: offline}
		}
		return res.Err()
	})
	if err != nil {
		return nil, err
	}
	// What was not inserted had been logged before: answer the stored scan.
	for i, r := range rows {
		if out[i] != nil {
			continue
		}
		s, err := readScan(tx.QueryRowContext(ctx, `SELECT `+scanCols+` FROM checkpoint_scans s
			WHERE s.checkpoint_id = $1 AND s.client_id = $2`, r.checkpoint, r.clientID))
		if err != nil {
			return nil, fmt.Errorf("checkpoint: stored scan: %w", err)
		}
		s.Replayed = true
		out[i] = s
	}
	return out, nil
}

// received is when r reached the server: its own time, or the logging
// transaction's.
func received(r *scanRow, txNow time.Time) time.Time {
	if r.receivedAt.IsZero() {
		return txNow
	}
	return r.receivedAt.UTC().Truncate(time.Millisecond)
}
