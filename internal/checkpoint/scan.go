package checkpoint

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
	"tongxin/internal/zonerule"
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
	return s.passInfoOf(ctx, token, claims, r), r
}

// newClientID makes a scan id for a device that sent none (such a scan is
// not idempotent): the time in milliseconds, then 80 random bits, so that
// ids follow each other in the log's index as the scan page's do.
func newClientID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:])
	return "srv-" + hex.EncodeToString(b[:])
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
	c, err := s.scanTarget(ctx, p, ref, op)
	if err != nil {
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
		row.clientID = newClientID(now)
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
	var zones *zonerule.Index
	if residentAt(c, in.Token) {
		if zones, err = s.gateIndex(ctx); err != nil {
			return nil, errs.Wrap(op, err)
		}
	}
	out, err := s.scans.submit(ctx, func() *scanRow {
		s.decideInto(ctx, zones, c, in.Token, now, row)
		return row
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// scanTarget is checkpoint ref for p to scan at (from the cache): one of
// its officers, or a manager over its area (canScan).
func (s *Service) scanTarget(ctx context.Context, p *auth.Principal, ref, op string) (*Checkpoint, error) {
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
	return c, nil
}

// scanPageCheckpoint loads checkpoint ref for p's scan page: its officers
// and its managers only, as for Scan; anyone else is told it does not
// exist, or that they are not on duty there.
func (s *Service) scanPageCheckpoint(ctx context.Context, p *auth.Principal, ref string) (*Checkpoint, error) {
	const op = "checkpoint.ScanPage"
	if err := requireScan(p, op); err != nil {
		return nil, err
	}
	id, err := parseID(ref)
	if err != nil {
		return nil, err
	}
	var c *Checkpoint
	if err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		c, err = loadCheckpoint(ctx, tx, id)
		return err
	}); err != nil {
		return nil, errs.Wrap(op, err)
	}
	if err := canScan(p, c, op); err != nil {
		return nil, err
	}
	return c, nil
}

// NumberLookup finds the token of a pass by its short number;
// pass.Verifier satisfies it. A verifier without it refuses scans by number.
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
	if err := checkBatchSize(in); err != nil {
		return nil, err
	}
	c, err := s.scanTarget(ctx, p, ref, op)
	if err != nil {
		return nil, err
	}
	zones, err := s.batchZones(ctx, c, in)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	res, rows := s.decideBatch(ctx, p, c, zones, in)
	// Scans answered online are in the database before the batch, so that
	// a client id logged online answers its stored scan here.
	if err := s.scans.sync(ctx); err != nil {
		return nil, errs.Wrap(op, err)
	}
	if err := s.logBatch(ctx, res, rows); err != nil {
		return nil, errs.Wrap(op, err)
	}
	res.count()
	return res, nil
}

// checkBatchSize refuses an empty batch and one over MaxBatchScans.
func checkBatchSize(in BatchInput) error {
	if len(in.Scans) == 0 {
		return errs.Fields("invalid_batch", "没有要上传的扫码记录", errs.FieldError{Field: "scans", Message: "不能为空"})
	}
	if len(in.Scans) > MaxBatchScans {
		return &errs.Error{Kind: errs.TooLarge, Code: "batch_too_large", Message: fmt.Sprintf("一次最多上传 %d 条扫码记录", MaxBatchScans),
			Fields: []errs.FieldError{{Field: "scans", Message: "条数过多"}}}
	}
	return nil
}

// batchZones reads the zone index for a batch at c when it holds
// resident codes to decide (an estate gate); without it the whole batch
// waits (zones_unavailable), rather than lose its resident scans.
func (s *Service) batchZones(ctx context.Context, c *Checkpoint, in BatchInput) (*zonerule.Index, error) {
	for _, sc := range in.Scans {
		if residentAt(c, sc.Token) {
			return s.gateIndex(ctx)
		}
	}
	return nil, nil
}

// decideBatch verifies the items of a batch at c (resident codes by zones):
// the answer with the refused items' errors, and the rows to log (nil for
// a refused item).
func (s *Service) decideBatch(ctx context.Context, p *auth.Principal, c *Checkpoint, zones *zonerule.Index, in BatchInput) (*BatchResult, []*scanRow) {
	now := s.clock.Now()
	res := &BatchResult{Items: make([]BatchItem, len(in.Scans))}
	rows := make([]*scanRow, len(in.Scans))
	for i, sc := range in.Scans {
		id := strings.TrimSpace(sc.ClientID)
		res.Items[i].ClientID = id
		if code, msg := s.batchProblem(id, sc, now); msg != "" {
			res.Items[i].Error = &BatchError{Code: code, Message: msg}
			res.Refused++
			continue
		}
		r := &scanRow{checkpoint: c.ID, clientID: id, scannedAt: *sc.ScannedAt, officer: p.Actor()}
		s.decideInto(ctx, zones, c, sc.Token, *sc.ScannedAt, r)
		rows[i] = r
	}
	return res, rows
}

// batchProblem is why an offline item with client id id cannot be taken
// at now: its code and message, "" when it can.
func (s *Service) batchProblem(id string, sc ScanInput, now time.Time) (code, msg string) {
	code = "invalid_scan"
	if msg = clientIDProblem(id); msg != "" {
		return code, msg
	}
	switch {
	case sc.Number != "":
		msg = "通行证号须联网核验，不能离线上传"
	case sc.ScannedAt == nil:
		msg = "离线扫码须带 scanned_at（设备扫码时间）"
	case sc.ScannedAt.After(now.Add(ClockSkew)):
		msg = "扫码时间晚于服务器时间，请校准设备时钟"
	case sc.ScannedAt.Before(now.Add(-s.maxAge)):
		msg, code = fmt.Sprintf("扫码时间距今超过 %s，已超出离线上传时限，未予受理", hoursOf(s.maxAge)), "scan_too_old"
	}
	return code, msg
}

// logBatch logs the rows of a batch in one transaction and puts their
// scans in res (rows[i] answers res.Items[i]).
func (s *Service) logBatch(ctx context.Context, res *BatchResult, rows []*scanRow) error {
	var take []*scanRow
	var at []int
	for i, r := range rows {
		if r != nil {
			take, at = append(take, r), append(at, i)
		}
	}
	return s.db.Write(ctx, func(tx *db.Tx) error {
		out, err := insertScans(ctx, tx, &s.shown, take, true)
		if err != nil {
			return err
		}
		for j, sc := range out {
			res.Items[at[j]].Scan = sc
		}
		return nil
	})
}

// count counts the items logged now and those logged before.
func (res *BatchResult) count() {
	for _, it := range res.Items {
		switch {
		case it.Scan == nil:
		case it.Scan.Replayed:
			res.Replayed++
		default:
			res.Accepted++
		}
	}
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
		out, err = queryScans(ctx, tx, c.ID, q)
		return err
	})
	if err != nil {
		return nil, nil, errs.Wrap(op, err)
	}
	return c, out, nil
}
