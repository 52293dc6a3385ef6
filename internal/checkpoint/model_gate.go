package checkpoint

import (
	"strconv"

	"tongxin/internal/errs"
	"tongxin/internal/web"
	"tongxin/internal/zonerule"
)

// Estate gates (小区门岗, 两码查验): a checkpoint of kind EstateGate stands
// at the gate of one estate of its community (the checkpoint's area). Its
// officer scans passes, decided as anywhere else, and resident codes,
// decided by where the resident lives: zonerule.Index.Decide over the
// zones and exit permits in force (gate.go).

// Shown is the code a scan read: a pass or a resident code.
type Shown string

const (
	ShownPass     Shown = "pass"
	ShownResident Shown = "resident"
)

// ShownNames are the codes in Chinese.
var ShownNames = map[Shown]string{ShownPass: "通行证", ShownResident: "居民码"}

// MaxEstateLen bounds an estate's name, in characters.
const MaxEstateLen = 100

// estateProblem checks an estate gate's estate against its kind: an estate
// gate names one, no other kind does. "" when they agree; whether the
// estate is in the register is the service's check.
func estateProblem(k Kind, estate string) string {
	switch {
	case k == EstateGate && estate == "":
		return "小区门岗须填写所在小区（estate）"
	case k != EstateGate && estate != "":
		return "只有小区门岗（estate_gate）填写小区"
	}
	return errs.CheckText(estate, MaxEstateLen, false)
}

// ResidentInfo is what a scanned resident code said — pseudonymous ids and
// the masked name, never an ID number — and what decided its verdict.
type ResidentInfo struct {
	RID       string `json:"rid"`                 // the resident's pseudonymous id
	Household bool   `json:"household,omitempty"` // a household code (户码): the household's place decides, no permit applies
	Name      string `json:"name"`                // masked
	Community string `json:"community"`           // the household's community code
	Building  string `json:"building,omitempty"`  // its building's key (masstest.BuildingKey)
	// The zone that decided (0: none covers the resident), its level, and
	// the exit permit that let a resident of a sealed zone out.
	Zone   int64          `json:"zone,omitempty"`
	Level  zonerule.Level `json:"level,omitempty"`
	Permit int64          `json:"permit,omitempty"`
}

// AppendJSON appends the resident as encoding/json writes it; the journal
// and the scan log keep the same bytes.
func (ri *ResidentInfo) AppendJSON(b []byte) []byte {
	if ri == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"rid":`...)
	b = web.AppendJSONString(b, ri.RID)
	if ri.Household {
		b = append(b, `,"household":true`...)
	}
	b = append(b, `,"name":`...)
	b = web.AppendJSONString(b, ri.Name)
	b = append(b, `,"community":`...)
	b = web.AppendJSONString(b, ri.Community)
	if ri.Building != "" {
		b = append(b, `,"building":`...)
		b = web.AppendJSONString(b, ri.Building)
	}
	if ri.Zone != 0 {
		b = append(b, `,"zone":`...)
		b = strconv.AppendInt(b, ri.Zone, 10)
	}
	if ri.Level != "" {
		b = append(b, `,"level":`...)
		b = web.AppendJSONString(b, string(ri.Level))
	}
	if ri.Permit != 0 {
		b = append(b, `,"permit":`...)
		b = strconv.AppendInt(b, ri.Permit, 10)
	}
	return append(b, '}')
}
