package pass

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// b64 is base64url without padding, as JOSE writes keys and tokens.
var b64 = base64.RawURLEncoding

// Signing keys. The private half of each key lives in
// DATA_DIR/pass-keys/<kid>.key (directory 0700, file 0600), written once and
// never replaced; the public half is a row of pass_keys, so that every
// instance on the same database publishes the same JWK Set. The kid is
// derived from the public key (the first 12 characters of its RFC 7638
// thumbprint), so a key file and its row cannot disagree.

// KeyDirName is the directory of the private keys in the data directory.
const KeyDirName = "pass-keys"

// keyFileMagic opens every key file: "tongxin-pass-key-v1 <base64 seed>\n".
const keyFileMagic = "tongxin-pass-key-v1"

// KeyCacheTTL is how long an instance trusts its in-memory copy of the
// public keys before it reads pass_keys again; a kid it does not know
// (another instance rotated) is looked up at once, at most once a second.
const KeyCacheTTL = 30 * time.Second

// KeyInfo is a signing key as `tongxin keys list` shows it.
type KeyInfo struct {
	Kid        string     `json:"kid"`
	X          string     `json:"x"`
	CreatedAt  time.Time  `json:"created_at"`
	RetiredAt  *time.Time `json:"retired_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastExp    *time.Time `json:"last_exp,omitempty"` // the latest expiry of a pass it signed
	Signing    bool       `json:"signing"`            // the key new passes are signed with
	Published  bool       `json:"published"`          // in the JWK Set now
	HasPrivate bool       `json:"has_private"`        // its private key file is in this data directory
	pub        ed25519.PublicKey
}

// JWK is a public key as RFC 8037 writes it.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

// JWKSet is the published key set.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// Thumbprint is the RFC 7638 thumbprint of an Ed25519 public key: the
// base64url SHA-256 of {"crv":"Ed25519","kty":"OKP","x":"…"}.
func Thumbprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + b64.EncodeToString(pub) + `"}`))
	return b64.EncodeToString(sum[:])
}

// KidOf is the key id of a public key: the first 12 characters of its
// thumbprint.
func KidOf(pub ed25519.PublicKey) string { return Thumbprint(pub)[:12] }

func validKid(kid string) bool {
	if len(kid) != 12 {
		return false
	}
	for _, r := range kid {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// keySnap is one reading of pass_keys.
type keySnap struct {
	at      time.Time // wall time of the reading, for the TTL
	infos   []KeyInfo // newest first
	pub     map[string]ed25519.PublicKey
	revoked map[string]ed25519.PublicKey
}

// keyring caches the public keys for the hot path and the private keys
// for signing.
type keyring struct {
	db       *db.DB
	dir      string
	log      *slog.Logger
	mu       sync.Mutex // one reading at a time
	snap     atomic.Pointer[keySnap]
	lastMiss atomic.Int64 // UnixNano of the last reading caused by an unknown kid
	privMu   sync.Mutex
	priv     map[string]ed25519.PrivateKey
}

func newKeyring(d *db.DB, dataDir string, log *slog.Logger) *keyring {
	return &keyring{db: d, dir: filepath.Join(dataDir, KeyDirName), log: log, priv: map[string]ed25519.PrivateKey{}}
}

// read loads pass_keys.
func (r *keyring) read(ctx context.Context) (*keySnap, error) {
	var infos []KeyInfo
	err := r.db.Read(ctx, func(tx *db.Tx) (err error) {
		infos, err = readKeys(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	s := &keySnap{at: time.Now(), infos: infos, pub: map[string]ed25519.PublicKey{}, revoked: map[string]ed25519.PublicKey{}}
	for _, k := range infos {
		if k.RevokedAt != nil {
			s.revoked[k.Kid] = k.pub
		} else {
			s.pub[k.Kid] = k.pub
		}
	}
	return s, nil
}

// refresh reads pass_keys again and keeps the result.
func (r *keyring) refresh(ctx context.Context) (*keySnap, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := r.read(ctx)
	if err != nil {
		return nil, err
	}
	r.snap.Store(s)
	return s, nil
}

// current is the cached reading, read again when older than KeyCacheTTL.
// While another goroutine reads, the old one is used; a failed reading
// keeps the old one (or an empty one, tried again a second later) and is
// logged.
func (r *keyring) current() *keySnap {
	s := r.snap.Load()
	if s != nil && time.Since(s.at) < KeyCacheTTL {
		return s
	}
	if s == nil {
		r.mu.Lock()
	} else if !r.mu.TryLock() {
		return s
	}
	defer r.mu.Unlock()
	if s2 := r.snap.Load(); s2 != nil && time.Since(s2.at) < KeyCacheTTL {
		return s2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fresh, err := r.read(ctx)
	if err != nil {
		r.log.Error("pass: reading the signing keys failed", "err", err.Error())
		if s == nil {
			s = &keySnap{at: time.Now().Add(time.Second - KeyCacheTTL), pub: map[string]ed25519.PublicKey{},
				revoked: map[string]ed25519.PublicKey{}}
			r.snap.Store(s)
		}
		return s
	}
	r.snap.Store(fresh)
	return fresh
}

// lookup finds a usable (not revoked) public key. An unknown kid reads
// pass_keys again, at most once a second, since another instance may
// have rotated.
func (r *keyring) lookup(kid string) ed25519.PublicKey {
	s := r.current()
	if k, ok := s.pub[kid]; ok {
		return k
	}
	if _, ok := s.revoked[kid]; ok || !validKid(kid) {
		return nil
	}
	now := time.Now().UnixNano()
	last := r.lastMiss.Load()
	if now-last < int64(time.Second) || !r.lastMiss.CompareAndSwap(last, now) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fresh, err := r.refresh(ctx)
	if err != nil {
		r.log.Error("pass: reading the signing keys failed", "err", err.Error())
		return nil
	}
	return fresh.pub[kid]
}

// revokedKey returns the public key of a revoked kid.
func (r *keyring) revokedKey(kid string) (ed25519.PublicKey, bool) {
	k, ok := r.current().revoked[kid]
	return k, ok
}

// published reports whether k belongs in the JWK Set at now: not revoked,
// and signing or with a pass it signed still unexpired.
func published(k KeyInfo, now time.Time) bool {
	if k.RevokedAt != nil {
		return false
	}
	return k.RetiredAt == nil || (k.LastExp != nil && k.LastExp.After(now))
}

// path is the file of kid's private key.
func (r *keyring) path(kid string) string { return filepath.Join(r.dir, kid+".key") }

// private returns kid's private key, read from its file once.
func (r *keyring) private(kid string) (ed25519.PrivateKey, error) {
	r.privMu.Lock()
	defer r.privMu.Unlock()
	if k, ok := r.priv[kid]; ok {
		return k, nil
	}
	k, err := readKeyFile(r.path(kid))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &errs.Error{Kind: errs.Internal, Code: "pass_key_missing", Op: "pass.private",
			Message: "签发密钥文件缺失：多个实例须共享数据目录中的 pass-keys 目录", Err: err}
	}
	if err != nil {
		return nil, err
	}
	if KidOf(k.Public().(ed25519.PublicKey)) != kid {
		return nil, fmt.Errorf("pass: key file %s does not hold key %s", r.path(kid), kid)
	}
	r.priv[kid] = k
	return k, nil
}

// readKeyFile reads a private key file.
func readKeyFile(path string) (ed25519.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 256))
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	line, ok := strings.CutSuffix(string(data), "\n")
	magic, enc, ok2 := strings.Cut(line, " ")
	if !ok || !ok2 || magic != keyFileMagic {
		return nil, fmt.Errorf("key file %s: not a pass key file", path)
	}
	seed, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("key file %s: bad key", path)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// createKey makes a new key and writes its private half to its file,
// never replacing a file (a kid is derived from the key, so a clash is a
// 2^-72 accident, refused).
func (r *keyring) createKey() (string, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", nil, err
	}
	kid := KidOf(pub)
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("pass: key directory: %w", err)
	}
	data := []byte(keyFileMagic + " " + base64.StdEncoding.EncodeToString(priv.Seed()) + "\n")
	tmp, err := os.CreateTemp(r.dir, ".key.tmp-*")
	if err != nil {
		return "", nil, fmt.Errorf("pass: key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	werr := tmp.Chmod(0o600)
	if werr == nil {
		_, werr = tmp.Write(data)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", nil, fmt.Errorf("pass: key file: %w", werr)
	}
	if err := os.Link(tmpName, r.path(kid)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", nil, fmt.Errorf("pass: key file %s exists", r.path(kid))
		}
		// No hard links on this file system: create the file exclusively.
		f, err := os.OpenFile(r.path(kid), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", nil, fmt.Errorf("pass: key file: %w", err)
		}
		_, werr := f.Write(data)
		if werr == nil {
			werr = f.Sync()
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(r.path(kid))
			return "", nil, fmt.Errorf("pass: key file: %w", werr)
		}
	}
	if d, err := os.Open(r.dir); err == nil {
		_ = d.Sync() // best effort: the new entry survives a crash where supported
		d.Close()
	}
	r.privMu.Lock()
	r.priv[kid] = priv
	r.privMu.Unlock()
	return kid, priv, nil
}

// addKey creates a key, retires every other one and stores it, under the
// keys lock; the cache is read again after commit.
func (r *keyring) addKey(ctx context.Context, tx *db.Tx) (string, ed25519.PrivateKey, error) {
	kid, priv, err := r.createKey()
	if err != nil {
		return "", nil, err
	}
	if err := storeKey(ctx, tx, kid, priv.Public().(ed25519.PublicKey)); err != nil {
		return "", nil, err
	}
	tx.AfterCommit(r.refreshLater)
	return kid, priv, nil
}

// refreshLater reads the keys again after a change committed; a failure
// leaves the TTL to do it.
func (r *keyring) refreshLater() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.refresh(ctx); err != nil {
		r.log.Error("pass: reading the signing keys failed", "err", err.Error())
	}
}

// signer returns the signing key, creating the first one on demand.
func (r *keyring) signer(ctx context.Context, tx *db.Tx) (string, ed25519.PrivateKey, error) {
	kid, err := signingKid(ctx, tx)
	if err != nil {
		return "", nil, err
	}
	if kid == "" {
		if err := lock(ctx, tx, "keys"); err != nil {
			return "", nil, err
		}
		if kid, err = signingKid(ctx, tx); err != nil {
			return "", nil, err
		}
		if kid == "" {
			return r.addKey(ctx, tx)
		}
	}
	priv, err := r.private(kid)
	if err != nil {
		return "", nil, err
	}
	return kid, priv, nil
}

// hasPrivate reports whether kid's private key file exists here.
func (r *keyring) hasPrivate(kid string) bool {
	_, err := os.Stat(r.path(kid))
	return err == nil
}

// forget drops a revoked key's private file: a leaked key never signs
// again, here or anywhere sharing the directory.
func (r *keyring) forget(kid string) {
	r.privMu.Lock()
	delete(r.priv, kid)
	r.privMu.Unlock()
	if err := os.Remove(r.path(kid)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		r.log.Error("pass: removing a revoked key file failed", "kid", kid, "err", err.Error())
	}
}
