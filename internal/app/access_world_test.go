package app

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/checkpoint"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/notify"
	"tongxin/internal/pass"
	"tongxin/internal/resumption"
	"tongxin/internal/ticket"
)

// The access matrix's world: the demo city, one account per role bound
// in 芦淞区 / 建设街道 / 大园社区 (system_admin alone city-wide), and for
// every kind of object a path may name one object the scoped roles reach
// ("in") and one in 石峰区, which none of them reaches ("out"). Every
// out-of-scope object carries canaryMarker in a name or text, so that a
// list or export leaking one shows it.

// matrixNow is the world's moment: every copy runs on a clock stopped
// there, so that no answer depends on when the test runs and no read
// writes (a token's or session's use is written at most once a minute).
var matrixNow = time.Date(2022, 11, 20, 10, 0, 0, 0, clock.Shanghai)

// canaryMarker is in the name or text of every out-of-scope object.
const canaryMarker = "越界哨兵"

// Areas of the world.
const (
	inDistrict   = "430203"       // 芦淞区
	inStreet     = "430203001"    // 建设街道
	inCommunity  = "430203001001" // 大园社区
	outDistrict  = "430204"       // 石峰区
	outStreet    = "430204001"    // 井龙街道
	outCommunity = "430204001002" // 井龙社区
)

// matrixRoles are the rows of the matrix: anonymous and every role.
var matrixRoles = append([]string{"anonymous"}, func() []string {
	var out []string
	for _, r := range auth.Roles {
		out = append(out, string(r))
	}
	return out
}()...)

// roleUser is the account of a role in the matrix.
func roleUser(role string) string { return "m_" + role }

// creditCode completes a 17-character credit code base with its GB 32100
// check character.
func creditCode(base string) string {
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	weights := []int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum := 0
	for i, w := range weights {
		sum += strings.IndexByte(chars, base[i]) * w
	}
	return base + string(chars[(31-sum%31)%31])
}

var (
	entIn  = creditCode("91430203MA4M00001")
	entOut = creditCode("91430204MA4M00002")
)

// matrixWorld is the prepared world: a closed SQLite file and data
// directory that each cell that may write copies, and the ids of its
// objects.
type matrixWorld struct {
	dir      string            // world.db and data/
	obj      map[string]string // "kind.in" / "kind.out" → id, key or code
	tokens   map[string]string // role → API token
	sessions map[string]string // role → session cookie
	inbox    map[string]string // username → id of a notification of theirs
	passTok  string            // a pass token valid in 大园社区
}

func (w *matrixWorld) id(kind string, in bool) string {
	k := kind + ".out"
	if in {
		k = kind + ".in"
	}
	v, ok := w.obj[k]
	if !ok {
		panic("access matrix: no object " + k)
	}
	return v
}

// openMatrixSystem opens a System on the SQLite file and data directory
// in dir, on a clock stopped at matrixNow.
func openMatrixSystem(dir string) (*System, error) {
	env := &Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Clock: clock.NewManual(matrixNow)}
	f := newFlags(env, "test", "test")
	if err := f.parse([]string{"--db", "sqlite:" + filepath.Join(dir, "world.db"), "--data-dir", filepath.Join(dir, "data")}); err != nil {
		return nil, err
	}
	return f.open(context.Background(), true, slog.New(slog.DiscardHandler))
}

// copyWorld copies the world's files (database, keys, uploads) into a new
// directory.
func copyWorld(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
}

// buildMatrixWorld seeds the world in a new directory and closes it.
func buildMatrixWorld(t testing.TB) *matrixWorld {
	t.Helper()
	w := &matrixWorld{dir: t.TempDir(), obj: map[string]string{}, tokens: map[string]string{}, sessions: map[string]string{}, inbox: map[string]string{}}
	sys, err := openMatrixSystem(w.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	ctx := context.Background()
	if _, err := Demo(ctx, sys); err != nil {
		t.Fatal(err)
	}
	sp := auth.System()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("access world: %s: %v", what, err)
		}
	}
	principal := func(username string) *auth.Principal {
		t.Helper()
		id, roles, err := sys.Auth.LookupUser(ctx, username)
		must("principal "+username, err)
		return &auth.Principal{UserID: id, Username: username, Assignments: roles}
	}
	user := func(username, name, role, scope string) {
		t.Helper()
		_, err := sys.Auth.CreateUser(ctx, sp, auth.NewUser{Username: username, DisplayName: name, Password: DemoPassword,
			Phone: "13907339" + fmt.Sprintf("%03d", len(w.obj)%1000), Roles: []auth.RoleInput{{Role: role, Scope: scope}}})
		must("user "+username, err)
	}

	// Work groups and departments of both districts.
	_, err = sys.Areas.CreateWorkgroup(ctx, sp, area.Workgroup{Code: "m_ls_group", Name: "芦淞区社区防控组", AreaCode: inDistrict, Remit: "芦淞区的社区防控"})
	must("workgroup in", err)
	_, err = sys.Areas.CreateWorkgroup(ctx, sp, area.Workgroup{Code: "m_sf_group", Name: canaryMarker + "石峰区工作组", AreaCode: outDistrict, Remit: canaryMarker})
	must("workgroup out", err)
	_, err = sys.Areas.CreateDepartment(ctx, sp, area.Department{Code: "m_sf_dept", Name: canaryMarker + "石峰区部门", AreaCode: outDistrict})
	must("department out", err)
	w.obj["workgroup.in"], w.obj["workgroup.out"] = "m_ls_group", "m_sf_group"
	w.obj["department.in"], w.obj["department.out"] = "ls_wjj", "m_sf_dept"
	w.obj["area.in"], w.obj["area.out"] = inCommunity, outCommunity

	// Enterprises: one in 大园社区, the canary in 石峰区.
	for _, e := range []resumption.EnterpriseInput{
		{Key: entIn, Kind: resumption.KindEnterprise, Name: "大园社区矩阵制衣厂", AreaCode: inCommunity, Park: "芦淞服饰产业园",
			Categories: []string{"规上工业"}, Employees: 300, ContactName: "厂办", ContactPhone: "13907338001"},
		{Key: entOut, Kind: resumption.KindEnterprise, Name: canaryMarker + "石峰机械厂", AreaCode: outCommunity, Park: "田心高科园",
			Categories: []string{"规上工业"}, Employees: 300, ContactName: "厂办", ContactPhone: "13907338002"},
	} {
		_, _, err := sys.Resumption.Save(ctx, sp, e)
		must("enterprise "+e.Name, err)
	}
	w.obj["enterprise.in"], w.obj["enterprise.out"] = entIn, entOut

	// Checkpoints (transfer points, so that handovers are possible).
	cpIn, err := sys.Checkpoints.Create(ctx, sp, checkpoint.CheckpointInput{Name: "大园社区物资接驳点", Kind: checkpoint.TransferPoint, Place: "建设南路口", AreaCode: inCommunity})
	must("checkpoint in", err)
	cpOut, err := sys.Checkpoints.Create(ctx, sp, checkpoint.CheckpointInput{Name: canaryMarker + "井龙接驳点", Kind: checkpoint.TransferPoint, Place: "井龙路口", AreaCode: outCommunity})
	must("checkpoint out", err)
	w.obj["checkpoint.in"], w.obj["checkpoint.out"] = cpIn.Ref(), cpOut.Ref()

	// The matrix's department reviews passes and keeps the registry, so
	// that its cells show reach (in and out of scope); a department
	// without capabilities is tested in internal/pass and internal/app.
	_, err = sys.Areas.UpdateDepartment(ctx, sp, area.Department{Code: "ls_wjj", Name: "芦淞区卫健局", AreaCode: inDistrict,
		Capabilities: []auth.Capability{auth.CapPassReview, auth.CapResumptionManage}})
	must("department capabilities", err)

	// One account per role, bound in 芦淞区; system_admin city-wide.
	scopes := map[auth.Role]string{
		auth.SystemAdmin: "430200", auth.HQCommander: inDistrict, auth.HQStaff: inDistrict, auth.DistrictOfficer: inDistrict,
		auth.StreetOfficer: inStreet, auth.CommunityWorker: inCommunity, auth.DepartmentOfficer: "department:ls_wjj",
		auth.WorkgroupMember: "workgroup:m_ls_group", auth.Liaison: inCommunity, auth.EnterpriseContact: "enterprise:" + entIn,
		auth.Volunteer: inCommunity, auth.CheckpointOfficer: "checkpoint:" + cpIn.Ref(), auth.Inspector: inDistrict,
	}
	for _, r := range auth.Roles {
		user(roleUser(string(r)), "矩阵"+string(r), string(r), scopes[r])
	}
	// Objects of user management: a user in 大园社区 and the canary.
	user("m_target", "大园社区志愿者", "volunteer", inCommunity)
	user("m_liaison2", "大园社区联络员", "liaison", inCommunity)
	user("x_target", canaryMarker+"井龙社区干部", "community_worker", outCommunity)
	user("x_contact", canaryMarker+"企业联系人", "enterprise_contact", "enterprise:"+entOut)
	user("x_liaison", canaryMarker+"联络员", "liaison", outCommunity)
	user("x_liaison2", canaryMarker+"联络员二", "liaison", outCommunity)
	w.obj["user.in"], w.obj["user.out"] = "m_target", "x_target"
	for _, u := range []string{"m_target", "x_target"} {
		_, tok, err := sys.Auth.CreateToken(ctx, sp, u, "大屏")
		must("token of "+u, err)
		w.obj["token."+map[bool]string{true: "in", false: "out"}[u == "m_target"]] = strconv.FormatInt(tok.ID, 10)
	}
	_, err = sys.Resumption.AssignLiaison(ctx, sp, entIn, roleUser("liaison"))
	must("liaison in", err)
	_, err = sys.Resumption.AssignLiaison(ctx, sp, entOut, "x_liaison")
	must("liaison out", err)
	w.obj["liaison.in"], w.obj["liaison.out"] = roleUser("liaison"), "x_liaison"
	w.obj["newliaison.in"], w.obj["newliaison.out"] = "m_liaison2", "x_liaison2"

	// Reports of today, baselines, plans.
	today := matrixNow.Format("2006-01-02")
	for _, key := range []string{entIn, entOut} {
		n := 100
		_, err := sys.Resumption.FileReport(ctx, sp, key, resumption.ReportInput{Date: today, Status: resumption.Suspended,
			StaffExpected: &n, StaffOnSite: new(int), CapacityPct: new(int), Note: "停工"})
		must("report", err)
	}
	for _, b := range []struct{ code, name string }{{inDistrict, "芦淞区工业"}, {outDistrict, canaryMarker + "石峰区工业"}} {
		_, err := sys.Resumption.PutBaseline(ctx, sp, "district_industrial:"+b.code, resumption.BaselineInput{AreaCode: b.code, Name: b.name, BaselineKW: 1000, Reference: "2022年10月"})
		must("baseline", err)
	}
	w.obj["baseline.in"], w.obj["baseline.out"] = "district_industrial:"+inDistrict, "district_industrial:"+outDistrict
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	for _, s := range []struct{ key, title, k string }{{entIn, "制衣厂防控预案", "in"}, {entOut, canaryMarker + "防控预案", "out"}} {
		pl, err := sys.Resumption.SubmitPlan(ctx, sp, resumption.PlanInput{SubjectKind: resumption.PlanEnterprise, Subject: s.key, Title: s.title, FileName: "plan.pdf", File: pdf})
		must("plan", err)
		w.obj["plan."+s.k] = strconv.FormatInt(pl.ID, 10)
	}

	// Tickets: medical ones (routed to 芦淞区卫健局 in 芦淞区, to 市卫健委 in
	// 石峰区), filed by the enterprises' contacts, each with a photo, and
	// a second open one per side to merge into.
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 4)))
	for _, s := range []struct {
		k, by, key, desc string
	}{
		{"in", roleUser("enterprise_contact"), entIn, "制衣厂职工就医需要专车"},
		{"out", "x_contact", entOut, canaryMarker + "机械厂职工就医需要专车"},
	} {
		for i, suffix := range []string{"", "2"} {
			tk, err := sys.Tickets.Create(ctx, principal(s.by), ticket.Input{Category: "medical", Enterprise: s.key, Description: s.desc + suffix,
				ReporterName: "厂办", ReporterPhone: "13907338888"})
			must("ticket "+s.k, err)
			w.obj["ticket"+suffix+"."+s.k] = tk.Tracking
			if i == 0 {
				ph, err := sys.Tickets.AddPhoto(ctx, sp, tk.Tracking, img.Bytes())
				must("photo", err)
				w.obj["photo."+s.k] = strconv.FormatInt(ph.ID, 10)
			}
		}
	}
	// A resident's help request, resolved (for the public status and
	// confirm forms), and routing rules.
	rc, err := sys.Tickets.FilePublic(ctx, "192.0.2.9", ticket.PublicInput{Name: "张桂英", Phone: "13807331234", AreaCode: inCommunity,
		Address: "建设南路 12 栋", Category: "other", Description: "楼道灯坏了"})
	must("help request", err)
	_, err = sys.Tickets.Transition(ctx, sp, rc.Tracking, ticket.TransitionInput{To: ticket.Resolved, Note: "已修好"})
	must("resolve help request", err)
	w.obj["help.in"], w.obj["help.out"] = rc.Tracking, rc.Tracking
	rIn, err := sys.Tickets.SaveRoute(ctx, sp, ticket.RouteInput{Category: "food", AreaCode: inDistrict, Department: "ls_wjj"})
	must("route in", err)
	rOut, err := sys.Tickets.SaveRoute(ctx, sp, ticket.RouteInput{Category: "food", AreaCode: outDistrict, Department: "m_sf_dept"})
	must("route out", err)
	w.obj["route.in"], w.obj["route.out"] = strconv.FormatInt(rIn.ID, 10), strconv.FormatInt(rOut.ID, 10)

	// Webhooks.
	for _, s := range []struct{ k, name, code string }{{"in", "大园社区工单群", inCommunity}, {"out", canaryMarker + "石峰区工单群", outDistrict}} {
		name, url, format, code := s.name, "https://example.com/hook", "json", s.code
		hook, err := sys.Notify.CreateWebhook(ctx, sp, notify.WebhookInput{Name: &name, URL: &url, Format: &format, AreaCode: &code, Events: &[]string{"*"}})
		must("webhook", err)
		w.obj["webhook."+s.k] = strconv.FormatInt(hook.ID, 10)
	}

	// Passes: a quota, an approved batch (passes) and a pending one per
	// enterprise.
	csv := func(n int, areas string) []byte {
		from, to := today, matrixNow.AddDate(0, 0, 29).Format("2006-01-02")
		var b strings.Builder
		b.WriteString("姓名,身份证号,手机,车牌,区域,起,止\n")
		for i := 0; i < 2; i++ {
			fmt.Fprintf(&b, "%s工人%d,%s,1390733%04d,,%s,%s,%s\n", map[bool]string{true: canaryMarker, false: "矩阵"}[strings.HasPrefix(areas, outDistrict)],
				i, demoIDNumber(fmt.Sprintf("%s19900101%03d", areas[:6], n*10+i)), n*10+i, areas, from, to)
		}
		return []byte(b.String())
	}
	for i, s := range []struct{ k, by, key, areas string }{{"in", roleUser("enterprise_contact"), entIn, inCommunity}, {"out", "x_contact", entOut, outCommunity}} {
		q := 100
		_, err := sys.Passes.SetQuota(ctx, sp, s.key, pass.QuotaInput{Quota: &q})
		must("quota", err)
		b, err := sys.Passes.Upload(ctx, principal(s.by), pass.UploadInput{Enterprise: s.key, FileName: "list.csv", Data: csv(i*2+1, s.areas)})
		must("pass batch", err)
		_, err = sys.Passes.Approve(ctx, sp, b.ID, pass.ApproveInput{Note: "同意"})
		must("approve", err)
		ps, err := sys.Passes.BatchPasses(ctx, sp, b.ID)
		must("passes", err)
		w.obj["pass."+s.k] = ps[0].PID
		w.obj["approvedbatch."+s.k] = strconv.FormatInt(b.ID, 10)
		if s.k == "in" {
			w.passTok = ps[0].Token
		}
		b, err = sys.Passes.Upload(ctx, principal(s.by), pass.UploadInput{Enterprise: s.key, FileName: "list2.csv", Data: csv(i*2+2, s.areas)})
		must("pending pass batch", err)
		w.obj["batch."+s.k] = strconv.FormatInt(b.ID, 10)
	}

	// The checkpoint officer is on duty now at the checkpoint in 大园社区.
	now := matrixNow
	_, err = sys.Checkpoints.SetRoster(ctx, sp, cpIn.Ref(), checkpoint.RosterInput{Shifts: []checkpoint.ShiftInput{
		{Name: "矩阵执勤员", Username: roleUser("checkpoint_officer"), Post: "卡口执勤", Start: now.Add(-time.Hour), End: now.Add(12 * time.Hour)}}})
	must("roster", err)
	for _, s := range []struct{ k, cp string }{{"in", cpIn.Ref()}, {"out", cpOut.Ref()}} {
		_, err := sys.Checkpoints.LogHandover(ctx, sp, s.cp, checkpoint.HandoverInput{Enterprise: map[string]string{"in": entIn, "out": entOut}[s.k],
			Goods: "布料", Quantity: 2, Unit: "吨", OutsidePlate: "湘A7K253", InsidePlate: "湘B6D318"})
		must("handover", err)
	}

	// Traffic measures and notices.
	for _, s := range []struct{ k, code, target string }{{"in", inDistrict, "建设南路"}, {"out", outDistrict, canaryMarker + "井龙路"}} {
		m, err := sys.Checkpoints.CreateMeasure(ctx, sp, checkpoint.MeasureInput{Kind: checkpoint.Closure, Target: s.target, TargetKind: checkpoint.TargetRoad,
			AreaCode: s.code, EffectiveFrom: now.Add(-time.Hour), Description: "临时封闭"})
		must("measure", err)
		w.obj["measure."+s.k] = strconv.FormatInt(m.ID, 10)
		n, err := sys.Checkpoints.PublishNotice(ctx, sp, checkpoint.NoticeInput{Number: "矩阵通告" + s.k, Title: s.target + "临时封闭", Body: "临时封闭。",
			AreaCode: s.code, Starts: []int64{m.ID}})
		must("notice", err)
		w.obj["notice."+s.k] = strconv.FormatInt(n.ID, 10)
		m2, err := sys.Checkpoints.CreateMeasure(ctx, sp, checkpoint.MeasureInput{Kind: checkpoint.Restriction, Target: s.target + "二段", TargetKind: checkpoint.TargetRoad,
			AreaCode: s.code, EffectiveFrom: now.Add(-time.Hour), Description: "限行"})
		must("measure 2", err)
		w.obj["measure2."+s.k] = strconv.FormatInt(m2.ID, 10)
	}
	w.obj["category.in"], w.obj["category.out"] = "food", "food"
	testingWorld(ctx, sys, w, must)
	zoneWorld(ctx, sys, w, must)
	quarantineWorld(ctx, sys, w, must)
	must("register", matrixRegister(ctx, sys, w))

	// A notification for every account, and tokens and sessions.
	accounts := []string{"m_target", "x_target"}
	for _, r := range auth.Roles {
		accounts = append(accounts, roleUser(string(r)))
	}
	for _, u := range accounts {
		p := principal(u)
		must("notify", sys.DB.Write(ctx, func(tx *db.Tx) error {
			return sys.Notify.Send(ctx, tx, []int64{p.UserID}, notify.Message{Event: "ticket.created", Title: "矩阵消息 " + u, Body: "消息", Link: "/inbox"})
		}))
		list, err := sys.Notify.Inbox(ctx, p, notify.InboxFilter{Limit: 1})
		must("inbox", err)
		w.inbox[u] = strconv.FormatInt(list[0].ID, 10)
	}
	for _, r := range auth.Roles {
		u := roleUser(string(r))
		secret, _, err := sys.Auth.CreateToken(ctx, sp, u, "matrix")
		must("token", err)
		w.tokens[string(r)] = secret
		sess, _, err := sys.Auth.Login(ctx, u, DemoPassword, "192.0.2.1")
		must("login", err)
		w.sessions[string(r)] = sess
		// Their first use is written now, not in every copy.
		_, err = sys.Auth.TokenPrincipal(ctx, secret)
		must("token use", err)
		_, err = sys.Auth.SessionPrincipal(ctx, sess)
		must("session use", err)
	}
	return w
}
