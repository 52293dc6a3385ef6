package pass

import (
	"context"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
	"tongxin/internal/pii"
)

// GetBatch returns a batch with its rows, for a caller who reaches it;
// a reviewer of a batch awaiting review gets each row's Conflict.
func (s *Service) GetBatch(ctx context.Context, p *auth.Principal, id int64) (*Batch, error) {
	const op = "pass.GetBatch"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	b, err := s.batch(ctx, id, true)
	if err == nil && !v.covers(b.EnterpriseKey, b.AreaPath) {
		err = errBatchNotFound()
	}
	// Its reviewer sees what each row's holder already has.
	if err == nil && b.Status == Submitted && p.Covers(auth.PassReview, b.AreaPath) {
		err = s.conflicts(ctx, b)
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return b, nil
}

// BatchFilter selects batches.
type BatchFilter struct {
	Statuses   []BatchStatus
	Enterprise string
	Before     int64 // id cursor
	Limit      int
}

// ListBatches lists the batches the caller reaches, newest first: the
// review queue of a reviewer (status=submitted), an enterprise's own.
func (s *Service) ListBatches(ctx context.Context, p *auth.Principal, f BatchFilter) ([]Batch, error) {
	const op = "pass.ListBatches"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = DefaultListLimit
	}
	var out []Batch
	err = s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = listBatches(ctx, tx, v, f)
		return err
	})
	return out, errs.Wrap(op, err)
}

// BatchPasses lists the passes issued for a batch, with their tokens.
func (s *Service) BatchPasses(ctx context.Context, p *auth.Principal, id int64) ([]Pass, error) {
	const op = "pass.BatchPasses"
	if _, err := s.GetBatchBrief(ctx, p, id); err != nil {
		return nil, err
	}
	list, err := s.passes(ctx, func(tx *db.Tx) ([]sealedPass, error) { return passesOfBatch(ctx, tx, id) }, true)
	return list, errs.Wrap(op, err)
}

// GetBatchBrief is GetBatch without the rows.
func (s *Service) GetBatchBrief(ctx context.Context, p *auth.Principal, id int64) (*Batch, error) {
	const op = "pass.GetBatch"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	b, err := s.batch(ctx, id, false)
	if err == nil && !v.covers(b.EnterpriseKey, b.AreaPath) {
		err = errBatchNotFound()
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return b, nil
}

// GetPass returns a pass with its token, for a caller who reaches it.
func (s *Service) GetPass(ctx context.Context, p *auth.Principal, pid string) (*Pass, error) {
	const op = "pass.GetPass"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	if !validPID(pid) {
		return nil, errs.Wrap(op, errPassNotFound())
	}
	list, err := s.passes(ctx, func(tx *db.Tx) ([]sealedPass, error) { return passByPID(ctx, tx, pid) }, true)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if len(list) == 0 || !v.covers(list[0].EnterpriseKey, list[0].AreaPath) {
		return nil, errs.Wrap(op, errPassNotFound())
	}
	return &list[0], nil
}

// PassFilter selects passes.
type PassFilter struct {
	Enterprise string
	Status     Status
	Batch      int64
	Before     int64 // id cursor
	Limit      int
}

// ListPasses lists the passes the caller reaches, newest first, without
// tokens.
func (s *Service) ListPasses(ctx context.Context, p *auth.Principal, f PassFilter) ([]Pass, error) {
	const op = "pass.ListPasses"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = DefaultListLimit
	}
	now := s.clock.Now().UnixMilli()
	list, err := s.passes(ctx, func(tx *db.Tx) ([]sealedPass, error) { return listPasses(ctx, tx, v, f, now) }, false)
	return list, errs.Wrap(op, err)
}

// Conflict is, for the reviewer of a batch awaiting review, what a row's
// person or vehicle already holds for overlapping days: an active pass or
// a row of another batch awaiting review.
type Conflict struct {
	PID            string    `json:"pid,omitempty"`
	BatchID        int64     `json:"batch_id,omitempty"`
	BatchRow       int       `json:"batch_row,omitempty"`
	Enterprise     string    `json:"enterprise"`
	EnterpriseName string    `json:"enterprise_name"`
	ValidFrom      time.Time `json:"valid_from"`
	ValidTo        time.Time `json:"valid_to"`
	Message        string    `json:"message"`
}

// conflicts fills the Conflict of the rows of a batch awaiting review,
// as of now.
func (s *Service) conflicts(ctx context.Context, b *Batch) error {
	return s.db.Read(ctx, func(tx *db.Tx) error {
		stored, err := loadRows(ctx, tx, b.ID)
		if err != nil {
			return err
		}
		held, err := heldRows(ctx, tx, probesOf(stored), tx.NowMS(), true, b.ID)
		if err != nil {
			return err
		}
		for i := range b.Rows {
			r := &b.Rows[i]
			if hs := held[r.Row]; len(hs) > 0 {
				h := hs[0]
				r.Conflict = &Conflict{PID: h.pid, BatchID: h.batch, BatchRow: h.row, Enterprise: h.enterpriseKey,
					EnterpriseName: h.enterpriseName, ValidFrom: clock.FromMillis(h.from), ValidTo: clock.FromMillis(h.to),
					Message: heldMessage(r.Kind, h)}
			}
		}
		return nil
	})
}

// batch loads a batch, with its rows when withRows, without authorization.
func (s *Service) batch(ctx context.Context, id int64, withRows bool) (*Batch, error) {
	var b *Batch
	var rows []sealedBatchRow
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		b, err = batchByID(ctx, tx, id)
		if noRows(err) {
			return errBatchNotFound()
		}
		if err != nil || !withRows {
			return err
		}
		rows, err = batchRows(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	tp := s.transferPointer(ctx)
	for _, sr := range rows {
		r := sr.BatchRow
		if r.IDNumber, err = s.masked(sr.idEnc, pii.MaskID); err != nil {
			return nil, err
		}
		if r.Phone, err = s.masked(sr.phoneEnc, pii.MaskPhone); err != nil {
			return nil, err
		}
		if r.TransferPoint, err = tp(r.Kind, r.Checkpoints); err != nil {
			return nil, err
		}
		b.Rows = append(b.Rows, r)
	}
	return b, nil
}

// masked opens a sealed value and masks it.
func (s *Service) masked(sealed []byte, mask func(string) string) (string, error) {
	v, err := s.box.Open(sealed)
	if err != nil {
		return "", err
	}
	return mask(v), nil
}

// passes loads the passes read reads, masked, with their status now and
// with tokens when withToken.
func (s *Service) passes(ctx context.Context, read func(tx *db.Tx) ([]sealedPass, error), withToken bool) ([]Pass, error) {
	var list []sealedPass
	now := s.clock.Now()
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		list, err = read(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []Pass
	tp := s.transferPointer(ctx)
	for _, sp := range list {
		p := sp.Pass
		p.Status = statusAt(p.Status, p.ValidTo, now)
		if p.IDNumber, err = s.masked(sp.idEnc, pii.MaskID); err != nil {
			return nil, err
		}
		if p.Phone, err = s.masked(sp.phoneEnc, pii.MaskPhone); err != nil {
			return nil, err
		}
		if !withToken {
			p.Token = ""
		}
		if p.TransferPoint, err = tp(p.Kind, p.Checkpoints); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// transferPointer returns a function naming the transfer point a pass or
// row is limited to reaching: a vehicle's only checkpoint, when the
// registry says it is a transfer point (nil otherwise). The 接驳点 column
// makes such passes; one whose 卡口 names only a transfer point is the
// same pass. Each checkpoint is looked up once per function.
func (s *Service) transferPointer(ctx context.Context) func(passtoken.Kind, []string) (*passtoken.CheckpointInfo, error) {
	seen := map[string]*passtoken.CheckpointInfo{}
	return func(kind passtoken.Kind, cps []string) (*passtoken.CheckpointInfo, error) {
		if s.checkpoints == nil || kind != passtoken.Vehicle || len(cps) != 1 {
			return nil, nil
		}
		if c, ok := seen[cps[0]]; ok {
			return c, nil
		}
		info, err := s.checkpoints.Checkpoint(ctx, cps[0])
		var c *passtoken.CheckpointInfo
		switch {
		case errs.Is(err, errs.NotFound):
		case err != nil:
			return nil, err
		case info.IsTransferPoint():
			c = &info
		}
		seen[cps[0]] = c
		return c, nil
	}
}
