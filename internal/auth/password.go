package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: the OWASP recommendation (19 MiB, 2 passes, 1 lane).
type hashParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

var owasp = hashParams{memory: 19 * 1024, time: 2, threads: 1}

const saltLen, keyLen = 16, 32

// HashPassword returns a PHC-format argon2id hash of pw, at the cost
// hashing sets.
func HashPassword(pw string) (string, error) {
	return hashAt(hashing, pw)
}

// hashAt returns a PHC-format argon2id hash of pw at cost p.
func hashAt(p hashParams, pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return encodeHash(p, salt, argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, keyLen)), nil
}

func encodeHash(p hashParams, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// CheckPassword reports whether pw matches hash, in constant time for a
// given hash. A malformed hash never matches.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	var p hashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil ||
		p.memory == 0 || p.memory > 1<<20 || p.time == 0 || p.time > 10 || p.threads == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 || len(key) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}
