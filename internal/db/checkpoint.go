package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SQLite's write-ahead log is copied back into the database file by a
// checkpoint. By default the connection that commits does it, every
// thousand pages, and waits for it — with synchronous=NORMAL that is where
// SQLite waits for the disk (fsync), so every writer queued behind it
// waited too: daily reports filed under load left a quarter of the CPU
// idle. The write pool therefore never checkpoints (wal_autocheckpoint
// 0); a connection of its own does, every checkpointEvery, in PASSIVE mode,
// which neither waits for nor blocks writers and readers. journal_size_limit
// keeps the log file from staying large after a burst. The last connection
// to close checkpoints what is left, as always.

// checkpointEvery is how often the checkpointer copies the log back.
const checkpointEvery = 500 * time.Millisecond

// checkpointer runs PASSIVE checkpoints on its own connection until stop
// is closed.
type checkpointer struct {
	pool *sql.DB
	stop chan struct{}
	done chan struct{}
}

// startCheckpointer opens the checkpointing connection on dsn.
func startCheckpointer(dsn string) (*checkpointer, error) {
	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("db: open the checkpointer: %w", err)
	}
	pool.SetMaxOpenConns(1)
	pool.SetMaxIdleConns(1)
	pool.SetConnMaxLifetime(0)
	c := &checkpointer{pool: pool, stop: make(chan struct{}), done: make(chan struct{})}
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
			c.checkpoint()
		}
	}
}

// checkpoint copies what it can of the log back; it reports the frames in
// the log and those copied (tests).
func (c *checkpointer) checkpoint() (log, copied int64, err error) {
	var busy int64
	err = c.pool.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied)
	return log, copied, err
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.pool.Close()
}
