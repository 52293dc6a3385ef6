package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// DefaultSampleBatch is the records of a samples-batch request: the most
// POST /api/v1/rounds/{id}/samples takes.
const DefaultSampleBatch = 1000

// SamplePool is the pool size of the scenarios' tubes: ten residents a
// tube, filled in turn.
const SamplePool = 10

// createdMark is what the answer holds once for each record stored.
var createdMark = []byte(`"status":"created"`)

// samples posts sample records of mass testing (issue 14): samples-one
// one record a request (the object alone), samples-batch an array of
// Options.Batch. Record j of the run (request i holds records i×batch …)
// is resident j mod R (R residents, a whole number of batches of them
// used) in round j div R: every record is a new sample of a resident not
// yet sampled in its round, as long as there are rounds; after the last
// the rounds are used again, whose records answer repeat and count as
// errors. Tubes are of ten, the residents in turn; client ids and tube
// barcodes carry the run id. A request counts as an error unless every
// record of its answer is created.
func (f *format) samples(w *Wire, batch int) (*Wire, error) {
	o := f.o
	switch {
	case len(o.Rounds) == 0 || len(o.Residents) == 0:
		return nil, errors.New("loadgen: the samples scenarios need at least one round and one resident code")
	case batch < 1 || batch > DefaultSampleBatch:
		return nil, fmt.Errorf("loadgen: a batch of samples holds 1 to %d records", DefaultSampleBatch)
	case len(o.Residents) < batch:
		return nil, fmt.Errorf("loadgen: %d residents do not fill one batch of %d", len(o.Residents), batch)
	case !runIDPattern.MatchString(o.RunID):
		return nil, errors.New("loadgen: the run id may hold letters, digits, - and _, at most 20")
	}
	if o.RunID == "" {
		o.RunID = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	for _, r := range append(append([]string{}, o.Rounds...), o.Residents...) {
		if r == "" || url.PathEscape(r) != r || bytes.ContainsAny([]byte(r), `"\`) {
			return nil, fmt.Errorf("loadgen: round ids and resident codes are plain tokens, not %q", r)
		}
	}
	heads := make([][]byte, len(o.Rounds))
	for k, r := range o.Rounds {
		heads[k] = f.head(http.MethodPost, "/api/v1/rounds/"+r+"/samples", false)
	}
	// Each resident's part of a record after the client id's digits.
	mid := make([][]byte, len(o.Residents))
	for k, code := range o.Residents {
		mid[k] = fmt.Appendf(nil, `","resident":%q,"tube":"T%s-`, code, o.RunID)
	}
	perRound := int64(len(o.Residents) / batch) // requests a round takes
	start := []byte(`{"client_id":"S` + o.RunID + `-`)
	end := []byte(`","pool_size":` + strconv.Itoa(SamplePool) + `,"mode":"site"}`)
	bufs := sync.Pool{New: func() any { return new([]byte) }}
	w.Label = "POST " + f.prefix + "/api/v1/rounds/{id}/samples"
	w.Append = func(dst []byte, i int64) ([]byte, error) {
		round := (i / perRound) % int64(len(heads))
		first := (i % perRound) * int64(batch) // the request's first resident
		bp := bufs.Get().(*[]byte)
		b := (*bp)[:0]
		if batch > 1 {
			b = append(b, '[')
		}
		for k := range int64(batch) {
			if k > 0 {
				b = append(b, ',')
			}
			j := i*int64(batch) + k // the record of the run
			b = append(b, start...)
			b = strconv.AppendInt(b, j, 10)
			b = append(b, mid[first+k]...)
			b = strconv.AppendInt(b, i/perRound, 10) // each round its own tubes
			b = append(b, '-')
			b = strconv.AppendInt(b, (first+k)/SamplePool, 10)
			b = append(b, end...)
		}
		if batch > 1 {
			b = append(b, ']')
		}
		dst = post(dst, heads[round], b)
		*bp = b
		bufs.Put(bp)
		return dst, nil
	}
	w.Check = func(_ int64, body []byte) error {
		if n := bytes.Count(body, createdMark); n != batch {
			return fmt.Errorf("%d of %d records created: %s", n, batch, notCreated(body))
		}
		return nil
	}
	return w, nil
}

// notCreated is an excerpt of the first record of body not created.
func notCreated(body []byte) []byte {
	const mark = `"status":"`
	for at := 0; ; {
		k := bytes.Index(body[at:], []byte(mark))
		if k < 0 {
			return body[:min(len(body), excerptBytes)]
		}
		at += k
		if !bytes.HasPrefix(body[at:], createdMark) {
			return body[at:min(len(body), at+excerptBytes)]
		}
		at += len(mark)
	}
}
