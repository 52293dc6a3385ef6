package pass

import (
	"context"
	"testing"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/passtoken"
)

// A pass verified once is remembered, but what changes after — its
// revocation here or by another instance, its key's revocation, the
// clock passing its expiry — still changes the answer.
func TestVerifyRemembersOnlyTheSignature(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		b := f.approve(f.upload(workersCSV(4)).ID)
		passes, err := f.svc.BatchPasses(f.Ctx, f.gxj, b.ID)
		if err != nil || len(passes) != 4 {
			t.Fatalf("passes %d %v", len(passes), err)
		}
		for _, p := range passes {
			if c, r := f.svc.verifier.Verify(f.Ctx, p.Token, testBase); r != passtoken.OK || c.PID != p.PID {
				t.Fatalf("first scan of %s: %s", p.PID, r)
			}
		}
		// Remembered: the second answer needs no signature check, and
		// it is the same claims each time (shared by the token's scans,
		// read only: the checkpoint finds what it logs of a pass by them).
		c, r := f.svc.verifier.Verify(f.Ctx, passes[0].Token, testBase)
		if r != passtoken.OK || c.PID != passes[0].PID {
			t.Fatalf("second scan: %s", r)
		}
		if again, _ := f.svc.verifier.Verify(f.Ctx, passes[0].Token, testBase); again != c {
			t.Fatalf("a remembered pass answered other claims: %+v", again)
		}

		// Revoked here: the very next scan is denied.
		if _, err := f.svc.Revoke(f.Ctx, f.gxj, passes[0].PID, ReasonInput{Reason: "离职"}); err != nil {
			t.Fatal(err)
		}
		if _, r := f.svc.verifier.Verify(f.Ctx, passes[0].Token, testBase); r != passtoken.Revoked {
			t.Fatalf("revoked here, still %s", r)
		}

		// Revoked by another instance on the same database: denied once
		// this instance reads the list again (RevocationRefresh).
		f.svc.verifier.revs.maxAge = 50 * time.Millisecond
		other := f.newService(f.dataDir)
		if _, err := other.Revoke(f.Ctx, f.gxj, passes[1].PID, ReasonInput{Reason: "离职"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(60 * time.Millisecond)
		if _, r := f.svc.verifier.Verify(f.Ctx, passes[1].Token, testBase); r != passtoken.Revoked {
			t.Fatalf("revoked by another instance, still %s", r)
		}

		// The clock passes the validity: expired, remembered or not.
		late := passes[2].ValidTo.Add(time.Second)
		if _, r := f.svc.verifier.Verify(f.Ctx, passes[2].Token, late); r != passtoken.Expired {
			t.Fatalf("after valid_to: %s", r)
		}
		if _, r := f.svc.verifier.Verify(f.Ctx, passes[2].Token, passes[2].ValidFrom.Add(-time.Hour)); r != passtoken.NotYetValid {
			t.Fatalf("before valid_from: %s", r)
		}

		// A changed character is checked, not taken from memory.
		tok := passes[2].Token
		bad := tok[:len(tok)-3] + flip(tok[len(tok)-3]) + tok[len(tok)-2:]
		if _, r := f.svc.verifier.Verify(f.Ctx, bad, testBase); r != passtoken.BadSignature {
			t.Fatalf("flipped signature: %s", r)
		}

		// The key revoked: every pass it signed, remembered or not, is
		// revoked.
		if _, err := f.svc.RevokeKey(f.Ctx, passes[3].Kid, "泄露"); err != nil {
			t.Fatal(err)
		}
		if _, r := f.svc.verifier.Verify(f.Ctx, passes[3].Token, testBase); r != passtoken.Revoked {
			t.Fatalf("key revoked, still %s", r)
		}
	})
}

// With the database gone, Verify answers from the revocation list it
// read last.
func TestVerifyWithoutTheDatabase(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		b := f.approve(f.upload(workersCSV(2)).ID)
		passes, _ := f.svc.BatchPasses(f.Ctx, f.gxj, b.ID)
		if _, err := f.svc.Revoke(f.Ctx, f.gxj, passes[0].PID, ReasonInput{Reason: "离职"}); err != nil {
			t.Fatal(err)
		}
		for _, p := range passes {
			f.svc.verifier.Verify(f.Ctx, p.Token, testBase)
		}
		f.svc.verifier.revs.maxAge = time.Nanosecond
		ctx, cancel := context.WithCancel(f.Ctx)
		cancel() // every read fails now
		if _, r := f.svc.verifier.Verify(ctx, passes[0].Token, testBase); r != passtoken.Revoked {
			t.Fatalf("revoked pass with the list unreadable: %s", r)
		}
		if _, r := f.svc.verifier.Verify(ctx, passes[1].Token, testBase); r != passtoken.OK {
			t.Fatalf("valid pass with the list unreadable: %s", r)
		}
		var n int
		f.DB.Read(f.Ctx, func(tx *db.Tx) error {
			return tx.QueryRowContext(f.Ctx, `SELECT COUNT(*) FROM pass_revocations`).Scan(&n)
		})
		if n != 1 {
			t.Fatalf("revocations %d", n)
		}
	})
}

// A resident code verified once is remembered: checked again it answers
// the same claims (the same pointer: shared by its scans, read only), a
// changed character is still checked, and the key's revocation revokes
// it, remembered or not.
func TestVerifyResidentRemembersOnlyTheSignature(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		v := f.svc.verifier
		toks, err := v.SignResidents(f.Ctx, []passtoken.ResidentClaims{{RID: "R1", HH: "H1", Name: "张*", Area: "430203001001",
			Building: "0123456789abcdef", IAT: testBase.Unix()}})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if c, r := v.VerifyResident(toks[0]); r != passtoken.OK || c.RID != "R1" {
				t.Fatalf("resident code: %v %s", c, r)
			}
		}
		c, _ := v.VerifyResident(toks[0])
		if again, _ := v.VerifyResident(toks[0]); again != c {
			t.Fatal("a remembered code answered other claims")
		}
		tok := toks[0]
		bad := tok[:len(tok)-3] + flip(tok[len(tok)-3]) + tok[len(tok)-2:]
		if _, r := v.VerifyResident(bad); r != passtoken.BadSignature {
			t.Fatalf("flipped signature: %s", r)
		}
		keys, err := f.svc.ListKeys(f.Ctx)
		if err != nil || len(keys) == 0 {
			t.Fatalf("keys: %v", err)
		}
		if _, err := f.svc.RevokeKey(f.Ctx, keys[0].Kid, "泄露"); err != nil {
			t.Fatal(err)
		}
		if _, r := v.VerifyResident(toks[0]); r != passtoken.Revoked {
			t.Fatalf("the key revoked, the remembered code answers %s", r)
		}
	})
}
