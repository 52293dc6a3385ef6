package auth

import (
	"encoding/base64"
	"testing"
)

// hashing is the cost HashPassword uses: the OWASP parameters in every real
// binary, and cheap ones in test binaries only (testing.Testing reports
// true in nothing else), where fixtures create a hundred accounts and each
// OWASP hash takes some 40 ms. A hash carries its parameters, so
// CheckPassword verifies a cheap hash as it verifies a real one.
var hashing = hashCost(testing.Testing())

// cheap is the test binaries' cost: argon2id's smallest memory (8 KiB a
// lane) and one pass.
var cheap = hashParams{memory: 8, time: 1, threads: 1}

// hashCost returns the parameters for a test binary (test) or a real one.
func hashCost(test bool) hashParams {
	if test {
		return cheap
	}
	return owasp
}

// dummyHash is checked against when a login names no known user, so that
// the answer takes as long as for a real user with a wrong password: it
// has the cost real hashes have.
var dummyHash = dummyOf(hashing)

// dummyOf returns the dummy hash at cost p.
func dummyOf(p hashParams) string {
	key, _ := base64.RawStdEncoding.DecodeString("0nQ9yT1e1hTQm3x1R5d7bq0h3jzK9xk2x0tYc7mQ2aE")
	return encodeHash(p, []byte("somesaltsomesalt"), key)
}
