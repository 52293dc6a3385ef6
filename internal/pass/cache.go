package pass

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"tongxin/internal/db"
)

// RevocationRefresh is how old the in-memory revocation list may be
// before Verify reads what was added since (by sequence number). A
// revocation made through this Service counts at once; one made by
// another instance sharing the database counts within this time.
const RevocationRefresh = time.Second

// revset is the revocation list in memory: the revoked pass ids and the
// last sequence number read. It is replaced, never changed, so readers
// need no lock; one refresh runs at a time.
type revset struct {
	db     *db.DB
	log    *slog.Logger
	maxAge time.Duration // RevocationRefresh; shorter in tests
	mu     sync.Mutex    // one refresh at a time
	state  atomic.Pointer[revState]
	stale  atomic.Bool // a revocation committed here since the last read
}

type revState struct {
	seq  int64
	pids map[string]struct{}
	read time.Time // when it was read (the machine's monotonic time)
}

func newRevset(d *db.DB, log *slog.Logger) *revset {
	return &revset{db: d, log: log, maxAge: RevocationRefresh}
}

// invalidate makes the next lookup read the list first (after a
// revocation committed).
func (r *revset) invalidate() { r.stale.Store(true) }

// fresh reports whether st may answer without reading the database.
func (r *revset) fresh(st *revState) bool {
	return st != nil && !r.stale.Load() && time.Since(st.read) < r.maxAge
}

// has reports whether pid is revoked. When the list cannot be read it
// answers from the last list read, with the error.
func (r *revset) has(ctx context.Context, pid string) (bool, error) {
	st := r.state.Load()
	var err error
	if !r.fresh(st) {
		var next *revState
		if next, err = r.refresh(ctx); next != nil {
			st = next
		}
	}
	if st == nil {
		return false, err
	}
	_, revoked := st.pids[pid]
	return revoked, err
}

// refresh reads the revocations added since the last read. The map is
// copied only when something was added.
func (r *revset) refresh(ctx context.Context) (*revState, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.state.Load()
	if r.fresh(old) { // another lookup has just read it
		return old, nil
	}
	r.stale.Store(false) // a revocation committed from now on reads again
	next := &revState{read: time.Now()}
	if old != nil {
		next.seq, next.pids = old.seq, old.pids
	}
	var added []Revocation
	err := r.db.Read(ctx, func(tx *db.Tx) (err error) {
		added, err = revocationsSince(ctx, tx, next.seq)
		return err
	})
	if err != nil {
		r.stale.Store(true)
		return old, fmt.Errorf("pass: revocation list: %w", err)
	}
	if len(added) > 0 || next.pids == nil {
		pids := make(map[string]struct{}, len(next.pids)+len(added))
		for pid := range next.pids {
			pids[pid] = struct{}{}
		}
		for _, v := range added {
			pids[v.PID] = struct{}{}
			next.seq = v.Seq
		}
		next.pids = pids
	}
	r.state.Store(next)
	return next, nil
}

// verifiedMax bounds each of the two generations of verified tokens: at
// most twice this many are remembered (a few hundred bytes each).
const verifiedMax = 1 << 16

// verified remembers the claims of tokens whose signature has been
// checked, by the SHA-256 of the token, in two generations: when the
// newer is full it becomes the older and the older is dropped, so the
// passes scanned lately stay. C is the claims: a pass's, or a resident
// code's (passtoken.ResidentClaims).
type verified[C any] struct {
	mu       sync.Mutex
	cur, old map[[sha256.Size]byte]verifiedEntry[C]
}

type verifiedEntry[C any] struct {
	claims *C // shared by every scan of the token: read only
	kid    string
}

func newVerified[C any]() *verified[C] {
	return &verified[C]{cur: map[[sha256.Size]byte]verifiedEntry[C]{}}
}

// get answers the claims of a token verified before (shared: the
// caller's to read, not to change; a copy was a scan's largest allocation
// after its answer), and the key that signed it.
func (v *verified[C]) get(sum [sha256.Size]byte) (*C, string, bool) {
	v.mu.Lock()
	e, ok := v.cur[sum]
	if !ok {
		if e, ok = v.old[sum]; ok {
			v.add(sum, e)
		}
	}
	v.mu.Unlock()
	if !ok {
		return nil, "", false
	}
	return e.claims, e.kid, true
}

// put remembers a token whose signature is good.
func (v *verified[C]) put(sum [sha256.Size]byte, c *C, kid string) {
	v.mu.Lock()
	v.add(sum, verifiedEntry[C]{claims: c, kid: kid})
	v.mu.Unlock()
}

func (v *verified[C]) add(sum [sha256.Size]byte, e verifiedEntry[C]) {
	if len(v.cur) >= verifiedMax {
		v.old, v.cur = v.cur, make(map[[sha256.Size]byte]verifiedEntry[C], verifiedMax)
	}
	v.cur[sum] = e
}
