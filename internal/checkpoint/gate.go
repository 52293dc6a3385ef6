package checkpoint

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
	"tongxin/internal/zonerule"
)

// checkEstate checks the estate of an estate gate registered in area a:
// a community, and one of its estates in the household register.
func (s *Service) checkEstate(ctx context.Context, a *area.Area, in CheckpointInput) error {
	if in.Kind != EstateGate {
		return nil
	}
	if a.Level != area.Community {
		return errs.Fields("invalid_checkpoint", "小区门岗须设在社区（村）一级的区划",
			errs.FieldError{Field: "area_code", Message: "须为社区（村）"})
	}
	_, err := s.estateOf(ctx, a.Code, in.Estate)
	return err
}

// estateOf looks estate up among community's estates in the register.
func (s *Service) estateOf(ctx context.Context, community, estate string) (*Estate, error) {
	if s.register == nil {
		return nil, errs.E(errs.Unavailable, "register_unavailable", "户籍登记不可用，无法设立小区门岗")
	}
	list, err := s.register.Estates(ctx, community)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Name == estate {
			return &list[i], nil
		}
	}
	msg := "本社区的住户登记中没有小区「" + estate + "」"
	return nil, errs.Fields("estate_not_found", msg, errs.FieldError{Field: "estate", Message: msg})
}

// withBuildings completes an estate gate read for scans with the keys of
// its estate's buildings (an estate no longer in the register has none:
// its residents are decided by their own zone all the same).
func (s *Service) withBuildings(ctx context.Context, c *Checkpoint) error {
	if c.Kind != EstateGate || s.register == nil {
		return nil
	}
	list, err := s.register.Estates(ctx, c.AreaCode)
	if err != nil {
		return err
	}
	for _, e := range list {
		if e.Name == c.Estate {
			c.buildings = e.Buildings
		}
	}
	return nil
}

// errZonesUnavailable: an estate gate cannot decide resident codes without
// the zones. The scan is not logged; the scan page decides offline and
// uploads it later.
func errZonesUnavailable() error {
	return errs.E(errs.Unavailable, "zones_unavailable", "暂时无法读取封控/管控区域，居民码稍后再核验")
}

// gateIndex is the zone index an estate gate decides by.
func (s *Service) gateIndex(ctx context.Context) (*zonerule.Index, error) {
	if s.zones == nil {
		return nil, errZonesUnavailable()
	}
	x, err := s.zones.GateIndex(ctx)
	if err != nil || x == nil {
		s.log.ErrorContext(ctx, "checkpoint: the zones cannot be read for an estate gate", "err", errs.Wrap("checkpoint.gateIndex", err))
		return nil, errZonesUnavailable()
	}
	return x, nil
}

// tokenType is the "typ" of a token's header, "" when it has none to read.
// It reads no more than the header: the verifiers check everything. The
// headers are few (one per signing key and kind of code), so the type of
// each is remembered (headerTypes): decoding one was a tenth of an
// estate gate's scan.
func tokenType(token string) string {
	token = strings.TrimSpace(token)
	head, _, ok := strings.Cut(token, ".")
	if !ok || len(head) > 512 {
		return ""
	}
	if typ, ok := headerTypes.get(head); ok {
		return typ
	}
	typ := ""
	if b, err := base64.RawURLEncoding.DecodeString(head); err == nil {
		var h passtoken.Header
		if json.Unmarshal(b, &h) == nil {
			typ = h.Typ
		}
	}
	headerTypes.put(head, typ)
	return typ
}

// headerTypes remembers the type of the token headers seen, up to
// headerTypesMax of them (headers beyond are decoded each time: only
// headers of keys in use recur).
var headerTypes = &typeMemo{m: map[string]string{}}

const headerTypesMax = 256

type typeMemo struct {
	mu sync.RWMutex
	m  map[string]string
}

func (t *typeMemo) get(head string) (string, bool) {
	t.mu.RLock()
	typ, ok := t.m[head]
	t.mu.RUnlock()
	return typ, ok
}

func (t *typeMemo) put(head, typ string) {
	t.mu.Lock()
	if len(t.m) < headerTypesMax {
		t.m[strings.Clone(head)] = typ // not the request's whole token
	}
	t.mu.Unlock()
}

// residentAt reports whether token is a resident code to decide at c: an
// estate gate. Elsewhere a resident code is decided as a pass (malformed).
func residentAt(c *Checkpoint, token string) bool {
	return c.Kind == EstateGate && tokenType(token) == passtoken.ResidentType
}

// decideResident decides a resident code at estate gate c as of at with
// the zone index x: the code's signature (pass keys), then
// zonerule.Index.Decide for the gate.
func (s *Service) decideResident(x *zonerule.Index, c *Checkpoint, token string, at time.Time) (*ResidentInfo, passtoken.Reason) {
	rv, ok := s.verifier.(ResidentVerifier)
	if !ok {
		return nil, passtoken.UnknownKey
	}
	claims, r := rv.VerifyResident(token)
	if r == "" || (r == passtoken.OK && claims == nil) {
		r = passtoken.Malformed
	}
	if claims == nil || r != passtoken.OK && r != passtoken.Revoked {
		return nil, r
	}
	info := &ResidentInfo{RID: claims.RID, Household: claims.RID == claims.HH, Name: claims.Name, Community: claims.Area,
		Building: claims.Building}
	if r != passtoken.OK {
		return info, r
	}
	v := x.Decide(zonerule.Gate{Community: c.AreaCode, Buildings: c.buildings},
		zonerule.Resident{ID: claims.RID, Community: claims.Area, Building: claims.Building}, at.UnixMilli())
	if v.Zone != nil {
		info.Zone, info.Level = v.Zone.ID, v.Zone.Level
	}
	if v.Permit != nil {
		info.Permit = v.Permit.ID
	}
	return info, v.Reason
}

// decideInto decides token at c as of at into row: a resident code at an
// estate gate by the zones (x, read by the caller), anything else as a
// pass. A resident code shown at another checkpoint is a pass that does
// not parse (malformed), logged as a resident code shown.
func (s *Service) decideInto(ctx context.Context, x *zonerule.Index, c *Checkpoint, token string, at time.Time, row *scanRow) {
	if x != nil && residentAt(c, token) {
		row.shown = ShownResident
		row.resident, row.reason = s.decideResident(x, c, token, at)
		return
	}
	row.claims, row.reason = s.decide(ctx, c, token, at)
	if row.reason == passtoken.Malformed && tokenType(token) == passtoken.ResidentType {
		row.shown = ShownResident
	}
}

// nonNil is s, or an empty list for JSON.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
