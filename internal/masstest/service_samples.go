package masstest

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
	"tongxin/internal/pii"
)

// reach is where a collector may sample: the areas where they hold
// TestingSample, and the areas of the campaign's teams they are in.
type reach struct {
	all   bool
	paths []string
}

func (r reach) covers(path string) bool {
	if r.all {
		return true
	}
	for _, p := range r.paths {
		if within(path, p) {
			return true
		}
	}
	return false
}

// inRound reports whether a household at path is in one of r's areas.
func inRound(r *Round, path string) bool {
	for _, a := range r.Areas {
		if within(path, a.Path) {
			return true
		}
	}
	return false
}

// sampleRound loads the round a collector samples in, and where they may
// sample in it. A round where p may sample nowhere is not found.
func (s *Service) sampleRound(ctx context.Context, tx *db.Tx, p *auth.Principal, ref, op string) (*Round, reach, error) {
	if p == nil {
		return nil, reach{}, auth.Require(p, auth.TestingSample, op)
	}
	id, err := parseRef(ref, errRoundNotFound)
	if err != nil {
		return nil, reach{}, err
	}
	r, err := loadRound(ctx, tx, id, tx.Now)
	if err != nil {
		return nil, reach{}, err
	}
	rc, err := collectorReach(p, r, op, func() ([]string, error) { return teamAreas(ctx, tx, r.CampaignID, p.Username) })
	return r, rc, err
}

// collectorReach is where p samples in round r: the areas where p holds
// TestingSample, and those of p's teams in the campaign (teams reads
// them). A round where p samples nowhere is Forbidden to whoever reads
// it, not found to anyone else.
func collectorReach(p *auth.Principal, r *Round, op string, teams func() ([]string, error)) (reach, error) {
	var rc reach
	paths, all := p.AreaPaths(auth.TestingSample)
	rc.paths, rc.all = append([]string(nil), paths...), all
	if !p.IsSystem() {
		t, err := teams()
		if err != nil {
			return reach{}, err
		}
		rc.paths = append(rc.paths, t...)
	}
	if !rc.all && !overlaps(r, rc.paths) {
		if readsRound(p, r) {
			return reach{}, auth.ErrForbidden(op)
		}
		return reach{}, errRoundNotFound()
	}
	return rc, nil
}

// collectorRound is sampleRound from the round cache, for the samples'
// path: the round and the collector's teams as read within the cache's
// TTL.
func (s *Service) collectorRound(ctx context.Context, p *auth.Principal, ref, op string) (*Round, reach, error) {
	if p == nil {
		return nil, reach{}, auth.Require(p, auth.TestingSample, op)
	}
	id, err := parseRef(ref, errRoundNotFound)
	if err != nil {
		return nil, reach{}, err
	}
	now := s.clock.Now()
	r, err := s.rounds.round(ctx, s.db, id, now)
	if err != nil {
		return nil, reach{}, err
	}
	rc, err := collectorReach(p, r, op, func() ([]string, error) {
		return s.rounds.teamAreas(ctx, s.db, r.CampaignID, p.Username, now)
	})
	return r, rc, err
}

// overlaps reports whether one of paths lies inside or above one of r's
// areas.
func overlaps(r *Round, paths []string) bool {
	for _, a := range r.Areas {
		for _, p := range paths {
			if within(a.Path, p) || within(p, a.Path) {
				return true
			}
		}
	}
	return false
}

// RecordSamples stores a batch of samples of a round, each on its own:
// the answer has one result per record, in order. A record already
// stored under its client id answers what it answered then; a resident
// sampled before in the round answers Repeat with the first sample. The
// stored samples commit together before the answer.
func (s *Service) RecordSamples(ctx context.Context, p *auth.Principal, roundRef string, in []SampleInput) ([]SampleResult, error) {
	const op = "masstest.RecordSamples"
	if len(in) == 0 || len(in) > MaxSampleBatch {
		return nil, errs.E(errs.Invalid, "invalid_batch", "每次提交 1 到 1000 条采样记录")
	}
	out := make([]SampleResult, len(in))
	now := s.clock.Now()
	ok := make([]bool, len(in))
	for i := range in {
		out[i], ok[i] = in[i].validate(now)
		if ok[i] {
			out[i], ok[i] = s.identify(&in[i])
		}
	}
	// The round and the collector's reach are read before the write, on
	// the read pool: the write transaction (one at a time on SQLite)
	// holds only what the samples change, and whether the round has been
	// closed meanwhile.
	r, rc, err := s.collectorRound(ctx, p, roundRef, op)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	own := owner{collector: p.Actor(), reach: rc}
	if err := s.mergedWrite(ctx, r, own, in, ok, out); err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// writeSamples stores the valid records (ok) of in, in round r as own
// (or, when owners is not nil, each as its owner: merged requests),
// answering in out, as a set (service_samples_set.go); the caller holds
// the lock of the samples' writers (lockSamples).
func (s *Service) writeSamples(ctx context.Context, tx *db.Tx, r *Round, own owner, owners []owner, in []SampleInput, ok []bool,
	out []SampleResult) error {
	closed, version, err := roundClosedAt(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	round := *r
	round.ClosedAt = closed
	b := &batch{svc: s, round: &round, owner: own, owners: owners, sites: map[int64]bool{}, now: tx.Now,
		counts: map[int64]*hhCount{}, version: version}
	if err := b.recordSet(ctx, tx, in, ok, out); err != nil {
		return err
	}
	return b.flush(ctx, tx)
}

// identify turns a scanned resident code or an ID number into what the
// register is searched by: Resident (the code's id) or IDNumber (the
// blind index). Signatures are checked here, before the transaction.
func (s *Service) identify(in *SampleInput) (SampleResult, bool) {
	switch {
	case in.Resident != "":
		return SampleResult{}, true
	case strings.TrimSpace(in.ResidentCode) != "":
		if s.codes == nil {
			return refused("bad_resident_code", "居民码无法核验"), false
		}
		c, reason := s.codes.VerifyResident(in.ResidentCode)
		if reason != passtoken.OK {
			return refused("bad_resident_code", "居民码无效："+passtoken.ReasonNames[reason]), false
		}
		if c.RID == c.HH {
			return refused("household_code", "这是户码，请扫描该户成员的居民码"), false
		}
		in.Resident = c.RID
		return SampleResult{}, true
	}
	id, err := pii.NormalizeResidentID(in.IDNumber)
	if err != nil {
		return refused("invalid_id_number", err.Error()), false
	}
	in.IDNumber = s.box.Index(pii.KindResidentID, id)
	return SampleResult{}, true
}

// batch is the state of one request's records in its transaction.
type batch struct {
	svc     *Service
	round   *Round
	owner   owner          // whose records they are
	owners  []owner        // when not nil, whose each record is (requests merged)
	sites   map[int64]bool // site ids of the campaign seen valid
	now     time.Time
	counts  map[int64]*hhCount // what the stored samples change, by household
	order   []int64            // the households of counts, first seen first
	version int64              // the register's version in the transaction (residentCache)
}

// owner is a record's collector and where they may sample.
type owner struct {
	collector string
	reach     reach
}

// ownerOf is whose record i is.
func (b *batch) ownerOf(i int) *owner {
	if b.owners != nil {
		return &b.owners[i]
	}
	return &b.owner
}

// hhCount is what a batch's samples change of one household's counts.
type hhCount struct {
	hh      householdRef
	sampled int
	exempt  map[ExemptReason]int // exemptions the samples took back, by reason (negative)
}

// stored is the sample just inserted, as a read would answer it.
func (b *batch) stored(id int64, row sampleRow, res *residentRow, in *SampleInput) Sample {
	s := Sample{ID: id, RoundID: row.round, ResidentID: res.id, Resident: res.code, Name: res.nameMasked, HouseholdID: res.hh.id,
		Tube: in.Tube, PoolSize: in.PoolSize, Mode: in.Mode, Collector: row.collector, ClientID: in.ClientID, SampledAt: in.SampledAt,
		ReceivedAt: b.now.UTC().Truncate(time.Millisecond)}
	if row.site.Valid {
		site := row.site.Int64
		s.SiteID = &site
	}
	if row.retest.Valid {
		retest := row.retest.Int64
		s.RetestID = &retest
	}
	return s
}

// check holds a sample of res to the round: in its areas, within its
// window, the collector's to take (rc), the resident still registered.
func (b *batch) check(res *residentRow, in *SampleInput, rc reach) (SampleResult, bool) {
	switch {
	case !res.status.InPopulation():
		return refused("resident_not_registered", "该居民已"+StatusNames[res.status]+"，不在本轮名册中"), false
	case !inRound(b.round, res.hh.areaPath):
		return refused("not_in_round", "该居民所在社区不在本轮检测范围内"), false
	case !rc.covers(res.hh.areaPath):
		return refused("out_of_reach", "该居民不在您负责的采样范围内"), false
	case in.RetestID != 0:
		// A retest is taken when the lab asks, in the round's window or after.
	case b.round.ClosedAt != nil || !in.SampledAt.Before(b.round.EndsAt):
		return refused("round_closed", "本轮采样已结束"), false
	case in.SampledAt.Before(b.round.StartsAt):
		return refused("round_not_started", "本轮采样尚未开始"), false
	case in.Mode == AtSite && b.round.Mode == ModeDoor:
		return refused("mode_not_allowed", "本轮为上门采样"), false
	}
	return SampleResult{}, true
}

// checkRetest: the retest is this resident's, in this round, open and
// not yet sampled.
func (b *batch) checkRetest(ctx context.Context, tx *db.Tx, res *residentRow, id int64) (SampleResult, bool, error) {
	rt, ok, err := loadRetest(ctx, tx, id)
	if err != nil || !ok || rt.resident != res.id || rt.round != b.round.ID {
		return refused("retest_not_found", "没有该居民在本轮的复检任务"), false, err
	}
	if rt.done {
		return refused("retest_done", "该复检已有结果或已另行重采"), false, nil
	}
	prev, err := retestSample(ctx, tx, id)
	if err != nil || prev != nil {
		return SampleResult{Status: Repeat, Sample: prev}, false, err
	}
	return SampleResult{}, true, nil
}

// site checks a sample's site: one of the campaign's.
func (b *batch) site(ctx context.Context, tx *db.Tx, in *SampleInput) (sql.NullInt64, SampleResult, bool, error) {
	if in.SiteID == 0 {
		return sql.NullInt64{}, SampleResult{}, true, nil
	}
	if !b.sites[in.SiteID] {
		_, ok, err := loadSite(ctx, tx, b.round.CampaignID, in.SiteID)
		if err != nil || !ok {
			return sql.NullInt64{}, refused("site_not_found", "采样点不属于本次检测任务"), false, err
		}
		b.sites[in.SiteID] = true
	}
	return sql.NullInt64{Int64: in.SiteID, Valid: true}, SampleResult{}, true, nil
}

// note counts a first sample of res, whose exemption for reason (if any)
// was taken back, into the batch's changes.
func (b *batch) note(res *residentRow, reason ExemptReason) {
	c := b.counts[res.hh.id]
	if c == nil {
		c = &hhCount{hh: res.hh, exempt: map[ExemptReason]int{}}
		b.counts[res.hh.id] = c
		b.order = append(b.order, res.hh.id)
	}
	c.sampled++
	if reason != "" {
		c.exempt[reason]--
	}
}

// flush moves each household's counts and each building's row by what
// the batch's samples changed: the households' counts with a statement
// for many, one a building, rather than two a sample.
func (b *batch) flush(ctx context.Context, tx *db.Tx) error {
	type building struct {
		hh *householdRef
		d  tallyDelta
	}
	bumps := make([]*hhBump, len(b.order))
	for i, id := range b.order {
		c := b.counts[id]
		bumps[i] = &hhBump{household: id, ds: c.sampled}
		for _, n := range c.exempt {
			bumps[i].de += n
		}
	}
	if err := bumpHouseholds(ctx, tx, b.round.ID, bumps); err != nil {
		return err
	}
	var buildings []*building
	byKey := map[buildingKey]*building{}
	for i, id := range b.order {
		c, h := b.counts[id], bumps[i]
		d := hhDelta(c.hh.members, h.s0, h.e0, h.s0+h.ds, h.e0+h.de)
		k := buildingKey{c.hh.communityCode, c.hh.areaPath, c.hh.estate, c.hh.building}
		bl := byKey[k]
		if bl == nil {
			bl = &building{hh: &c.hh, d: tallyDelta{exempt: map[ExemptReason]int{}}}
			byKey[k] = bl
			buildings = append(buildings, bl)
		}
		bl.d.sampled += d.sampled
		bl.d.hhSampled += d.hhSampled
		bl.d.hhExempt += d.hhExempt
		for r, n := range c.exempt {
			bl.d.exempt[r] += n
		}
	}
	for _, bl := range buildings {
		if err := applyTally(ctx, tx, b.round.ID, bl.hh, bl.d); err != nil {
			return err
		}
	}
	return nil
}
