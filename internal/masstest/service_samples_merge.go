package masstest

import (
	"context"
	"sync"

	"tongxin/internal/db"
)

// Single-record requests of the same collector and round, arriving
// together (a site's phones, a door-to-door team's queues emptying), are
// written as one batch on SQLite: the first to come writes every request
// waiting behind it in one transaction as one set (recordSet), and answers
// each its own records. SQLite's group commit (db.Write) already puts
// concurrent writers in one transaction, but each still runs its own
// statements; merged, a record costs about what a batched record costs.
// PostgreSQL writes each request in a transaction of its own.

// maxMerged bounds the records of one merged write.
const maxMerged = 2000

// sampleReq is one request's records waiting to be written.
type sampleReq struct {
	in   []SampleInput
	ok   []bool
	out  []SampleResult
	done chan error    // the outcome of the write that held it
	turn chan struct{} // this request writes the next merged batch
}

type mergeKey struct {
	round int64
	actor string
}

type sampleMerger struct {
	mu      sync.Mutex
	pending map[mergeKey][]*sampleReq
	busy    map[mergeKey]bool
}

func newSampleMerger() *sampleMerger {
	return &sampleMerger{pending: map[mergeKey][]*sampleReq{}, busy: map[mergeKey]bool{}}
}

// writeSamples writes req's records, merged with what waits under the
// same round and collector on SQLite.
func (s *Service) writeSamples(ctx context.Context, r *Round, rc reach, actor string, req *sampleReq) error {
	if s.db.Dialect != db.SQLite {
		return s.writeBatch(ctx, r, rc, actor, []*sampleReq{req})
	}
	m, k := s.merger, mergeKey{r.ID, actor}
	req.done, req.turn = make(chan error, 1), make(chan struct{}, 1)
	m.mu.Lock()
	m.pending[k] = append(m.pending[k], req)
	if m.busy[k] {
		m.mu.Unlock()
		select {
		case err := <-req.done:
			return err
		case <-req.turn:
		}
	} else {
		m.busy[k] = true
		m.mu.Unlock()
	}
	// This request writes what waits under k, itself first among them.
	reqs := m.take(k)
	err := s.writeBatch(context.WithoutCancel(ctx), r, rc, actor, reqs)
	for _, x := range reqs {
		if x != req {
			x.done <- err
		}
	}
	m.mu.Lock()
	if next := m.pending[k]; len(next) > 0 {
		next[0].turn <- struct{}{}
	} else {
		delete(m.busy, k)
	}
	m.mu.Unlock()
	if !contains(reqs, req) {
		return <-req.done
	}
	return err
}

// take removes from what waits under k the requests of one write, at
// most maxMerged records (one request at least).
func (m *sampleMerger) take(k mergeKey) []*sampleReq {
	m.mu.Lock()
	defer m.mu.Unlock()
	all := m.pending[k]
	n, records := 0, 0
	for n < len(all) && (n == 0 || records+len(all[n].in) <= maxMerged) {
		records += len(all[n].in)
		n++
	}
	if n == len(all) {
		delete(m.pending, k)
	} else {
		m.pending[k] = all[n:]
	}
	return all[:n:n]
}

func contains(list []*sampleReq, r *sampleReq) bool {
	for _, x := range list {
		if x == r {
			return true
		}
	}
	return false
}

// writeBatch writes the records of reqs in one transaction, in order,
// answering each request's.
func (s *Service) writeBatch(ctx context.Context, r *Round, rc reach, actor string, reqs []*sampleReq) error {
	in, ok, out := reqs[0].in, reqs[0].ok, reqs[0].out
	if len(reqs) > 1 {
		in, ok, out = nil, nil, nil
		for _, x := range reqs {
			in, ok, out = append(in, x.in...), append(ok, x.ok...), append(out, x.out...)
		}
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		closed, err := roundClosedAt(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		round := *r
		round.ClosedAt = closed
		b := &batch{svc: s, round: &round, reach: rc, collector: actor, sites: map[int64]bool{}, now: tx.Now,
			counts: map[int64]*hhCount{}}
		if tx.Dialect == db.SQLite {
			err = b.recordSet(ctx, tx, in, ok, out)
		} else {
			err = b.recordEach(ctx, tx, in, ok, out)
		}
		if err != nil {
			return err
		}
		return b.flush(ctx, tx)
	})
	if err == nil && len(reqs) > 1 {
		at := 0
		for _, x := range reqs {
			copy(x.out, out[at:at+len(x.out)])
			at += len(x.out)
		}
	}
	return err
}
