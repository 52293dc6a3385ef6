package checkpoint

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
)

// decide verifies token at c as of at: the verifier's reason (signature,
// key, validity, revocation), then where the pass may be used. Whatever
// the token is, the answer is a reason, never an error.
func (s *Service) decide(ctx context.Context, c *Checkpoint, token string, at time.Time) (*PassInfo, passtoken.Reason) {
	if s.verifier == nil {
		return nil, passtoken.UnknownKey
	}
	claims, r := s.verifier.Verify(ctx, token, at)
	if r == "" || (r == passtoken.OK && claims == nil) {
		r = passtoken.Malformed
	}
	if r == passtoken.OK {
		r = claims.AllowedAt(c.AreaPath, c.Ref())
	}
	info := passInfo(claims, r)
	if info != nil && info.EntName == "" {
		info.EntName = s.entName(ctx, info.Ent)
	}
	return info, r
}

// newClientID makes a scan id for a device that sent none (such a scan is
// not idempotent).
func newClientID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "srv-" + hex.EncodeToString(b)
}

// requireScan checks that p may scan somewhere: an officer (CheckpointScan)
// or a manager.
func requireScan(p *auth.Principal, op string) error {
	if p.Can(auth.CheckpointManage) {
		return nil
	}
	return auth.Require(p, auth.CheckpointScan, op)
}

func errClosed(c *Checkpoint) error {
	return errs.Newf(errs.Conflict, "checkpoint_closed", "卡口「%s」已关闭，不再受理在线扫码", c.Name)
}

// Scan verifies a pass scanned online at checkpoint ref and logs the scan
// before answering. The verdict is as of now (the server's clock, not the
// device's). The same client id again answers the stored scan, without a
// second row. Only the checkpoint's officers and its managers may scan
// there; a closed checkpoint refuses online scans (Conflict).
func (s *Service) Scan(ctx context.Context, p *auth.Principal, ref string, in ScanInput) (*Scan, error) {
	const op = "checkpoint.Scan"
	if err := requireScan(p, op); err != nil {
		return nil, err
	}
	c, err := s.cached(ctx, ref)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if err := canScan(p, c, op); err != nil {
		return nil, err
	}
	if !c.Open {
		return nil, errClosed(c)
	}
	if in.Number != "" {
		if in.Token, err = s.tokenByNumber(ctx, in); err != nil {
			if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Invalid) {
				// Not a scan (no pass was shown), so not in the scan log;
				// but someone trying numbers at a checkpoint is seen.
				s.log.WarnContext(ctx, "checkpoint: a pass number was refused", "checkpoint", c.ID,
					"officer", p.Actor(), "code", errs.As(err).Code)
			}
			return nil, errs.Wrap(op, err)
		}
	}
	now := s.clock.Now()
	row := &scanRow{checkpoint: c.ID, clientID: strings.TrimSpace(in.ClientID), scannedAt: now, officer: p.Actor()}
	if row.clientID == "" {
		row.clientID = newClientID()
	} else if msg := clientIDProblem(row.clientID); msg != "" {
		return nil, errs.Fields("invalid_scan", msg, errs.FieldError{Field: "client_id", Message: msg})
	}
	if in.ScannedAt != nil {
		if in.ScannedAt.After(now.Add(ClockSkew)) {
			return nil, errs.Fields("invalid_scan", "扫码时间晚于服务器时间，请校准设备时钟",
				errs.FieldError{Field: "scanned_at", Message: "晚于服务器时间"})
		}
		row.scannedAt = *in.ScannedAt
	}
	out, err := s.scans.submit(ctx, func() *scanRow {
		row.claims, row.reason = s.decide(ctx, c, in.Token, now)
		return row
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// NumberLookup finds the token of a pass by its short number; the pass
// service satisfies it. A verifier without it refuses scans by number.
type NumberLookup interface {
	TokenByNumber(ctx context.Context, number string) (string, error)
}

// tokenByNumber answers the token of the pass whose number in names: a
// number mistyped (wrong length, check digit) is invalid_pass_number, one
// no pass has is pass_number_not_found; neither is logged, since no pass
// was shown.
func (s *Service) tokenByNumber(ctx context.Context, in ScanInput) (string, error) {
	if strings.TrimSpace(in.Token) != "" {
		return "", errs.Fields("invalid_scan", "token 与 number 只能给一个",
			errs.FieldError{Field: "number", Message: "已给出 token"})
	}
	num, msg := passtoken.NumberProblem(in.Number)
	if msg != "" {
		return "", errs.Fields("invalid_pass_number", msg, errs.FieldError{Field: "number", Message: msg})
	}
	look, ok := s.verifier.(NumberLookup)
	if !ok {
		return "", errs.E(errs.NotFound, "pass_number_not_found", "本服务器不能按通行证号核验")
	}
	return look.TokenByNumber(ctx, num)
}

// ScanBatch logs the scans a device made offline at checkpoint ref, each
// verified as of its scanned_at, all in one transaction. Items already
// logged (by client id) answer their stored scan; items that cannot be
// taken (no client id, no or a future scanned_at; invalid_scan) or were
// scanned longer ago than the offline window (scan_too_old) answer an
// error while the others are logged. A closed checkpoint still takes them:
// they happened.
func (s *Service) ScanBatch(ctx context.Context, p *auth.Principal, ref string, in BatchInput) (*BatchResult, error) {
	const op = "checkpoint.ScanBatch"
	if err := requireScan(p, op); err != nil {
		return nil, err
	}
	if len(in.Scans) == 0 {
		return nil, errs.Fields("invalid_batch", "没有要上传的扫码记录", errs.FieldError{Field: "scans", Message: "不能为空"})
	}
	if len(in.Scans) > MaxBatchScans {
		return nil, &errs.Error{Kind: errs.TooLarge, Code: "batch_too_large", Message: fmt.Sprintf("一次最多上传 %d 条扫码记录", MaxBatchScans),
			Fields: []errs.FieldError{{Field: "scans", Message: "条数过多"}}}
	}
	c, err := s.cached(ctx, ref)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if err := canScan(p, c, op); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	res := &BatchResult{Items: make([]BatchItem, len(in.Scans))}
	rows := make([]*scanRow, len(in.Scans))
	for i, sc := range in.Scans {
		id := strings.TrimSpace(sc.ClientID)
		res.Items[i].ClientID = id
		msg, code := clientIDProblem(id), "invalid_scan"
		switch {
		case msg != "":
		case sc.Number != "":
			msg = "通行证号须联网核验，不能离线上传"
		case sc.ScannedAt == nil:
			msg = "离线扫码须带 scanned_at（设备扫码时间）"
		case sc.ScannedAt.After(now.Add(ClockSkew)):
			msg = "扫码时间晚于服务器时间，请校准设备时钟"
		case sc.ScannedAt.Before(now.Add(-s.maxAge)):
			msg, code = fmt.Sprintf("扫码时间距今超过 %s，已超出离线上传时限，未予受理", hoursOf(s.maxAge)), "scan_too_old"
		}
		if msg != "" {
			res.Items[i].Error = &BatchError{Code: code, Message: msg}
			res.Refused++
			continue
		}
		r := &scanRow{checkpoint: c.ID, clientID: id, scannedAt: *sc.ScannedAt, officer: p.Actor()}
		r.claims, r.reason = s.decide(ctx, c, sc.Token, *sc.ScannedAt)
		rows[i] = r
	}
	// Scans answered online are in the database before the batch, so that
	// a client id logged online answers its stored scan here.
	if err := s.scans.sync(ctx); err != nil {
		return nil, errs.Wrap(op, err)
	}
	var take []*scanRow
	var at []int
	for i, r := range rows {
		if r != nil {
			take, at = append(take, r), append(at, i)
		}
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		out, err := insertScans(ctx, tx, take, true)
		if err != nil {
			return err
		}
		for j, sc := range out {
			res.Items[at[j]].Scan = sc
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	for _, it := range res.Items {
		switch {
		case it.Scan == nil:
		case it.Scan.Replayed:
			res.Replayed++
		default:
			res.Accepted++
		}
	}
	return res, nil
}

// hoursOf writes a window for people: "72 小时", "90 分钟".
func hoursOf(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d 小时", int64(d/time.Hour))
	}
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d 分钟", int64(d/time.Minute))
	}
	return d.String()
}

// ScanQuery narrows a checkpoint's scans.
type ScanQuery struct {
	From, To time.Time // scanned in [From, To); zero: unbounded
	Verdict  Verdict   // "" for both
	Before   int64     // scan ids below this (paging); 0 for the newest
	Limit    int
}

// Scans lists the scans of a checkpoint p may read, newest first.
func (s *Service) Scans(ctx context.Context, p *auth.Principal, ref string, q ScanQuery) (*Checkpoint, []*Scan, error) {
	const op = "checkpoint.Scans"
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 10000)
	if err := s.scans.sync(ctx); err != nil {
		return nil, nil, errs.Wrap(op, err)
	}
	var c *Checkpoint
	var out []*Scan
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		if c, err = s.readable(ctx, tx, p, ref, op); err != nil {
			return err
		}
		var args db.Args
		where := []string{"s.checkpoint_id = " + args.Add(c.ID)}
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
		rows, err := tx.QueryContext(ctx, `SELECT `+scanCols+` FROM checkpoint_scans s WHERE `+strings.Join(where, " AND ")+
			` ORDER BY s.scanned_at DESC, s.id DESC LIMIT `+strconv.Itoa(q.Limit), args.List...)
		if err != nil {
			return fmt.Errorf("checkpoint: scans: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			sc, err := readScan(rows)
			if err != nil {
				return fmt.Errorf("checkpoint: scans: %w", err)
			}
			out = append(out, sc)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, errs.Wrap(op, err)
	}
	return c, out, nil
}

// ---------------------------------------------------------------------
// Group commit

// committer logs online scans: to the journal when the server keeps one
// (journal.go), else with group commit: a request that finds no
// transaction running writes the queue (its own scan first) in one
// transaction; requests arriving meanwhile queue up and are written
// together by the next one. Before a transaction starts, it waits a moment
// (at most maxGather) for the scans being verified right now, so that
// under load one transaction carries many scans rather than one or two.
// Nobody is answered before the transaction holding their scan has
// committed. When a transaction fails, its scans are written again one per
// transaction, so that one bad scan does not fail the others.
type committer struct {
	db      *db.DB
	log     *slog.Logger
	journal atomic.Pointer[journal] // when set, online scans go to the journal instead

	mu     sync.Mutex
	queue  []*scanReq
	busy   bool
	coming int           // scans being decided, to be queued next
	wake   chan struct{} // a scan queued while a writer gathers (buffered, 1)
}

// maxGather bounds how long a transaction waits for scans being decided.
const maxGather = 2 * time.Millisecond

// maxGroup bounds the scans of one transaction, so that writers of other
// tables never wait long behind a group.
const maxGroup = 256

type scanReq struct {
	row  *scanRow
	out  *Scan
	err  error
	done chan struct{}
}

// submit logs the row decide makes and returns its scan once it is in the
// journal, or committed. While decide runs (the pass is verified), a
// writer about to start a transaction waits for it.
func (c *committer) submit(ctx context.Context, decide func() *scanRow) (*Scan, error) {
	if j := c.journal.Load(); j != nil {
		row := decide()
		out, err := j.add(c.db.Clock.Now(), row)
		if err == nil {
			return out, nil
		}
		c.log.Error("checkpoint: scan journal write failed; the scan goes to the database", "err", err.Error())
		decide = func() *scanRow { return row }
	}
	c.mu.Lock()
	c.coming++
	c.mu.Unlock()
	queued := false
	defer func() {
		if !queued { // decide panicked
			c.mu.Lock()
			c.coming--
			c.mu.Unlock()
		}
	}()
	r := &scanReq{row: decide(), done: make(chan struct{})}
	c.mu.Lock()
	c.coming--
	queued = true
	c.queue = append(c.queue, r)
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if c.busy {
		c.mu.Unlock()
		select {
		case <-r.done:
			return r.out, r.err
		case <-ctx.Done():
			// The scan is still written; the caller is gone.
			return nil, ctx.Err()
		}
	}
	c.busy = true
	c.mu.Unlock()
	c.flush()
	// Hand what queued meanwhile to a goroutine, so that this request is
	// answered now rather than after everyone else's.
	c.mu.Lock()
	if len(c.queue) > 0 {
		go c.drain()
	} else {
		c.busy = false
	}
	c.mu.Unlock()
	<-r.done
	return r.out, r.err
}

// drain writes groups until the queue is empty.
func (c *committer) drain() {
	for {
		c.flush()
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.busy = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
}

// gather waits, at most maxGather, until the scans being decided are
// queued (or a group is full).
func (c *committer) gather() {
	var timer *time.Timer
	for {
		c.mu.Lock()
		wait := c.coming > 0 && len(c.queue) < maxGroup
		c.mu.Unlock()
		if !wait {
			return
		}
		if timer == nil {
			timer = time.NewTimer(maxGather)
			defer timer.Stop()
		}
		select {
		case <-c.wake:
		case <-timer.C:
			return
		}
	}
}

// flush writes the head of the queue in one transaction.
func (c *committer) flush() {
	c.gather()
	c.mu.Lock()
	n := min(len(c.queue), maxGroup)
	group := c.queue[:n:n]
	c.queue = c.queue[n:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	c.mu.Unlock()
	if n == 0 {
		return
	}
	// The group's transaction must not die with one request's context.
	ctx := context.Background()
	rows := make([]*scanRow, n)
	for i, r := range group {
		rows[i] = r.row
	}
	err := c.db.Write(ctx, func(tx *db.Tx) error {
		out, err := insertScans(ctx, tx, rows, false)
		for i, r := range group {
			if err == nil {
				r.out = out[i]
			}
		}
		return err
	})
	switch {
	case err == nil:
	case n == 1:
		group[0].out, group[0].err = nil, err
	default:
		c.log.Warn("checkpoint: scan group failed, writing its scans one by one", "scans", n, "err", err.Error())
		for _, r := range group {
			r.out, r.err = nil, c.db.Write(ctx, func(tx *db.Tx) error {
				out, err := insertScans(ctx, tx, []*scanRow{r.row}, false)
				if err == nil {
					r.out = out[0]
				}
				return err
			})
			if r.err != nil {
				r.out = nil
			}
		}
	}
	for _, r := range group {
		close(r.done)
	}
}

// sync makes every scan answered so far readable in the database.
func (c *committer) sync(ctx context.Context) error {
	if j := c.journal.Load(); j != nil {
		return j.sync(ctx)
	}
	return nil
}

// OpenJournal makes online scans go through a journal in dir (see
// journal.go), loading first what an earlier run left there. The server
// calls it once at start and CloseJournal at the end; without it scans
// are written to the database before they are answered. If another
// process holds dir, scans keep going to the database (logged).
func (s *Service) OpenJournal(ctx context.Context, dir string) error {
	j, err := openJournal(ctx, dir, s.db, s.log)
	if errors.Is(err, errJournalBusy) {
		s.log.Info("checkpoint: the scan journal is in use by another process; scans go to the database directly", "dir", dir)
		return nil
	}
	if err != nil {
		return err
	}
	if !s.scans.journal.CompareAndSwap(nil, j) {
		j.close(ctx)
		return errors.New("checkpoint: a scan journal is already open")
	}
	return nil
}

// CloseJournal loads what the journal holds into the database and stops
// journaling (scans go to the database directly from then on).
func (s *Service) CloseJournal(ctx context.Context) error {
	j := s.scans.journal.Swap(nil)
	if j == nil {
		return nil
	}
	return j.close(ctx)
}
