package resumption

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"tongxin/internal/apispec/apitest"
	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
	"tongxin/internal/web"
)

// Enterprises of the plan tests, in the demo city's areas.
const (
	planKeyCRRC    = "91430200184287000F" // 石峰区 清水塘街道
	planKeyQianjin = "914302001838260003" // 天元区 嵩山路街道
	planKeyOuwei   = "91430203MA4L1A0000" // 芦淞区 贺家土街道
)

type planEnv struct {
	svc     *Service
	d       *db.DB
	dataDir string
	liaison *auth.Principal // assigned to CRRC only
}

func newPlanEnv(t *testing.T, d *db.DB) *planEnv {
	t.Helper()
	ctx := context.Background()
	sys := auth.System()
	areas := area.NewService(d, area.Deps{})
	as, ds, gs := area.DemoCity()
	if _, err := areas.Seed(ctx, sys, as, ds, gs); err != nil {
		t.Fatal(err)
	}
	box, err := pii.NewBox(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	users := auth.NewService(d, box, auth.DefaultConfig())
	dir := t.TempDir()
	svc := NewService(d, Deps{Box: box, Areas: areas, Users: users, DataDir: dir})
	users.RegisterScope(auth.ScopeEnterprise, svc.ResolveScope)
	for _, in := range []EnterpriseInput{
		{Key: planKeyCRRC, Kind: KindEnterprise, Name: "中车株洲车辆有限公司", AreaCode: "430204003", Park: "田心高科园",
			Categories: []string{"规上工业"}, IsKey: true, Employees: 3200, ContactName: "调度", ContactPhone: "13907330001"},
		{Key: planKeyQianjin, Kind: KindEnterprise, Name: "株洲千金药业股份有限公司", AreaCode: "430211001", Park: "株洲高新区",
			Categories: []string{"规上工业"}, Employees: 2100},
		{Key: planKeyOuwei, Kind: KindEnterprise, Name: "湖南欧微时尚集团", AreaCode: "430203002", Park: "芦淞服饰产业园",
			Categories: []string{"规上工业", "限上批零住餐"}, Employees: 420},
	} {
		if _, _, err := svc.Save(ctx, sys, in); err != nil {
			t.Fatalf("save %s: %v", in.Name, err)
		}
	}
	u, err := users.CreateUser(ctx, sys, auth.NewUser{Username: "lly", DisplayName: "联络员", Password: "Liaison-Pass-2022!",
		Roles: []auth.RoleInput{{Role: string(auth.Liaison), Scope: "430204"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AssignLiaison(ctx, sys, planKeyCRRC, "lly"); err != nil {
		t.Fatal(err)
	}
	liaison := &auth.Principal{UserID: u.ID, Username: "lly", DisplayName: "联络员", Assignments: []auth.Assignment{{
		Role: auth.Liaison, Scope: auth.Scope{Kind: auth.ScopeArea, Ref: "430204", Path: "/430200/430204/"}}}}
	return &planEnv{svc: svc, d: d, dataDir: dir, liaison: liaison}
}

func planAreaPrincipal(role auth.Role, code, path string) *auth.Principal {
	return &auth.Principal{UserID: 900, Username: string(role) + "-" + code, DisplayName: string(role), Assignments: []auth.Assignment{{
		Role: role, Scope: auth.Scope{Kind: auth.ScopeArea, Ref: code, Path: path}}}}
}

func planContact(key string) *auth.Principal {
	return &auth.Principal{UserID: 901, Username: "contact-" + key, DisplayName: "企业联系人", Assignments: []auth.Assignment{{
		Role: auth.EnterpriseContact, Scope: auth.Scope{Kind: auth.ScopeEnterprise, Ref: key}}}}
}

var (
	planHQ       = planAreaPrincipal(auth.HQStaff, "430200", "/430200/")                       // manages the city
	planTianyuan = planAreaPrincipal(auth.HQStaff, "430211", "/430200/430211/")                // manages 天元区
	planShifeng  = planAreaPrincipal(auth.DistrictOfficer, "430204", "/430200/430204/")        // reads 石峰区
	planLusong   = planAreaPrincipal(auth.DistrictOfficer, "430203", "/430200/430203/")        // reads 芦淞区
	planHelper   = planAreaPrincipal(auth.Volunteer, "430204003", "/430200/430204/430204003/") // no resumption rights
)

// Minimal real files of each accepted kind.

func planPDF() []byte {
	return []byte("%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n" +
		"trailer <</Root 1 0 R>>\n%%EOF\n")
}

func planPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func planZip(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		f, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(f, `<?xml version="1.0" encoding="UTF-8"?><x/>`)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func planDOCX(t *testing.T) []byte {
	return planZip(t, "[Content_Types].xml", "_rels/.rels", "word/document.xml")
}

func wantKind(t *testing.T, err error, k errs.Kind, code string) {
	t.Helper()
	if !errs.Is(err, k) {
		t.Fatalf("error %v, want kind %s", err, k)
	}
	if e := errs.As(err); code != "" && e.Code != code {
		t.Fatalf("error code %q, want %q (%v)", e.Code, code, err)
	}
}

func TestSniffPlanFile(t *testing.T) {
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}
	webp := []byte("RIFF\x24\x00\x00\x00WEBPVP8 ")
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"pdf", planPDF(), MediaPDF},
		{"png", planPNG(t), MediaPNG},
		{"jpeg", jpeg, MediaJPEG},
		{"webp", webp, MediaWebP},
		{"docx", planDOCX(t), MediaDOCX},
		{"zip without word/document.xml", planZip(t, "[Content_Types].xml", "xl/workbook.xml"), ""},
		{"truncated zip", planDOCX(t)[:30], ""},
		{"text", []byte("这是一份预案，纯文本"), ""},
		{"exe", append([]byte("MZ\x90\x00"), make([]byte, 64)...), ""},
		{"html", []byte("<html><script>alert(1)</script>"), ""},
		{"empty", nil, ""},
	} {
		got, _, ok := SniffPlanFile(c.b)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s: sniffed %q %v, want %q", c.name, got, ok, c.want)
		}
	}
}

func TestPlanDisposition(t *testing.T) {
	got := web.ContentDisposition(`一企一策 "v2".pdf`)
	want := `attachment; filename="____ _v2_.pdf"; filename*=UTF-8''%E4%B8%80%E4%BC%81%E4%B8%80%E7%AD%96%20%22v2%22.pdf`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestSubmitPlanVersionsAndFiles(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		e := newPlanEnv(t, d)
		ctx := context.Background()
		contact := planContact(planKeyCRRC)

		pdf := planPDF()
		p1, err := e.svc.SubmitPlan(ctx, contact, PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyCRRC,
			AreaCode: "430211", Title: " 中车一企一策 ", FileName: `C:\文件\一企一策.pdf`, File: pdf})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(pdf)
		if p1.Version != 1 || p1.Status != PlanSubmitted || p1.AreaCode != "430204003" || p1.Title != "中车一企一策" ||
			p1.FileName != "一企一策.pdf" || p1.MediaType != MediaPDF || p1.FileSize != int64(len(pdf)) ||
			p1.FileSHA256 != hex.EncodeToString(sum[:]) || p1.CreatedBy != contact.Username || p1.ReviewedAt != nil {
			t.Fatalf("first version: %+v", p1)
		}
		// The liaison files the second version, a PNG named .pdf: typed by
		// its bytes. A third, without a file, by a manager.
		p2, err := e.svc.SubmitPlan(ctx, e.liaison, PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyCRRC, Title: "第二版",
			FileName: "scan.pdf", File: planPNG(t)})
		if err != nil {
			t.Fatal(err)
		}
		if p2.Version != 2 || p2.MediaType != MediaPNG || p2.FileName != "scan.pdf" {
			t.Fatalf("second version: %+v", p2)
		}
		p3, err := e.svc.SubmitPlan(ctx, planHQ, PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyCRRC, Title: "第三版"})
		if err != nil {
			t.Fatal(err)
		}
		if p3.Version != 3 || p3.HasFile() || p3.MediaType != "" || p3.FileSize != 0 {
			t.Fatalf("third version: %+v", p3)
		}
		// A DOCX for another enterprise starts at version 1; the same PDF
		// again is stored once.
		p4, err := e.svc.SubmitPlan(ctx, planHQ, PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyQianjin, Title: "千金",
			FileName: "plan.docx", File: planDOCX(t)})
		if err != nil {
			t.Fatal(err)
		}
		if p4.Version != 1 || p4.MediaType != MediaDOCX {
			t.Fatalf("docx: %+v", p4)
		}
		if _, err := e.svc.SubmitPlan(ctx, planHQ, PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyQianjin, Title: "千金 2",
			FileName: "again.pdf", File: pdf}); err != nil {
			t.Fatal(err)
		}

		list, err := e.svc.Plans(ctx, planShifeng, PlanEnterprise, planKeyCRRC)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 3 || list[0].Version != 3 || list[1].Version != 2 || list[2].Version != 1 {
			t.Fatalf("versions newest first: %+v", list)
		}

		dir := PlanDir(e.dataDir)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 3 {
			t.Errorf("%d files stored, want 3 (PDF, PNG, DOCX; the PDF once)", len(entries))
		}
		fi, err := os.Stat(filepath.Join(dir, p1.FileSHA256))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
		}
		if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
			t.Errorf("directory mode %v (%v), want 0700", di.Mode().Perm(), err)
		}

		pl, rc, err := e.svc.PlanFile(ctx, contact, p1.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, pdf) || pl.MediaType != MediaPDF {
			t.Errorf("file read back: %d bytes, %s", len(got), pl.MediaType)
		}
		if _, _, err := e.svc.PlanFile(ctx, contact, p3.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("version without a file: %v", err)
		}

		rows, err := audit.List(ctx, d, audit.Filter{AllAreas: true, ObjectType: "prevention_plan"})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 5 || rows[len(rows)-1].Action != "plan.submit" || !strings.Contains(rows[len(rows)-1].Summary, "第 1 版《中车一企一策》") {
			t.Errorf("audit rows: %+v", rows)
		}
	})
}

func TestSubmitPlanRefusesBadFiles(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		e := newPlanEnv(t, d)
		ctx := context.Background()
		in := func(name string, b []byte) PlanInput {
			return PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyCRRC, Title: "预案", FileName: name, File: b}
		}
		_, err := e.svc.SubmitPlan(ctx, planHQ, in("plan.pdf", []byte("not a pdf, only text")))
		wantKind(t, err, errs.Invalid, "plan_file_type")
		_, err = e.svc.SubmitPlan(ctx, planHQ, in("setup.docx", append([]byte("MZ\x90\x00"), make([]byte, 200)...)))
		wantKind(t, err, errs.Invalid, "plan_file_type")
		_, err = e.svc.SubmitPlan(ctx, planHQ, in("book.docx", planZip(t, "xl/workbook.xml")))
		wantKind(t, err, errs.Invalid, "plan_file_type")
		big := append(planPDF(), make([]byte, MaxPlanFile)...)
		_, err = e.svc.SubmitPlan(ctx, planHQ, in("big.pdf", big))
		wantKind(t, err, errs.TooLarge, "plan_file_too_large")
		exact := append(planPDF(), make([]byte, MaxPlanFile-len(planPDF()))...)
		if _, err := e.svc.SubmitPlan(ctx, planHQ, in("exact.pdf", exact)); err != nil {
			t.Errorf("a file of exactly 10 MiB: %v", err)
		}

		_, err = e.svc.SubmitPlan(ctx, planHQ, PlanInput{SubjectKind: "factory", Subject: "", Title: ""})
		wantKind(t, err, errs.Invalid, "plan_invalid")
		if fe := errs.As(err).Fields; len(fe) != 3 {
			t.Errorf("field errors: %+v", fe)
		}
		_, err = e.svc.SubmitPlan(ctx, planHQ, PlanInput{SubjectKind: PlanPark, Subject: "株洲高新区", Title: "园区"})
		wantKind(t, err, errs.Invalid, "plan_invalid")

		// Nothing refused was stored or recorded.
		if entries, _ := os.ReadDir(PlanDir(e.dataDir)); len(entries) != 1 {
			t.Errorf("%d files stored, want only the accepted one", len(entries))
		}
		list, err := e.svc.Plans(ctx, planHQ, PlanEnterprise, planKeyCRRC)
		if err != nil || len(list) != 1 {
			t.Errorf("plans after refusals: %d, %v", len(list), err)
		}
	})
}

func TestReviewPlan(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		e := newPlanEnv(t, d)
		ctx := context.Background()
		contact := planContact(planKeyCRRC)
		sub := func(title string) *Plan {
			t.Helper()
			pl, err := e.svc.SubmitPlan(ctx, contact, PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyCRRC, Title: title})
			if err != nil {
				t.Fatal(err)
			}
			return pl
		}
		missing := func(p *auth.Principal) []string {
			t.Helper()
			list, err := e.svc.WithoutApprovedPlan(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, x := range list {
				keys = append(keys, x.Key)
			}
			return keys
		}
		if got := missing(planHQ); len(got) != 3 {
			t.Fatalf("without a plan at first: %v", got)
		}
		v1 := sub("第一版")

		_, err := e.svc.ReviewPlan(ctx, contact, v1.ID, true, "")
		wantKind(t, err, errs.Forbidden, "")
		_, err = e.svc.ReviewPlan(ctx, planShifeng, v1.ID, true, "")
		wantKind(t, err, errs.Forbidden, "")
		_, err = e.svc.ReviewPlan(ctx, planTianyuan, v1.ID, true, "")
		wantKind(t, err, errs.NotFound, "plan_not_found")
		_, err = e.svc.ReviewPlan(ctx, planHQ, v1.ID+100, true, "")
		wantKind(t, err, errs.NotFound, "plan_not_found")
		_, err = e.svc.ReviewPlan(ctx, planHQ, v1.ID, false, "  ")
		wantKind(t, err, errs.Invalid, "plan_review_note")

		r1, err := e.svc.ReviewPlan(ctx, planHQ, v1.ID, false, "缺少应急隔离点安排")
		if err != nil {
			t.Fatal(err)
		}
		if r1.Status != PlanRejected || r1.ReviewNote != "缺少应急隔离点安排" || r1.ReviewedBy != planHQ.Username || r1.ReviewedAt == nil {
			t.Fatalf("rejected: %+v", r1)
		}
		_, err = e.svc.ReviewPlan(ctx, planHQ, v1.ID, true, "")
		wantKind(t, err, errs.Conflict, "plan_not_submitted")

		v2 := sub("第二版")
		if got := missing(planShifeng); len(got) != 1 || got[0] != planKeyCRRC {
			t.Fatalf("石峰区 without an approved plan: %v", got)
		}
		if _, err := e.svc.ReviewPlan(ctx, planHQ, v2.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		list, err := e.svc.Plans(ctx, contact, PlanEnterprise, planKeyCRRC)
		if err != nil || len(list) != 2 || list[0].Status != PlanApproved || list[1].Status != PlanRejected {
			t.Fatalf("after review: %+v %v", list, err)
		}
		if got := missing(planShifeng); len(got) != 0 {
			t.Fatalf("approved, still listed: %v", got)
		}
		if got := missing(planHQ); len(got) != 2 {
			t.Fatalf("city without an approved plan: %v", got)
		}
		if got := missing(contact); len(got) != 0 {
			t.Fatalf("the contact's own enterprise is approved: %v", got)
		}
		// A newer version waiting for review puts the enterprise back.
		sub("第三版")
		if got := missing(e.liaison); len(got) != 1 || got[0] != planKeyCRRC {
			t.Fatalf("liaison's list after a new version: %v", got)
		}
		if got := missing(planLusong); len(got) != 1 || got[0] != planKeyOuwei {
			t.Fatalf("芦淞区: %v", got)
		}
		_, err = e.svc.WithoutApprovedPlan(ctx, planHelper)
		wantKind(t, err, errs.Forbidden, "")

		rows, err := audit.List(ctx, d, audit.Filter{AllAreas: true, ObjectType: "prevention_plan"})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, r := range rows {
			actions[r.Action]++
		}
		if actions["plan.submit"] != 3 || actions["plan.reject"] != 1 || actions["plan.approve"] != 1 {
			t.Errorf("audit actions: %v", actions)
		}
	})
}

func TestPlanScope(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		e := newPlanEnv(t, d)
		ctx := context.Background()
		crrc, err := e.svc.SubmitPlan(ctx, planHQ, PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyCRRC, Title: "中车",
			FileName: "a.pdf", File: planPDF()})
		if err != nil {
			t.Fatal(err)
		}
		other := planContact(planKeyQianjin)
		_, err = e.svc.SubmitPlan(ctx, other, PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyCRRC, Title: "冒充"})
		wantKind(t, err, errs.NotFound, "enterprise_not_found")
		_, err = e.svc.Plans(ctx, other, PlanEnterprise, planKeyCRRC)
		wantKind(t, err, errs.NotFound, "enterprise_not_found")
		_, _, err = e.svc.PlanFile(ctx, other, crrc.ID)
		wantKind(t, err, errs.NotFound, "plan_not_found")
		_, err = e.svc.Plans(ctx, planContact(planKeyQianjin), PlanEnterprise, "91430200000000000X")
		wantKind(t, err, errs.NotFound, "enterprise_not_found")
		if _, err := e.svc.SubmitPlan(ctx, other, PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyQianjin, Title: "千金"}); err != nil {
			t.Errorf("contact of its own enterprise: %v", err)
		}

		// The liaison reaches the enterprise assigned, not its neighbours.
		_, err = e.svc.SubmitPlan(ctx, e.liaison, PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyQianjin, Title: "x"})
		wantKind(t, err, errs.NotFound, "enterprise_not_found")
		if _, _, err := e.svc.PlanFile(ctx, e.liaison, crrc.ID); err != nil {
			t.Errorf("liaison reads the plan of the enterprise assigned: %v", err)
		}

		// A reader of the district may read but not submit; another
		// district does not see it.
		_, err = e.svc.SubmitPlan(ctx, planShifeng, PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyCRRC, Title: "x"})
		wantKind(t, err, errs.Forbidden, "")
		if _, _, err := e.svc.PlanFile(ctx, planShifeng, crrc.ID); err != nil {
			t.Errorf("district reader: %v", err)
		}
		_, err = e.svc.Plans(ctx, planLusong, PlanEnterprise, planKeyCRRC)
		wantKind(t, err, errs.NotFound, "enterprise_not_found")
		_, _, err = e.svc.PlanFile(ctx, planLusong, crrc.ID)
		wantKind(t, err, errs.NotFound, "plan_not_found")
		_, err = e.svc.SubmitPlan(ctx, planTianyuan, PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyCRRC, Title: "x"})
		wantKind(t, err, errs.NotFound, "enterprise_not_found")
		_, err = e.svc.SubmitPlan(ctx, planHelper, PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyCRRC, Title: "x"})
		wantKind(t, err, errs.Forbidden, "")
		_, err = e.svc.Plans(ctx, nil, PlanEnterprise, planKeyCRRC)
		wantKind(t, err, errs.Unauthorized, "")

		// Parks: managers over the park's area only.
		park := PlanInput{SubjectKind: PlanPark, Subject: "株洲高新区", AreaCode: "430211", Title: "一园一策", FileName: "p.png", File: planPNG(t)}
		pk, err := e.svc.SubmitPlan(ctx, planTianyuan, park)
		if err != nil {
			t.Fatal(err)
		}
		if pk.Version != 1 || pk.AreaCode != "430211" || pk.SubjectKind != PlanPark {
			t.Fatalf("park plan: %+v", pk)
		}
		_, err = e.svc.SubmitPlan(ctx, planContact(planKeyQianjin), park)
		wantKind(t, err, errs.Forbidden, "")
		moved := park
		moved.AreaCode = "430204"
		_, err = e.svc.SubmitPlan(ctx, planHQ, moved)
		wantKind(t, err, errs.Invalid, "plan_park_area")
		other2 := park
		other2.Subject, other2.AreaCode = "田心高科园", "430204"
		_, err = e.svc.SubmitPlan(ctx, planTianyuan, other2)
		wantKind(t, err, errs.NotFound, "area_not_found")
		other2.AreaCode = "999999"
		_, err = e.svc.SubmitPlan(ctx, planHQ, other2)
		wantKind(t, err, errs.NotFound, "area_not_found")
		if pk2, err := e.svc.SubmitPlan(ctx, planHQ, park); err != nil || pk2.Version != 2 {
			t.Fatalf("park version 2: %+v %v", pk2, err)
		}
		if list, err := e.svc.Plans(ctx, planLusong, PlanPark, "株洲高新区"); err != nil || len(list) != 0 {
			t.Errorf("another district sees the park's plans: %d %v", len(list), err)
		}
		if list, err := e.svc.Plans(ctx, planHQ, PlanPark, "株洲高新区"); err != nil || len(list) != 2 {
			t.Errorf("the city sees the park's plans: %d %v", len(list), err)
		}
		_, _, err = e.svc.PlanFile(ctx, planLusong, pk.ID)
		wantKind(t, err, errs.NotFound, "plan_not_found")
		if _, err := e.svc.ReviewPlan(ctx, planTianyuan, pk.ID, true, "可行"); err != nil {
			t.Errorf("park review: %v", err)
		}
	})
}

// Concurrent submissions for one subject each get their own version.
func TestSubmitPlanConcurrent(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		e := newPlanEnv(t, d)
		const n = 6
		versions := make(chan int, n)
		errc := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				pl, err := e.svc.SubmitPlan(context.Background(), planHQ, PlanInput{SubjectKind: PlanPark, Subject: "田心高科园",
					AreaCode: "430204", Title: "并发"})
				if err != nil {
					errc <- err
					return
				}
				versions <- pl.Version
			}()
		}
		seen := map[int]bool{}
		for i := 0; i < n; i++ {
			select {
			case err := <-errc:
				t.Fatal(err)
			case v := <-versions:
				if seen[v] || v < 1 || v > n {
					t.Fatalf("version %d twice or out of range", v)
				}
				seen[v] = true
			}
		}
	})
}

// The plan API end to end: multipart upload, listing, download headers,
// review and the missing list.
func TestPlanAPI(t *testing.T) {
	d := dbtest.Open(t, "sqlite", nil)
	e := newPlanEnv(t, d)
	log := slog.New(slog.DiscardHandler)
	a := &web.Adapter{Log: log}
	api := NewAPI(e.svc)
	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/plans", a.H(api.SubmitPlan))
	mux.Handle("GET /api/v1/plans", a.H(api.Plans))
	mux.Handle("GET /api/v1/plans/missing", a.H(api.PlansMissing))
	mux.Handle("GET /api/v1/plans/{id}/file", a.H(api.PlanFile))
	mux.Handle("POST /api/v1/plans/{id}/review", a.H(api.ReviewPlan))
	do := func(p *auth.Principal, method, target, ctype string, body io.Reader) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, body)
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		if p != nil {
			r = r.WithContext(web.WithPrincipal(r.Context(), p))
		}
		w := httptest.NewRecorder()
		apitest.Handler(t, mux).ServeHTTP(w, r)
		return w
	}
	form := func(fields map[string]string, name string, file []byte) (string, io.Reader) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		if file != nil {
			fw, _ := mw.CreateFormFile("file", name)
			fw.Write(file)
		}
		mw.Close()
		return mw.FormDataContentType(), &buf
	}
	fields := map[string]string{"subject_kind": "enterprise", "subject": planKeyCRRC, "title": "中车 一企一策"}
	contact := planContact(planKeyCRRC)

	ct, body := form(fields, "一企一策 v1.pdf", planPDF())
	w := do(contact, "POST", "/api/v1/plans", ct, body)
	if w.Code != http.StatusCreated {
		t.Fatalf("upload: %d %s", w.Code, w.Body)
	}
	var pl Plan
	if err := json.Unmarshal(w.Body.Bytes(), &pl); err != nil || pl.Version != 1 || pl.MediaType != MediaPDF {
		t.Fatalf("upload answer: %s (%v)", w.Body, err)
	}
	if !strings.Contains(w.Body.String(), `"file_sha256":"`) || !strings.Contains(w.Body.String(), `"reviewed_at":null`) {
		t.Errorf("JSON names: %s", w.Body)
	}

	ct, body = form(fields, "readme.pdf", []byte("plain text pretending to be a PDF"))
	if w := do(contact, "POST", "/api/v1/plans", ct, body); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"code":"plan_file_type"`) {
		t.Errorf("renamed text file: %d %s", w.Code, w.Body)
	}
	ct, body = form(fields, "big.pdf", append(planPDF(), make([]byte, MaxPlanFile)...))
	if w := do(contact, "POST", "/api/v1/plans", ct, body); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized file: %d %s", w.Code, w.Body)
	}
	if w := do(contact, "POST", "/api/v1/plans", "application/json", strings.NewReader(`{}`)); w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("JSON body: %d", w.Code)
	}
	ct, body = form(map[string]string{"subject_kind": "enterprise", "subject": planKeyCRRC, "title": "x", "extra": "1"}, "", nil)
	if w := do(contact, "POST", "/api/v1/plans", ct, body); w.Code != http.StatusBadRequest {
		t.Errorf("unknown field: %d", w.Code)
	}
	ct, body = form(fields, "", nil)
	if w := do(nil, "POST", "/api/v1/plans", ct, body); w.Code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", w.Code)
	}
	ct, body = form(fields, "", nil)
	if w := do(planContact(planKeyQianjin), "POST", "/api/v1/plans", ct, body); w.Code != http.StatusNotFound {
		t.Errorf("another enterprise's contact: %d", w.Code)
	}

	w = do(contact, "GET", "/api/v1/plans/"+strconv.FormatInt(pl.ID, 10)+"/file", "", nil)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), planPDF()) {
		t.Fatalf("download: %d", w.Code)
	}
	h := w.Header()
	if h.Get("Content-Type") != MediaPDF || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("Content-Disposition") != `attachment; filename="____ v1.pdf"; filename*=UTF-8''%E4%B8%80%E4%BC%81%E4%B8%80%E7%AD%96%20v1.pdf` {
		t.Errorf("download headers: %v", h)
	}
	if w := do(planContact(planKeyQianjin), "GET", "/api/v1/plans/"+strconv.FormatInt(pl.ID, 10)+"/file", "", nil); w.Code != 404 {
		t.Errorf("download by another contact: %d", w.Code)
	}
	if w := do(contact, "GET", "/api/v1/plans/abc/file", "", nil); w.Code != 404 {
		t.Errorf("bad id: %d", w.Code)
	}

	w = do(contact, "GET", "/api/v1/plans?subject_kind=enterprise&subject="+planKeyCRRC, "", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"items":[{"id":`) {
		t.Errorf("list: %d %s", w.Code, w.Body)
	}
	if w := do(contact, "GET", "/api/v1/plans?subject_kind=x&subject=y", "", nil); w.Code != 400 {
		t.Errorf("bad kind: %d", w.Code)
	}

	if w := do(planHQ, "POST", "/api/v1/plans/"+strconv.FormatInt(pl.ID, 10)+"/review", "application/json", strings.NewReader(`{"approve":false}`)); w.Code != 400 ||
		!strings.Contains(w.Body.String(), "plan_review_note") {
		t.Errorf("reject without a note: %d %s", w.Code, w.Body)
	}
	if w := do(planHQ, "POST", "/api/v1/plans/"+strconv.FormatInt(pl.ID, 10)+"/review", "application/json", strings.NewReader(`{"note":"x"}`)); w.Code != 400 {
		t.Errorf("review without approve: %d %s", w.Code, w.Body)
	}
	if w := do(contact, "POST", "/api/v1/plans/"+strconv.FormatInt(pl.ID, 10)+"/review", "application/json", strings.NewReader(`{"approve":true}`)); w.Code != 403 {
		t.Errorf("review by the contact: %d", w.Code)
	}
	w = do(planHQ, "GET", "/api/v1/plans/missing", "", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), planKeyCRRC) {
		t.Errorf("missing before approval: %d %s", w.Code, w.Body)
	}
	w = do(planHQ, "POST", "/api/v1/plans/"+strconv.FormatInt(pl.ID, 10)+"/review", "application/json", strings.NewReader(`{"approve":true,"note":"同意"}`))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"approved"`) {
		t.Fatalf("approve: %d %s", w.Code, w.Body)
	}
	w = do(planHQ, "GET", "/api/v1/plans/missing", "", nil)
	if w.Code != 200 || strings.Contains(w.Body.String(), planKeyCRRC) || !strings.Contains(w.Body.String(), planKeyQianjin) {
		t.Errorf("missing after approval: %d %s", w.Code, w.Body)
	}
	if w := do(contact, "GET", "/api/v1/plans/missing", "", nil); w.Code != 200 || w.Body.String() != "{\"items\":[]}\n" {
		t.Errorf("contact's missing list: %d %s", w.Code, w.Body)
	}
}
