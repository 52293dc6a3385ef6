package audit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"tongxin/internal/audit"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
)

func brokenAt(t *testing.T, err error, seq int64) {
	t.Helper()
	var be *audit.BrokenError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a BrokenError at row %d", err, seq)
	}
	if be.Seq != seq {
		t.Fatalf("broken at row %d (%s), want %d", be.Seq, be.Reason, seq)
	}
}

func randomSecret() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

func edit(t *testing.T, d *db.DB, seq int) {
	t.Helper()
	if err := d.Exec(context.Background(), `UPDATE audit_log SET summary = '无事发生' WHERE seq = `+strconv.Itoa(seq)); err != nil {
		t.Fatal(err)
	}
}

// An intruder who edits a row and re-hashes it and every later row with
// SHA-256, as the chain was computed before it was keyed, and moves the
// head, is caught at the edited row; so is one who re-hashes with an HMAC
// under a key of their own, and one who rewrites the whole chain as if it
// had never been keyed.
func TestRehashWithoutTheKeyFails(t *testing.T) {
	ctx := context.Background()
	forgeries := []struct {
		name string
		from int
		hash func(*audit.Row) string
		want int64
	}{
		{"plain SHA-256 after an edit", 3, audit.PlainHash, 3},
		{"HMAC under another key", 3, audit.KeyedHash(randomSecret()), 3},
		{"the whole chain as plain SHA-256", 1, audit.PlainHash, 1},
	}
	for _, tc := range forgeries {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
				record(t, d, 5)
				edit(t, d, tc.from)
				if err := audit.Rehash(ctx, d, int64(tc.from), tc.hash); err != nil {
					t.Fatal(err)
				}
				_, err := audit.Verify(ctx, d)
				brokenAt(t, err, tc.want)
			})
		})
	}
}

// A database from before the chain was keyed: its rows keep their plain
// SHA-256 and verify as before, rows after the key's first row are keyed,
// and rewriting old rows cannot be carried past the first keyed row.
func TestUnkeyedRowsBeforeTheKey(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		record(t, d, 3)
		if err := audit.Rehash(ctx, d, 1, audit.PlainHash); err != nil { // as the old code wrote them
			t.Fatal(err)
		}
		d.AuditKey.From = 4
		record(t, d, 3)
		if n, err := audit.Verify(ctx, d); err != nil || n != 6 {
			t.Fatalf("mixed chain: n=%d err=%v", n, err)
		}

		edit(t, d, 2)
		if err := audit.Rehash(ctx, d, 2, audit.PlainHash); err != nil {
			t.Fatal(err)
		}
		_, err := audit.Verify(ctx, d)
		brokenAt(t, err, 4)
	})
}

// An anchor taken earlier catches a chain rewritten up to it, even by
// someone with the key, and a chain truncated and rebuilt; a chain that
// only grew since passes.
func TestVerifyThroughAnAnchor(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		record(t, d, 5)
		a, err := audit.Head(ctx, d)
		if err != nil || a.Seq != 5 {
			t.Fatalf("head: %+v %v", a, err)
		}
		back, err := audit.ParseAnchor(a.String())
		if err != nil || back != a {
			t.Fatalf("anchor %q parses to %+v, %v", a.String(), back, err)
		}
		record(t, d, 3)
		if n, err := audit.Verify(ctx, d, a); err != nil || n != 8 {
			t.Fatalf("grown chain through the anchor: n=%d err=%v", n, err)
		}

		// An insider with the key edits row 2 and re-hashes everything.
		edit(t, d, 2)
		if err := audit.Rehash(ctx, d, 2, audit.KeyedHash(d.AuditKey.Secret)); err != nil {
			t.Fatal(err)
		}
		if _, err := audit.Verify(ctx, d); err != nil {
			t.Fatalf("a rewrite with the key verifies without an anchor (%v): the anchor is what catches it", err)
		}
		_, err = audit.Verify(ctx, d, a)
		brokenAt(t, err, 5)

		// Truncated and rebuilt shorter.
		if err := d.Exec(ctx, `DELETE FROM audit_log`); err != nil {
			t.Fatal(err)
		}
		if err := d.Exec(ctx, `UPDATE audit_head SET seq = 0, hash = '' WHERE id = 1`); err != nil {
			t.Fatal(err)
		}
		record(t, d, 3)
		_, err = audit.Verify(ctx, d, a)
		brokenAt(t, err, 5)
	})
	for _, bad := range []string{"", "5", "x:abc", "-1:abc", "5:", "0:abc"} {
		if _, err := audit.ParseAnchor(bad); err == nil {
			t.Errorf("ParseAnchor(%q) accepted", bad)
		}
	}
}

// The key file: created 0600 on first start, keying the rows after the
// head; loaded again as is; a different key, or none for a keyed chain, is
// refused with a clear error, and Verify with a wrong key says so.
func TestKeyFile(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		record(t, d, 2) // rows written under the test key
		if err := audit.Rehash(ctx, d, 1, audit.PlainHash); err != nil {
			t.Fatal(err) // … as an old version would have: unkeyed
		}
		dir := filepath.Join(t.TempDir(), "data")
		k, err := audit.LoadOrCreateKey(ctx, d, dir)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(dir, audit.KeyFileName))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v mode %v, want 0600", err, st.Mode())
		}
		if k.From != 3 || len(k.Secret) != 32 {
			t.Fatalf("new key: from %d, %d bytes; want from 3, 32 bytes", k.From, len(k.Secret))
		}
		d.AuditKey = k
		record(t, d, 2)
		if n, err := audit.Verify(ctx, d); err != nil || n != 4 {
			t.Fatalf("verify: %d %v", n, err)
		}
		again, err := audit.LoadOrCreateKey(ctx, d, dir)
		if err != nil || string(again.Secret) != string(k.Secret) || again.From != 3 {
			t.Fatalf("second load: %+v %v", again, err)
		}

		_, err = audit.LoadOrCreateKey(ctx, d, t.TempDir())
		if e := errs.As(err); e == nil || e.Code != "audit_key_missing" {
			t.Fatalf("missing key for a keyed chain: %v", err)
		}
		other := t.TempDir()
		if _, err := audit.LoadOrCreateKey(ctx, dbtest.Open(t, "sqlite", nil), other); err != nil {
			t.Fatal(err)
		}
		_, err = audit.LoadOrCreateKey(ctx, d, other)
		if e := errs.As(err); e == nil || e.Code != "audit_key_mismatch" || !strings.Contains(e.Message, "审计密钥不符") {
			t.Fatalf("another instance's key: %v", err)
		}
		d.AuditKey, _ = audit.LoadKey(other)
		d.AuditKey.From = 3
		_, err = audit.Verify(ctx, d)
		brokenAt(t, err, 3)
		if !strings.Contains(err.Error(), "audit.key 不是签名此链的密钥") {
			t.Fatalf("verify with a wrong key must say so: %v", err)
		}

		if err := os.WriteFile(filepath.Join(other, audit.KeyFileName), []byte("tongxin-audit-v1 short 1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := audit.LoadKey(other); errs.As(err) == nil || errs.As(err).Code != "audit_key_bad" {
			t.Fatalf("malformed key file: %v", err)
		}
	})
}

// Without a key nothing is appended.
func TestRecordNeedsTheKey(t *testing.T) {
	d := dbtest.Open(t, "sqlite", nil)
	d.AuditKey = db.AuditKey{}
	ctx := context.Background()
	err := d.Write(ctx, func(tx *db.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{Action: "x.y", ObjectType: "x", ObjectID: "1"})
	})
	if err == nil || !strings.Contains(err.Error(), "audit.key") {
		t.Fatalf("record without a key: %v", err)
	}
}
