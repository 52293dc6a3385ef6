package checkpoint

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/passtoken"
)

// scanCols are the columns readScan reads, from scanFrom.
const scanCols = `s.id, s.checkpoint_id, s.client_id, v.body, s.verdict, s.reason, s.scanned_at, s.received_at, s.officer, s.offline,
	s.shown`

// scanFrom is the scan log (s) with what each code showed (v).
const scanFrom = `checkpoint_scans s LEFT JOIN scan_shown v ON v.id = s.shown_id`

func readScan(sc db.Scanner) (*Scan, error) {
	var s Scan
	var info sql.NullString
	var scanned, received int64
	if err := sc.Scan(&s.ID, &s.CheckpointID, &s.ClientID, &info, &s.Verdict, &s.Reason, &scanned, &received, &s.Officer, &s.Offline,
		&s.Shown); err != nil {
		return nil, err
	}
	if info.Valid {
		var err error
		if s.Pass, s.Resident, err = decodeShown(s.Shown, []byte(info.String)); err != nil {
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
	info       []byte // claims (or resident) as JSON, once encoded (passJSON)
	shown      Shown  // "" for a pass
	resident   *ResidentInfo
}

// decodeShown reads what a code said as the log keeps it: a pass's
// claims, or a resident code's.
func decodeShown(shown Shown, info []byte) (*PassInfo, *ResidentInfo, error) {
	if shown == ShownResident {
		ri := &ResidentInfo{}
		return nil, ri, json.Unmarshal(info, ri)
	}
	p := &PassInfo{}
	return p, nil, json.Unmarshal(info, p)
}

// shownCode is the code r read, as the log writes it.
func (r *scanRow) shownCode() Shown {
	if r.shown == "" {
		return ShownPass
	}
	return r.shown
}

// answer is r's scan as answered before it has an id.
func (r *scanRow) answer(received time.Time, offline bool) *Scan {
	s := &Scan{CheckpointID: r.checkpoint, ClientID: r.clientID, Shown: r.shownCode(), Verdict: VerdictOf(r.reason), Reason: r.reason,
		ReasonName: passtoken.ReasonNames[r.reason], Pass: r.claims, Resident: r.resident,
		ScannedAt: r.scannedAt.UTC().Truncate(time.Millisecond), ReceivedAt: received, Officer: r.officer, Offline: offline}
	if r.resident != nil {
		s.residentJSON = r.passJSON()
	}
	return s
}

// scanChunk bounds the rows of one INSERT (scanValues each), so that its
// SQL stays short enough to be prepared once and cached (db.Tx).
const (
	scanChunk  = 32
	scanValues = 11
)

// passJSON is the pass's masked content as stored, encoded once.
func (r *scanRow) passJSON() []byte {
	switch {
	case r.info != nil:
	case r.resident != nil:
		r.info = r.resident.AppendJSON(nil)
	case r.claims != nil && r.claims.json != nil:
		r.info = r.claims.json // shared, never written to
	case r.claims != nil:
		r.info = r.claims.AppendJSON(nil)
	}
	return r.info
}

// pidArg is the pid (or resident id) of what r's code showed, as a
// statement's argument: a pass's own, made once; nil for a code that
// showed nothing.
func (r *scanRow) pidArg() any {
	switch c := r.claims; {
	case c != nil && c.pidArg != nil:
		return c.pidArg
	case c != nil:
		return c.PID
	case r.resident != nil:
		return r.resident.RID
	}
	return nil
}

// scanKey identifies a scan: the device's id at one checkpoint.
type scanKey struct {
	checkpoint int64
	clientID   string
}

// scanInsert is the INSERT of rows, a client id already logged at its
// checkpoint adding nothing; what their codes showed is stored in sh's
// table first when it is new.
func scanInsert(ctx context.Context, tx *db.Tx, sh *shownIDs, rows []*scanRow, offline bool) (string, []any, error) {
	shown := make([]any, len(rows))
	if err := sh.idsOf(ctx, tx, rows, shown); err != nil {
		return "", nil, err
	}
	args := make([]any, 0, scanValues*len(rows))
	var officer string
	var officerArg any
	for i, r := range rows {
		received := tx.NowMS()
		if !r.receivedAt.IsZero() {
			received = r.receivedAt.UnixMilli()
		}
		if officerArg == nil || r.officer != officer {
			officer, officerArg = r.officer, r.officer
		}
		verdict, code := denyArg, shownPassArg
		if VerdictOf(r.reason) == Allow {
			verdict = allowArg
		}
		if r.shownCode() == ShownResident {
			code = shownResidentArg
		}
		args = append(args, r.checkpoint, r.clientID, r.pidArg(), shown[i], reasonArg(r.reason), r.scannedAt.UnixMilli(), officerArg,
			received, verdict, offline, code)
	}
	return scanInsertSQL(tx.Dialect, len(rows)), args, nil
}

// A value stored in an interface is copied to the heap: these are the
// few values a scan's row repeats, each stored once, so that binding a
// row of the loader's (scanValues values) allocates for its client id and
// two times only. A pass's pid is kept on its PassInfo.
var (
	reasonArgs                         = map[passtoken.Reason]any{}
	allowArg, denyArg              any = string(Allow), string(Deny)
	shownPassArg, shownResidentArg any = string(ShownPass), string(ShownResident)
)

func init() {
	for _, r := range Reasons {
		reasonArgs[r] = string(r)
	}
}

// reasonArg is r as a statement's argument.
func reasonArg(r passtoken.Reason) any {
	if a, ok := reasonArgs[r]; ok {
		return a
	}
	return string(r)
}

// scanInsertSQLs are the texts scanInsertSQL made, by dialect and rows.
var scanInsertSQLs sync.Map // scanSQLKey → string

type scanSQLKey struct {
	dialect db.Dialect
	rows    int
}

// scanInsertSQL is the INSERT of n scans, made once for each n (at most
// scanChunk). SQLite looks each named parameter ($n) up in a list, so a
// statement of hundreds binds in quadratic time; anonymous ones (?) bind
// in order.
func scanInsertSQL(d db.Dialect, n int) string {
	k := scanSQLKey{d, n}
	if q, ok := scanInsertSQLs.Load(k); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO checkpoint_scans (checkpoint_id, client_id, pid, shown_id, reason, scanned_at, officer, received_at,
		verdict, offline, shown) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range scanValues {
			if c > 0 {
				b.WriteByte(',')
			}
			if d == db.SQLite {
				b.WriteByte('?')
			} else {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(i*scanValues + c + 1))
			}
		}
		b.WriteByte(')')
	}
	b.WriteString(` ON CONFLICT (checkpoint_id, client_id) DO NOTHING`)
	q := b.String()
	scanInsertSQLs.Store(k, q)
	return q
}

// loadYield is how long the loader sleeps between its statements so
// that requests come in (loadScans); the runtime's timers wake it after
// at least this, at most a millisecond when the server is idle.
const loadYield = 20 * time.Microsecond

// loadScans logs online scans without answering them (the journal's
// loader): a client id already logged adds nothing.
func loadScans(ctx context.Context, tx *db.Tx, sh *shownIDs, rows []*scanRow) error {
	return db.Chunks(len(rows), scanChunk, func(lo, hi int) error {
		q, args, err := scanInsert(ctx, tx, sh, rows[lo:hi], false)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("checkpoint: log scans: %w", err)
		}
		// The requests that came meanwhile run between the statements of
		// a load rather than after the whole transaction. On a server
		// with one core (GOMAXPROCS 1) runtime.Gosched is not enough: the
		// scheduler takes a yielding goroutine back from its queue before
		// it looks at the network, which only the runtime's monitor then
		// polls, every 10 ms (that was the 10 ms p95 of scans at half
		// load). Asleep, the loader leaves the processor with nothing
		// to run, and the scheduler polls the network.
		time.Sleep(loadYield)
		return nil
	})
}

// insertScans logs scans (online or offline ones), many rows per
// statement, scanValues bound values a row. A
// scan whose client id was already logged at its checkpoint (before, or
// earlier in rows) adds no row: it answers the stored scan, Replayed. The
// answers are in the order of rows.
func insertScans(ctx context.Context, tx *db.Tx, sh *shownIDs, rows []*scanRow, offline bool) ([]*Scan, error) {
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
		q, args, err := scanInsert(ctx, tx, sh, chunk, offline)
		if err != nil {
			return err
		}
		err = db.Each(ctx, tx, func(sc db.Scanner) error {
			var id int64
			var k scanKey
			if err := sc.Scan(&id, &k.checkpoint, &k.clientID); err != nil {
				return err
			}
			i := first[k]
			r := rows[i]
			out[i] = r.answer(received(r, tx.Now), offline)
			out[i].ID = id
			return nil
		}, q+` RETURNING id, checkpoint_id, client_id`, args...)
		if err != nil {
			return fmt.Errorf("checkpoint: log scans: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// What was not inserted had been logged before: answer the stored scan.
	for i, r := range rows {
		if out[i] != nil {
			continue
		}
		s, err := storedScan(ctx, tx, r.checkpoint, r.clientID)
		if err != nil {
			return nil, err
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

// storedScan reads the scan logged with clientID at checkpoint.
func storedScan(ctx context.Context, tx *db.Tx, checkpoint int64, clientID string) (*Scan, error) {
	s, err := readScan(tx.QueryRowContext(ctx, `SELECT `+scanCols+` FROM `+scanFrom+`
			WHERE s.checkpoint_id = $1 AND s.client_id = $2`, checkpoint, clientID))
	if err != nil {
		return nil, fmt.Errorf("checkpoint: stored scan: %w", err)
	}
	return s, nil
}

// queryScans lists the scans of checkpoint id that q selects, newest
// first (q.Limit already bounded).
func queryScans(ctx context.Context, tx *db.Tx, id int64, q ScanQuery) ([]*Scan, error) {
	var args db.Args
	where := []string{"s.checkpoint_id = " + args.Add(id)}
	if !q.From.IsZero() {
		where = append(where, "s.scanned_at >= "+args.Add(q.From.UnixMilli()))
	}
	if !q.To.IsZero() {
		where = append(where, "s.scanned_at < "+args.Add(q.To.UnixMilli()))
	}
	if q.Verdict != "" {
		where = append(where, "s.verdict = "+args.Add(string(q.Verdict)))
	}
	if q.Before > 0 {
		// The cursor is the last scan of the previous page, in the
		// list's order (the moment scanned, then the id): an offline
		// batch logs scans of hours ago after others of minutes ago.
		n := args.Add(q.Before)
		where = append(where, "(s.scanned_at, s.id) < (SELECT b.scanned_at, b.id FROM checkpoint_scans b WHERE b.id = "+n+")")
	}
	out, err := db.Collect(ctx, tx, readScan, `SELECT `+scanCols+` FROM `+scanFrom+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY s.scanned_at DESC, s.id DESC LIMIT `+strconv.Itoa(q.Limit), args.List...)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: scans: %w", err)
	}
	return out, nil
}

// countScansSince counts the scans made since at the checkpoints r reaches.
func countScansSince(ctx context.Context, tx *db.Tx, r reach, since time.Time) (int, error) {
	var a db.Args
	var n int
	q := `SELECT COUNT(*) FROM checkpoint_scans s JOIN checkpoints c ON c.id = s.checkpoint_id
			WHERE ` + r.where(&a) + ` AND s.scanned_at >= ` + a.Add(since.UnixMilli())
	err := tx.QueryRowContext(ctx, q, a.List...).Scan(&n)
	return n, err
}
