package pii

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const (
	keySize = 32 // AES-256 and HMAC-SHA256 key length in bytes

	// KeyFileName is the name of the key file inside the directory given to
	// LoadOrCreate.
	KeyFileName = "pii.key"

	keyFileMagic   = "tongxin-pii-v1"
	keyFileMaxSize = 1024

	sealVersion = 1
	nonceSize   = 12
	tagSize     = 16
)

// Box encrypts personal data at rest and computes blind indexes. It is safe
// for concurrent use.
type Box struct {
	aead   cipher.AEAD // AES-256-GCM with a random nonce prepended
	macKey []byte      // HMAC-SHA256 key of the blind index
}

// NewBox builds a Box from raw keys of 32 bytes each: encKey for
// AES-256-GCM, macKey for the HMAC-SHA256 blind index. The keys are copied.
func NewBox(encKey, macKey []byte) (*Box, error) {
	if len(encKey) != keySize || len(macKey) != keySize {
		return nil, fmt.Errorf("pii: new box: keys must be %d bytes, got %d and %d", keySize, len(encKey), len(macKey))
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("pii: new box: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("pii: new box: %w", err)
	}
	return &Box{aead: aead, macKey: bytes.Clone(macKey)}, nil
}

// LoadOrCreate reads the key file dir/pii.key or, if it does not exist,
// creates it with two random keys (mode 0600; dir is created with mode 0700
// if missing). A key file of the wrong size or format is an error; it is
// never replaced.
//
// The file is one line: "tongxin-pii-v1 <base64 enc key> <base64 mac key>".
func LoadOrCreate(dir string) (*Box, error) {
	const op = "pii: load keys"
	path := filepath.Join(dir, KeyFileName)
	box, err := loadKeyFile(path)
	if err == nil {
		return box, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := createKeyFile(dir, path); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		// Another process created the file first: use its keys.
	}
	box, err = loadKeyFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return box, nil
}

// loadKeyFile reads and parses an existing key file.
func loadKeyFile(path string) (*Box, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, keyFileMaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(data) > keyFileMaxSize {
		return nil, fmt.Errorf("key file %s: too large", path)
	}
	encKey, macKey, err := parseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return NewBox(encKey, macKey)
}

// parseKeyFile decodes the one-line key file format.
func parseKeyFile(data []byte) (encKey, macKey []byte, err error) {
	line, ok := strings.CutSuffix(string(data), "\n")
	if !ok {
		return nil, nil, errors.New("missing final newline")
	}
	line = strings.TrimSuffix(line, "\r")
	fields := strings.Split(line, " ")
	if len(fields) != 3 {
		return nil, nil, fmt.Errorf("want 3 fields, got %d", len(fields))
	}
	if fields[0] != keyFileMagic {
		return nil, nil, errors.New("unknown format version")
	}
	keys := make([][]byte, 2)
	for i, s := range fields[1:] {
		k, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil {
			return nil, nil, fmt.Errorf("key %d: bad base64", i+1)
		}
		if len(k) != keySize {
			return nil, nil, fmt.Errorf("key %d: %d bytes, want %d", i+1, len(k), keySize)
		}
		keys[i] = k
	}
	return keys[0], keys[1], nil
}

// formatKeyFile encodes two keys in the key file format.
func formatKeyFile(encKey, macKey []byte) []byte {
	return []byte(keyFileMagic + " " +
		base64.StdEncoding.EncodeToString(encKey) + " " +
		base64.StdEncoding.EncodeToString(macKey) + "\n")
}

// createKeyFile writes fresh keys to path without ever replacing an existing
// file: the keys go to a private temporary file first, which is then linked
// into place, so no reader sees a half-written key file. It returns an error
// matching fs.ErrExist if path appeared in the meantime.
func createKeyFile(dir, path string) error {
	encKey := make([]byte, keySize)
	macKey := make([]byte, keySize)
	if _, err := rand.Read(encKey); err != nil {
		return err
	}
	if _, err := rand.Read(macKey); err != nil {
		return err
	}
	return CreateSecretFile(dir, path, formatKeyFile(encKey, macKey))
}

// CreateSecretFile writes data to a new file at path (0600) that no reader
// sees half-written: a private temporary file in dir, synced, then linked
// into place. It never replaces a file: if path exists it returns an error
// matching fs.ErrExist. The key files of the data directory (pii.key,
// audit.key) are written this way.
func CreateSecretFile(dir, path string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := writeAndSync(tmp, data); err != nil {
		return err
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// No hard links on this file system: create the file exclusively.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if err := writeAndSync(f, data); err != nil {
			os.Remove(path)
			return err
		}
	}
	syncDir(dir)
	return nil
}

// writeAndSync restricts f to its owner, writes data, syncs and closes it.
func writeAndSync(f *os.File, data []byte) error {
	err := f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a new directory entry durable where the platform allows it.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync() // best effort: not supported everywhere
	d.Close()
}

// Seal encrypts plain with AES-256-GCM. The result is a version byte, a
// random 12-byte nonce and the ciphertext with its tag. Seal("") returns
// nil, nil: an empty value is not stored.
func (b *Box) Seal(plain string) ([]byte, error) {
	if plain == "" {
		return nil, nil
	}
	out := make([]byte, 1, 1+nonceSize+len(plain)+tagSize)
	out[0] = sealVersion
	return b.aead.Seal(out, nil, []byte(plain), nil), nil
}

// Open decrypts what Seal produced. Open(nil) (or an empty slice) returns
// "", nil. Data that was truncated, altered or sealed under another key is
// an error.
func (b *Box) Open(sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	if sealed[0] != sealVersion {
		return "", fmt.Errorf("pii: open: unknown version %d", sealed[0])
	}
	if len(sealed) < 1+nonceSize+tagSize {
		return "", errors.New("pii: open: sealed value too short")
	}
	plain, err := b.aead.Open(nil, nil, sealed[1:], nil)
	if err != nil {
		return "", fmt.Errorf("pii: open: %w", err)
	}
	return string(plain), nil
}

// Kinds of blind index shared by modules: the same person's ID number
// indexes alike in passes, the testing register and what comes after
// (zones, tracing), so that one module's record finds another's.
const (
	KindResidentID = "resident_id" // a resident ID number, NormalizeResidentID
	KindPhone      = "phone"       // a mobile or contact phone number
)

// Index returns the blind index of a normalized value: the HMAC-SHA256,
// as 64 lower-case hex characters, of the value under the index key,
// separated by kind, so that Index("phone", x) != Index("id", x).
// Index(kind, "") returns "".
func (b *Box) Index(kind, normalized string) string {
	if normalized == "" {
		return ""
	}
	m := hmac.New(sha256.New, b.macKey)
	// Length-prefixing the kind keeps (kind, value) pairs unambiguous.
	var n [binary.MaxVarintLen64]byte
	m.Write(n[:binary.PutUvarint(n[:], uint64(len(kind)))])
	io.WriteString(m, kind)
	io.WriteString(m, normalized)
	return hex.EncodeToString(m.Sum(nil))
}

// String keeps the keys out of logs and error messages.
func (b *Box) String() string { return "pii.Box{keys hidden}" }

// GoString keeps the keys out of %#v output.
func (b *Box) GoString() string { return b.String() }
