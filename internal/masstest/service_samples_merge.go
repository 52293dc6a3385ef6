package masstest

import (
	"context"
	"errors"
	"sync"

	"tongxin/internal/db"
)

// Requests merged. Collectors' devices send samples one at a
// time; 64 of them at once were 64 writers of one group commit, each a
// dozen statements (its reads, its tube, its sample, its household and
// building) behind a savepoint of its own. Requests into one round that
// arrive while the first of them waits for its turn to write are written
// with it, as one set: their records one after the other, in the order
// the requests came, each checked against its own collector's reach and
// stored as theirs, decided exactly as the requests one by one would have
// been (recordSet), each request answered its own records. What differs: a database error fails every
// request of the set (each retries; a record is idempotent by its client
// id), and a request whose caller goes away while it waits may still be
// written, as with group commit once a writer's turn has come. On
// PostgreSQL, where sets are written one at a time too (lockSamples),
// merging is what lets 64 devices share one commit; each instance merges
// its own requests.

// mergeMax bounds the records of one merged set: a request that would
// take a set past it starts another.
const mergeMax = MaxSampleBatch

type sampleMerger struct {
	mu      sync.Mutex
	pending map[mergeKey]*mergeSet // sets whose write has not started
}

type mergeKey = int64 // the round

// mergeSet is the requests written together.
type mergeSet struct {
	reqs  []*mergeReq
	n     int  // their records
	taken bool // its write started: no request joins it any more
}

type mergeReq struct {
	own  owner
	in   []SampleInput
	ok   []bool
	out  []SampleResult
	err  error
	done chan struct{}
}

func newSampleMerger() *sampleMerger {
	return &sampleMerger{pending: map[mergeKey]*mergeSet{}}
}

// join adds req to the pending set of k, or starts one; lead is true for
// the request that starts it, which writes it.
func (m *sampleMerger) join(k mergeKey, req *mergeReq) (set *mergeSet, lead bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	set = m.pending[k]
	if set == nil || set.n+len(req.in) > mergeMax {
		set, lead = &mergeSet{}, true
		m.pending[k] = set // a full set stays with its leader
	}
	set.reqs = append(set.reqs, req)
	set.n += len(req.in)
	return set, lead
}

// take closes set to new requests and answers its requests.
func (m *sampleMerger) take(k mergeKey, set *mergeSet) []*mergeReq {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !set.taken {
		set.taken = true
		if m.pending[k] == set {
			delete(m.pending, k)
		}
	}
	return set.reqs
}

// mergedWrite writes the valid records (ok) of in, own's, with the
// requests into the same round that join them before the write starts,
// answering in out.
func (s *Service) mergedWrite(ctx context.Context, r *Round, own owner, in []SampleInput, ok []bool, out []SampleResult) error {
	k := r.ID
	req := &mergeReq{own: own, in: in, ok: ok, out: out, done: make(chan struct{})}
	set, lead := s.merge.join(k, req)
	if !lead {
		select {
		case <-req.done:
			return req.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := errors.New("masstest: merged samples not written")
	defer func() {
		// Every request of the set is answered, also when the write
		// panicked (the panic goes on in this goroutine).
		for _, q := range s.merge.take(k, set) {
			if q != req {
				q.err = err
				close(q.done)
			}
		}
	}()
	// Written whatever becomes of this request's caller: the others wait
	// for it.
	err = s.db.Write(context.WithoutCancel(ctx), func(tx *db.Tx) error {
		// The set is taken once the lock is held: on PostgreSQL the
		// requests that come while it is waited for join it.
		if err := lockSamples(ctx, tx); err != nil {
			return err
		}
		return s.writeSet(ctx, tx, r, s.merge.take(k, set))
	})
	return err
}

// writeSet writes the records of reqs as one set, answering each request
// its own; it may run again (a group commit that failed).
func (s *Service) writeSet(ctx context.Context, tx *db.Tx, r *Round, reqs []*mergeReq) error {
	if len(reqs) == 1 {
		q := reqs[0]
		return s.writeSamples(ctx, tx, r, q.own, nil, q.in, q.ok, q.out)
	}
	var in []SampleInput
	var ok []bool
	var out []SampleResult
	var owners []owner
	for _, q := range reqs {
		in, ok, out = append(in, q.in...), append(ok, q.ok...), append(out, q.out...)
		for range q.in {
			owners = append(owners, q.own)
		}
	}
	if err := s.writeSamples(ctx, tx, r, reqs[0].own, owners, in, ok, out); err != nil {
		return err
	}
	at := 0
	for _, q := range reqs {
		at += copy(q.out, out[at:at+len(q.out)])
	}
	return nil
}
