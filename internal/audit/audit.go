// Package audit keeps Tongxin's append-only record of every change. Each
// row is written in the same transaction as the change it records, and its
// hash, an HMAC-SHA256 under the key of DATA_DIR/audit.key (key.go), covers
// the previous row's hash, so that removing, reordering or editing any row
// breaks the chain from there on, and nobody without the key can re-hash
// it; Verify finds the first broken row, and checks anchors (a row's hash
// kept outside) so that history cannot be rewritten even with the key.
//
// Summaries must never hold personal data in clear: callers pass masked
// values (pii.MaskPhone, pii.MaskID).
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Entry is one change to record.
type Entry struct {
	ActorID    int64  // 0 for the system itself (migrations, demo, sweepers)
	Actor      string // username, or "system"
	Action     string // e.g. "user.create", "area.import"
	ObjectType string // e.g. "user", "area"
	ObjectID   string
	AreaCode   string // the area the object belongs to, for scoped reading; may be empty
	Summary    string // what changed, personal data masked
}

// Row is a stored entry.
type Row struct {
	Seq int64 `json:"seq"`
	At  time.Time
	Entry
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// Record appends e to the chain inside tx, at tx.Now. Moving the chain's
// head row serialises concurrent appenders until they commit.
func Record(ctx context.Context, tx *db.Tx, e Entry) error {
	return RecordAll(ctx, tx, []Entry{e})
}

// auditChunk bounds the rows of one INSERT of RecordAll.
const auditChunk = 32

// The statements that move the chain's head: with the head this process
// remembers (db.AuditHead), one that moves it only from there; otherwise,
// or when the head has moved elsewhere, one that takes it (with an UPDATE,
// which locks it on PostgreSQL until commit; on SQLite the single writer
// already serialises) and one that sets its hash once the rows are hashed.
const (
	moveHeadSQL = `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4`
	takeHeadSQL = `UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash`
	setHeadSQL  = `UPDATE audit_head SET hash = $1 WHERE id = 1`
)

// RecordAll appends entries to the chain inside tx, in order, at tx.Now:
// one row each, as Record would, but moving the head once and inserting
// many rows per statement (the sweepers audit hundreds of changes in one
// transaction).
func RecordAll(ctx context.Context, tx *db.Tx, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	key := tx.AuditKey()
	if len(key.Secret) == 0 {
		return fmt.Errorf("audit: record: no audit key (DATA_DIR/%s) was loaded", KeyFileName)
	}
	for i := range entries {
		if entries[i].Actor == "" {
			entries[i].Actor = "system"
		}
		if entries[i].Action == "" || entries[i].ObjectType == "" {
			return errors.New("audit: record: action and object type are required")
		}
	}
	head := tx.AuditHead()
	rows, err := moveHead(ctx, tx, head, entries, key.Secret)
	if err != nil {
		return err
	}
	if err := insertRows(ctx, tx, rows); err != nil {
		return err
	}
	last := rows[len(rows)-1]
	head.Store(last.Seq, last.Hash)
	return nil
}

// moveHead moves the chain's head past entries and returns their rows,
// hashed: in one statement from the remembered head when it is still the
// head, else in two around reading it.
func moveHead(ctx context.Context, tx *db.Tx, head *db.AuditHead, entries []Entry, secret []byte) ([]Row, error) {
	if seq, hash, ok := head.Load(); ok {
		rows := chainRows(entries, seq, hash, tx.Now, secret)
		last := rows[len(rows)-1]
		res, err := tx.ExecContext(ctx, moveHeadSQL, last.Seq, last.Hash, seq, hash)
		if err != nil {
			return nil, errs.Wrap("audit.Record: head", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, errs.Wrap("audit.Record: head", err)
		} else if n == 1 {
			return rows, nil
		}
	}
	var last int64
	var prev string
	if err := tx.QueryRowContext(ctx, takeHeadSQL, len(entries)).Scan(&last, &prev); err != nil {
		return nil, errs.Wrap("audit.Record: head", err)
	}
	rows := chainRows(entries, last-int64(len(entries)), prev, tx.Now, secret)
	if _, err := tx.ExecContext(ctx, setHeadSQL, rows[len(rows)-1].Hash); err != nil {
		return nil, errs.Wrap("audit.Record: head", err)
	}
	return rows, nil
}

// chainRows are entries as the rows that follow the row seq with hash
// prev, at the moment at, each hashed over the one before.
func chainRows(entries []Entry, seq int64, prev string, at time.Time, secret []byte) []Row {
	rows := make([]Row, len(entries))
	for i, e := range entries {
		rows[i] = Row{Seq: seq + 1 + int64(i), At: at, Entry: e, PrevHash: prev}
		rows[i].Hash = rows[i].keyedHash(secret)
		prev = rows[i].Hash
	}
	return rows
}

// insertRowSQL inserts one row, the common case, in a fixed text.
const insertRowSQL = `INSERT INTO audit_log (seq, at, actor_id, actor, action, object_type, object_id, area_code, summary,
	prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// insertRows inserts rows into audit_log, auditChunk a statement.
func insertRows(ctx context.Context, tx *db.Tx, rows []Row) error {
	if len(rows) == 1 {
		r := &rows[0]
		var actorID any
		if r.ActorID != 0 {
			actorID = r.ActorID
		}
		_, err := tx.ExecContext(ctx, insertRowSQL, r.Seq, r.At.UnixMilli(), actorID, r.Actor, r.Action, r.ObjectType,
			r.ObjectID, r.AreaCode, r.Summary, r.PrevHash, r.Hash)
		return errs.Wrap("audit.Record: insert", err)
	}
	err := db.Chunks(len(rows), auditChunk, func(lo, hi int) error {
		var args db.Args
		values := make([]string, 0, hi-lo)
		for _, r := range rows[lo:hi] {
			var actorID any
			if r.ActorID != 0 {
				actorID = r.ActorID
			}
			values = append(values, db.In(&args, []any{r.Seq, r.At.UnixMilli(), actorID, r.Actor, r.Action, r.ObjectType,
				r.ObjectID, r.AreaCode, r.Summary, r.PrevHash, r.Hash}))
		}
		q := `INSERT INTO audit_log (seq, at, actor_id, actor, action, object_type, object_id, area_code, summary, prev_hash, hash) VALUES ` +
			strings.Join(values, ", ")
		_, err := tx.ExecContext(ctx, q, args.List...)
		return err
	})
	return errs.Wrap("audit.Record: insert", err)
}

// keyedHash is HMAC-SHA256 under secret over the previous hash and every
// field, in hex: it looks like the plain SHA-256 of older rows, so the
// hash column, the API and the pages keep their form.
func (r *Row) keyedHash(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	r.encode(m, "tongxin-audit-v2")
	return hex.EncodeToString(m.Sum(nil))
}

// plainHash is the unkeyed SHA-256 of rows written before the chain was
// keyed.
func (r *Row) plainHash() string {
	h := sha256.New()
	r.encode(h, "tongxin-audit-v1")
	return hex.EncodeToString(h.Sum(nil))
}

// encode writes the previous hash and every field, each length-prefixed
// so that no two different rows encode the same.
func (r *Row) encode(h hash.Hash, version string) {
	b := make([]byte, 0, 256+len(r.Summary))
	for _, f := range []string{
		version,
		r.PrevHash,
		strconv.FormatInt(r.Seq, 10),
		strconv.FormatInt(r.At.UnixMilli(), 10),
		strconv.FormatInt(r.ActorID, 10),
		r.Actor, r.Action, r.ObjectType, r.ObjectID, r.AreaCode, r.Summary,
	} {
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, ':')
		b = append(b, f...)
		b = append(b, ';')
	}
	h.Write(b)
}

// BrokenError names the first row where the chain does not hold.
type BrokenError struct {
	Seq    int64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit chain broken at row %d: %s", e.Seq, e.Reason)
}

// Anchor is a row's hash kept outside the database (tongxin audit
// anchor): a chain that still passes through it has not been rewritten up
// to that row, even by someone holding the key.
type Anchor struct {
	Seq  int64
	Hash string
}

// String is the anchor as printed and parsed: "SEQ:HASH".
func (a Anchor) String() string { return strconv.FormatInt(a.Seq, 10) + ":" + a.Hash }

// ParseAnchor reads "SEQ:HASH".
func ParseAnchor(s string) (Anchor, error) {
	seq, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil || n < 0 || (n > 0 && hash == "") || (n == 0 && hash != "") {
		return Anchor{}, errs.E(errs.Invalid, "audit_bad_anchor", "锚点须为 SEQ:HASH（tongxin audit anchor 的输出）")
	}
	return Anchor{Seq: n, Hash: hash}, nil
}

// Head returns the chain's head as an anchor, after verifying the chain:
// an anchor taken of a broken chain would vouch for the breakage.
func Head(ctx context.Context, d *db.DB) (Anchor, error) {
	var a Anchor
	if _, err := Verify(ctx, d); err != nil {
		return a, err
	}
	err := d.Read(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&a.Seq, &a.Hash)
	})
	return a, errs.Wrap("audit.Head", err)
}

// Verify recomputes the whole chain in order with the database's audit
// key: rows from the key's first row on must carry its HMAC; earlier rows
// (written before the chain was keyed) their HMAC or their plain SHA-256.
// The chain must pass through every anchor. It returns the number of rows
// checked, and a *BrokenError for the first row that does not match.
func Verify(ctx context.Context, d *db.DB, anchors ...Anchor) (int64, error) {
	key := d.AuditKey
	if len(key.Secret) == 0 {
		return 0, fmt.Errorf("audit: verify: no audit key (DATA_DIR/%s) was loaded", KeyFileName)
	}
	c := &chain{secret: key.Secret, from: key.From, want: make(map[int64]string, len(anchors))}
	for _, a := range anchors {
		if a.Seq > 0 {
			c.want[a.Seq] = a.Hash
		}
	}
	err := d.Read(ctx, func(tx *db.Tx) error {
		var headSeq int64
		var headHash string
		if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
			return errs.Wrap("audit.Verify", err)
		}
		err := db.Each(ctx, tx, c.next, `SELECT seq, at, COALESCE(actor_id, 0), actor, action, object_type, object_id, area_code, summary, prev_hash, hash
			FROM audit_log ORDER BY seq`)
		var broken *BrokenError
		switch {
		case errors.As(err, &broken):
			return err
		case err != nil:
			return errs.Wrap("audit.Verify", err)
		}
		return c.end(headSeq, headHash)
	})
	return c.n, err
}

// chain is Verify's walk along the rows in order.
type chain struct {
	secret []byte           // the audit key
	from   int64            // the first row the key signs
	want   map[int64]string // anchors: seq → hash
	n      int64            // rows checked
	prev   string           // hash of the last row checked
	// unkeyed is the first row, from the key's first on, whose hash is not
	// its HMAC (0: none). The rows after it tell a wrong key file (none of
	// them is keyed either) from an edit.
	unkeyed int64
}

// next checks one row; a *BrokenError ends the walk.
func (c *chain) next(s db.Scanner) error {
	r, err := scanRow(s)
	if c.unkeyed > 0 {
		if err != nil || r.Hash == r.keyedHash(c.secret) {
			return &BrokenError{Seq: c.unkeyed, Reason: "内容与其审计密钥签名不符（已被改动或被重新计算哈希）"}
		}
		return nil
	}
	if err != nil {
		return err
	}
	c.n++
	keyed := r.Hash == r.keyedHash(c.secret)
	switch {
	case r.Seq != c.n:
		return &BrokenError{Seq: c.n, Reason: fmt.Sprintf("第 %d 行缺失（下一行是第 %d 行）", c.n, r.Seq)}
	case r.PrevHash != c.prev:
		return &BrokenError{Seq: r.Seq, Reason: "与上一行的哈希链接不符"}
	case !keyed && r.Seq >= c.from:
		c.unkeyed = r.Seq
		return nil
	case !keyed && r.Hash != r.plainHash():
		return &BrokenError{Seq: r.Seq, Reason: "内容与其哈希不符（已被改动）"}
	}
	if h, ok := c.want[r.Seq]; ok && h != r.Hash {
		return &BrokenError{Seq: r.Seq, Reason: "与锚点记录的哈希不符（此前的历史被改写）"}
	}
	c.prev = r.Hash
	return nil
}

// end checks, once every row is read, what only the whole chain tells: a
// row that failed the key with none keyed after it, anchors beyond the
// last row, a head that is not the last row.
func (c *chain) end(headSeq int64, headHash string) error {
	if c.unkeyed > 0 {
		return &BrokenError{Seq: c.unkeyed, Reason: "与审计密钥签名不符，此后也没有一行相符：数据目录中的 audit.key 不是签名此链的密钥，或此后的链被整体改写"}
	}
	for seq := range c.want {
		if seq > c.n {
			return &BrokenError{Seq: seq, Reason: fmt.Sprintf("锚点所指的第 %d 行不存在：链只有 %d 行（被截短或重建？）", seq, c.n)}
		}
	}
	if headSeq != c.n || headHash != c.prev {
		return &BrokenError{Seq: c.n + 1, Reason: fmt.Sprintf("链头记录为 %d 行，实有 %d 行（末尾的行被删除？）", headSeq, c.n)}
	}
	return nil
}

func scanRow(s db.Scanner) (Row, error) {
	var r Row
	var at int64
	if err := s.Scan(&r.Seq, &at, &r.ActorID, &r.Actor, &r.Action, &r.ObjectType, &r.ObjectID, &r.AreaCode, &r.Summary, &r.PrevHash, &r.Hash); err != nil {
		return r, errs.Wrap("audit.scan", err)
	}
	r.At = time.UnixMilli(at).UTC()
	return r, nil
}

// Filter selects audit rows. AreaPaths restricts rows to objects in those
// area subtrees (rows without an area are visible only with AllAreas).
type Filter struct {
	AllAreas   bool
	AreaPaths  []string
	ObjectType string
	ObjectID   string
	Actor      string
	Action     string
	Before     int64 // seq cursor: rows with seq < Before; 0 for the newest
	Limit      int
}

// Page sizes of the audit list: ?limit= is 1–MaxLimit, DefaultLimit when
// absent.
const (
	DefaultLimit = 100
	MaxLimit     = 500
)

// List returns rows newest first, at most MaxLimit+1 (a caller paging asks
// for one more row than it shows).
func List(ctx context.Context, d *db.DB, f Filter) ([]Row, error) {
	if !f.AllAreas && len(f.AreaPaths) == 0 {
		return nil, nil
	}
	if f.Limit <= 0 {
		f.Limit = DefaultLimit
	}
	// A page of MaxLimit rows is asked for with one more, to know whether
	// another page follows: never cut that one.
	f.Limit = min(f.Limit, MaxLimit+1)
	var where []string
	var args db.Args
	if !f.AllAreas {
		var ors []string
		for _, p := range f.AreaPaths {
			ors = append(ors, "a.path LIKE "+args.Add(db.LikePrefix(p))+` ESCAPE '\'`)
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if f.ObjectType != "" {
		where = append(where, "l.object_type = "+args.Add(f.ObjectType))
	}
	if f.ObjectID != "" {
		where = append(where, "l.object_id = "+args.Add(f.ObjectID))
	}
	if f.Actor != "" {
		where = append(where, "l.actor = "+args.Add(f.Actor))
	}
	if f.Action != "" {
		where = append(where, "l.action LIKE "+args.Add(db.LikePrefix(f.Action))+` ESCAPE '\'`)
	}
	if f.Before > 0 {
		where = append(where, "l.seq < "+args.Add(f.Before))
	}
	q := `SELECT l.seq, l.at, COALESCE(l.actor_id, 0), l.actor, l.action, l.object_type, l.object_id, l.area_code, l.summary, l.prev_hash, l.hash
		FROM audit_log l LEFT JOIN areas a ON a.code = l.area_code`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY l.seq DESC LIMIT " + args.Add(f.Limit)
	var out []Row
	err := d.Read(ctx, func(tx *db.Tx) error {
		var err error
		out, err = db.Collect(ctx, tx, scanRow, q, args.List...)
		return errs.Wrap("audit.List", err)
	})
	return out, err
}
