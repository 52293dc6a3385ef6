package pass

import (
	"context"
	"fmt"

	"tongxin/internal/db"
	"tongxin/internal/passtoken"
)

// probe is a row of a batch looking for what its holder already has: a
// person by the blind index of the ID number, a vehicle by its plate, and
// the validity asked for, [from, to) in Unix milliseconds.
type probe struct {
	num      int
	kind     passtoken.Kind
	key      string
	from, to int64
}

// holdKey names a person (kind person, blind index) or a vehicle (kind
// vehicle, plate).
type holdKey struct {
	kind passtoken.Kind
	key  string
}

// holding is what a person or vehicle already has: an active pass (pid
// set), or a row of a batch awaiting review.
type holding struct {
	pid                           string
	batch                         int64
	row                           int
	enterpriseKey, enterpriseName string
	from, to                      int64
}

// holdChunk is how many keys one lookup names: a power of two, well under
// the parameter limits of both databases.
const holdChunk = 512

// findHoldings returns, per person and vehicle of probes, their active
// passes not yet expired at now, of any enterprise, and when pending also
// their rows in batches awaiting review (status submitted), each list in
// order of validity. A person is looked up among person passes only, a
// vehicle among vehicle passes.
func findHoldings(ctx context.Context, tx *db.Tx, probes []probe, now int64, pending bool) (map[holdKey][]holding, error) {
	out := map[holdKey][]holding{}
	for _, k := range []passtoken.Kind{passtoken.Person, passtoken.Vehicle} {
		keys := probeKeys(probes, k)
		err := db.Chunks(len(keys), holdChunk, func(lo, hi int) error {
			return findHoldingsOf(ctx, tx, k, keys[lo:hi], now, pending, out)
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// probeKeys lists the distinct keys of the probes of kind k, in order.
func probeKeys(probes []probe, k passtoken.Kind) []string {
	var keys []string
	seen := map[string]bool{}
	for _, p := range probes {
		if p.kind == k && p.key != "" && !seen[p.key] {
			seen[p.key] = true
			keys = append(keys, p.key)
		}
	}
	return keys
}

// findHoldingsOf adds to out the holdings of the persons or vehicles (k)
// named by keys.
func findHoldingsOf(ctx context.Context, tx *db.Tx, k passtoken.Kind, keys []string, now int64, pending bool,
	out map[holdKey][]holding) error {
	col := "id_idx"
	if k == passtoken.Vehicle {
		col = "plate"
	}
	var args db.Args
	args.Add(string(k))
	args.Add(now)
	in := db.In(&args, keys)
	err := db.Each(ctx, tx, holdingsInto(k, out, func(h *holding) []any {
		return []any{&h.pid, &h.enterpriseKey, &h.enterpriseName, &h.from, &h.to}
	}), `SELECT `+col+`, pid, enterprise_key, enterprise_name, valid_from, valid_to FROM passes
		WHERE kind = $1 AND status = 'active' AND valid_to > $2 AND `+col+` IN `+in+` ORDER BY valid_from, id`, args.List...)
	if err != nil {
		return fmt.Errorf("pass: passes held: %w", err)
	}
	if !pending {
		return nil
	}
	err = db.Each(ctx, tx, holdingsInto(k, out, func(h *holding) []any {
		return []any{&h.batch, &h.row, &h.enterpriseKey, &h.enterpriseName, &h.from, &h.to}
	}), `SELECT r.`+col+`, r.batch_id, r.row_no, b.enterprise_key, b.enterprise_name, r.valid_from, r.valid_to
		FROM pass_batch_rows r JOIN pass_batches b ON b.id = r.batch_id
		WHERE r.kind = $1 AND b.status = 'submitted' AND r.valid_to > $2 AND r.`+col+` IN `+in+`
		ORDER BY r.valid_from, r.batch_id, r.row_no`, args.List...)
	if err != nil {
		return fmt.Errorf("pass: rows pending: %w", err)
	}
	return nil
}

// holdingsInto reads a row of (key, fields…) into out.
func holdingsInto(k passtoken.Kind, out map[holdKey][]holding, fields func(*holding) []any) func(db.Scanner) error {
	return func(sc db.Scanner) error {
		var key string
		var h holding
		if err := sc.Scan(append([]any{&key}, fields(&h)...)...); err != nil {
			return err
		}
		out[holdKey{k, key}] = append(out[holdKey{k, key}], h)
		return nil
	}
}
