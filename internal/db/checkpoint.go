package db

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// SQLite's write-ahead log is copied back into the database file by a
// checkpoint. By default the connection that commits does it, every
// thousand pages, and waits for it — with synchronous=NORMAL that is where
// SQLite waits for the disk (fsync), so every writer queued behind it
// waited too: daily reports filed under load left a quarter of the CPU
// idle. The write pool therefore never checkpoints (wal_autocheckpoint
// 0); a connection of its own does, every checkpointEvery, in PASSIVE mode,
// which in SQLite neither waits for nor blocks writers and readers (but
// see writeGroup.txMu below). journal_size_limit
// keeps the log file from staying large after a burst. The last connection
// to close checkpoints what is left, as always.
//
// A checkpoint copies the frames the log held when it began; the log is
// written from its start again only by a transaction that begins after a
// checkpoint copied all of it. Under a steady stream of transactions (the
// scan journal's loader commits every 10–20 ms) some transaction always
// committed while the checkpoint ran, so the log never started again: it
// grew past journal_size_limit within a minute of scans, each page read
// looked through a longer log, and once the stream paused the first
// transaction after a whole checkpoint cut the file back — a truncate of
// tens of megabytes, 12 ms in the kernel, with the server's one processor
// held (a 12 ms stall in the trace of scans at half load). So when a
// checkpoint leaves a log of more than restartFrames, the checkpointer
// copies the rest again holding the write group's transaction lock
// (writeGroup.txMu): it waits for the transaction running, writers wait
// for it (in Go, holding no processor: a copy of what came during the
// first, and the disk's sync), and the next transaction starts the log
// again. Writers are held off only when transactions come too fast for
// the log to start again by itself.

// checkpointEvery is how often the checkpointer copies the log back.
const checkpointEvery = 500 * time.Millisecond

// restartFrames is the length of log (16 MiB of 4 KiB pages) past which a
// checkpoint holds writers off to have the log start again; a variable
// for tests.
var restartFrames int64 = 4096

// checkpointer runs PASSIVE checkpoints on its own connection until stop
// is closed.
type checkpointer struct {
	pool *sql.DB
	txMu *sync.Mutex // writeGroup.txMu
	stop chan struct{}
	done chan struct{}
}

// startCheckpointer opens the checkpointing connection on dsn; it copies
// with txMu held.
func startCheckpointer(dsn string, txMu *sync.Mutex) (*checkpointer, error) {
	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("db: open the checkpointer: %w", err)
	}
	pool.SetMaxOpenConns(1)
	pool.SetMaxIdleConns(1)
	pool.SetConnMaxLifetime(0)
	c := &checkpointer{pool: pool, txMu: txMu, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			withSpareProcessor(func() { c.checkpoint() })
		}
	}
}

// checkpoint copies what it can of the log back; it reports the frames in
// the log and those copied (tests).
func (c *checkpointer) checkpoint() (log, copied int64, err error) {
	if log, copied, err = c.passive(); err != nil || log <= restartFrames {
		return log, copied, err
	}
	c.txMu.Lock()
	defer c.txMu.Unlock()
	return c.passive()
}

// passive runs one PASSIVE checkpoint.
func (c *checkpointer) passive() (log, copied int64, err error) {
	var busy int64
	err = c.pool.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied)
	return log, copied, err
}

// spare counts the goroutines running withSpareProcessor (one
// checkpointer a database: tests open several) and what GOMAXPROCS was
// before the first of them.
var spare struct {
	sync.Mutex
	n, base int
}

// withSpareProcessor runs fn with one processor more than the program
// has. A checkpoint ends in fsync, and a goroutine blocked in a system
// call keeps its processor until the runtime's monitor hands it over —
// up to 10 ms later when the monitor has had nothing to do, which is
// most of the time. On a server given one core (GOMAXPROCS 1) nothing
// else ran meanwhile: those 7–18 ms were the tail of scans' latency at
// half load. With a spare processor requests keep being served while
// the checkpoint waits for the disk (and share the core with it while it
// copies pages). Processors are changed with the world stopped for some
// microseconds, twice a checkpoint; a program whose GOMAXPROCS followed
// its container's CPU limit keeps the value it had.
func withSpareProcessor(fn func()) {
	spare.Lock()
	if spare.n == 0 {
		spare.base = runtime.GOMAXPROCS(0)
		runtime.GOMAXPROCS(spare.base + 1)
	}
	spare.n++
	spare.Unlock()
	defer func() {
		spare.Lock()
		if spare.n--; spare.n == 0 {
			runtime.GOMAXPROCS(spare.base)
		}
		spare.Unlock()
	}()
	fn()
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.pool.Close()
}
