package pass

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/notify"
	"tongxin/internal/passtoken"
)

// ApproveInput approves rows of a batch (row numbers as in the file; nil
// approves every row); the others are rejected, each with its reason.
type ApproveInput struct {
	Rows    []int       `json:"rows"`
	Note    string      `json:"note"`
	Reasons []RowReason `json:"reasons"`
}

// RowReason is why a row of a batch was not approved.
type RowReason struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
}

// ReasonInput is a rejection or revocation reason.
type ReasonInput struct {
	Reason string `json:"reason"`
}

// loadBatchForReview loads a submitted batch for a reviewer who covers it.
func loadBatchForReview(ctx context.Context, tx *db.Tx, p *auth.Principal, id int64) (*Batch, error) {
	b, err := batchByID(ctx, tx, id)
	if noRows(err) || (err == nil && !p.Covers(auth.PassReview, b.AreaPath)) {
		return nil, errBatchNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("pass: batch: %w", err)
	}
	if b.Status != Submitted {
		return nil, errs.E(errs.Conflict, "batch_decided", "该批次已审核，不能再次审核")
	}
	return b, nil
}

// Approve approves a batch, wholly or row by row, and issues the passes
// in the same transaction: signed tokens, within the enterprise's quota
// (active passes + new ≤ quota, else 409 pass_quota_exceeded).
func (s *Service) Approve(ctx context.Context, p *auth.Principal, id int64, in ApproveInput) (*Batch, error) {
	const op = "pass.Approve"
	if err := auth.Require(p, auth.PassReview, op); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, errs.Wrap(op, err)
	}
	employees, err := s.employeesOfBatch(ctx, id)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	a := &approval{s: s, p: p, id: id, in: in, employees: employees}
	err = s.db.Write(ctx, func(tx *db.Tx) error { return a.run(ctx, tx) })
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.batch(ctx, id, false)
}

// employeesOfBatch is the default quota of the enterprise of a batch: its
// registered employees (0 when the registry does not know it). It is read
// before the approval's transaction: it is another module's data, and a
// stale reading only matters if the registry changes in the same instant.
func (s *Service) employeesOfBatch(ctx context.Context, id int64) (int, error) {
	var key string
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		key, err = batchEnterprise(ctx, tx, id)
		return err
	})
	if noRows(err) {
		return 0, errBatchNotFound()
	}
	if err != nil || s.enterprises == nil {
		return 0, err
	}
	_, _, employees, err := s.enterprises.PassSubject(ctx, key)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return 0, err
	}
	return max(employees, 0), nil
}

// approval is one Approve in its transaction: the batch, its rows, those
// chosen and those left out with their reasons.
type approval struct {
	s         *Service
	p         *auth.Principal
	id        int64
	in        ApproveInput
	employees int

	b      *Batch
	stored []storedRow
	chosen []storedRow
	left   []RowReason
}

// run approves under the issue lock: choose the rows, check them and the
// quota, issue, record the decision.
func (a *approval) run(ctx context.Context, tx *db.Tx) error {
	if err := lock(ctx, tx, "issue"); err != nil {
		return err
	}
	if err := a.choose(ctx, tx); err != nil {
		return err
	}
	if err := checkNotHeld(ctx, tx, a.chosen); err != nil {
		return err
	}
	if err := a.checkQuota(ctx, tx); err != nil {
		return err
	}
	if err := a.s.issue(ctx, tx, a.p, a.b, a.chosen); err != nil {
		return err
	}
	return a.record(ctx, tx)
}

// choose loads the batch for its reviewer and splits its rows.
func (a *approval) choose(ctx context.Context, tx *db.Tx) error {
	var err error
	if a.b, err = loadBatchForReview(ctx, tx, a.p, a.id); err != nil {
		return err
	}
	if a.stored, err = loadRows(ctx, tx, a.id); err != nil {
		return err
	}
	a.chosen, a.left, err = chooseRows(a.stored, a.in)
	return err
}

// checkQuota refuses an approval that would take the enterprise's active
// passes over its quota.
func (a *approval) checkQuota(ctx context.Context, tx *db.Tx) error {
	quota, _, err := quotaOf(ctx, tx, a.b.EnterpriseKey, a.employees)
	if err != nil {
		return err
	}
	active, err := activeCount(ctx, tx, a.b.EnterpriseKey)
	if err != nil {
		return err
	}
	if active+len(a.chosen) > quota {
		return errs.Newf(errs.Conflict, "pass_quota_exceeded",
			"超出通行证配额：%s 配额 %d 张，现有有效通行证 %d 张，本次批准 %d 张", a.b.EnterpriseName, quota, active, len(a.chosen))
	}
	return nil
}

// record writes the decision on the batch and its rows, audits it and
// tells the enterprise.
func (a *approval) record(ctx context.Context, tx *db.Tx) error {
	b, p, id := a.b, a.p, a.id
	status := Approved
	if len(a.chosen) < len(a.stored) {
		status = PartlyApproved
	}
	rejected := len(a.stored) - len(a.chosen)
	if err := approveBatch(ctx, tx, id, status, len(a.chosen), rejected, a.left, p.Actor(), strings.TrimSpace(a.in.Note)); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "pass.batch_approve",
		ObjectType: "pass_batch", ObjectID: strconv.FormatInt(id, 10), AreaCode: b.AreaCode,
		Summary: fmt.Sprintf("批准 %s 的通行证申请第 %d 批：签发 %d 张，未批准 %d 行%s", b.EnterpriseName, id, len(a.chosen),
			rejected, reasonsSummary(a.left))}); err != nil {
		return err
	}
	return a.s.notifyEnterprise(ctx, tx, b.EnterpriseKey, decidedMessage(b, len(a.chosen), a.left, a.in.Note))
}

// checkNotHeld refuses an approval when the person or vehicle of a chosen
// row already holds an active pass valid on one of the same days (issued
// since the upload checked, by another batch approved first): 409
// pass_already_held listing the rows, and nothing is issued. Approvals
// hold the "issue" lock, so two cannot both pass this check.
func checkNotHeld(ctx context.Context, tx *db.Tx, chosen []storedRow) error {
	probes := probesOf(chosen)
	held, err := heldRows(ctx, tx, probes, tx.NowMS(), false, 0)
	if err != nil || len(held) == 0 {
		return err
	}
	var fields []errs.FieldError
	var nums []string
	for _, r := range chosen {
		if hs, ok := held[r.num]; ok {
			fields = append(fields, errs.FieldError{Row: r.num, Column: BatchSpec.HeaderOf(heldColumn(r.kind)),
				Code: "pass_already_held", Message: heldMessage(r.kind, hs[0])})
			nums = append(nums, strconv.Itoa(r.num))
		}
	}
	return &errs.Error{Kind: errs.Conflict, Code: "pass_already_held", Fields: fields,
		Message: fmt.Sprintf("第 %s 行的人员或车辆已持有有效通行证，本次未签发任何通行证：请不批准这些行，或先吊销原证",
			strings.Join(nums, "、"))}
}

// probesOf is what stored rows look for among passes and pending rows.
func probesOf(rows []storedRow) []probe {
	probes := make([]probe, 0, len(rows))
	for _, r := range rows {
		p := probe{num: r.num, kind: r.kind, key: r.plate, from: r.from, to: r.to}
		if r.kind == passtoken.Person {
			p.key = r.idIdx.String
		}
		probes = append(probes, p)
	}
	return probes
}

// issue signs and stores a pass for each row, with the signing key
// (created on first use), and moves the key's last expiry.
func (s *Service) issue(ctx context.Context, tx *db.Tx, p *auth.Principal, b *Batch, rows []storedRow) error {
	if len(rows) == 0 {
		return nil
	}
	kid, priv, err := s.verifier.keys.signer(ctx, tx)
	if err != nil {
		return err
	}
	numbers, err := freshNumbers(ctx, tx, len(rows))
	if err != nil {
		return err
	}
	var lastExp int64
	now := tx.NowMS()
	values := make([][]any, 0, len(rows))
	for i, r := range rows {
		pid := NewPID()
		c := passtoken.Claims{PID: pid, Kind: r.kind, Name: r.nameMasked, ID4: r.id4, Plate: r.plate, Ent: b.EnterpriseKey,
			EntName: tokenEntName(b.EnterpriseName), Areas: r.areas, CPs: r.cps, NBF: r.from / 1000, EXP: r.to / 1000}
		token, err := passtoken.Sign(priv, kid, c)
		if err != nil {
			return err
		}
		values = append(values, []any{pid, string(r.kind), b.EnterpriseKey, b.EnterpriseName, b.AreaPath,
			r.nameMasked, r.nameEnc, r.idEnc, r.idIdx, r.id4, r.phoneEnc, r.plate, joinList(r.areas), joinList(r.cps),
			r.from, r.to, kid, token, b.ID, r.num, now, p.Actor(), numbers[i]})
		lastExp = max(lastExp, r.to)
	}
	if err := insertPasses(ctx, tx, values); err != nil {
		return err
	}
	return extendKeyExpiry(ctx, tx, kid, lastExp)
}

// Reject rejects a whole batch with a reason.
func (s *Service) Reject(ctx context.Context, p *auth.Principal, id int64, in ReasonInput) (*Batch, error) {
	const op = "pass.Reject"
	if err := auth.Require(p, auth.PassReview, op); err != nil {
		return nil, err
	}
	reason, err := checkReason(in.Reason, "请填写驳回理由")
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		b, err := loadBatchForReview(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := rejectBatch(ctx, tx, id, p.Actor(), reason); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "pass.batch_reject",
			ObjectType: "pass_batch", ObjectID: strconv.FormatInt(id, 10), AreaCode: b.AreaCode,
			Summary: fmt.Sprintf("驳回 %s 的通行证申请第 %d 批（%d 行）：%s", b.EnterpriseName, id, b.RowCount, reason)}); err != nil {
			return err
		}
		return s.notifyEnterprise(ctx, tx, b.EnterpriseKey, notify.Message{Event: EventBatchRejected,
			Title: fmt.Sprintf("通行证申请第 %d 批被驳回", id),
			Body:  fmt.Sprintf("%s 的 %d 份申请全部未批准。驳回理由：%s", b.EnterpriseName, b.RowCount, reason),
			Link:  batchLink(id), ObjectType: "pass_batch", ObjectID: strconv.FormatInt(id, 10), AreaPath: b.AreaPath})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.batch(ctx, id, false)
}
