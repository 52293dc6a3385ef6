package passtoken

import (
	"crypto/ed25519"
	"strings"
	"unicode/utf8"
)

// ResidentType is the "typ" of a resident code (居民码): the pass format
// and the same keys, another type, so that a resident code never passes
// for a pass nor a pass for a resident code.
const ResidentType = "tongxin-resident"

// ResidentClaims is the payload of a resident code: pseudonymous ids, the
// masked name and where the household is. Never the ID number, the phone
// or the room. A resident code does not expire: a resident keeps it while
// registered; the register says who is still there.
type ResidentClaims struct {
	RID      string `json:"rid"` // the resident's pseudonymous id
	HH       string `json:"hh"`  // the household's pseudonymous id
	Name     string `json:"n"`   // masked name
	Area     string `json:"z"`   // the household's community code
	Building string `json:"b"`   // the household's building, pseudonymous (zones seal buildings)
	IAT      int64  `json:"iat"` // issued, Unix seconds
}

// SignResident makes the resident code of c with key, whose id is kid.
func SignResident(key ed25519.PrivateKey, kid string, c ResidentClaims) (string, error) {
	return sign(key, kid, ResidentType, c)
}

// VerifyResident checks a resident code's signature with keys. A pass
// token, or anything else, is Malformed.
func VerifyResident(token string, keys Keys) (*ResidentClaims, string, Reason) {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > MaxTokenLen || !utf8.ValidString(token) {
		return nil, "", Malformed
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, "", Malformed
	}
	var h Header
	var c ResidentClaims
	input, sig, r := split(parts, ResidentType, &h, &c)
	if r != OK {
		return nil, "", r
	}
	if c.RID == "" || c.HH == "" || c.Area == "" || c.IAT <= 0 {
		return nil, "", Malformed
	}
	key := keys(h.Kid)
	if key == nil {
		return nil, h.Kid, UnknownKey
	}
	if len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, input, sig) {
		return nil, h.Kid, BadSignature
	}
	return &c, h.Kid, OK
}
