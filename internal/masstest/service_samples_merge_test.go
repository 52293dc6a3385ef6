package masstest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"tongxin/internal/db"
)

// Requests merged into one set (SQLite: service_samples_merge.go) answer
// what the same requests one after the other answer: a repeat of a
// resident another request of the set sampled, a client id sent twice,
// a full tube, a resident out of one collector's reach but in another's,
// each sample stored as its own collector's. The kept coverage is the
// coverage rebuilt from the samples.
func TestMergedRequestsAnswerAsOneByOne(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		gu, xin := f.imported(gudaqiao, 11, 1, 1), f.imported(xinhua, 12, 1, 1)
		sys := owner{collector: "system", reach: reach{all: true}}
		worker := owner{collector: "gudaqiao-worker", reach: reach{paths: []string{f.path(gudaqiao)}}}
		reqs := func(tubes string) []*mergeReq {
			rec := func(client string, s seeded, tube string, pool int) SampleInput {
				return SampleInput{ClientID: client, Resident: s.code, Tube: tubes + tube, PoolSize: pool, Mode: AtSite}
			}
			list := []*mergeReq{
				{own: sys, in: []SampleInput{rec("a1", gu[0], "T1", 5), rec("a2", gu[1], "T1", 5), rec("a3", xin[0], "T2", 1)}},
				{own: worker, in: []SampleInput{rec("b1", gu[0], "T3", 5), rec("b2", xin[1], "T3", 5), rec("b3", gu[2], "T1", 5)}},
				{own: sys, in: []SampleInput{rec("a1", gu[0], "T1", 5), rec("c2", xin[2], "T2", 1), rec("c3", gu[3], "T1", 5)}},
				{own: worker, in: []SampleInput{rec("d1", gu[4], "T1", 5), rec("d2", gu[5], "T1", 5), rec("b3", gu[2], "T1", 5)}},
			}
			for _, q := range list {
				q.ok, q.out = make([]bool, len(q.in)), make([]SampleResult, len(q.in))
				for i := range q.in {
					q.out[i], q.ok[i] = q.in[i].validate(f.Clock.Now())
				}
			}
			return list
		}
		one, merged := f.round(street), f.round(street)
		sequential := reqs("S")
		for _, q := range sequential {
			if err := f.DB.Write(f.Ctx, func(tx *db.Tx) error { return f.svc.writeSamples(f.Ctx, tx, one, q.own, nil, q.in, q.ok, q.out) }); err != nil {
				t.Fatal(err)
			}
		}
		set := reqs("M")
		if err := f.DB.Write(f.Ctx, func(tx *db.Tx) error { return f.svc.writeSet(f.Ctx, tx, merged, set) }); err != nil {
			t.Fatal(err)
		}
		for k := range set {
			for i := range set[k].out {
				if got, want := answerOf(set[k].out[i], "M"), answerOf(sequential[k].out[i], "S"); got != want {
					t.Errorf("request %d record %d: merged %s, one by one %s", k, i, got, want)
				}
			}
		}
		if got := answerOf(set[3].out[1], "M"); !strings.HasPrefix(got, "error tube_full") {
			t.Errorf("the sixth sample of a tube of five: %s", got)
		}
		if got := answerOf(set[1].out[1], "M"); !strings.HasPrefix(got, "error out_of_reach") {
			t.Errorf("out of the worker's reach: %s", got)
		}
		if kept, again := f.tallySnapshot(merged.ID), f.rebuilt(merged); kept != again {
			t.Errorf("kept tally\n%s\nrebuilt\n%s", kept, again)
		}
	})
}

// answerOf is what a result says, the tubes' prefix taken off.
func answerOf(r SampleResult, prefix string) string {
	s := r.Status + " " + r.Code
	if r.Sample != nil {
		s += fmt.Sprintf(" %s %s %s %s %d", r.Sample.Resident, strings.TrimPrefix(r.Sample.Tube, prefix), r.Sample.Collector,
			r.Sample.ClientID, r.Sample.PoolSize)
	}
	return s
}

// Single records sent at once on one core are merged (the first request
// lets the others join it), and each request is answered its own record,
// stored under the id it is answered with; a record sent twice under one
// client id is stored once.
func TestConcurrentSingleRecordsMerged(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		people := f.imported(gudaqiao, 13, 1, 2)[:40]
		r := f.round(gudaqiao)
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		type answer struct {
			in  SampleInput
			res SampleResult
			err error
		}
		answers := make([]answer, 2*len(people))
		_, writes0 := f.DB.GroupStats()
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range answers {
			s := people[i%len(people)]
			in := SampleInput{ClientID: "one-" + s.code, Resident: s.code, Tube: fmt.Sprintf("ONE-%d", i%len(people)/10), PoolSize: 10,
				Mode: AtSite}
			wg.Go(func() {
				<-start
				res, err := f.svc.RecordSamples(f.Ctx, f.Sys, fmt.Sprint(r.ID), []SampleInput{in})
				answers[i] = answer{in: in, err: err}
				if err == nil {
					answers[i].res = res[0]
				}
			})
		}
		close(start)
		wg.Wait()
		if _, writes := f.DB.GroupStats(); f.DB.Dialect == db.SQLite && writes-writes0 > int64(len(answers)/4) {
			t.Errorf("%d requests written by %d writers: want them merged", len(answers), writes-writes0)
		}
		stored := f.storedSamples(t, r.ID)
		if len(stored) != len(people) {
			t.Errorf("%d samples stored, want %d", len(stored), len(people))
		}
		for i, a := range answers {
			switch {
			case a.err != nil:
				t.Errorf("request %d: %v", i, a.err)
			case a.res.Status != Created || a.res.Sample == nil || a.res.Sample.ClientID != a.in.ClientID ||
				a.res.Sample.ID != stored[a.in.ClientID]:
				t.Errorf("request %d: %+v, stored as %d", i, a.res, stored[a.in.ClientID])
			}
		}
		if kept, again := f.tallySnapshot(r.ID), f.rebuilt(r); kept != again {
			t.Errorf("kept tally\n%s\nrebuilt\n%s", kept, again)
		}
	})
}
