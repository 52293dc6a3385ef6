package pass

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
	"tongxin/internal/pii"
)

// leftOut pairs the rows of a batch an approval leaves out with their
// reasons: every row not chosen needs one (400 row_reason_required naming
// the rows without), and a reason may only name a row left out.
func leftOut(stored, chosen []storedRow, reasons []RowReason) ([]RowReason, error) {
	given := map[int]string{}
	var fields []errs.FieldError
	for _, r := range reasons {
		reason := strings.TrimSpace(r.Reason)
		if msg := errs.CheckLine(reason, MaxReasonLen, false); msg != "" {
			fields = append(fields, errs.FieldError{Row: r.Row, Field: "reasons", Column: "理由", Message: msg})
			continue
		}
		if reason != "" {
			given[r.Row] = reason
		}
	}
	approved := map[int]bool{}
	for _, r := range chosen {
		approved[r.num] = true
	}
	var out []RowReason
	var missing []string
	for _, r := range stored {
		if approved[r.num] {
			if _, ok := given[r.num]; ok {
				fields = append(fields, errs.FieldError{Row: r.num, Field: "reasons", Column: "理由",
					Message: "该行已批准，不需要未批准理由"})
			}
			continue
		}
		reason, ok := given[r.num]
		if !ok {
			missing = append(missing, strconv.Itoa(r.num))
			fields = append(fields, errs.FieldError{Row: r.num, Field: "reasons", Column: "理由",
				Message: "未批准的行须填写理由"})
			continue
		}
		out = append(out, RowReason{Row: r.num, Reason: reason})
	}
	for row := range given {
		if !slices.ContainsFunc(stored, func(r storedRow) bool { return r.num == row }) {
			fields = append(fields, errs.FieldError{Row: row, Field: "reasons", Column: "理由", Message: "批次中没有这一行"})
		}
	}
	if len(fields) == 0 {
		return out, nil
	}
	slices.SortStableFunc(fields, func(a, b errs.FieldError) int { return a.Row - b.Row })
	msg := "未批准理由有误，请逐行核对"
	if len(missing) > 0 {
		msg = "未批准的行须逐行填写理由：第 " + strings.Join(missing, "、") + " 行没有理由"
	}
	return nil, &errs.Error{Kind: errs.Invalid, Code: "row_reason_required", Message: msg, Fields: fields}
}

// reasonsSummary is the audit summary's list of rows left out.
func reasonsSummary(left []RowReason) string {
	if len(left) == 0 {
		return ""
	}
	var b strings.Builder
	for i, r := range left {
		if i == 20 {
			fmt.Fprintf(&b, "；…共 %d 行", len(left))
			break
		}
		fmt.Fprintf(&b, "；第 %d 行：%s", r.Row, clipRunes(r.Reason, 40))
	}
	return b.String()
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// MayRevealID reports whether p may see the full ID numbers of a batch's
// rows: an officer of a department that reviews passes (the pass_review
// capability) over the batch's area, or one with pii.reveal over it. HQ
// staff and system administrators review too, but like elsewhere they
// coordinate with masked numbers (see docs/architecture.md).
func MayRevealID(p *auth.Principal, b *Batch) bool {
	if p.IsSystem() || p.Covers(auth.PIIReveal, b.AreaPath) {
		return true
	}
	for _, a := range p.Assignments {
		if a.Scope.Kind == auth.ScopeDepartment && slices.Contains(a.Scope.Caps, auth.CapPassReview) &&
			a.Scope.Path != "" && strings.HasPrefix(b.AreaPath, a.Scope.Path) {
			return true
		}
	}
	return false
}

// RevealID returns the full ID number of a row of a batch to a caller who
// may see it (MayRevealID) and gives a reason, and audits it: 403 for
// others who read the batch, 404 out of reach or for an unknown row or a
// row without an ID number.
func (s *Service) RevealID(ctx context.Context, p *auth.Principal, id int64, rowNo int, reason string) (string, error) {
	const op = "pass.RevealID"
	b, err := s.GetBatchBrief(ctx, p, id)
	if err != nil {
		return "", err
	}
	if !MayRevealID(p, b) {
		return "", errs.E(errs.Forbidden, "reveal_forbidden", "只有审核部门人员或有权查看个人信息的人员可以查看完整身份证号")
	}
	reason = strings.TrimSpace(reason)
	if msg := errs.CheckLine(reason, MaxReasonLen, true); msg != "" {
		return "", errs.Fields("reason_required", "查看完整身份证号须填写事由", errs.FieldError{Field: "reason", Message: msg})
	}
	var full string
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		sealed, name, err := rowSealedID(ctx, tx, id, rowNo)
		if noRows(err) || (err == nil && len(sealed) == 0) {
			return errs.E(errs.NotFound, "row_not_found", "批次中没有这一行，或该行没有身份证号")
		}
		if err != nil {
			return fmt.Errorf("pass: reveal: %w", err)
		}
		if full, err = s.box.Open(sealed); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "pass.reveal_id",
			ObjectType: "pass_batch", ObjectID: strconv.FormatInt(id, 10), AreaCode: b.AreaCode,
			Summary: fmt.Sprintf("查看通行证申请第 %d 批第 %d 行（%s）身份证号 %s，事由：%s", id, rowNo, name,
				pii.MaskID(full), clipRunes(reason, 80))})
	})
	if err != nil {
		return "", errs.Wrap(op, err)
	}
	return full, nil
}

// chooseRows splits a batch's rows by an approval: the rows approved
// (all of them when in.Rows is nil) and those left out with their
// reasons. Unknown row numbers are 400 unknown_rows; see leftOut.
func chooseRows(stored []storedRow, in ApproveInput) ([]storedRow, []RowReason, error) {
	chosen := stored
	if in.Rows != nil {
		want := map[int]bool{}
		for _, n := range in.Rows {
			want[n] = true
		}
		var unknown []string
		for _, n := range in.Rows {
			if !slices.ContainsFunc(stored, func(r storedRow) bool { return r.num == n }) {
				unknown = append(unknown, strconv.Itoa(n))
			}
		}
		if len(unknown) > 0 {
			return nil, nil, errs.Fields("unknown_rows", "批次中没有这些行："+strings.Join(unknown, "、"),
				errs.FieldError{Field: "rows", Message: "没有第 " + strings.Join(unknown, "、") + " 行"})
		}
		chosen = nil
		for _, r := range stored {
			if want[r.num] {
				chosen = append(chosen, r)
			}
		}
	}
	left, err := leftOut(stored, chosen, in.Reasons)
	if err != nil {
		return nil, nil, err
	}
	return chosen, left, nil
}

// ApprovalPreview is what an approval would do, for the reviewer to
// confirm: the rows approved (persons and vehicles) and those left out
// with their reasons, and the enterprise's quota after it.
type ApprovalPreview struct {
	Batch    *Batch
	Approved int
	Persons  int
	Vehicles int
	Left     []RowReason
	Quota    *Quota
}

// check refuses an approval that names no rows (a reject, then) or whose
// note is not one line of at most MaxReasonLen characters.
func (in ApproveInput) check() error {
	if in.Rows != nil && len(in.Rows) == 0 {
		return errs.Fields("no_rows_approved", "没有选择要批准的行；全部不批准请用驳回",
			errs.FieldError{Field: "rows", Message: "至少选择一行"})
	}
	if msg := errs.CheckLine(in.Note, MaxReasonLen, false); msg != "" {
		return errs.Fields("invalid_note", "审核意见有误", errs.FieldError{Field: "note", Message: msg})
	}
	return nil
}

// PreviewApproval checks an approval as Approve would (the reviewer, the
// rows, their reasons, the note) without issuing anything.
func (s *Service) PreviewApproval(ctx context.Context, p *auth.Principal, id int64, in ApproveInput) (*ApprovalPreview, error) {
	const op = "pass.PreviewApproval"
	if err := auth.Require(p, auth.PassReview, op); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, errs.Wrap(op, err)
	}
	out := &ApprovalPreview{}
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		b, err := loadBatchForReview(ctx, tx, p, id)
		if err != nil {
			return err
		}
		stored, err := loadRows(ctx, tx, id)
		if err != nil {
			return err
		}
		chosen, left, err := chooseRows(stored, in)
		if err != nil {
			return err
		}
		if err := checkNotHeld(ctx, tx, chosen); err != nil {
			return err
		}
		out.Batch, out.Left, out.Approved = b, left, len(chosen)
		for _, r := range chosen {
			if r.kind == passtoken.Vehicle {
				out.Vehicles++
			} else {
				out.Persons++
			}
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if q, err := s.GetQuota(ctx, p, out.Batch.EnterpriseKey); err == nil {
		out.Quota = q
	}
	return out, nil
}

// PreviewReject checks a rejection as Reject would, without deciding.
func (s *Service) PreviewReject(ctx context.Context, p *auth.Principal, id int64, in ReasonInput) (*Batch, error) {
	const op = "pass.PreviewReject"
	if err := auth.Require(p, auth.PassReview, op); err != nil {
		return nil, err
	}
	if msg := errs.CheckLine(strings.TrimSpace(in.Reason), MaxReasonLen, true); msg != "" {
		return nil, errs.Wrap(op, errs.Fields("invalid_reason", "请填写驳回理由", errs.FieldError{Field: "reason", Message: msg}))
	}
	var b *Batch
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		b, err = loadBatchForReview(ctx, tx, p, id)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return b, nil
}
