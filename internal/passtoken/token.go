// Package passtoken is the signed-token format that the pass module issues
// and the checkpoint module verifies: compact JWS tokens (RFC 7515) with
// EdDSA over Ed25519 (RFC 8037), so that any checkpoint verifies a pass
// without the network; the verdict reasons a checkpoint reports; the short
// pass number printed on a card; and the checkpoint as a pass names it.
// It is kernel: both modules import it, and neither imports the other.
//
// The format is documented for outside verifiers in docs/passes.md. The
// package has no I/O.
package passtoken

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// TokenType is the "typ" of every pass token.
const TokenType = "tongxin-pass"

// MaxTokenLen bounds what Parse looks at: a pass token is a few hundred
// bytes; anything far longer is malformed before it is decoded.
const MaxTokenLen = 4096

// Kind is a person (a whitelist worker) or a vehicle.
type Kind string

const (
	Person  Kind = "person"
	Vehicle Kind = "vehicle"
)

// Claims is the payload of a pass token: only what a checkpoint needs.
// Never a full ID number, phone or health data.
type Claims struct {
	PID   string `json:"pid"`           // pass id
	Kind  Kind   `json:"k"`             // person or vehicle
	Name  string `json:"n"`             // masked name
	ID4   string `json:"id4,omitempty"` // last four characters of the ID number
	Plate string `json:"pl,omitempty"`  // plate of a vehicle
	Ent   string `json:"ent"`           // credit code of the enterprise
	// EntName is the enterprise's name when the pass was issued, so that
	// a checkpoint shows a name, offline too (tokens issued before it
	// was added lack it; see docs/passes.md).
	EntName string   `json:"en,omitempty"`
	Areas   []string `json:"z"`            // area codes; a pass for an area is valid in its subtree
	CPs     []string `json:"cp,omitempty"` // checkpoint ids, if the pass is limited to some
	NBF     int64    `json:"nbf"`          // not before, Unix seconds
	EXP     int64    `json:"exp"`          // expires, Unix seconds
}

// Header is the protected header.
type Header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// Reason is a verdict's reason, as checkpoints report it.
type Reason string

const (
	OK                   Reason = "ok"
	Malformed            Reason = "malformed"
	BadSignature         Reason = "bad_signature"
	UnknownKey           Reason = "unknown_key"
	NotYetValid          Reason = "not_yet_valid"
	Expired              Reason = "expired"
	Revoked              Reason = "revoked"
	AreaNotAllowed       Reason = "area_not_allowed"
	CheckpointNotAllowed Reason = "checkpoint_not_allowed"
	// At an estate gate (两码查验), where the resident lives decides:
	// a resident of a sealed zone does not go out without an exit permit,
	// a resident of a controlled zone moves inside that zone only.
	ZoneSealed     Reason = "zone_sealed"
	ZoneControlled Reason = "zone_controlled"
)

// ReasonNames are the reasons in Chinese, as the scan page shows them.
var ReasonNames = map[Reason]string{
	OK: "通行", Malformed: "无法识别的通行码", BadSignature: "签名无效（伪造或被篡改）", UnknownKey: "未知签发密钥",
	NotYetValid: "尚未生效", Expired: "已过期", Revoked: "已吊销", AreaNotAllowed: "不在通行区域内",
	CheckpointNotAllowed: "不允许经过本卡口", ZoneSealed: "封控区居民，无外出许可不得外出",
	ZoneControlled: "管控区居民，只可在管控区内活动",
}

var b64 = base64.RawURLEncoding

// b64Strict decodes what Sign encodes and nothing else: base64url without
// padding whose unused trailing bits are zero.
var b64Strict = base64.RawURLEncoding.Strict()

// decodeSegment reads one segment of a token as canonical base64url: only
// the 64 characters of the alphabet (no padding, no line breaks, which Go's
// decoders skip even when strict), unused trailing bits zero. Any other
// spelling of the same bytes is refused, so that a pass has exactly one
// token string.
func decodeSegment(s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, false
		}
	}
	b, err := b64Strict.DecodeString(s)
	return b, err == nil
}

// Sign makes the compact JWS of c with key, whose id is kid.
func Sign(key ed25519.PrivateKey, kid string, c Claims) (string, error) {
	return sign(key, kid, TokenType, c)
}

func sign(key ed25519.PrivateKey, kid, typ string, c any) (string, error) {
	h, err := json.Marshal(Header{Alg: "EdDSA", Kid: kid, Typ: typ})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(p)
	return input + "." + b64.EncodeToString(ed25519.Sign(key, []byte(input))), nil
}

// Parsed is a token split and decoded, not yet verified.
type Parsed struct {
	Header Header
	Claims Claims
	input  []byte // header.payload, what the signature covers
	sig    []byte
}

// Parse splits and decodes a token. It refuses anything that is not a
// compact JWS with the pass header: segments not in canonical base64url,
// alg other than EdDSA ("none", "HS256" …), a missing kid, a payload that
// is not the pass claims.
func Parse(token string) (*Parsed, Reason) {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > MaxTokenLen || !utf8.ValidString(token) {
		return nil, Malformed
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, Malformed
	}
	var p Parsed
	input, sig, r := split(parts, TokenType, &p.Header, &p.Claims)
	if r != OK {
		return nil, r
	}
	c := p.Claims
	if c.PID == "" || (c.Kind != Person && c.Kind != Vehicle) || c.EXP <= 0 || c.NBF <= 0 || len(c.Areas) == 0 {
		return nil, Malformed
	}
	p.input, p.sig = input, sig
	return &p, OK
}

// split decodes a compact JWS's three segments into header and claims,
// checking the header names typ; what the signature covers and the
// signature are answered for the caller to check.
func split(parts []string, typ string, h *Header, claims any) (input, sig []byte, r Reason) {
	hb, ok1 := decodeSegment(parts[0])
	pb, ok2 := decodeSegment(parts[1])
	sig, ok3 := decodeSegment(parts[2])
	if !ok1 || !ok2 || !ok3 {
		return nil, nil, Malformed
	}
	if strictJSON(hb, h) != nil || strictJSON(pb, claims) != nil {
		return nil, nil, Malformed
	}
	if h.Alg != "EdDSA" || h.Typ != typ || h.Kid == "" {
		return nil, nil, Malformed
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, nil, BadSignature
	}
	return []byte(parts[0] + "." + parts[1]), sig, OK
}

// strictJSON decodes one JSON object, refusing unknown fields and trailing
// data.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailing
	}
	return nil
}

type constErr string

func (e constErr) Error() string { return string(e) }

const errTrailing = constErr("trailing data")

// Keys finds public keys by kid; a nil key is unknown.
type Keys func(kid string) ed25519.PublicKey

// Verify checks a token's signature with keys and its validity at now. The
// area, checkpoint and revocation checks belong to the caller, who knows
// where the scan happens and which passes are revoked.
func Verify(token string, keys Keys, now time.Time) (*Claims, Reason) {
	p, r := Parse(token)
	if r != OK {
		return nil, r
	}
	return p.Verify(keys, now)
}

// Verify checks a parsed token's signature with keys and its validity at
// now.
func (p *Parsed) Verify(keys Keys, now time.Time) (*Claims, Reason) {
	key := keys(p.Header.Kid)
	if key == nil {
		return &p.Claims, UnknownKey
	}
	if !p.SignedBy(key) {
		return nil, BadSignature
	}
	return &p.Claims, p.Claims.ValidAt(now)
}

// SignedBy reports whether key made p's signature.
func (p *Parsed) SignedBy(key ed25519.PublicKey) bool {
	return len(key) == ed25519.PublicKeySize && ed25519.Verify(key, p.input, p.sig)
}

// ValidAt checks the validity window: NotYetValid before nbf, Expired from
// exp on (exp is exclusive), OK between.
func (c *Claims) ValidAt(now time.Time) Reason {
	sec := now.Unix()
	switch {
	case sec < c.NBF:
		return NotYetValid
	case sec >= c.EXP:
		return Expired
	}
	return OK
}

// AllowedAt checks where a verified pass may be used: the checkpoint's area
// path ("/430200/430203/…/") must lie in the subtree of one of the pass's
// areas, that is name one of them as a whole code between two slashes, and
// a pass limited to checkpoints must name this one.
func (c *Claims) AllowedAt(areaPath, checkpointID string) Reason {
	if !slices.ContainsFunc(c.Areas, func(z string) bool { return inPath(areaPath, z) }) {
		return AreaNotAllowed
	}
	if len(c.CPs) > 0 && !slices.Contains(c.CPs, checkpointID) {
		return CheckpointNotAllowed
	}
	return OK
}

// inPath reports whether code is one of the codes of an area path
// ("/430200/430203/"): a whole segment between two slashes, never part of
// one ("430203" is not in "/430200/4302031/") nor several ("430200/430203"
// names no area).
func inPath(path, code string) bool {
	if code == "" || strings.Contains(code, "/") {
		return false
	}
	// A segment between two slashes: what splitting at "/" and leaving
	// out the first and last pieces would find, without the pieces.
	for i := strings.IndexByte(path, '/'); i >= 0; {
		rest := path[i+1:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return false
		}
		if rest[:j] == code {
			return true
		}
		i += 1 + j
	}
	return false
}
