package masstest

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"

	"tongxin/internal/db"
)

// A batch is written as a set. SQLite runs one writer at a time, and on
// PostgreSQL the writers of samples take one lock (lockSamples), so what
// a batch reads at its start stays true to its end: it reads the
// residents, the samples already stored under its client ids and of its
// residents, its tubes and its residents' exemptions with one statement
// each, decides every record in memory in order — exactly as the records
// one after the other would be — and writes the new tubes, the samples
// and the exemptions taken back with one statement each, the tubes'
// counts with one a tube. A statement costs more than the rows it carries
// in modernc's SQLite, and is a round trip on PostgreSQL; a record costs
// about one.

// setTube is a tube as a batch fills it.
type setTube struct {
	id, round             int64
	barcode               string
	poolSize, filled, was int
	result                sql.NullString
	fresh                 bool // made by this batch
}

// planned is a sample the batch will store: its record and row.
type planned struct {
	i   int
	in  *SampleInput
	res *residentRow
	row sampleRow
}

// setState is what a batch knows while it decides its records.
type setState struct {
	byCode, byIdx map[string]*residentRow
	prev          map[string]*Sample  // stored under a client id
	first         map[int64]*Sample   // a resident's first sample of the round
	tubes         map[string]*setTube // by barcode
	exempt        map[int64]ExemptReason
	byClient      map[string]*planned // planned under a client id
	firstOf       map[int64]*planned  // planned first samples, by resident
	retests       map[int64]*planned  // planned retest samples, by retest
	plans         []*planned
	refs          map[int]*planned // records that answer a planned sample: created (same client id) or repeat
	repeat        map[int]bool     // of refs, those that are repeats
	untake        []int64          // residents whose exemption goes
	slab          []planned        // the plans' storage, one allocation for the batch
}

// errStoredBefore is a batch's INSERT of samples finding one of them
// stored before (its client id, or its resident's first sample).
var errStoredBefore = errors.New("masstest: a sample of the batch was stored before")

// recordSet stores the batch's valid records (ok) as sets, answering in
// out. Most batches name no sample stored before (a collector's device
// sends each record once, and a resident is sampled once a round), so a
// batch is first decided without reading the round's samples: the
// INSERT's unique indexes (a round's client ids, a round's first sample
// of a resident) check that, and only when one of them finds a sample
// stored before is the attempt rolled back to its savepoint and the batch
// decided again knowing them. Reading them costs about a tenth of a
// batch; the savepoint, two short statements.
func (b *batch) recordSet(ctx context.Context, tx *db.Tx, in []SampleInput, ok []bool, out []SampleResult) error {
	if err := samplesSavepoint(ctx, tx, `SAVEPOINT tongxin_samples`); err != nil {
		return err
	}
	err := b.recordSetAs(ctx, tx, in, ok, out, false)
	if errors.Is(err, errStoredBefore) {
		if err := samplesSavepoint(ctx, tx, `ROLLBACK TO tongxin_samples`); err != nil {
			return err
		}
		b.counts, b.order = map[int64]*hhCount{}, nil
		err = b.recordSetAs(ctx, tx, in, ok, out, true)
	}
	if err != nil {
		return err
	}
	return samplesSavepoint(ctx, tx, `RELEASE tongxin_samples`)
}

// recordSetAs decides and writes the batch, knowing the samples stored
// before under its client ids and of its residents when stored is true,
// assuming there are none otherwise (errStoredBefore when wrong).
func (b *batch) recordSetAs(ctx context.Context, tx *db.Tx, in []SampleInput, ok []bool, out []SampleResult, stored bool) error {
	st, err := b.readSet(ctx, tx, in, ok, stored)
	if err != nil {
		return err
	}
	for i := range in {
		if ok[i] {
			if out[i], err = b.decide(ctx, tx, st, i, &in[i]); err != nil {
				return err
			}
			// A refusal (a full tube, say) may be the record's own sample
			// stored before, which answers instead: decided again knowing.
			if !stored && out[i].Status != "" {
				return errStoredBefore
			}
		}
	}
	ids, err := b.writeSet(ctx, tx, st)
	if err != nil {
		return err
	}
	samples := make([]Sample, len(st.plans)) // one allocation for the answers
	for k, p := range st.plans {
		samples[k] = b.stored(ids[p.in.ClientID], p.row, p.res, p.in)
		out[p.i] = SampleResult{Status: Created, Sample: &samples[k]}
	}
	for i, p := range st.refs {
		out[i] = SampleResult{Status: Created, Sample: out[p.i].Sample}
		if st.repeat[i] {
			out[i].Status = Repeat
		}
	}
	return nil
}

// readSet reads what the batch's records name.
func (b *batch) readSet(ctx context.Context, tx *db.Tx, in []SampleInput, ok []bool, stored bool) (*setState, error) {
	var codes, idxs, clients, barcodes []string
	for i := range in {
		if !ok[i] {
			continue
		}
		if in[i].Resident != "" {
			codes = append(codes, in[i].Resident)
		} else {
			idxs = append(idxs, in[i].IDNumber)
		}
		clients = append(clients, in[i].ClientID)
		// A tube holds up to 20 of the batch's records: named once.
		if n := len(barcodes); n == 0 || barcodes[n-1] != in[i].Tube {
			if !slices.Contains(barcodes[max(0, n-8):], in[i].Tube) {
				barcodes = append(barcodes, in[i].Tube)
			}
		}
	}
	n := len(clients)
	st := &setState{prev: map[string]*Sample{}, first: map[int64]*Sample{}, byClient: make(map[string]*planned, n),
		firstOf: make(map[int64]*planned, n), retests: map[int64]*planned{}, refs: map[int]*planned{}, repeat: map[int]bool{},
		slab: make([]planned, 0, n)}
	var err error
	if st.byCode, err = b.svc.residents.residents(ctx, tx, b.version, byCode, codes); err != nil {
		return nil, err
	}
	if st.byIdx, err = b.svc.residents.residents(ctx, tx, b.version, byIdx, idxs); err != nil {
		return nil, err
	}
	var residents []int64
	for _, m := range []map[string]*residentRow{st.byCode, st.byIdx} {
		for _, r := range m {
			residents = append(residents, r.id)
		}
	}
	if !stored {
		st.exempt, err = coveredIn(ctx, tx, b.round.ID, residents, nil)
		return st, b.readTubes(ctx, tx, st, barcodes, err)
	}
	prev, err := samplesWhereIn(ctx, tx, b.round.ID, "client_id", clients)
	if err != nil {
		return nil, err
	}
	for _, s := range prev {
		st.prev[s.ClientID] = s
	}
	firstIDs := map[int64]int64{}
	exempt, err := coveredIn(ctx, tx, b.round.ID, residents, firstIDs)
	if err != nil {
		return nil, err
	}
	st.exempt = exempt
	if len(firstIDs) > 0 {
		ids := make([]int64, 0, len(firstIDs))
		for _, id := range firstIDs {
			ids = append(ids, id)
		}
		first, err := samplesWhereIn(ctx, tx, b.round.ID, "id", ids)
		if err != nil {
			return nil, err
		}
		for _, s := range first {
			st.first[s.ResidentID] = s
		}
	}
	return st, b.readTubes(ctx, tx, st, barcodes, nil)
}

// readTubes reads the tubes of barcodes into st, unless err.
func (b *batch) readTubes(ctx context.Context, tx *db.Tx, st *setState, barcodes []string, err error) error {
	if err != nil {
		return err
	}
	st.tubes, err = tubesIn(ctx, tx, barcodes)
	return err
}

// decide answers record i as record would, in memory: a refusal, a
// replay or repeat of a stored or planned sample, or a new plan.
func (b *batch) decide(ctx context.Context, tx *db.Tx, st *setState, i int, in *SampleInput) (SampleResult, error) {
	res := st.byCode[in.Resident]
	if in.Resident == "" {
		res = st.byIdx[in.IDNumber]
	}
	if res == nil {
		return refused("unknown_resident", "登记名册中没有该居民"), nil
	}
	if s := st.prev[in.ClientID]; s != nil {
		return SampleResult{Status: Created, Sample: s}, nil
	}
	if p := st.byClient[in.ClientID]; p != nil {
		st.refs[i] = p
		return SampleResult{}, nil
	}
	o := b.ownerOf(i)
	if r, ok := b.check(res, in, o.reach); !ok {
		return r, nil
	}
	var retest sql.NullInt64
	if in.RetestID != 0 {
		if p := st.retests[in.RetestID]; p != nil && p.res.id == res.id {
			st.refs[i], st.repeat[i] = p, true
			return SampleResult{}, nil
		}
		r, ok, err := b.checkRetest(ctx, tx, res, in.RetestID)
		if err != nil || !ok {
			return r, err
		}
		retest = sql.NullInt64{Int64: in.RetestID, Valid: true}
	} else if s := st.first[res.id]; s != nil {
		return SampleResult{Status: Repeat, Sample: s}, nil
	} else if p := st.firstOf[res.id]; p != nil {
		st.refs[i], st.repeat[i] = p, true
		return SampleResult{}, nil
	}
	site, r, ok, err := b.site(ctx, tx, in)
	if err != nil || !ok {
		return r, err
	}
	t := st.tubes[in.Tube]
	if t == nil {
		t = &setTube{round: b.round.ID, barcode: in.Tube, poolSize: in.PoolSize, fresh: true}
		st.tubes[in.Tube] = t
	}
	if r, bad := tubeProblem(b.round.ID, in.PoolSize, t.round, t.poolSize, t.filled, t.result.Valid); bad {
		return r, nil
	}
	t.filled++
	st.slab = append(st.slab, planned{i: i, in: in, res: res, row: sampleRow{round: b.round.ID, resident: res.id, household: res.hh.id,
		mode: in.Mode, site: site, retest: retest, collector: o.collector, clientID: in.ClientID, sampledAt: in.SampledAt.UnixMilli()}})
	p := &st.slab[len(st.slab)-1] // in place: the slab has room for every record
	st.plans = append(st.plans, p)
	st.byClient[in.ClientID] = p
	if retest.Valid {
		st.retests[in.RetestID] = p
		return SampleResult{}, nil
	}
	st.firstOf[res.id] = p
	reason := st.exempt[res.id]
	if reason != "" {
		st.untake = append(st.untake, res.id)
		delete(st.exempt, res.id)
	}
	b.note(res, reason)
	return SampleResult{}, nil
}

// writeSet writes the batch's tubes, samples and exemptions taken back,
// answering the samples' ids by client id.
func (b *batch) writeSet(ctx context.Context, tx *db.Tx, st *setState) (map[string]int64, error) {
	var fresh []*setTube
	for _, p := range st.plans {
		if t := st.tubes[p.in.Tube]; t.fresh && t.id == 0 && !containsTube(fresh, t) {
			fresh = append(fresh, t)
		}
	}
	if err := insertTubes(ctx, tx, b.round.ID, fresh); err != nil {
		return nil, err
	}
	done := map[string]bool{}
	var refilled []*setTube
	rows := make([]sampleRow, len(st.plans))
	for k, p := range st.plans {
		t := st.tubes[p.in.Tube]
		if !t.fresh && !done[t.barcode] {
			done[t.barcode] = true
			refilled = append(refilled, t)
		}
		p.row.tube = t.id
		rows[k] = p.row
	}
	if err := refillTubes(ctx, tx, refilled); err != nil {
		return nil, err
	}
	ids, err := insertSamples(ctx, tx, rows)
	if err != nil {
		return nil, err
	}
	return ids, deleteExemptions(ctx, tx, b.round.ID, st.untake)
}

func containsTube(list []*setTube, t *setTube) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

// tubeProblem says why a sample of a round and pool size cannot go in a
// tube of tRound and tPool holding filled samples; bad false if it can.
func tubeProblem(round int64, pool int, tRound int64, tPool, filled int, hasResult bool) (SampleResult, bool) {
	switch {
	case tRound != round:
		return refused("tube_other_round", "该管码已用于其他轮次"), true
	case tPool != pool:
		return refused("pool_size_mismatch", "该管为 "+strconv.Itoa(tPool)+" 混 1，与提交的混采人数不符"), true
	case hasResult:
		return refused("tube_has_result", "该管已出结果，不能再加样"), true
	case filled >= tPool:
		return refused("tube_full", "该管已满 "+strconv.Itoa(tPool)+" 人"), true
	}
	return SampleResult{}, false
}
