package zone

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/zonerule"
)

// gateRecheck is how long GateIndex trusts its index before it asks the
// database whether anything changed (another instance's decisions).
const gateRecheck = time.Second

// gateCache is the gate index of this process: the whole snapshot as of
// a sequence number, checked against the database at most once per
// gateRecheck and dropped at once by a change made here.
type gateCache struct {
	mu    sync.Mutex // one refresh at a time
	cur   atomic.Pointer[gateState]
	dirty atomic.Bool
}

type gateState struct {
	idx     *zonerule.Index
	checked time.Time
}

// changed drops the gate index once tx commits.
func (s *Service) changed(tx *db.Tx) { tx.AfterCommit(func() { s.gate.dirty.Store(true) }) }

// fresh reports whether st may answer at now without asking the database.
func (c *gateCache) fresh(st *gateState, now time.Time) bool {
	return st != nil && !c.dirty.Load() && !now.Before(st.checked) && now.Sub(st.checked) < gateRecheck
}

// GateIndex answers the zones and exit permits as estate gates check them
// (the checkpoint module calls it on every gate scan): from memory while
// nothing changed, else rebuilt. A change made by this process is seen at
// once; one made by another instance within gateRecheck (a single-row
// read of the sequence number finds it).
func (s *Service) GateIndex(ctx context.Context) (*zonerule.Index, error) {
	now := s.clock.Now()
	if st := s.gate.cur.Load(); s.gate.fresh(st, now) {
		return st.idx, nil
	}
	s.gate.mu.Lock()
	defer s.gate.mu.Unlock()
	st := s.gate.cur.Load()
	if s.gate.fresh(st, now) {
		return st.idx, nil
	}
	s.gate.dirty.Store(false)
	var idx *zonerule.Index
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		seq, err := currentSeq(ctx, tx)
		if err != nil {
			return err
		}
		if st != nil && st.idx.Snapshot().Seq == seq {
			idx = st.idx
			return nil
		}
		snap, err := fullSnapshot(ctx, tx, now)
		if err != nil {
			return err
		}
		idx = zonerule.NewIndex(snap)
		return nil
	})
	if err != nil {
		s.gate.dirty.Store(true)
		return nil, errs.Wrap("zone.GateIndex", err)
	}
	s.gate.cur.Store(&gateState{idx: idx, checked: now})
	return idx, nil
}

// Snapshot answers what a gate device needs (GET /api/v1/zones/snapshot):
// the zones and permits changed after the sequence number after, or
// everything in force now and later (Full) when after is 0, unknown here
// (ahead of this database) or too far behind. Checkpoint officers read
// it, and whoever reads zones: gates check residents of the whole city.
func (s *Service) Snapshot(ctx context.Context, p *auth.Principal, after int64) (*zonerule.Snapshot, error) {
	const op = "zone.Snapshot"
	if !p.Can(auth.CheckpointScan) {
		if err := auth.Require(p, auth.ZoneRead, op); err != nil {
			return nil, err
		}
	}
	idx, err := s.GateIndex(ctx)
	if err != nil {
		return nil, err
	}
	full := idx.Snapshot()
	switch {
	case after <= 0 || after > full.Seq:
		return full, nil
	case after == full.Seq:
		return &zonerule.Snapshot{Seq: full.Seq, Zones: []zonerule.Zone{}, Permits: []zonerule.Permit{}}, nil
	}
	var out *zonerule.Snapshot
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		out, err = deltaSnapshot(ctx, tx, after, full.Seq)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if out == nil {
		return full, nil
	}
	return out, nil
}

// ParseAfter reads the snapshot's after parameter.
func ParseAfter(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errs.Fields("bad_after", "after 须为非负整数（上次取得的 seq）", errs.FieldError{Field: "after", Message: "须为非负整数"})
	}
	return n, nil
}

// SealedIn names a sealed zone in force at some moment of [from, to) over
// one of the areas at paths, inside it or above it; "" when none is. The
// testing module asks it before a round samples only at sites: a sealed
// zone must be sampled door to door.
func (s *Service) SealedIn(ctx context.Context, paths []string, from, to time.Time) (string, error) {
	if len(paths) == 0 {
		return "", nil
	}
	var z *Zone
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		z, err = sealedDuring(ctx, tx, paths, from, to)
		return err
	})
	if err != nil || z == nil {
		return "", errs.Wrap("zone.SealedIn", err)
	}
	return fmt.Sprintf("%s（%s，决定 #%d %s，%s 起）", z.Target, z.LevelName, z.ID, z.DecisionNo, localTime(z.EffectiveFrom)), nil
}
