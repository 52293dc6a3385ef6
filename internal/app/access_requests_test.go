package app

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/url"
	"strings"
	"time"
)

// The requests of the access matrix: for each route of table(), what its
// path parameters name and a body an authorised caller would send.

// reqSpec says how to call one route.
type reqSpec struct {
	// obj is the kind of object {id} or {code} names ("ticket", "area", …;
	// see matrixWorld.obj). Other parameters have fixed kinds: {username}
	// a user, {key} an enterprise, {pid} a pass, {photo} a photo of the
	// ticket, {category} a ticket category, {scope} a power baseline.
	obj string
	// params overrides the kind of a parameter ("username": "liaison").
	params map[string]string
	// scoped marks a route without scoped path parameters whose body or
	// query names an object in or out of scope.
	scoped bool
	// build returns the query and the body.
	build func(c *cellCtx) (query, ctype string, body []byte)
	// session sends an API request with the role's session cookie instead
	// of its token (only a session may mint tokens).
	session bool
}

// cellCtx is what a request builder knows.
type cellCtx struct {
	w    *matrixWorld
	role string
	in   bool
}

func (c *cellCtx) id(kind string) string { return c.w.id(kind, c.in) }

// pick returns a when in scope, b otherwise.
func (c *cellCtx) pick(a, b string) string {
	if c.in {
		return a
	}
	return b
}

func jsonBody(s string, args ...any) func(*cellCtx) (string, string, []byte) {
	return func(c *cellCtx) (string, string, []byte) {
		return "", "application/json", []byte(expand(c, s, args...))
	}
}

func formBody(s string, args ...any) func(*cellCtx) (string, string, []byte) {
	return func(c *cellCtx) (string, string, []byte) {
		return "", "application/x-www-form-urlencoded", []byte(expand(c, s, args...))
	}
}

func query(s string, args ...any) func(*cellCtx) (string, string, []byte) {
	return func(c *cellCtx) (string, string, []byte) { return expand(c, s, args...), "", nil }
}

// expand replaces «kind» with the object of that kind (in or out of
// scope as the cell is), «area» with its area code, «district» with its
// district, «today» and «later» with dates, «now» and «soon» with
// form/RFC 3339 times.
func expand(c *cellCtx, s string, args ...any) string {
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	now := matrixNow
	repl := []string{
		"«area»", c.pick(inCommunity, outCommunity),
		"«street»", c.pick(inStreet, outStreet),
		"«district»", c.pick(inDistrict, outDistrict),
		"«today»", now.Format("2006-01-02"),
		"«later»", now.AddDate(0, 0, 10).Format("2006-01-02"),
		"«formnow»", now.Add(time.Hour).Format("2006-01-02T15:04"),
		"«formsoon»", now.Add(3 * time.Hour).Format("2006-01-02T15:04"),
		"«now»", now.Add(time.Hour).UTC().Format(time.RFC3339),
		"«soon»", now.Add(3 * time.Hour).UTC().Format(time.RFC3339),
		"«past»", now.Add(-time.Minute).UTC().Format(time.RFC3339),
		"«passtoken»", c.w.passTok,
	}
	for k := range c.w.obj {
		kind, side, _ := strings.Cut(k, ".")
		if side == "in" {
			repl = append(repl, "«"+kind+"»", c.id(kind))
		}
	}
	return strings.NewReplacer(repl...).Replace(s)
}

// multipartBody builds a multipart form with fields and one file.
func multipartBody(fields map[string]string, fileName string, file []byte) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if fileName != "" {
		fw, _ := mw.CreateFormFile("file", fileName)
		fw.Write(file)
	}
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

var (
	pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x03\x00\x08\xfc\x02\xfe\xa7\x9a\xa0\xa0\x00\x00\x00\x00IEND\xaeB`\x82")
	pdfBytes = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
)

// passCSVFor is a pass application of one new worker in the cell's
// community.
func passCSVFor(c *cellCtx) []byte {
	now := matrixNow
	area := c.pick(inCommunity, outCommunity)
	return []byte(fmt.Sprintf("姓名,身份证号,手机,车牌,区域,起,止\n新工人,%s,13907337777,,%s,%s,%s\n",
		demoIDNumber(area[:6]+"19950505777"), area, now.Format("2006-01-02"), now.AddDate(0, 0, 9).Format("2006-01-02")))
}

// matrixSpecs has one entry per route of table() that needs more than a
// bare request. A route without an entry is sent as is (GET without
// query; other methods with an empty JSON object or form).
var matrixSpecs = map[string]reqSpec{
	// Accounts and sessions
	"POST /api/v1/session":                       {build: jsonBody(`{"username":"m_target","password":"` + DemoPassword + `"}`)},
	"POST /api/v1/users":                         {scoped: true, build: jsonBody(`{"username":"newuser","display_name":"新用户","password":"long-enough-1","roles":[{"role":"volunteer","scope":"«area»"}]}`)},
	"POST /api/v1/users/{username}/roles":        {build: jsonBody(`{"role":"volunteer","scope":"«street»"}`)},
	"PUT /api/v1/users/{username}/status":        {build: jsonBody(`{"status":"disabled"}`)},
	"POST /api/v1/users/{username}/reveal-phone": {build: jsonBody(`{"reason":"联系核实物资配送"}`)},
	"POST /api/v1/users/{username}/tokens":       {build: jsonBody(`{"name":"大屏二"}`), session: true},
	// The role the body names is the target's only one: an allowed caller
	// is told 409 last_role, the others 403 or 404 before that.
	"POST /api/v1/users/{username}/roles/remove": {build: func(c *cellCtx) (string, string, []byte) {
		return "", "application/json", []byte(c.pick(`{"role":"volunteer","scope":"`+inCommunity+`"}`,
			`{"role":"community_worker","scope":"`+outCommunity+`"}`))
	}},
	"POST /users/{username}/roles/remove": {build: func(c *cellCtx) (string, string, []byte) {
		return "", "application/x-www-form-urlencoded", []byte(c.pick("role=volunteer&scope="+inCommunity,
			"role=community_worker&scope="+outCommunity))
	}},
	"PUT /api/v1/users/{username}/password": {build: jsonBody(`{"password":"Matrix-Reset-2022!"}`)},
	"POST /users/{username}/password":       {build: formBody("password=Matrix-Reset-2022%21")},
	"DELETE /api/v1/tokens/{id}":            {obj: "token"},

	// Areas, departments, work groups
	"GET /api/v1/areas/{code}":          {obj: "area"},
	"GET /api/v1/areas/{code}/children": {obj: "area"},
	"POST /api/v1/areas/import": {scoped: true, build: func(c *cellCtx) (string, string, []byte) {
		return "", "text/csv", []byte(expand(c, "编码,名称,上级编码,层级\n«area»009,新网格,«area»,网格\n"))
	}},
	"POST /api/v1/departments":       {scoped: true, build: jsonBody(`{"code":"newdept","name":"新部门","area_code":"«district»"}`)},
	"PUT /api/v1/departments/{code}": {obj: "department", build: jsonBody(`{"name":"改名部门","area_code":"«district»"}`)},
	"POST /api/v1/workgroups":        {scoped: true, build: jsonBody(`{"code":"newgroup","name":"新工作组","area_code":"«district»","remit":"职责"}`)},
	"PUT /api/v1/workgroups/{code}":  {obj: "workgroup", build: jsonBody(`{"name":"改名工作组","area_code":"«district»","remit":"职责"}`)},
	"POST /departments":              {scoped: true, build: formBody(`code=newdept&name=新部门&area_code=«district»&capabilities=pass_review`)},
	"GET /departments/{code}":        {obj: "department"},
	"POST /departments/{code}":       {obj: "department", build: formBody(`name=改名部门&area_code=«district»&capabilities=testing_manage`)},
	"POST /workgroups":               {scoped: true, build: formBody(`code=newgroup&name=新工作组&area_code=«district»&remit=职责&capabilities=testing_manage`)},
	"GET /workgroups/{code}":         {obj: "workgroup"},
	"POST /workgroups/{code}":        {obj: "workgroup", build: formBody(`name=改名工作组&area_code=«district»&remit=职责&capabilities=testing_manage`)},

	// Work resumption
	// The demo city lists some 2,000 units before the canary (by key):
	// the lists ask for factories (厂), the matrix's two and a few
	// projects of the demo, so that both objects are on the first page.
	"GET /api/v1/enterprises": {build: query("q=%s", "%E5%8E%82")},
	"GET /enterprises":        {build: query("q=%s", "%E5%8E%82")},
	"POST /api/v1/enterprises": {scoped: true, build: func(c *cellCtx) (string, string, []byte) {
		key := creditCode(c.pick("91430203MA4M0009", "91430204MA4M0009") + "9")
		return "", "application/json", []byte(expand(c, `{"key":"`+key+`","kind":"enterprise","name":"新企业","area_code":"«area»","categories":["规上工业"],"employees":10,"contact_name":"厂办","contact_phone":"13907336666"}`))
	}},
	"POST /api/v1/enterprises/import": {scoped: true, build: func(c *cellCtx) (string, string, []byte) {
		key := creditCode(c.pick("91430203MA4M0009", "91430204MA4M0009") + "8")
		return "", "text/csv", []byte(expand(c, "统一社会信用代码,名称,区域编码,职工人数\n"+key+",导入企业,«area»,10\n"))
	}},
	"POST /api/v1/enterprises/{key}/reports": {build: jsonBody(`{"date":"«today»","status":"resumed","capacity_pct":50,"staff_expected":100,"staff_on_site":50,"closed_loop":false,"note":"复工"}`)},
	"POST /api/v1/resumption/reports/import": {scoped: true, build: func(c *cellCtx) (string, string, []byte) {
		return "", "text/csv", []byte(expand(c, "统一社会信用代码,日期,状态,产能,应到岗人数,实际到岗人数\n«enterprise»,«today»,已复工,50,100,50\n"))
	}},
	"PUT /api/v1/enterprises/{key}/liaisons/{username}":    {params: map[string]string{"username": "newliaison"}},
	"DELETE /api/v1/enterprises/{key}/liaisons/{username}": {params: map[string]string{"username": "liaison"}},
	"GET /api/v1/resumption/stats":                         {scoped: true, build: query("area=«area»")},
	"GET /api/v1/resumption/stats.xlsx":                    {scoped: true, build: query("area=«area»")},
	"GET /api/v1/resumption/breakdown":                     {scoped: true, build: query("area=«street»&level=street")},
	"GET /api/v1/resumption/trend":                         {scoped: true, build: query("area=«area»&days=3")},
	"GET /api/v1/resumption/not-resumed":                   {scoped: true, build: query("area=«area»")},
	"GET /api/v1/resumption/briefing":                      {scoped: true, build: query("area=«area»")},
	"PUT /api/v1/power/baselines/{scope}":                  {build: jsonBody(`{"area_code":"«district»","name":"区工业","baseline_kw":1200,"reference":"2022年10月"}`)},
	"POST /api/v1/power/readings":                          {scoped: true, build: jsonBody(`{"scope":"«baseline»","date":"«today»","max_load_kw":900}`)},
	"POST /api/v1/plans": {scoped: true, build: func(c *cellCtx) (string, string, []byte) {
		ct, b := multipartBody(map[string]string{"subject_kind": "enterprise", "subject": c.id("enterprise"), "title": "新预案"}, "plan.pdf", pdfBytes)
		return "", ct, b
	}},
	"GET /api/v1/plans":              {scoped: true, build: query("subject_kind=enterprise&subject=«enterprise»")},
	"GET /api/v1/plans/{id}/file":    {obj: "plan"},
	"POST /api/v1/plans/{id}/review": {obj: "plan", build: jsonBody(`{"approve":true}`)},

	// Notifications
	"POST /api/v1/inbox/{id}/read":         {obj: "inbox"},
	"POST /api/v1/webhooks":                {scoped: true, build: jsonBody(`{"name":"新推送","url":"https://example.com/new","format":"json","events":["*"],"area_code":"«area»","active":true}`)},
	"GET /api/v1/webhooks/{id}":            {obj: "webhook"},
	"PUT /api/v1/webhooks/{id}":            {obj: "webhook", build: jsonBody(`{"name":"改名推送"}`)},
	"DELETE /api/v1/webhooks/{id}":         {obj: "webhook"},
	"GET /api/v1/webhooks/{id}/deliveries": {obj: "webhook"},
	"POST /api/v1/webhooks/{id}/test":      {obj: "webhook"},

	// Tickets
	"POST /api/v1/tickets":                   {scoped: true, build: jsonBody(`{"category":"medical","enterprise":"«enterprise»","description":"职工就医需要专车"}`)},
	"GET /api/v1/tickets/{id}":               {obj: "ticket"},
	"POST /api/v1/tickets/{id}/transitions":  {obj: "ticket", build: jsonBody(`{"to":"in_progress","note":"处理中"}`)},
	"POST /api/v1/tickets/{id}/comments":     {obj: "ticket", build: jsonBody(`{"note":"已联系"}`)},
	"POST /api/v1/tickets/{id}/merge":        {obj: "ticket", build: jsonBody(`{"into":"«ticket2»","note":"重复"}`)},
	"POST /api/v1/tickets/{id}/reveal-phone": {obj: "ticket", build: jsonBody(`{"reason":"联系核实情况"}`)},
	"POST /api/v1/tickets/{id}/photos": {obj: "ticket", build: func(c *cellCtx) (string, string, []byte) {
		return "", "image/png", pngBytes
	}},
	"GET /api/v1/tickets/{id}/photos/{photo}": {obj: "ticket"},
	"PUT /api/v1/ticket-categories/{code}":    {obj: "category", build: jsonBody(`{"name":"生活物资","name_en":"Food","position":6,"active":true,"confirm_after":"72h"}`)},
	"PUT /api/v1/ticket-policies/{category}":  {build: jsonBody(`{"normal":{"respond_by":"2h","resolve_by":"overnight"}}`)},
	"PUT /api/v1/ticket-routes":               {scoped: true, build: jsonBody(`{"category":"logistics","area_code":"«district»","department":"ls_wjj"}`)},
	"DELETE /api/v1/ticket-routes/{id}":       {obj: "route"},
	"POST /api/v1/public/help":                {build: jsonBody(`{"name":"王阿姨","phone":"13807330099","area_code":"` + inCommunity + `","address":"建设南路 1 号","category":"food","description":"家中缺米"}`)},
	"POST /api/v1/public/help/status":         {build: jsonBody(`{"tracking":"«help»","phone_last4":"1234"}`)},
	"POST /api/v1/public/help/confirm":        {build: jsonBody(`{"tracking":"«help»","phone_last4":"1234","satisfied":true}`)},

	// Passes
	"POST /api/v1/pass-batches": {scoped: true, build: func(c *cellCtx) (string, string, []byte) {
		return "enterprise=" + c.id("enterprise"), "text/csv", passCSVFor(c)
	}},
	"GET /api/v1/pass-batches":                     {scoped: true, build: query("enterprise=«enterprise»")},
	"GET /api/v1/pass-batches/{id}":                {obj: "batch"},
	"POST /api/v1/pass-batches/{id}/approve":       {obj: "batch", build: jsonBody(`{"note":"同意"}`)},
	"POST /api/v1/pass-batches/{id}/reject":        {obj: "batch", build: jsonBody(`{"reason":"名单有误"}`)},
	"GET /api/v1/pass-batches/{id}/passes":         {obj: "approvedbatch"},
	"POST /api/v1/pass-batches/{id}/reveal-id":     {obj: "batch", build: jsonBody(`{"row":2,"reason":"核对身份"}`)},
	"GET /api/v1/passes":                           {scoped: true, build: query("enterprise=«enterprise»")},
	"POST /api/v1/passes/{pid}/revoke":             {build: jsonBody(`{"reason":"离职"}`)},
	"POST /api/v1/enterprises/{key}/passes/revoke": {build: jsonBody(`{"reason":"停工"}`)},
	"PUT /api/v1/enterprises/{key}/pass-quota":     {build: jsonBody(`{"quota":200}`)},

	// Checkpoints and traffic
	"POST /api/v1/checkpoints":                  {scoped: true, build: jsonBody(`{"name":"新卡口","kind":"road","place":"路口","area_code":"«area»"}`)},
	"GET /api/v1/checkpoints":                   {scoped: true, build: query("area=«area»")},
	"GET /api/v1/checkpoints/{id}":              {obj: "checkpoint"},
	"PUT /api/v1/checkpoints/{id}":              {obj: "checkpoint", build: jsonBody(`{"name":"改名接驳点","kind":"transfer_point","place":"路口","area_code":"«area»"}`)},
	"GET /api/v1/checkpoints/{id}/roster":       {obj: "checkpoint"},
	"PUT /api/v1/checkpoints/{id}/roster":       {obj: "checkpoint", build: jsonBody(`{"shifts":[{"name":"王警官","post":"交警","start":"«now»","end":"«soon»"}]}`)},
	"POST /api/v1/checkpoints/{id}/scans":       {obj: "checkpoint", build: jsonBody(`{"token":"«passtoken»","client_id":"matrix-scan-0001"}`)},
	"GET /api/v1/checkpoints/{id}/scans":        {obj: "checkpoint"},
	"POST /api/v1/checkpoints/{id}/scans/batch": {obj: "checkpoint", build: jsonBody(`{"scans":[{"token":"«passtoken»","client_id":"matrix-scan-0002","scanned_at":"«past»"}]}`)},
	"POST /api/v1/checkpoints/{id}/handovers":   {obj: "checkpoint", build: jsonBody(`{"enterprise":"«enterprise»","goods":"布料","quantity":1,"unit":"吨","outside_plate":"湘A7K253","inside_plate":"湘B6D318"}`)},
	"GET /api/v1/checkpoints/{id}/handovers":    {obj: "checkpoint"},
	"POST /api/v1/traffic/measures":             {scoped: true, build: jsonBody(`{"kind":"closure","target":"新路","target_kind":"road","area_code":"«district»","description":"封闭","effective_from":"«now»"}`)},
	"PUT /api/v1/traffic/measures/{id}":         {obj: "measure2", build: jsonBody(`{"kind":"restriction","target":"改名路","target_kind":"road","area_code":"«district»","description":"限行","effective_from":"«now»","status":"cancelled"}`)},
	"POST /api/v1/traffic/notices":              {scoped: true, build: jsonBody(`{"number":"新通告1号","title":"解除","body":"解除管制。","area_code":"«district»","lifts":[«measure2»]}`)},
	"GET /api/v1/traffic/notices/{id}":          {obj: "notice"},

	// Mass testing
	"POST /api/v1/campaigns":                           {scoped: true, build: jsonBody(`{"name":"矩阵检测","area_code":"«district»"}`)},
	"GET /api/v1/campaigns/{id}":                       {obj: "campaign"},
	"POST /api/v1/campaigns/{id}/rounds":               {obj: "campaign", build: jsonBody(`{"starts_at":"«past»","ends_at":"«soon»","mode":"both"}`)},
	"POST /api/v1/campaigns/{id}/sites":                {obj: "campaign", build: jsonBody(`{"name":"矩阵采样点","hours":"8:00-20:00"}`)},
	"GET /api/v1/campaigns/{id}/sites":                 {obj: "campaign"},
	"POST /api/v1/campaigns/{id}/teams":                {obj: "campaign", build: jsonBody(`{"name":"矩阵采样队"}`)},
	"GET /api/v1/campaigns/{id}/teams":                 {obj: "campaign"},
	"GET /api/v1/rounds/{id}":                          {obj: "round"},
	"POST /api/v1/rounds/{id}/close":                   {obj: "round"},
	"POST /api/v1/rounds/{id}/samples":                 {obj: "round", build: jsonBody(`[{"client_id":"m1","resident":"«resident»","tube":"MT1","pool_size":1,"mode":"door"}]`)},
	"POST /api/v1/rounds/{id}/exemptions":              {obj: "round", build: jsonBody(`{"resident":"«resident»","reason":"hospitalized"}`)},
	"GET /api/v1/rounds/{id}/exemptions":               {obj: "round"},
	"DELETE /api/v1/rounds/{id}/exemptions/{resident}": {obj: "round"},
	"GET /api/v1/rounds/{id}/coverage":                 {obj: "round"},
	"GET /api/v1/rounds/{id}/missed":                   {obj: "round"},
	"GET /api/v1/rounds/{id}/compare":                  {obj: "round", build: func(c *cellCtx) (string, string, []byte) { return "with=" + c.id("round"), "", nil }},
	// Mass testing: lab results, retests, positives (the world has no
	// tubes: a result is refused per record, a file as a whole)
	"POST /api/v1/lab-results": {build: jsonBody(`{"results":[{"tube":"T-MATRIX","result":"negative","lab":"疾控"}]}`)},
	"POST /api/v1/lab-results/import": {build: func(c *cellCtx) (string, string, []byte) {
		return "", "text/csv", []byte("管码,结果\nT-MATRIX,阴性\n")
	}},
	"GET /api/v1/retests":   {scoped: true, build: query("area=«area»&status=open")},
	"GET /api/v1/positives": {scoped: true, build: query("area=«area»")},
	"POST /testing/lab": {build: func(c *cellCtx) (string, string, []byte) {
		ct, b := multipartBody(nil, "lab.csv", []byte("管码,结果\nT-MATRIX,阴性\n"))
		return "", ct, b
	}},
	"GET /testing/retests": {scoped: true, build: query("area=«area»")},

	// Zones
	"POST /api/v1/zones":                       {scoped: true, build: jsonBody(`{"level":"guarded","area_code":"«street»","reason":"矩阵","decision_no":"矩阵1"}`)},
	"GET /api/v1/zones":                        {scoped: true, build: query("area=«area»")},
	"GET /api/v1/zones/history":                {scoped: true, build: query("area=«area»")},
	"GET /api/v1/zones/{id}":                   {obj: "zone"},
	"POST /api/v1/zones/{id}/change":           {obj: "zone", build: jsonBody(`{"level":"controlled","reason":"矩阵","decision_no":"矩阵2"}`)},
	"POST /api/v1/zones/{id}/lift":             {obj: "zone", build: jsonBody(`{"reason":"矩阵","decision_no":"矩阵3"}`)},
	"GET /api/v1/zone-proposals":               {scoped: true, build: query("area=«area»")},
	"POST /api/v1/zone-proposals/{id}/confirm": {obj: "proposal", build: jsonBody(`{"decision_no":"矩阵4"}`)},
	"POST /api/v1/zone-proposals/{id}/decline": {obj: "proposal", build: jsonBody(`{"reason":"矩阵"}`)},
	"POST /api/v1/zone-permits":                {scoped: true, build: jsonBody(`{"resident":"«resident»","reason":"就医","valid_from":"«past»","valid_to":"«soon»"}`)},
	"GET /api/v1/zone-permits":                 {scoped: true, build: query("area=«area»")},
	"POST /api/v1/zone-permits/{id}/cancel":    {obj: "permit", build: jsonBody(`{"reason":"已返回"}`)},
	// Pages: zones
	"GET /zones":                         {scoped: true, build: query("area=«area»")},
	"GET /zones/history":                 {scoped: true, build: query("area=«area»")},
	"GET /zones/{id}":                    {obj: "zone"},
	"POST /zones":                        {scoped: true, build: formBody("level=guarded&area_code=«street»&effective_from=«formnow»&reason=x&decision_no=y")},
	"POST /zones/{id}/change":            {obj: "zone", build: formBody("level=controlled&at=«formnow»&reason=x&decision_no=y")},
	"POST /zones/{id}/lift":              {obj: "zone", build: formBody("at=«formnow»&reason=x&decision_no=y")},
	"POST /zones/proposals/{id}/confirm": {obj: "proposal", build: formBody("decision_no=y")},
	"POST /zones/proposals/{id}/decline": {obj: "proposal", build: formBody("reason=x")},
	"POST /zones/permits":                {scoped: true, build: formBody("resident=«resident»&reason=x&valid_from=«formnow»&valid_to=«formsoon»")},
	"POST /zones/permits/{id}/cancel":    {obj: "permit", build: formBody("reason=x")},

	// Pages: accounts
	"POST /login":                    {build: formBody("username=m_target&password=" + DemoPassword + "&next=/")},
	"POST /lang":                     {build: formBody("lang=en&next=/")},
	"POST /users":                    {scoped: true, build: formBody("username=newuser&display_name=%E6%96%B0&password=long-enough-1&role=volunteer&scope=«area»")},
	"POST /users/{username}/roles":   {build: formBody("role=volunteer&scope=«street»")},
	"POST /users/{username}/status":  {build: formBody("active=false")},
	"GET /areas/{code}":              {obj: "area"},
	"GET /areas/{code}/children":     {obj: "area"},
	"POST /enterprises/{key}/report": {build: formBody("date=«today»&status=resumed&capacity_pct=50&staff_expected=100&staff_on_site=50&note=ok")},
	"POST /enterprises/{key}/plans": {build: func(c *cellCtx) (string, string, []byte) {
		ct, b := multipartBody(map[string]string{"title": "新预案"}, "plan.pdf", pdfBytes)
		return "", ct, b
	}},
	"POST /plans/{id}/review":          {obj: "plan", build: formBody("decision=approve&note=ok&next=/enterprises")},
	"GET /resumption":                  {scoped: true, build: query("area=«area»")},
	"GET /resumption.xlsx":             {scoped: true, build: query("area=«area»")},
	"GET /resumption/not-resumed":      {scoped: true, build: query("area=«area»")},
	"GET /resumption/not-resumed.xlsx": {scoped: true, build: query("area=«area»")},
	// Pages: tickets
	"POST /tickets":                   {scoped: true, build: formBody("category=medical&enterprise=«enterprise»&description=%E5%B0%B1%E5%8C%BB")},
	"GET /tickets/{id}":               {obj: "ticket"},
	"POST /tickets/{id}/transitions":  {obj: "ticket", build: formBody("to=in_progress&note=ok")},
	"POST /tickets/{id}/comments":     {obj: "ticket", build: formBody("note=%E5%B7%B2%E8%81%94%E7%B3%BB")},
	"POST /tickets/{id}/merge":        {obj: "ticket", build: formBody("into=«ticket2»&note=dup")},
	"POST /tickets/{id}/reveal-phone": {obj: "ticket", build: formBody("reason=%E8%81%94%E7%B3%BB%E6%A0%B8%E5%AE%9E")},
	"POST /tickets/{id}/photos": {obj: "ticket", build: func(c *cellCtx) (string, string, []byte) {
		ct, b := multipartBody(nil, "photo.png", pngBytes)
		return "", ct, b
	}},
	"GET /tickets/caller": {build: func(c *cellCtx) (string, string, []byte) {
		return "reporter_phone=13807330001&category=food", "", nil
	}},
	"POST /ticket-settings/policies/{category}": {build: formBody("normal.respond_by=3h&normal.resolve_by=overnight&urgent.respond_by=30m&urgent.resolve_by=6h&critical.respond_by=10m&critical.resolve_by=2h")},
	"POST /ticket-settings/routes":              {scoped: true, build: formBody("category=logistics&area_code=«district»&department=ls_wjj")},
	"POST /ticket-settings/routes/{id}/delete":  {obj: "route"},
	"POST /help":         {build: formBody("name=%E7%8E%8B&phone=13807330098&area_code=" + inCommunity + "&address=1&category=food&description=%E7%BC%BA%E7%B1%B3")},
	"POST /help/status":  {build: formBody("tracking=«help»&last4=1234")},
	"POST /help/confirm": {build: formBody("tracking=«help»&last4=1234&satisfied=yes")},
	// Pages: notifications
	"POST /inbox/{id}/read":      {obj: "inbox", build: formBody("next=/inbox")},
	"POST /inbox/read-all":       {build: formBody("next=/inbox")},
	"POST /webhooks":             {scoped: true, build: formBody("name=new&url=https%3A%2F%2Fexample.com%2Fnew&format=json&events=*&area_code=«area»&active=on")},
	"POST /webhooks/{id}/test":   {obj: "webhook"},
	"POST /webhooks/{id}/active": {obj: "webhook", build: formBody("active=false")},
	"POST /webhooks/{id}/delete": {obj: "webhook"},
	// Pages: passes
	"POST /pass-batches": {scoped: true, build: func(c *cellCtx) (string, string, []byte) {
		ct, b := multipartBody(map[string]string{"enterprise": c.id("enterprise")}, "list.csv", passCSVFor(c))
		return "", ct, b
	}},
	"GET /pass-batches/{id}":          {obj: "batch"},
	"POST /pass-batches/{id}/approve": {obj: "batch", build: formBody("row=2&row=3&total=2&note=ok&confirm=1")},
	"POST /pass-batches/{id}/reject":  {obj: "batch", build: formBody("reason=%E6%9C%89%E8%AF%AF&confirm=1")},
	"POST /pass-batches/{id}/reveal":  {obj: "batch", build: formBody("row=2&reason=%E6%A0%B8%E5%AF%B9")},
	"GET /pass-batches/areas":         {scoped: true, build: query("enterprise=«enterprise»")},
	"GET /pass-batches/{id}/cards":    {obj: "approvedbatch"},
	// Pages: checkpoints and traffic
	"POST /checkpoints":                         {scoped: true, build: formBody("name=new&kind=road&place=p&area_code=«area»&open=true")},
	"GET /checkpoints/{id}":                     {obj: "checkpoint"},
	"POST /checkpoints/{id}":                    {obj: "checkpoint", build: formBody("name=renamed&kind=transfer_point&place=p&area_code=«area»&open=true")},
	"POST /checkpoints/{id}/roster":             {obj: "checkpoint", build: formBody("name=%E7%8E%8B&post=p&start=«formnow»&end=«formsoon»")},
	"POST /checkpoints/{id}/handovers":          {obj: "checkpoint", build: formBody("enterprise=«enterprise»&goods=g&quantity=1&unit=t&outside_plate=%E6%B9%98A7K253&inside_plate=%E6%B9%98B6D318")},
	"GET /checkpoints/{id}/scans.xlsx":          {obj: "checkpoint"},
	"GET /checkpoints/{id}/scan":                {obj: "checkpoint"},
	"GET /traffic/notices/{id}":                 {obj: "notice"},
	"POST /traffic/manage/measures":             {scoped: true, build: formBody("kind=closure&target=new&target_kind=road&area_code=«district»&description=d&effective_from=«formnow»")},
	"POST /traffic/manage/measures/{id}/cancel": {obj: "measure2"},
	"POST /traffic/manage/notices":              {scoped: true, build: formBody("number=N1&title=t&body=b&area_code=«district»&lifts=«measure2»")},

	// Pages: mass testing
	"GET /testing/campaigns/{id}":          {obj: "campaign"},
	"GET /testing/rounds/{id}":             {obj: "round"},
	"GET /testing/rounds/{id}/board":       {obj: "round"},
	"GET /testing/rounds/{id}/missed":      {obj: "round"},
	"POST /testing":                        {scoped: true, build: formBody("name=%E7%9F%A9%E9%98%B5&area_code=«district»")},
	"POST /testing/campaigns/{id}/rounds":  {obj: "campaign", build: formBody("starts_at=«formnow»&ends_at=«formsoon»&mode=both")},
	"POST /testing/rounds/{id}/close":      {obj: "round"},
	"POST /testing/rounds/{id}/exemptions": {obj: "round", build: formBody("resident=«resident»&reason=hospitalized")},
	// Mass testing: the household register
	"POST /api/v1/households/import": {scoped: true, build: func(c *cellCtx) (string, string, []byte) {
		return "", "text/csv", registerCSVFor(c)
	}},
	"GET /api/v1/households":             {scoped: true, build: query("area=«area»")},
	"GET /api/v1/households/{id}":        {obj: "household"},
	"GET /api/v1/households/{id}/codes":  {obj: "household"},
	"POST /api/v1/residents/{id}/reveal": {obj: "residentid", build: jsonBody(`{"reason":"入户核对"}`)},
	"GET /households":                    {scoped: true, build: query("area=«area»")},
	"GET /households/codes":              {scoped: true, build: query("community=«area»&estate=%s&building=1%s", "%E7%9F%A9%E9%98%B5%E5%B0%8F%E5%8C%BA", "%E6%A0%8B")},
	"POST /households/import": {scoped: true, build: func(c *cellCtx) (string, string, []byte) {
		ct, b := multipartBody(nil, "register.csv", registerCSVFor(c))
		return "", ct, b
	}},
	// Pages: mass testing, the collector's page
	"GET /rounds/{id}/collect": {obj: "round"},
}

// paramKinds are the kinds of path parameters other than {id} and {code}.
var paramKinds = map[string]string{"username": "user", "key": "enterprise", "pid": "pass", "photo": "photo", "category": "category", "scope": "baseline",
	"resident": "resident"}

// globalKinds name objects that have no scope: their cells are "-".
var globalKinds = map[string]bool{"category": true}

// cellsOf returns the scopes a route is called with: "in" and "out" when
// a path parameter or the body names a scoped object, else "-".
func cellsOf(pattern string) []string {
	spec := matrixSpecs[pattern]
	if spec.scoped {
		return []string{"in", "out"}
	}
	for _, name := range placeholders(pattern) {
		kind := paramKind(spec, name)
		if kind != "" && !globalKinds[kind] {
			return []string{"in", "out"}
		}
	}
	return []string{"-"}
}

func placeholders(pattern string) []string {
	var out []string
	for _, m := range placeholder.FindAllString(pattern, -1) {
		out = append(out, strings.Trim(m, "{}"))
	}
	return out
}

func paramKind(spec reqSpec, name string) string {
	if k, ok := spec.params[name]; ok {
		return k
	}
	if k, ok := paramKinds[name]; ok {
		return k
	}
	return spec.obj
}

// matrixPath fills a pattern's path parameters for a cell.
func matrixPath(pattern string, c *cellCtx) (method, path string) {
	spec := matrixSpecs[pattern]
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.TrimSuffix(path, "{$}")
	for _, name := range placeholders(pattern) {
		kind := paramKind(spec, name)
		var v string
		switch kind {
		case "":
			panic("access matrix: " + pattern + " names {" + name + "} without a kind in matrixSpecs")
		case "inbox":
			u := roleUser(c.role)
			if c.role == "anonymous" {
				u = "m_target"
			}
			v = c.w.inbox[u]
			if !c.in {
				v = c.w.inbox["x_target"]
			}
		default:
			v = c.id(kind)
		}
		path = strings.Replace(path, "{"+name+"}", url.PathEscape(v), 1)
	}
	return method, path
}
