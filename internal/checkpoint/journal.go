package checkpoint

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/passtoken"
	"tongxin/internal/web"
)

// The scan journal. A checkpoint at peak scans a car every few seconds
// per lane, and the answer must not wait for the database: online scans
// are appended to a journal file in the data directory (one write each,
// before the scan is answered) and moved into
// checkpoint_scans by a loader, up to journalTxRows rows a transaction,
// within journalLoadDelay — or at once when someone reads scans. A scan
// answered is in the journal; a server that stops or crashes loads what
// its journal holds when it starts again. The journal is as durable as
// the SQLite database in WAL mode with synchronous=NORMAL: it survives the
// process, and the operating system writes it to disk in its own time.
//
// Idempotency by client id holds for the log (the loader inserts with ON
// CONFLICT DO NOTHING, so a client id is logged once); the same client
// id again answers the scan first answered while this server remembers it
// (the last recentMax scans).
//
// One server owns a journal directory at a time (an flock on its LOCK
// file); a second process opening the same directory (a command run while
// serve runs) logs its scans straight to the database.

const (
	// A load is a burst of work for the core (some 6 µs a row on SQLite):
	// requests arriving meanwhile queue behind its statements. Loads of
	// at most a transaction, every 20 ms at most, keep the bursts short
	// (loads of 2,048 rows every 100 ms put 15–25 ms at the p99 of scans
	// at half load; these 8–12 ms).
	journalLoadDelay = 20 * time.Millisecond // the longest a scan waits in the journal
	journalLoadRows  = journalTxRows         // rows that start a load at once
	journalTxRows    = 256                   // rows of one loading transaction
	recentMax        = 1 << 15               // remembered answers, per generation
)

// errJournalBusy: another process owns the journal directory.
var errJournalBusy = errors.New("checkpoint: the scan journal is in use by another process")

type journal struct {
	dir   string
	db    *db.DB
	shown *shownIDs
	log   *slog.Logger
	lock  *os.File // holds the flock

	mu      sync.Mutex
	w       *segmentFile // the segment being appended to; nil once closed
	path    string       // w's path
	seg     int64
	pending []*scanRow // in w, not yet loaded
	full    []segment  // segments add closed when they filled up, for load to take
	mapSize int        // the length of a new segment's mapping (segmentMapSize; 0: written)
	since   time.Time  // when the first pending row was written
	buf     []byte
	defs    map[string]uint32 // what codes showed, numbered in w (journalRec.Def)
	recent  recentScans

	loadMu sync.Mutex // one load at a time
	closed []segment  // closed segments not yet loaded, oldest first
	queued atomic.Int64

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

// segment is a closed journal file and its rows.
type segment struct {
	path string
	rows []*scanRow
	live bool // rows of the file still being written, which stays
}

// journalRec is a journal line: "crc32c-hex JSON\n", a scan, or what a
// code showed, numbered (Def) for the scans after it in the same file to
// name (Ref). A pass's content is some 200 bytes, the same for every scan
// of it: written once per file rather than on each of its scans' lines,
// the journal takes a third of the pages, of the page faults and of the
// writing back to disk (docs/benchmarks.md). A scan's line of a file
// written before holds the content itself (Pass).
type journalRec struct {
	Def        uint32           `json:"d,omitempty"` // a line numbering Pass for the file
	Checkpoint int64            `json:"c"`
	ClientID   string           `json:"id"`
	Pass       json.RawMessage  `json:"p,omitempty"`
	Ref        uint32           `json:"v,omitempty"` // Pass is the file's content numbered Ref
	Reason     passtoken.Reason `json:"r"`
	ScannedAt  int64            `json:"s"`
	ReceivedAt int64            `json:"t"`
	Officer    string           `json:"o"`
	Shown      Shown            `json:"k,omitempty"` // "resident" for a resident code; a pass's lines have none
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func segmentName(n int64) string { return fmt.Sprintf("scans-%012d.log", n) }

// openJournal takes dir, loads what an earlier server left in it and
// starts the loader.
func openJournal(ctx context.Context, dir string, d *db.DB, shown *shownIDs, log *slog.Logger) (*journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("checkpoint: scan journal: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: scan journal: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errJournalBusy
		}
		return nil, fmt.Errorf("checkpoint: scan journal lock: %w", err)
	}
	j := &journal{dir: dir, db: d, shown: shown, log: log, lock: lock, mapSize: segmentMapSize, kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	names, err := filepath.Glob(filepath.Join(dir, "scans-*.log"))
	if err != nil {
		j.unlock()
		return nil, fmt.Errorf("checkpoint: scan journal: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(name), "scans-"), ".log"), 10, 64)
		j.seg = max(j.seg, n)
		rows, err := j.readSegment(name)
		if err != nil {
			j.unlock()
			return nil, err
		}
		j.closed = append(j.closed, segment{path: name, rows: rows})
		j.queued.Add(int64(len(rows)))
	}
	if j.w, err = j.create(j.seg + 1); err != nil {
		j.unlock()
		return nil, err
	}
	j.seg++
	j.path = j.w.f.Name()
	if len(j.closed) > 0 {
		if err := j.load(ctx); err != nil {
			log.Error("checkpoint: loading the scan journal left by the last run failed; the loader tries again",
				"err", err.Error())
		} else {
			log.Info("checkpoint: scan journal left by the last run loaded", "segments", len(names))
		}
	}
	go j.run()
	return j, nil
}

func (j *journal) create(n int64) (*segmentFile, error) {
	return createSegment(filepath.Join(j.dir, segmentName(n)), j.mapSize)
}

// next starts the next segment, the one being appended to ending with
// its rows not yet loaded for load to take — none, maybe, but load
// removes the file, after any of its rows an earlier load took and has
// not committed yet. j.mu is held. It answers the ended file for the
// caller to close once it has let j.mu go: unmapping and cutting a file
// take about a millisecond, which every scan would wait for.
func (j *journal) next() (*segmentFile, error) {
	w, err := j.create(j.seg + 1)
	if err != nil {
		return nil, err
	}
	old := j.w
	j.full = append(j.full, segment{path: j.path, rows: j.pending})
	j.w, j.path, j.seg, j.pending = w, w.f.Name(), j.seg+1, nil
	clear(j.defs) // the new file numbers its contents anew
	return old, nil
}

// closeEnded closes a file next ended, logging a failure; nil closes
// nothing.
func (j *journal) closeEnded(s *segmentFile) {
	if s == nil {
		return
	}
	name := filepath.Base(s.f.Name())
	if err := s.close(); err != nil {
		j.log.Error("checkpoint: closing a scan journal file failed", "file", name, "err", err.Error())
	}
}

func (j *journal) unlock() {
	syscall.Flock(int(j.lock.Fd()), syscall.LOCK_UN)
	j.lock.Close()
}

// readSegment reads the scans of a journal file. A line that does not
// check (a write torn by a crash) is skipped and counted in the log.
func (j *journal) readSegment(path string) ([]*scanRow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: scan journal: %w", err)
	}
	var rows []*scanRow
	bad := 0
	defs := journalDefs{}
	for _, line := range journalLines(data) {
		r, ok := decodeJournalLine(line, defs)
		switch {
		case !ok:
			bad++
		case r != nil:
			rows = append(rows, r)
		}
	}
	if bad > 0 {
		j.log.Warn("checkpoint: scan journal lines that do not check were skipped", "file", filepath.Base(path), "lines", bad)
	}
	return rows, nil
}

// journalDefs are the contents a file's lines numbered so far.
type journalDefs map[uint32]json.RawMessage

// decodeJournalLine reads a line of a file whose earlier lines numbered
// defs: a scan, or nil for a line numbering a content (added to defs).
// A line that does not check, or names a content no earlier line
// numbered, is not ok.
func decodeJournalLine(line []byte, defs journalDefs) (*scanRow, bool) {
	if len(line) < 10 || line[8] != ' ' {
		return nil, false
	}
	var sum [4]byte
	if _, err := hex.Decode(sum[:], line[:8]); err != nil {
		return nil, false
	}
	body := line[9:]
	if crc32.Checksum(body, castagnoli) != uint32(sum[0])<<24|uint32(sum[1])<<16|uint32(sum[2])<<8|uint32(sum[3]) {
		return nil, false
	}
	var rec journalRec
	if err := json.Unmarshal(body, &rec); err != nil || !rec.resolve(defs) {
		return nil, false
	}
	if rec.Def != 0 {
		return nil, true
	}
	if rec.ClientID == "" || passtoken.ReasonNames[rec.Reason] == "" {
		return nil, false
	}
	r := &scanRow{checkpoint: rec.Checkpoint, clientID: rec.ClientID, info: rec.Pass, reason: rec.Reason,
		scannedAt: time.UnixMilli(rec.ScannedAt).UTC(), receivedAt: time.UnixMilli(rec.ReceivedAt).UTC(), officer: rec.Officer,
		shown: rec.Shown}
	if rec.Shown != "" && ShownNames[rec.Shown] == "" {
		return nil, false
	}
	if len(rec.Pass) > 0 && string(rec.Pass) != "null" {
		var err error
		if r.claims, r.resident, err = decodeShown(rec.Shown, rec.Pass); err != nil {
			return nil, false
		}
	} else {
		r.info = nil
	}
	return r, true
}

// resolve adds the content a numbering line holds to defs, or puts the
// content a scan's line names in its place; false for a line that does
// either wrongly (a scan's line naming a content no earlier line
// numbered, say).
func (rec *journalRec) resolve(defs journalDefs) bool {
	switch {
	case rec.Def != 0:
		if rec.ClientID != "" || rec.Ref != 0 || len(rec.Pass) == 0 || defs == nil {
			return false
		}
		defs[rec.Def] = rec.Pass
	case rec.Ref != 0:
		p, ok := defs[rec.Ref]
		if !ok || len(rec.Pass) > 0 {
			return false
		}
		rec.Pass = p // shared by the file's scans of it, read only
	}
	return true
}

// appendJournalLine appends r as a journal line. What r's code showed is
// named by ref (journalRec.Ref), preceded by the line numbering it when
// define; with ref 0 the line holds it. The record is written by hand (it
// is on every scan's path); journalRec reads it back.
func appendJournalLine(buf []byte, r *scanRow, ref uint32, define bool) []byte {
	info := r.passJSON()
	if info != nil && ref != 0 && define {
		start := len(buf)
		buf = append(buf, "00000000 "...) // the checksum, once the body is known
		buf = append(buf, `{"d":`...)
		buf = strconv.AppendUint(buf, uint64(ref), 10)
		buf = append(buf, `,"p":`...)
		buf = append(buf, info...)
		buf = endJournalLine(append(buf, '}'), start)
	}
	start := len(buf)
	buf = append(buf, "00000000 "...)
	buf = append(buf, `{"c":`...)
	buf = strconv.AppendInt(buf, r.checkpoint, 10)
	buf = append(buf, `,"id":`...)
	buf = web.AppendJSONString(buf, r.clientID)
	switch {
	case info != nil && ref != 0:
		buf = append(buf, `,"v":`...)
		buf = strconv.AppendUint(buf, uint64(ref), 10)
	case info != nil:
		buf = append(buf, `,"p":`...)
		buf = append(buf, info...)
	}
	buf = append(buf, `,"r":`...)
	buf = web.AppendJSONString(buf, string(r.reason))
	buf = append(buf, `,"s":`...)
	buf = strconv.AppendInt(buf, r.scannedAt.UnixMilli(), 10)
	buf = append(buf, `,"t":`...)
	buf = strconv.AppendInt(buf, r.receivedAt.UnixMilli(), 10)
	buf = append(buf, `,"o":`...)
	buf = web.AppendJSONString(buf, r.officer)
	if r.shown == ShownResident {
		buf = append(buf, `,"k":"resident"`...)
	}
	return endJournalLine(append(buf, '}'), start)
}

// endJournalLine writes the checksum of the line begun at start (its
// eight hex digits and a space, then the body) and ends it.
func endJournalLine(buf []byte, start int) []byte {
	sum := crc32.Checksum(buf[start+9:], castagnoli)
	hex.Encode(buf[start:start+8], []byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
	return append(buf, '\n')
}

// shownRef is the number of what a scan's code showed (info) in the file
// being written, and whether the file numbered it already; 0 for nothing
// shown. j.mu is held.
func (j *journal) shownRef(info []byte) (uint32, bool) {
	if info == nil {
		return 0, true
	}
	if n, ok := j.defs[string(info)]; ok {
		return n, true
	}
	return uint32(len(j.defs) + 1), false
}

// add journals an online scan and answers it (a client id this server
// has answered before answers that scan again, Replayed). An error
// leaves nothing journaled: the caller logs the scan in the database
// instead. Each scan is one write of its own: answering it at once costs
// less than making scans wait for each other to share a write.
func (j *journal) add(now time.Time, row *scanRow) (*Scan, error) {
	now = now.UTC().Truncate(time.Millisecond)
	k := scanKey{row.checkpoint, row.clientID}
	var old *segmentFile
	defer func() { j.closeEnded(old) }() // after j.mu is let go (deferred calls run last first)
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.w == nil {
		return nil, errors.New("checkpoint: the scan journal is closed")
	}
	if s := j.recent.get(k); s != nil {
		return replayed(s), nil
	}
	row.receivedAt = now
	info := row.passJSON()
	ref, known := j.shownRef(info)
	buf := appendJournalLine(j.buf[:0], row, ref, !known)
	if !j.w.room(len(buf)) {
		var err error
		if old, err = j.next(); err != nil {
			return nil, err
		}
		ref, known = j.shownRef(info)
		if buf = appendJournalLine(buf[:0], row, ref, !known); !j.w.room(len(buf)) {
			return nil, errors.New("checkpoint: scan journal: a line longer than a journal file")
		}
	}
	j.buf = buf
	if err := j.w.append(buf); err != nil {
		return nil, err
	}
	if !known {
		if j.defs == nil {
			j.defs = map[string]uint32{}
		}
		j.defs[string(info)] = ref
	}
	out := row.answer(now, false)
	if len(j.pending) == 0 {
		j.since = time.Now()
	}
	j.pending = append(j.pending, row)
	out.encoded = j.recent.put(k, out)
	if j.queued.Add(1) >= journalLoadRows {
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
	return out, nil
}

func replayed(s *Scan) *Scan {
	c := *s
	c.Replayed, c.encoded = true, nil
	return &c
}

// run loads the journal when a scan has waited journalLoadDelay or
// journalLoadRows have gathered, until stopped.
func (j *journal) run() {
	defer close(j.done)
	t := time.NewTicker(journalLoadDelay / 4)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-j.kick:
		case <-t.C:
		}
		j.mu.Lock()
		due := len(j.pending) >= journalLoadRows || len(j.pending) > 0 && time.Since(j.since) >= journalLoadDelay || len(j.full) > 0
		j.mu.Unlock()
		j.loadMu.Lock()
		due = due || len(j.closed) > 0
		j.loadMu.Unlock()
		if !due {
			continue
		}
		if err := j.load(context.Background()); err != nil {
			j.log.Error("checkpoint: loading the scan journal failed; trying again", "err", err.Error())
			select {
			case <-j.stop:
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// sync loads everything journaled so far, so that a read sees every scan
// answered before it.
func (j *journal) sync(ctx context.Context) error {
	if j.queued.Load() == 0 {
		return nil
	}
	return j.load(ctx)
}

// load moves every journaled row not yet loaded into the database,
// oldest first: the segments that filled up, each file removed once its
// rows have committed, then the rows of the one being written, which
// stays (a crash replays its loaded rows too, which add nothing).
func (j *journal) load(ctx context.Context) error {
	j.loadMu.Lock()
	defer j.loadMu.Unlock()
	j.mu.Lock()
	j.closed = append(j.closed, j.full...)
	j.full = nil
	if len(j.pending) > 0 {
		// The file being written stays: it is removed once it has filled
		// up and every row of it has been loaded (its later rows, by a
		// later load, after these). Cutting and removing a file took some
		// milliseconds of the core; a file now holds some ten thousand
		// scans, not the hundreds of one load.
		j.closed = append(j.closed, segment{path: j.path, rows: j.pending, live: true})
		j.pending = nil
	}
	j.mu.Unlock()
	for len(j.closed) > 0 {
		sg := j.closed[0]
		if err := j.insert(ctx, sg); err != nil {
			return err
		}
		if !sg.live {
			if err := os.Remove(sg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
				j.log.Error("checkpoint: removing a loaded scan journal file failed", "file", filepath.Base(sg.path), "err", err.Error())
			}
		}
		j.closed = j.closed[1:]
		j.queued.Add(-int64(len(sg.rows)))
	}
	j.closed = nil
	return nil
}

// insert logs a segment's rows, journalTxRows per transaction (a client
// id already logged adds nothing, so loading twice is harmless). When a
// transaction fails and the database still takes others, its rows are
// tried one by one; a row the database refuses on its own is kept in a
// file beside the journal for the operator rather than block the rest.
func (j *journal) insert(ctx context.Context, sg segment) error {
	return db.Chunks(len(sg.rows), journalTxRows, func(lo, hi int) error {
		rows := sg.rows[lo:hi]
		err := j.db.Write(ctx, func(tx *db.Tx) error { return loadScans(ctx, tx, j.shown, rows) })
		if err != nil {
			j.shown.forget()
		}
		if err == nil || len(rows) == 1 || ctx.Err() != nil {
			return err
		}
		var refused []*scanRow
		took := 0
		for _, r := range rows {
			if err := j.db.Write(ctx, func(tx *db.Tx) error { return loadScans(ctx, tx, j.shown, []*scanRow{r}) }); err != nil {
				refused = append(refused, r)
				continue
			}
			took++
		}
		if took == 0 {
			return err // the database takes nothing: try again later
		}
		return j.keepRefused(sg.path, refused, err)
	})
}

// keepRefused writes rows the database refused to a .refused file.
func (j *journal) keepRefused(from string, rows []*scanRow, cause error) error {
	var buf []byte
	for _, r := range rows {
		buf = appendJournalLine(buf, r, 0, false) // each line whole: the file is appended to by loads
	}
	name := strings.TrimSuffix(from, ".log") + ".refused"
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("checkpoint: scan journal: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(buf); err != nil {
		return fmt.Errorf("checkpoint: scan journal: %w", err)
	}
	j.log.Error("checkpoint: the database refused journaled scans; they are kept beside the journal",
		"file", filepath.Base(name), "scans", len(rows), "err", cause.Error())
	return nil
}

// close stops the loader, loads what is left and releases the directory.
func (j *journal) close(ctx context.Context) error {
	close(j.stop)
	<-j.done
	err := j.load(ctx)
	j.mu.Lock()
	if j.w != nil {
		if cerr := j.w.close(); cerr != nil {
			j.log.Error("checkpoint: closing a scan journal file failed", "file", filepath.Base(j.path), "err", cerr.Error())
		}
		j.w = nil
		if err == nil && len(j.pending) == 0 {
			os.Remove(j.path)
		}
	}
	j.mu.Unlock()
	j.unlock()
	return err
}
