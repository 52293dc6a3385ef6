package pass

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/passtoken"
)

// rowErrors maps the refused rows of err (400 import_rejected) to their
// column and message.
func rowErrors(t *testing.T, err error) map[int]errs.FieldError {
	t.Helper()
	e := mustErr(t, err, errs.Invalid, "import_rejected")
	out := map[int]errs.FieldError{}
	for _, fe := range e.Fields {
		if _, dup := out[fe.Row]; dup {
			t.Fatalf("two errors for row %d: %+v", fe.Row, e.Fields)
		}
		out[fe.Row] = fe
	}
	return out
}

// wantRow checks that row was refused in column with a message holding
// every part.
func wantRow(t *testing.T, got map[int]errs.FieldError, row int, column string, parts ...string) {
	t.Helper()
	fe, ok := got[row]
	if !ok || fe.Column != column {
		t.Errorf("row %d: %+v, want column %s", row, fe, column)
		return
	}
	for _, p := range parts {
		if !strings.Contains(fe.Message, p) {
			t.Errorf("row %d: message %q lacks %q", row, fe.Message, p)
		}
	}
}

// wantHidden checks that no part of err, as the client sees it (message
// and every row), shows any of secrets.
func wantHidden(t *testing.T, err error, secrets ...string) {
	t.Helper()
	e := errs.As(err)
	if e == nil {
		t.Fatalf("err %v", err)
	}
	js, _ := json.Marshal(struct {
		Message string
		Fields  []errs.FieldError
	}{e.Message, e.Fields})
	for _, s := range secrets {
		if strings.Contains(string(js), s) {
			t.Errorf("the refusal shows %q: %s", s, js)
		}
	}
}

// A person (by ID number) or a vehicle (by plate) holds one active pass
// for any one day, whichever enterprise applies: an overlapping row is
// refused naming the pass, its enterprise and its last day; days after it,
// an expired pass or a revoked one do not stand in the way.
func TestOnePassPerPersonAndVehicle(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		const head = "姓名,身份证号,手机,车牌,区域,起,止\n"
		li := residentID("430211", "19900101", 1)
		a := f.approve(f.upload([]byte(head +
			"李四," + li + ",13907331111,,430211001,2022-11-20,2022-12-19\n" +
			"司机甲,,13907336666,湘B·12345,430211,2022-11-20,2022-11-30\n")).ID)
		issued, err := f.svc.BatchPasses(f.Ctx, f.gxj, a.ID)
		if err != nil || len(issued) != 2 {
			t.Fatalf("passes %v %v", issued, err)
		}
		person, vehicle := issued[0], issued[1]
		batches := f.Count(`SELECT COUNT(*) FROM pass_batches`)

		// The same person and the same vehicle (another driver, the plate
		// written otherwise), for days that overlap: both refused.
		_, err = f.svc.Upload(f.Ctx, f.contact, UploadInput{Data: workersCSV(1,
			"李四,"+li+",13907331111,,430211001,2022-12-01,2022-12-31",
			"司机乙,,13907336667,湘b12345,430211,2022-11-30,2022-12-10")})
		got := rowErrors(t, err)
		wantRow(t, got, 3, "身份证号", "该人员已持有有效通行证 "+person.PID, "株洲千金药业股份有限公司", "有效至 2022-12-19", "请先吊销原证")
		wantRow(t, got, 4, "车牌", "该车辆已持有有效通行证 "+vehicle.PID, "有效至 2022-11-30")
		if len(got) != 2 {
			t.Errorf("errors %+v", got)
		}
		// Another enterprise applying for the same person is refused too,
		// and learns no more than that: not the enterprise, the pass or
		// its days.
		_, err = f.svc.Upload(f.Ctx, f.other, UploadInput{Data: []byte(head +
			"李四," + li + ",13907331111,,430203002,2022-11-25,2022-11-26\n")})
		got = rowErrors(t, err)
		wantRow(t, got, 2, "身份证号", "此人已持有有效通行证或有待审核的申请")
		wantHidden(t, err, person.PID, "千金", qianjin, "2022-11-20", "2022-12-19", "12-19")
		if got[2].Code != "pass_already_held" {
			t.Errorf("code %+v", got[2])
		}
		if n := f.Count(`SELECT COUNT(*) FROM pass_batches`); n != batches {
			t.Fatalf("%d batches stored by refused uploads", n-batches)
		}
		// The days after the pass: a renewal is taken.
		f.upload([]byte(head + "李四," + li + ",13907331111,,430211001,2022-12-20,2023-01-10\n"))
		// Revoked, the pass no longer stands in the way.
		if _, err := f.svc.Revoke(f.Ctx, f.gxj, person.PID, ReasonInput{Reason: "换证"}); err != nil {
			t.Fatal(err)
		}
		f.upload([]byte(head + "李四," + li + ",13907331111,,430211001,2022-11-25,2022-12-10\n"))
		// Expired, neither: the vehicle's pass ended on 11-30.
		f.Clock.Set(testBase.AddDate(0, 0, 11))
		f.upload([]byte(head + "司机乙,,13907336667,湘B12345,430211,2022-11-28,2022-12-10\n"))
	})
}

// A row whose person or vehicle is in a batch awaiting review, for
// overlapping days, is refused naming that batch and row, for any
// enterprise; once that batch is rejected the row is taken.
func TestPendingApplicationBlocksAnother(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		a := f.upload(workersCSV(3, "司机甲,,13907336666,湘B·12345,430211,2022-11-20,2022-11-30"))
		_, err := f.svc.Upload(f.Ctx, f.contact, UploadInput{Data: workersFrom(2, 2,
			"司机乙,,13907336667,湘B12345,430211,2022-11-30,2022-12-05")})
		got := rowErrors(t, err)
		wantRow(t, got, 2, "身份证号", fmt.Sprintf("该人员已在待审核的通行证申请第 %d 批第 4 行", a.ID),
			"株洲千金药业股份有限公司", "2022-11-20 至 2022-12-19")
		wantRow(t, got, 4, "车牌", fmt.Sprintf("该车辆已在待审核的通行证申请第 %d 批第 5 行", a.ID), "2022-11-20 至 2022-11-30")
		if len(got) != 2 {
			t.Errorf("errors %+v", got)
		}
		_, err = f.svc.Upload(f.Ctx, f.other, UploadInput{Data: []byte("姓名,身份证号,手机,车牌,区域,起,止\n" +
			"司机丙,,13907336668,湘B12345,430203,2022-11-21,2022-11-22\n")})
		wantRow(t, rowErrors(t, err), 2, "车牌", "此车辆已持有有效通行证或有待审核的申请")
		wantHidden(t, err, fmt.Sprintf("第 %d 批", a.ID), "千金", qianjin, "2022-11-20", "2022-11-30")
		// Days that do not overlap are taken.
		f.upload([]byte("姓名,身份证号,手机,车牌,区域,起,止\n司机乙,,13907336667,湘B12345,430211,2022-12-01,2022-12-05\n"))
		if _, err := f.svc.Reject(f.Ctx, f.gxj, a.ID, ReasonInput{Reason: "名单有误"}); err != nil {
			t.Fatal(err)
		}
		b := f.upload(workersFrom(2, 2))
		if b.RowCount != 2 {
			t.Fatalf("batch %+v", b)
		}
	})
}

// Approval checks again, in its transaction: of two batches naming the
// same person and vehicle for overlapping days, the one approved second
// is refused (409 pass_already_held naming rows and columns) and issues
// nothing; its other rows can still be approved.
func TestApprovalChecksHoldersAgain(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		a := f.upload(workersFrom(0, 2, "司机甲,,13907336666,湘B·12345,430211,2022-11-20,2022-11-30"))
		// Two uploads racing each other (or batches stored before this
		// check) leave both waiting: the first is set aside while the
		// second is uploaded.
		setStatus := func(id int64, st BatchStatus) {
			t.Helper()
			if err := f.DB.Write(f.Ctx, func(tx *db.Tx) error {
				_, err := tx.ExecContext(f.Ctx, `UPDATE pass_batches SET status = $1 WHERE id = $2`, string(st), id)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		setStatus(a.ID, Rejected)
		b := f.upload(workersFrom(1, 2, "司机乙,,13907336667,湘B12345,430211,2022-11-25,2022-12-05"))
		setStatus(a.ID, Submitted)
		f.approve(a.ID)
		held, _ := f.svc.BatchPasses(f.Ctx, f.gxj, a.ID)

		// Its reviewer sees, row by row, what the holders already have;
		// the enterprise's contact does not.
		full, err := f.svc.GetBatch(f.Ctx, f.gxj, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range full.Rows {
			want := map[int]string{2: held[1].PID, 4: held[2].PID}[r.Row]
			switch {
			case want == "" && r.Conflict != nil:
				t.Errorf("row %d: conflict %+v", r.Row, r.Conflict)
			case want != "" && (r.Conflict == nil || r.Conflict.PID != want || r.Conflict.Enterprise != qianjin ||
				r.Conflict.BatchID != 0 || !strings.Contains(r.Conflict.Message, want)):
				t.Errorf("row %d: conflict %+v, want pass %s", r.Row, r.Conflict, want)
			}
		}
		mine, err := f.svc.GetBatch(f.Ctx, f.contact, b.ID)
		if err != nil || slices.ContainsFunc(mine.Rows, func(r BatchRow) bool { return r.Conflict != nil }) {
			t.Fatalf("the contact's view: %+v %v", mine, err)
		}

		_, err = f.svc.Approve(f.Ctx, f.gxj, b.ID, ApproveInput{})
		e := mustErr(t, err, errs.Conflict, "pass_already_held")
		if !strings.Contains(e.Message, "第 2、4 行") {
			t.Errorf("message %q", e.Message)
		}
		got := map[int]errs.FieldError{}
		for _, fe := range e.Fields {
			got[fe.Row] = fe
		}
		wantRow(t, got, 2, "身份证号", "该人员已持有有效通行证 "+held[1].PID)
		wantRow(t, got, 4, "车牌", "该车辆已持有有效通行证 "+held[2].PID)
		if len(got) != 2 {
			t.Errorf("fields %+v", e.Fields)
		}
		if n := f.Count(`SELECT COUNT(*) FROM passes WHERE batch_id = $1`, b.ID); n != 0 {
			t.Fatalf("%d passes issued by the refused approval", n)
		}
		if again, _ := f.svc.GetBatchBrief(f.Ctx, f.gxj, b.ID); again.Status != Submitted {
			t.Fatalf("batch after refusal: %+v", again)
		}
		ok, err := f.svc.Approve(f.Ctx, f.gxj, b.ID, ApproveInput{Rows: []int{3},
			Reasons: []RowReason{{Row: 2, Reason: "已持有有效通行证"}, {Row: 4, Reason: "车辆已有通行证"}}})
		if err != nil || ok.Status != PartlyApproved || ok.ApprovedCount != 1 {
			t.Fatalf("the free row: %+v %v", ok, err)
		}
	})
}

// fakeCheckpoints is a checkpoint registry: id → checkpoint.
type fakeCheckpoints map[string]passtoken.CheckpointInfo

func (m fakeCheckpoints) Checkpoint(_ context.Context, id string) (passtoken.CheckpointInfo, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
	if c, ok := m[strconv.FormatInt(n, 10)]; err == nil && ok {
		return c, nil
	}
	return passtoken.CheckpointInfo{}, errs.E(errs.NotFound, "checkpoint_not_found", "卡口不存在")
}

var testCheckpoints = fakeCheckpoints{
	"7":  {ID: "7", Name: "株洲高新区物资接驳点", Kind: passtoken.TransferPointKind},
	"12": {ID: "12", Name: "株洲大桥", Kind: "bridge"},
	"3":  {ID: "3", Name: "建宁大桥", Kind: "bridge"},
}

// The 接驳点 column: a vehicle limited to reaching one transfer point.
// Only on vehicle rows, only a transfer point, never with 卡口; the pass's
// checkpoints are exactly that point, its token says so, and reads name it.
func TestTransferPointColumn(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.svc = NewService(f.DB, Deps{Box: f.Box, Verifier: NewVerifier(f.DB, VerifierDeps{DataDir: f.dataDir}), Areas: f.Areas,
			Enterprises: f.res, Checkpoints: testCheckpoints})
		const head = "姓名,身份证号,手机,车牌,区域,卡口,接驳点,起,止\n"
		line := func(name, id, plate, cps, tp string) string {
			return fmt.Sprintf("%s,%s,13907336666,%s,430211,%s,%s,2022-11-20,2022-11-30\n", name, id, plate, cps, tp)
		}
		_, err := f.svc.Upload(f.Ctx, f.contact, UploadInput{Data: []byte(head +
			line("李四", residentID("430211", "19900101", 1), "", "", "7") +
			line("司机甲", "", "湘B·T7001", "", "12") +
			line("司机乙", "", "湘B·T7002", "3", "7") +
			line("司机丙", "", "湘B·T7003", "", "99") +
			line("司机丁", "", "湘B·T7004", "99", "") +
			line("司机戊", "", "湘B·T7005", "", "7；12") +
			line("司机己", "", "湘B·T7006", "", "x7"))})
		got := rowErrors(t, err)
		wantRow(t, got, 2, "接驳点", "只用于车辆通行证")
		wantRow(t, got, 3, "接驳点", "卡口 12「株洲大桥」不是物资接驳点")
		wantRow(t, got, 4, "接驳点", "不能再指定卡口")
		wantRow(t, got, 5, "接驳点", "卡口 99 不存在")
		wantRow(t, got, 6, "卡口", "卡口 99 不存在")
		wantRow(t, got, 7, "接驳点", "只能填写一个")
		wantRow(t, got, 8, "接驳点", "卡口编号须为数字")
		if len(got) != 7 {
			t.Errorf("errors %+v", got)
		}

		b := f.upload([]byte(head +
			line("司机甲", "", "湘B·T7001", "", " 07 ") +
			line("司机乙", "", "湘B·T7002", "3", "") +
			line("李四", residentID("430211", "19900101", 1), "", "", "")))
		full, err := f.svc.GetBatch(f.Ctx, f.gxj, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		r := full.Rows
		if tp := r[0].TransferPoint; tp == nil || tp.Name != "株洲高新区物资接驳点" || !slices.Equal(r[0].Checkpoints, []string{"7"}) {
			t.Fatalf("transfer row: %+v %+v", r[0], tp)
		}
		if r[1].TransferPoint != nil || !slices.Equal(r[1].Checkpoints, []string{"3"}) || r[2].TransferPoint != nil || r[2].Checkpoints != nil {
			t.Fatalf("other rows: %+v", r[1:])
		}
		f.approve(b.ID)
		passes, _ := f.svc.BatchPasses(f.Ctx, f.contact, b.ID)
		p := passes[0]
		if !slices.Equal(p.Checkpoints, []string{"7"}) || p.TransferPoint == nil || p.TransferPoint.ID != "7" {
			t.Fatalf("pass %+v", p)
		}
		c, reason := f.svc.verifier.Verify(f.Ctx, p.Token, testBase)
		if reason != passtoken.OK || !slices.Equal(c.CPs, []string{"7"}) {
			t.Fatalf("token: %+v %s", c, reason)
		}
		if r := c.AllowedAt("/430200/430211/430211003/", "7"); r != passtoken.OK {
			t.Errorf("at the transfer point: %s", r)
		}
		if r := c.AllowedAt("/430200/430211/430211001/", "3"); r != passtoken.CheckpointNotAllowed {
			t.Errorf("at 建宁大桥: %s", r)
		}
		one, err := f.svc.GetPass(f.Ctx, f.gxj, p.PID)
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(one)
		if !strings.Contains(string(js), `"transfer_point":{"id":"7","name":"株洲高新区物资接驳点","kind":"transfer_point"}`) {
			t.Fatalf("JSON %s", js)
		}
		if passes[1].TransferPoint != nil || passes[2].TransferPoint != nil {
			t.Fatalf("not limited to a transfer point: %+v", passes[1:])
		}
		// Without the registry a transfer point cannot be told apart.
		_, err = f.newService(f.dataDir).Upload(f.Ctx, f.contact, UploadInput{Data: []byte(head + line("司机庚", "", "湘B·T7008", "", "7"))})
		wantRow(t, rowErrors(t, err), 2, "接驳点", "无法核实")
		// The template has the column.
		tpl, _, _, err := importer.Template(BatchSpec, "csv", true)
		if err != nil || !strings.Contains(strings.SplitN(string(tpl), "\n", 2)[0], "卡口,接驳点,起") {
			t.Fatalf("template %q %v", tpl, err)
		}
	})
}
