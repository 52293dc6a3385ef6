package pass

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"log/slog"
	"time"
	"unsafe"

	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
)

// Verifier checks pass tokens online. It holds what a check reads: the
// public signing keys (and, for the Service that issues, the private
// ones), the revocation list and the tokens already verified. It is built
// before the services that use it, the checkpoint service (scans) and
// the pass Service (which signs with its keys and tells it of
// revocations), so that neither waits for the other.
type Verifier struct {
	db       *db.DB
	keys     *keyring
	revs     *revset                     // the revocation list in memory
	verified *verified[passtoken.Claims] // tokens whose signature Verify has checked
	// residents are the resident codes whose signature VerifyResident
	// has checked (estate gates scan the same codes day after day).
	residents *verified[passtoken.ResidentClaims]
	log       *slog.Logger
}

// VerifierDeps are what a Verifier needs besides the database.
type VerifierDeps struct {
	DataDir string // private keys are kept in DataDir/pass-keys
	Log     *slog.Logger
}

// NewVerifier builds the verifier of one instance: one per process, shared
// by every service that verifies or issues passes.
func NewVerifier(d *db.DB, deps VerifierDeps) *Verifier {
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Verifier{db: d, keys: newKeyring(d, deps.DataDir, log), revs: newRevset(d, log),
		verified: newVerified[passtoken.Claims](), residents: newVerified[passtoken.ResidentClaims](), log: log}
}

// Keys is the in-memory lookup of the public keys that may verify a pass
// (every key not revoked, published or not: a pass of a retired key still
// verifies, and then expires). It reads no file and, within KeyCacheTTL,
// no database; an unknown kid reads pass_keys at most once a second.
func (v *Verifier) Keys() passtoken.Keys { return v.keys.lookup }

// Verify is the online check of a pass token at a moment: the signature
// with a known key, the validity window, and the revocation of the pass.
// A token signed by a revoked key answers Revoked once its signature is
// checked against that key (BadSignature if it does not match), as
// offline verifiers do with the revoked key ids of the revocation list.
// Area and checkpoint limits are the caller's (Claims.AllowedAt).
//
// A pass is scanned many times in its life, so a token whose signature
// has been checked is remembered (by its SHA-256, bounded): scanned
// again, only the key's revocation, the validity window and the
// revocation list are looked at. The revocation list is kept in memory
// (revset): a revocation made here counts at once, one made by another
// instance within RevocationRefresh. If the list cannot be read
// (database down), Verify answers from the last list it read, as an
// offline verifier would, and logs the error.
//
// The claims answered are the caller's to read, not to change: a
// remembered token's are shared by all its scans, the same pointer each
// time (checkpoint keeps what it logs of a pass by it).
func (v *Verifier) Verify(ctx context.Context, token string, at time.Time) (*passtoken.Claims, passtoken.Reason) {
	var sum [sha256.Size]byte
	cacheable := len(token) <= passtoken.MaxTokenLen
	if cacheable {
		sum = tokenSum(token)
		if c, kid, ok := v.verified.get(sum); ok {
			if _, revoked := v.keys.revokedKey(kid); revoked {
				return c, passtoken.Revoked
			}
			return v.validAt(ctx, c, at)
		}
	}
	p, r := passtoken.Parse(token)
	if r != passtoken.OK {
		return nil, r
	}
	if key, revoked := v.keys.revokedKey(p.Header.Kid); revoked {
		if !p.SignedBy(key) {
			return nil, passtoken.BadSignature
		}
		return &p.Claims, passtoken.Revoked
	}
	key := v.keys.lookup(p.Header.Kid)
	if key == nil {
		return &p.Claims, passtoken.UnknownKey
	}
	if !p.SignedBy(key) {
		return nil, passtoken.BadSignature
	}
	if cacheable {
		v.verified.put(sum, &p.Claims, p.Header.Kid)
	}
	return v.validAt(ctx, &p.Claims, at)
}

// tokenSum is the SHA-256 of a token, the key of the caches of verified
// tokens, summed in place rather than from a copy (a pass token is some
// 400 bytes, copied for every scan).
func tokenSum(token string) [sha256.Size]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token))) // read only
}

// validAt finishes Verify for a pass whose signature is good: its
// validity window at at, then the revocation list.
func (v *Verifier) validAt(ctx context.Context, c *passtoken.Claims, at time.Time) (*passtoken.Claims, passtoken.Reason) {
	if r := c.ValidAt(at); r != passtoken.OK {
		return c, r
	}
	revoked, err := v.revs.has(ctx, c.PID)
	if err != nil {
		v.log.ErrorContext(ctx, "pass: reading the revocation list failed", "err", err.Error())
	}
	if revoked {
		return c, passtoken.Revoked
	}
	return c, passtoken.OK
}

// TokenByNumber is the token of the pass numbered number (canonical, as
// NumberProblem answers it), for a scan by number: errs.NotFound when no
// pass has it. Whoever asks may scan; what the scan shows comes from the
// token, verified as any other.
func (v *Verifier) TokenByNumber(ctx context.Context, number string) (string, error) {
	var token string
	err := v.db.Read(ctx, func(tx *db.Tx) (err error) {
		token, err = tokenOfNumber(ctx, tx, number)
		return err
	})
	if noRows(err) {
		return "", errs.E(errs.NotFound, "pass_number_not_found", "没有通行证号为 "+passtoken.FormatNumber(number)+" 的通行证，请核对卡片")
	}
	if err != nil {
		return "", errs.Wrap("pass.TokenByNumber", err)
	}
	return token, nil
}

// revoked makes the next check read the revocation list first: a
// revocation has committed on this instance.
func (v *Verifier) revoked() { v.revs.invalidate() }

// SignResidents signs resident codes (居民码) with the pass signing key,
// creating the first key on demand. A resident code is signed when it is
// printed or shown, and not kept: a revoked key's codes are printed anew.
func (v *Verifier) SignResidents(ctx context.Context, claims []passtoken.ResidentClaims) ([]string, error) {
	out := make([]string, len(claims))
	err := v.db.Write(ctx, func(tx *db.Tx) error {
		kid, priv, err := v.keys.signer(ctx, tx)
		if err != nil {
			return err
		}
		for i, c := range claims {
			if out[i], err = passtoken.SignResident(priv, kid, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap("pass: signing resident codes", err)
	}
	return out, nil
}

// VerifyResident checks a resident code: its signature with a key known
// here; a code of a revoked key answers Revoked. A code whose signature
// has been checked is remembered, as Verify remembers passes: checked
// again, only its key's revocation is looked at. The claims answered are
// the caller's to read, not to change (shared by every scan of the code).
func (v *Verifier) VerifyResident(token string) (*passtoken.ResidentClaims, passtoken.Reason) {
	var sum [sha256.Size]byte
	cacheable := len(token) <= passtoken.MaxTokenLen
	if cacheable {
		sum = tokenSum(token)
		if c, kid, ok := v.residents.get(sum); ok {
			if _, revoked := v.keys.revokedKey(kid); revoked {
				return c, passtoken.Revoked
			}
			return c, passtoken.OK
		}
	}
	c, kid, r := passtoken.VerifyResident(token, v.keys.lookup)
	if r == passtoken.OK && cacheable {
		v.residents.put(sum, c, kid)
	}
	if r == passtoken.UnknownKey {
		if key, revoked := v.keys.revokedKey(kid); revoked {
			if c, _, r = passtoken.VerifyResident(token, func(string) ed25519.PublicKey { return key }); r == passtoken.OK {
				return c, passtoken.Revoked
			}
			return nil, r
		}
	}
	return c, r
}
