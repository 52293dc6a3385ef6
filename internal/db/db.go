// Package db opens Tongxin's database — embedded SQLite or PostgreSQL — and
// gives every module one transaction rhythm: a service method calls
// DB.Write or DB.Read, which captures the clock once, and passes the *Tx to
// its lower-case helpers. The SQL text is the same on both databases; the
// few differences are named hooks on Dialect.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/errs"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// DB is an open database with a write pool and a read pool. On SQLite the
// write pool is a single connection whose transactions begin IMMEDIATE, so
// writers queue in Go instead of failing with "database is locked"; on
// PostgreSQL both pools are the same.
type DB struct {
	Dialect Dialect
	Clock   clock.Clock
	// Path is the SQLite file (empty on PostgreSQL).
	Path  string
	write *sql.DB
	read  *sql.DB
	// redacted is the URL without its password, for logs and errors.
	redacted string
	// stmts caches prepared statements per pool and SQL text (SQLite only:
	// pgx caches its own).
	stmts stmtCache
	// group gathers concurrent writers into one transaction (SQLite only;
	// group.go).
	group *writeGroup
	// ckpt copies SQLite's write-ahead log back (checkpoint.go).
	ckpt *checkpointer

	// AuditKey keys the audit chain (internal/audit); set it right after
	// Open. Without it nothing can be appended to the chain.
	AuditKey AuditKey
	// auditHead is the chain's head as this process last moved it, shared
	// by the views of WithClock.
	auditHead *AuditHead
}

// DefaultURL is the database used when neither --db nor TONGXIN_DB is set.
const DefaultURL = "sqlite:./data/tongxin.db"

// Open opens the database named by rawURL: "sqlite:PATH" or
// "postgres://…" (also "postgresql://…"). It does not migrate.
func Open(ctx context.Context, rawURL string, clk clock.Clock) (*DB, error) {
	if clk == nil {
		clk = clock.Real{}
	}
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(rawURL, "sqlite:"), clk)
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL, clk)
	default:
		return nil, errs.Newf(errs.Invalid, "bad_db_url", "数据库地址必须以 sqlite: 或 postgres:// 开头")
	}
}

func openSQLite(ctx context.Context, path string, clk clock.Clock) (*DB, error) {
	if path == "" {
		return nil, errs.E(errs.Invalid, "bad_db_url", "sqlite: 后面需要数据库文件路径")
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("db: open: create data directory: %w", err)
	}
	sync := "NORMAL"
	q := url.Values{}
	for _, p := range []string{
		"busy_timeout(10000)", // first, so the other pragmas wait too
		"journal_mode(WAL)",
		"foreign_keys(ON)",
		"synchronous(" + sync + ")",
		// Statistics read the reports of many days: a 32 MiB page cache per
		// connection and memory-mapped reads keep them off the disk.
		"cache_size(-32768)",
		"mmap_size(268435456)",
	} {
		q.Add("_pragma", p)
	}
	wq := url.Values{}
	for k, v := range q {
		wq[k] = v
	}
	wq.Set("_txlock", "immediate")
	// A group's writers each run in a savepoint (group.go), whose
	// sub-journal keeps the pages they change; past 64 KiB SQLite spills it
	// to a temporary file, created, written page by page and deleted in
	// every transaction (a tenth of a daily report's CPU; a third of a
	// batch of samples' INSERTs, whose statement journal spilled the same
	// way). In memory it is a copy. The write pool's temporary tables and
	// sorts (a migration's new index) are in memory too.
	wq.Add("_pragma", "temp_store(MEMORY)")
	// The checkpointer copies the log back, not the writers (checkpoint.go).
	wq.Add("_pragma", "wal_autocheckpoint(0)")
	wq.Add("_pragma", "journal_size_limit(67108864)")
	write, err := sql.Open("sqlite", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("db: open the write pool: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	ckptDSN := "file:" + path + "?" + q.Encode()
	q.Add("_pragma", "query_only(ON)")
	read, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("db: open the read pool: %w", err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	d := &DB{Dialect: SQLite, Clock: clk, Path: path, write: write, read: read, redacted: "sqlite:" + path, group: &writeGroup{},
		auditHead: &AuditHead{}}
	if err := d.Ping(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if d.ckpt, err = startCheckpointer(ckptDSN, &d.group.txMu); err != nil {
		d.Close()
		return nil, err
	}
	// The file holds (encrypted) personal data: owner only. SQLite gives
	// its -wal and -shm files the same mode.
	if err := os.Chmod(path, 0o600); err != nil && !os.IsPermission(err) {
		d.Close()
		return nil, fmt.Errorf("db: open: restrict the file's mode: %w", err)
	}
	return d, nil
}

func openPostgres(ctx context.Context, rawURL string, clk clock.Clock) (*DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errs.E(errs.Invalid, "bad_db_url", "PostgreSQL 地址格式不正确")
	}
	pool, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("db: open the pool: %w", err)
	}
	pool.SetMaxOpenConns(20)
	pool.SetMaxIdleConns(10)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	d := &DB{Dialect: Postgres, Clock: clk, write: pool, read: pool, redacted: u.Redacted(), auditHead: &AuditHead{}}
	if err := d.Ping(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// String names the database without secrets.
func (d *DB) String() string { return d.redacted }

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.write.PingContext(ctx); err != nil {
		return &errs.Error{Kind: errs.Unavailable, Code: "db_unavailable", Op: "db.Ping", Message: "数据库不可用", Err: err}
	}
	return nil
}

// Close closes both pools.
func (d *DB) Close() error {
	d.stmts.close()
	var err error
	if d.ckpt != nil {
		err = d.ckpt.close()
	}
	if e := d.write.Close(); err == nil {
		err = e
	}
	if d.read != d.write {
		if e := d.read.Close(); err == nil {
			err = e
		}
	}
	return err
}

// WithClock returns a view of d whose transactions take their time from
// c: the same pools and audit key, its own cache of prepared statements.
// It is for replaying history through the services (the demo city's two
// weeks); never Close a view, since the pools are d's.
func (d *DB) WithClock(c clock.Clock) *DB {
	return &DB{Dialect: d.Dialect, Clock: c, Path: d.Path, write: d.write, read: d.read, redacted: d.redacted, AuditKey: d.AuditKey,
		group: d.group, auditHead: d.auditHead}
}

// Tx is a transaction with the time captured once at its start.
type Tx struct {
	*sql.Tx
	Dialect Dialect
	// Now is the transaction's time: every row it writes carries it.
	Now time.Time

	afterCommit []func()
	// grouped: the transaction is shared by a group of writers (group.go),
	// and its statements run without their caller's cancellation.
	grouped   bool
	db        *DB
	pool      *sql.DB
	toPrepare []string
}

// AfterCommit runs f once the transaction has committed (never if it rolls
// back): for in-memory state, such as caches, that must follow the database.
func (tx *Tx) AfterCommit(f func()) { tx.afterCommit = append(tx.afterCommit, f) }

// AuditKey is the audit chain's key of the transaction's database.
func (tx *Tx) AuditKey() AuditKey { return tx.db.AuditKey }

// AuditHead is the remembered head of the transaction's database's audit
// chain (never nil).
func (tx *Tx) AuditHead() *AuditHead {
	if tx.db == nil || tx.db.auditHead == nil {
		return &AuditHead{}
	}
	return tx.db.auditHead
}

// AuditHead remembers the audit chain's head — its last row's seq and
// hash — as this process last moved it, so that internal/audit can append
// without reading the head first. It is only a guess: audit moves the head
// with a statement that checks it, and reads the head row as before when
// the guess is wrong (another instance or handle appended, or the
// transaction that moved it rolled back).
type AuditHead struct {
	v atomic.Pointer[auditHeadValue]
}

type auditHeadValue struct {
	seq  int64
	hash string
}

// Load returns the remembered head (ok false: none yet).
func (h *AuditHead) Load() (seq int64, hash string, ok bool) {
	v := h.v.Load()
	if v == nil {
		return 0, "", false
	}
	return v.seq, v.hash, true
}

// Store remembers the head a transaction moved the chain to.
func (h *AuditHead) Store(seq int64, hash string) { h.v.Store(&auditHeadValue{seq, hash}) }

// AuditKey is the secret of the audit chain's HMAC, as loaded from
// DATA_DIR/audit.key by internal/audit. From is the first row of the chain
// that must be keyed: rows before it were written before the chain had a
// key.
type AuditKey struct {
	Secret []byte
	From   int64
}

// NowMS is Now as stored Unix milliseconds.
func (tx *Tx) NowMS() int64 { return tx.Now.UnixMilli() }

// Write runs fn in a read-write transaction and commits it when fn returns
// nil. A busy database is retried a few times before it is Unavailable.
func (d *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if d.group != nil {
			err = d.groupWrite(ctx, fn)
		} else {
			err = d.run(ctx, d.write, nil, fn)
		}
		if err == nil || !d.Dialect.IsRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 20 * time.Millisecond):
		}
	}
	return &errs.Error{Kind: errs.Unavailable, Code: "db_busy", Op: "db.Write", Message: "系统繁忙，请稍后重试", Err: err}
}

// Read runs fn in a read-only transaction on the read pool: one consistent
// snapshot for everything fn reads.
func (d *DB) Read(ctx context.Context, fn func(*Tx) error) error {
	return d.run(ctx, d.read, &sql.TxOptions{ReadOnly: d.Dialect == Postgres}, fn)
}

func (d *DB) run(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(*Tx) error) (err error) {
	var tx *Tx
	// Statements this transaction ran for the first time are prepared once
	// it has released its connection.
	defer func() {
		if tx != nil {
			for _, q := range tx.toPrepare {
				d.stmts.prepare(context.WithoutCancel(ctx), pool, q)
			}
		}
	}()
	stx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		if d.Dialect.IsRetryable(err) {
			return err
		}
		return &errs.Error{Kind: errs.Unavailable, Code: "db_unavailable", Op: "db.Begin", Message: "数据库不可用", Err: err}
	}
	tx = &Tx{Tx: stx, Dialect: d.Dialect, Now: d.Clock.Now().UTC().Truncate(time.Millisecond), db: d, pool: pool}
	defer func() {
		if p := recover(); p != nil {
			stx.Rollback()
			panic(p)
		}
		if err != nil {
			stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// Exec runs a statement outside a transaction on the write pool (DDL,
// maintenance).
func (d *DB) Exec(ctx context.Context, query string, args ...any) error {
	_, err := d.write.ExecContext(ctx, query, args...)
	return err
}

// WritePool and ReadPool expose the pools to the few kernel pieces that need
// raw access (migrations, backup, benchmarks).
func (d *DB) WritePool() *sql.DB { return d.write }
func (d *DB) ReadPool() *sql.DB  { return d.read }

// ErrNoRows is sql.ErrNoRows, re-exported so stores need not import both.
var ErrNoRows = sql.ErrNoRows

// NotFound turns sql.ErrNoRows into a NotFound error with a user message,
// and anything else into an Internal error with op.
func NotFound(op string, err error, code, msg string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &errs.Error{Kind: errs.NotFound, Code: code, Op: op, Message: msg}
	}
	return errs.Wrap(op, err)
}
