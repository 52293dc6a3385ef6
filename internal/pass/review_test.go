package pass

import (
	"strings"
	"testing"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/notify"
	"tongxin/internal/pii"
)

// inboxOf is p's inbox, newest first.
func (f *fixture) inboxOf(p *auth.Principal) []notify.Notification {
	f.T.Helper()
	list, err := f.inbox.Inbox(f.Ctx, p, notify.InboxFilter{})
	if err != nil {
		f.T.Fatal(err)
	}
	return list
}

// A batch to review reaches the reviewing department's officers (not the
// contact, not another enterprise's); its decision, with each left-out
// row's reason, reaches the enterprise's contacts; a revocation too.
func TestBatchNotifications(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		admin := f.user("root", auth.SystemAdmin, "430200")
		b := f.upload(workersCSV(3))
		got := f.inboxOf(f.gxj)
		if len(got) != 1 || got[0].Event != EventBatchSubmitted || got[0].Link != batchLink(b.ID) ||
			!strings.Contains(got[0].Body, "株洲千金药业股份有限公司") || !strings.Contains(got[0].Body, "3 份") {
			t.Fatalf("reviewer's inbox %+v", got)
		}
		for _, p := range []*auth.Principal{f.contact, f.other, admin} {
			if n := len(f.inboxOf(p)); n != 0 {
				t.Fatalf("%s has %d messages", p.Username, n)
			}
		}
		if _, err := f.svc.Approve(f.Ctx, f.gxj, b.ID, ApproveInput{Rows: []int{2, 3},
			Reasons: []RowReason{{Row: 4, Reason: "已离职"}}}); err != nil {
			t.Fatal(err)
		}
		got = f.inboxOf(f.contact)
		if len(got) != 1 || got[0].Event != EventBatchApproved || !strings.Contains(got[0].Title, "部分批准") ||
			!strings.Contains(got[0].Body, "签发 2 张") || !strings.Contains(got[0].Body, "第 4 行：已离职") {
			t.Fatalf("contact's inbox after approval %+v", got)
		}
		if n := len(f.inboxOf(f.other)); n != 0 {
			t.Fatalf("another enterprise's contact told: %d", n)
		}
		b2 := f.upload(workersFrom(50, 2))
		if _, err := f.svc.Reject(f.Ctx, f.gxj, b2.ID, ReasonInput{Reason: "名单不全"}); err != nil {
			t.Fatal(err)
		}
		if got = f.inboxOf(f.contact); got[0].Event != EventBatchRejected || !strings.Contains(got[0].Body, "驳回理由：名单不全") {
			t.Fatalf("after rejection %+v", got[0])
		}
		full, _ := f.svc.GetBatch(f.Ctx, f.contact, b.ID)
		if _, err := f.svc.Revoke(f.Ctx, f.gxj, full.Rows[0].PID, ReasonInput{Reason: "人员离岗"}); err != nil {
			t.Fatal(err)
		}
		if got = f.inboxOf(f.contact); got[0].Event != EventRevoked || !strings.Contains(got[0].Body, full.Rows[0].PID) ||
			!strings.Contains(got[0].Body, "人员离岗") {
			t.Fatalf("after revocation %+v", got[0])
		}
		if _, err := f.svc.RevokeEnterprise(f.Ctx, f.gxj, qianjin, ReasonInput{Reason: "停产"}); err != nil {
			t.Fatal(err)
		}
		if got = f.inboxOf(f.contact); got[0].Event != EventRevoked || !strings.Contains(got[0].Body, "1 张已吊销") {
			t.Fatalf("after the enterprise's revocation %+v", got[0])
		}
		// No department reviews passes over 芦淞区: its HQ staff are told.
		f.exec(`UPDATE departments SET capabilities = '' WHERE code = 'gxj'`)
		staff := f.user("lsstaff", auth.HQStaff, "430203")
		tianyuan := f.user("tystaff", auth.HQStaff, "430211")
		if _, err := f.svc.Upload(f.Ctx, f.other, UploadInput{Data: []byte("姓名,身份证号,手机,区域,起,止\n李四," +
			residentID("430203", "19880808", 7) + ",13907335555,贺家土街道,2022-11-20,2022-11-30\n")}); err != nil {
			t.Fatal(err)
		}
		if len(f.inboxOf(staff)) != 1 || len(f.inboxOf(tianyuan)) != 0 {
			t.Fatalf("HQ staff: 芦淞区 %d, 天元区 %d", len(f.inboxOf(staff)), len(f.inboxOf(tianyuan)))
		}
	})
}

// The 区域 column takes codes, names unique in the enterprise's reach and
// full names; a shared or foreign name is refused with what to write.
// Batch rows keep codes.
func TestAreasByName(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		row := func(areas string) string {
			return "姓名,身份证号,手机,区域,起,止\n王五," + residentID("430211", "19900101", 5) + ",13907336666," + areas + ",2022-11-20,2022-11-30\n"
		}
		b, err := f.svc.Upload(f.Ctx, f.contact, UploadInput{Data: []byte(row("嵩山路街道;天元区泰山路街道;430211003001;栗雨街道"))})
		if err != nil {
			t.Fatal(err)
		}
		full, _ := f.svc.GetBatch(f.Ctx, f.contact, b.ID)
		if got := strings.Join(full.Rows[0].Areas, ";"); got != "430211001;430211002;430211003001;430211003" {
			t.Fatalf("areas %s", got)
		}
		for areas, want := range map[string]string{
			"建设街道":      "本企业所在的天元区范围内没有区域「建设街道」",
			"430203001": "区划 430203001（建设街道）不在本企业所在的天元区范围内",
			"999999":    "区划 999999 不存在",
		} {
			_, err := f.svc.Upload(f.Ctx, f.contact, UploadInput{Data: []byte(row(areas))})
			e := mustErr(t, err, errs.Invalid, "import_rejected")
			if len(e.Fields) != 1 || e.Fields[0].Column != "区域" || !strings.Contains(e.Fields[0].Message, want) {
				t.Fatalf("%s: %+v", areas, e.Fields)
			}
		}
		// A name two areas share within reach: the full names are offered.
		if _, err := f.Areas.Seed(f.Ctx, f.Sys, []area.Area{{Code: "430211002003", Name: "嵩山社区", Level: area.Community,
			ParentCode: "430211002", Depth: area.Community.Depth()}}, nil, nil); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Upload(f.Ctx, f.contact, UploadInput{Data: []byte(row("嵩山社区"))})
		e := mustErr(t, err, errs.Invalid, "import_rejected")
		if !strings.Contains(e.Fields[0].Message, "天元区嵩山路街道嵩山社区") || !strings.Contains(e.Fields[0].Message, "天元区泰山路街道嵩山社区") {
			t.Fatalf("shared name: %+v", e.Fields)
		}
		list, err := f.svc.NamableAreas(f.Ctx, f.contact, "")
		if err != nil || list.Reach != "天元区" || list.Areas[0].Code != "430211" {
			t.Fatalf("namable %+v %v", list, err)
		}
		var shared int
		for _, a := range list.Areas {
			if a.Code == "430211001" && (a.FullName != "天元区嵩山路街道" || !a.Unique) {
				t.Fatalf("%+v", a)
			}
			if a.Name == "嵩山社区" && !a.Unique {
				shared++
			}
			if !strings.HasPrefix(a.Code, "430211") {
				t.Fatalf("outside the reach: %+v", a)
			}
		}
		if shared != 2 {
			t.Fatalf("shared names %d", shared)
		}
		// Another enterprise's list is not the contact's.
		_, err = f.svc.NamableAreas(f.Ctx, f.contact, ouwei)
		mustErr(t, err, errs.NotFound, "enterprise_not_found")
	})
}

// The template's example row imports as it stands today and is skipped:
// a file of the example alone is refused, the example above the
// contact's own rows is left out of the batch.
func TestTemplateExampleRow(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.Clock.Set(testBase.AddDate(1, 2, 3)) // any day: the example follows the clock
		spec := f.svc.TemplateSpec(f.Ctx, f.contact)
		data, _, _, err := importer.Template(spec, "csv", true)
		if err != nil {
			t.Fatal(err)
		}
		ex := map[string]string{}
		for _, c := range spec.Columns {
			ex[c.Key] = c.Example
		}
		if _, err := pii.NormalizeResidentID(ex["id_number"]); err != nil {
			t.Fatalf("example ID %s: %v", ex["id_number"], err)
		}
		if ex["areas"] != "天元区嵩山路街道" || ex["valid_from"] != "2024-01-23" || ex["valid_to"] != "2024-02-21" {
			t.Fatalf("example %+v", ex)
		}
		_, err = f.svc.Upload(f.Ctx, f.contact, UploadInput{Data: data})
		if e := mustErr(t, err, errs.Invalid, "import_no_rows"); !strings.Contains(e.Message, "只有示例行") {
			t.Fatal(e.Message)
		}
		// Filled as the example shows: its cells, another name and number.
		own := strings.NewReplacer("（示例）张三", "赵六", ex["id_number"], residentID("430211", "19851212", 31)).
			Replace(strings.SplitN(strings.TrimPrefix(string(data), "\ufeff"), "\r\n", 3)[1])
		b, err := f.svc.Upload(f.Ctx, f.contact, UploadInput{Data: append(data, []byte(own+"\r\n")...)})
		if err != nil {
			t.Fatal(err)
		}
		if b.RowCount != 1 {
			t.Fatalf("rows %d", b.RowCount)
		}
		full, _ := f.svc.GetBatch(f.Ctx, f.contact, b.ID)
		if r := full.Rows[0]; r.Row != 3 || r.Name != pii.MaskName("赵六") || r.Areas[0] != "430211001" {
			t.Fatalf("row %+v", r)
		}
	})
}

// A reviewer sees a row's full ID number with a reason, audited; the
// contact and others may not.
func TestRevealRowID(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		b := f.upload(workersCSV(2))
		want := residentID("430211", "19600101", 0)
		_, err := f.svc.RevealID(f.Ctx, f.gxj, b.ID, 2, " ")
		mustErr(t, err, errs.Invalid, "reason_required")
		_, err = f.svc.RevealID(f.Ctx, f.contact, b.ID, 2, "核对")
		mustErr(t, err, errs.Forbidden, "reveal_forbidden")
		_, err = f.svc.RevealID(f.Ctx, f.other, b.ID, 2, "核对")
		mustErr(t, err, errs.NotFound, "batch_not_found")
		_, err = f.svc.RevealID(f.Ctx, f.gxj, b.ID, 9, "核对")
		mustErr(t, err, errs.NotFound, "row_not_found")
		got, err := f.svc.RevealID(f.Ctx, f.gxj, b.ID, 2, "与本人核对身份")
		if err != nil || got != want {
			t.Fatalf("revealed %q %v, want %s", got, err, want)
		}
		var summary string
		if err := f.DB.Read(f.Ctx, func(tx *db.Tx) error {
			return tx.QueryRowContext(f.Ctx, `SELECT summary FROM audit_log WHERE action = 'pass.reveal_id'`).Scan(&summary)
		}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(summary, pii.MaskID(want)) || strings.Contains(summary, want) || !strings.Contains(summary, "与本人核对身份") {
			t.Fatalf("audit %q", summary)
		}
	})
}

// exec runs a statement in a write transaction.
func (f *fixture) exec(q string, args ...any) {
	f.T.Helper()
	if err := f.DB.Write(f.Ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(f.Ctx, q, args...)
		return err
	}); err != nil {
		f.T.Fatal(err)
	}
}
