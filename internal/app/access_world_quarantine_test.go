package app

import (
	"context"
	"strconv"

	"tongxin/internal/auth"
	"tongxin/internal/quarantine"
)

// quarantineWorld adds quarantine to the access world: a site with two
// rooms in 大园社区 and in the canary community, an outsider in each (a
// central stay and its person), and the world's residents (testingWorld)
// in home quarantine. Out-of-scope objects carry the marker in their
// names and notes.
func quarantineWorld(ctx context.Context, sys *System, w *matrixWorld, must func(string, error)) {
	sp := auth.System()
	for _, s := range []struct{ k, community, name, id string }{
		{"in", inCommunity, "矩阵隔离点", demoIDNumber("43021119850101001")},
		{"out", outCommunity, canaryMarker + "隔离点", demoIDNumber("43021119850101002")},
	} {
		site, err := sys.Quarantine.CreateSite(ctx, sp, quarantine.SiteInput{Name: s.name, AreaCode: s.community, Capacity: 10})
		must("quarantine site", err)
		ref := strconv.FormatInt(site.ID, 10)
		_, err = sys.Quarantine.AddRooms(ctx, sp, ref, quarantine.RoomsInput{Rooms: []quarantine.RoomInput{{Number: "101", Beds: 1},
			{Number: "102", Beds: 2}}})
		must("quarantine rooms", err)
		note := map[string]string{"in": "矩阵", "out": canaryMarker}[s.k]
		st, err := sys.Quarantine.Admit(ctx, sp, quarantine.AdmitInput{PersonInput: quarantine.PersonInput{Name: "矩阵人员", IDNumber: s.id},
			Category: quarantine.CloseContact, Site: site.ID, Room: "101", Note: note})
		must("quarantine admit", err)
		home, err := sys.Quarantine.StartHome(ctx, sp, quarantine.HomeInput{Resident: w.obj["resident."+s.k],
			Category: quarantine.SecondaryContact, Note: note})
		must("home quarantine", err)
		w.obj["qsite."+s.k] = ref
		w.obj["qstay."+s.k] = strconv.FormatInt(st.ID, 10)
		w.obj["qperson."+s.k] = strconv.FormatInt(st.PersonID, 10)
		w.obj["qhome."+s.k] = strconv.FormatInt(home.ID, 10)
	}
	w.obj["qcategory.in"], w.obj["qcategory.out"] = "close_contact", "close_contact"
}

// The quarantine routes' requests (added to matrixSpecs).
var quarantineSpecs = map[string]reqSpec{
	"GET /api/v1/quarantine/sites":                {scoped: true, build: query("area=«area»")},
	"POST /api/v1/quarantine/sites":               {scoped: true, build: jsonBody(`{"name":"矩阵新隔离点","area_code":"«area»","capacity":5}`)},
	"GET /api/v1/quarantine/sites/{id}":           {obj: "qsite"},
	"PUT /api/v1/quarantine/sites/{id}":           {obj: "qsite", build: jsonBody(`{"name":"矩阵隔离点改名","capacity":9}`)},
	"POST /api/v1/quarantine/sites/{id}/rooms":    {obj: "qsite", build: jsonBody(`{"rooms":[{"number":"901","floor":9,"beds":1}]}`)},
	"GET /api/v1/quarantine/sites/{id}/events":    {obj: "qsite"},
	"GET /api/v1/quarantine/stays":                {scoped: true, build: query("area=«area»")},
	"POST /api/v1/quarantine/stays":               {scoped: true, build: admitBody},
	"GET /api/v1/quarantine/stays/{id}":           {obj: "qstay"},
	"POST /api/v1/quarantine/stays/{id}/transfer": {obj: "qstay", build: jsonBody(`{"room":"102"}`)},
	"POST /api/v1/quarantine/stays/{id}/release":  {obj: "qstay", build: jsonBody(`{"reason":"completed"}`)},
	"POST /api/v1/quarantine/stays/{id}/tests":    {obj: "qstay", build: jsonBody(`{"result":"negative"}`)},
	"POST /api/v1/quarantine/stays/{id}/checks":   {obj: "qhome", build: jsonBody(`{"done":true,"temperature":36.5,"contacted":true,"seal_intact":true}`)},
	"POST /api/v1/quarantine/home":                {scoped: true, build: jsonBody(`{"resident":"«resident»","category":"close_contact"}`)},
	"GET /api/v1/quarantine/home":                 {scoped: true, build: query("area=«area»")},
	"GET /api/v1/quarantine/home/missed":          {scoped: true, build: query("area=«area»")},
	"PUT /api/v1/quarantine/rules/{category}":     {params: map[string]string{"category": "qcategory"}, build: jsonBody(`{"central_days":5,"home_days":3,"home_test_days":[1,3]}`)},
	"POST /api/v1/quarantine/persons/{id}/reveal": {obj: "qperson", build: jsonBody(`{"reason":"核对"}`)},
	"GET /api/v1/quarantine/figures/central":      {scoped: true, build: query("area=«area»&day=«today»")},
	"GET /api/v1/quarantine/figures/home":         {scoped: true, build: query("area=«area»&day=«today»")},
	"GET /quarantine":                             {scoped: true, build: query("area=«area»")},
	"POST /quarantine/sites":                      {scoped: true, build: formBody("name=%E7%9F%A9%E9%98%B5&area_code=«area»&capacity=5")},
	"GET /quarantine/sites/{id}":                  {obj: "qsite"},
	"POST /quarantine/sites/{id}/rooms":           {obj: "qsite", build: formBody("numbers=901&beds=1")},
	"POST /quarantine/sites/{id}/admit":           {obj: "qsite", build: admitForm},
	"POST /quarantine/stays/{id}/transfer":        {obj: "qstay", build: formBody("room=102&back=«qsite»")},
	"POST /quarantine/stays/{id}/release":         {obj: "qstay", build: formBody("reason=completed&back=«qsite»")},
	"GET /quarantine/home":                        {scoped: true, build: query("area=«area»")},
	"POST /quarantine/home":                       {scoped: true, build: formBody("resident=«resident»&category=close_contact&area=«area»")},
	"POST /quarantine/home/stays/{id}/check":      {obj: "qhome", build: formBody("done=1&temperature=36.5&contacted=1&seal_intact=1&area=«area»")},
}

// admitBody admits a new outsider to room 102 of the cell's site.
func admitBody(c *cellCtx) (string, string, []byte) {
	return jsonBody(`{"name":"矩阵新人","id_number":"` + demoIDNumber("43021119850101003") + `","category":"inbound","site":` + c.id("qsite") + `,"room":"102"}`)(c)
}

func admitForm(c *cellCtx) (string, string, []byte) {
	return formBody("name=%E7%9F%A9&id_number=" + demoIDNumber("43021119850101003") + "&category=inbound&room=102")(c)
}

func init() {
	for k, v := range quarantineSpecs {
		matrixSpecs[k] = v
	}
	globalKinds["qcategory"] = true
}
