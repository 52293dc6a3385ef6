package resumption

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// SubmitPlan files a new version of a subject's prevention plan (the
// highest version so far plus one). An enterprise's plan may be submitted by
// its contact, an assigned liaison or a manager over its area; a park's by a
// manager over the park's area. The file, if any, is sniffed, limited to
// MaxPlanFile and stored under the data directory by its SHA-256 before
// the transaction commits.
func (s *Service) SubmitPlan(ctx context.Context, p *auth.Principal, in PlanInput) (*Plan, error) {
	const op = "resumption.SubmitPlan"
	if p == nil {
		return nil, errs.Wrap(op, errs.E(errs.Unauthorized, "unauthenticated", "请先登录"))
	}
	if !p.Can(auth.ResumptionManage) && !p.HasRole(auth.EnterpriseContact) && !p.HasRole(auth.Liaison) {
		return nil, auth.ErrForbidden(op)
	}
	mediaType, ext, err := validatePlan(&in)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	pl := newPlanVersion(p, in, mediaType, ext)
	var out *Plan
	for attempt := 0; ; attempt++ {
		x := pl
		err = s.db.Write(ctx, func(tx *db.Tx) error { return s.submitPlanTx(ctx, tx, p, &x, in) })
		if err != nil && attempt < 10 && s.db.Dialect.IsUniqueViolation(err) {
			continue // a concurrent submission took the version: count again
		}
		if err == nil {
			out = &x
		}
		break
	}
	if err != nil {
		if errs.As(err) == nil && s.db.Dialect.IsUniqueViolation(err) {
			err = errs.E(errs.Conflict, "plan_version_conflict", "同一预案正在被同时提交，请稍后重试")
		}
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// newPlanVersion is the version in submits, before its subject is checked
// and its number counted: its file described by its SHA-256, media type
// (sniffed, with ext) and size.
func newPlanVersion(p *auth.Principal, in PlanInput, mediaType, ext string) Plan {
	pl := Plan{SubjectKind: in.SubjectKind, Subject: in.Subject, Title: in.Title, Status: PlanSubmitted, CreatedBy: p.Actor()}
	if len(in.File) > 0 {
		sum := sha256.Sum256(in.File)
		pl.FileSHA256 = hex.EncodeToString(sum[:])
		pl.MediaType = mediaType
		pl.FileSize = int64(len(in.File))
		pl.FileName = planFileName(in.FileName)
		if pl.FileName == "" {
			pl.FileName = "预案" + ext
		}
	}
	return pl
}

// submitPlanTx checks x's subject, numbers and inserts the version x,
// audits it and stores its file.
func (s *Service) submitPlanTx(ctx context.Context, tx *db.Tx, p *auth.Principal, x *Plan, in PlanInput) error {
	const op = "resumption.SubmitPlan"
	if err := s.planSubjectForSubmit(ctx, tx, p, x, in.AreaCode); err != nil {
		return err
	}
	v, err := nextPlanVersion(ctx, tx, x.SubjectKind, x.Subject)
	if err != nil {
		return errs.Wrap(op, err)
	}
	x.Version = v
	x.CreatedAt = tx.Now
	if x.ID, err = insertPlan(ctx, tx, *x); err != nil {
		return err
	}
	summary := fmt.Sprintf("%s %s 第 %d 版《%s》", planSubjectName(x.SubjectKind), x.Subject, x.Version, x.Title)
	if x.HasFile() {
		summary += fmt.Sprintf("，附件 %s（%s，%d 字节，SHA-256 %s）", x.FileName, x.MediaType, x.FileSize, x.FileSHA256[:12])
	}
	if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "plan.submit",
		ObjectType: "prevention_plan", ObjectID: strconv.FormatInt(x.ID, 10), AreaCode: x.AreaCode, Summary: summary}); err != nil {
		return err
	}
	if x.HasFile() {
		if err := web.StoreUpload(PlanDir(s.dataDir), x.FileSHA256, in.File); err != nil {
			return &errs.Error{Kind: errs.Internal, Op: op, Err: fmt.Errorf("store plan file: %w", err)}
		}
	}
	return nil
}

// planSubjectForSubmit checks that p may submit a plan for x's subject and
// sets x.AreaCode.
func (s *Service) planSubjectForSubmit(ctx context.Context, tx *db.Tx, p *auth.Principal, x *Plan, areaCode string) error {
	if x.SubjectKind == PlanEnterprise {
		code, ok, err := planEnterpriseIn(ctx, tx, x.Subject, planSubmitVisibility(p))
		if err != nil {
			return err
		}
		if !ok {
			// Readable but not the caller's to plan for: Forbidden;
			// outside the caller's reach altogether: NotFound.
			if _, readable, err := planEnterpriseIn(ctx, tx, x.Subject, visibilityFor(p, auth.ResumptionRead)); err != nil {
				return err
			} else if readable {
				return &errs.Error{Kind: errs.Forbidden, Code: "forbidden",
					Message: "只有企业联系人、驻企联络员或复工复产管理人员可以提交一企一策"}
			}
			return planErrEnterpriseNotFound()
		}
		x.AreaCode = code
		return nil
	}
	if err := auth.Require(p, auth.ResumptionManage, "resumption.SubmitPlan"); err != nil {
		return err
	}
	// A park's plans stay in the area of its first version.
	first, err := parkFirstArea(ctx, tx, x.Subject)
	switch {
	case first == "" && err == nil:
	case err != nil:
		return errs.Wrap("resumption.SubmitPlan", err)
	case first != areaCode:
		return &errs.Error{Kind: errs.Invalid, Code: "plan_park_area",
			Message: fmt.Sprintf("园区“%s”的预案登记在区划 %s，新版本须在同一区划", x.Subject, first),
			Fields:  []errs.FieldError{{Field: "area_code", Message: "须为 " + first}}}
	}
	pth, ok, err := planAreaPath(ctx, tx, areaCode)
	if err != nil {
		return err
	}
	if !ok || !p.Covers(auth.ResumptionManage, pth) {
		return &errs.Error{Kind: errs.NotFound, Code: "area_not_found", Message: "区划不存在",
			Fields: []errs.FieldError{{Field: "area_code", Message: "区划不存在或不在您的管辖范围内"}}}
	}
	x.AreaCode = areaCode
	return nil
}

// planCanRead reports whether p may read the plans of a subject (path is
// the area path of a park's plans).
func planCanRead(ctx context.Context, tx *db.Tx, p *auth.Principal, kind, subject, pth string) (bool, error) {
	if kind == PlanEnterprise {
		_, ok, err := planEnterpriseIn(ctx, tx, subject, visibilityFor(p, auth.ResumptionRead))
		return ok, err
	}
	return p.Covers(auth.ResumptionRead, pth), nil
}

// planRequireReader refuses a caller who reads no enterprise at all.
func planRequireReader(p *auth.Principal, op string) error {
	if p == nil {
		return errs.E(errs.Unauthorized, "unauthenticated", "请先登录")
	}
	if visibilityFor(p, auth.ResumptionRead).none() {
		return auth.ErrForbidden(op)
	}
	return nil
}

// ReviewPlan approves or rejects a submitted plan version. It needs
// ResumptionManage over the plan's area; a rejection needs a note.
func (s *Service) ReviewPlan(ctx context.Context, p *auth.Principal, id int64, approve bool, note string) (*Plan, error) {
	const op = "resumption.ReviewPlan"
	if err := auth.Require(p, auth.ResumptionManage, op); err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	switch {
	case !approve && note == "":
		return nil, &errs.Error{Kind: errs.Invalid, Code: "plan_review_note", Op: op, Message: "退回预案须填写意见",
			Fields: []errs.FieldError{{Field: "note", Message: "请填写退回意见"}}}
	case utf8.RuneCountInString(note) > maxPlanNote:
		return nil, &errs.Error{Kind: errs.Invalid, Code: "plan_review_note", Op: op, Message: fmt.Sprintf("审核意见不能超过 %d 个字", maxPlanNote),
			Fields: []errs.FieldError{{Field: "note", Message: fmt.Sprintf("不能超过 %d 个字", maxPlanNote)}}}
	}
	var out Plan
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		pl, pth, err := loadPlan(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.Covers(auth.ResumptionManage, pth) {
			return errPlanNotFound()
		}
		if pl.Status != PlanSubmitted {
			return errs.Newf(errs.Conflict, "plan_not_submitted", "该预案已审核（%s），不能再次审核", planStatusName(pl.Status))
		}
		status := PlanRejected
		if approve {
			status = PlanApproved
		}
		if n, err := reviewPlan(ctx, tx, id, status, note, p.Actor()); err != nil {
			return errs.Wrap(op, err)
		} else if n != 1 {
			return errs.E(errs.Conflict, "plan_not_submitted", "该预案已审核，不能再次审核")
		}
		pl.Status, pl.ReviewNote, pl.ReviewedBy = status, note, p.Actor()
		now := tx.Now
		pl.ReviewedAt = &now
		summary := fmt.Sprintf("%s %s 第 %d 版《%s》%s", planSubjectName(pl.SubjectKind), pl.Subject, pl.Version, pl.Title, planStatusName(status))
		if note != "" {
			summary += "：" + note
		}
		action := "plan.reject"
		if approve {
			action = "plan.approve"
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: action,
			ObjectType: "prevention_plan", ObjectID: strconv.FormatInt(id, 10), AreaCode: pl.AreaCode, Summary: summary}); err != nil {
			return err
		}
		out = pl
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &out, nil
}

func planStatusName(s string) string {
	switch s {
	case PlanApproved:
		return "已通过"
	case PlanRejected:
		return "已退回"
	}
	return "待审核"
}

// Plans returns the versions of a subject's plan, newest first, to a caller
// who may read the subject.
func (s *Service) Plans(ctx context.Context, p *auth.Principal, subjectKind, subject string) ([]Plan, error) {
	const op = "resumption.Plans"
	if err := planRequireReader(p, op); err != nil {
		return nil, err
	}
	subjectKind, subject = strings.TrimSpace(subjectKind), strings.TrimSpace(subject)
	if subjectKind == PlanEnterprise {
		subject = planSubjectKey(subject)
	}
	if subjectKind != PlanEnterprise && subjectKind != PlanPark {
		return nil, &errs.Error{Kind: errs.Invalid, Code: "plan_invalid", Op: op, Message: "subject_kind 须为 enterprise 或 park",
			Fields: []errs.FieldError{{Field: "subject_kind", Message: "须为 enterprise 或 park"}}}
	}
	if subject == "" {
		return nil, &errs.Error{Kind: errs.Invalid, Code: "plan_invalid", Op: op, Message: "请指定 subject（企业代码或园区名称）",
			Fields: []errs.FieldError{{Field: "subject", Message: "必填"}}}
	}
	var out []Plan
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		if subjectKind == PlanEnterprise {
			ok, err := planCanRead(ctx, tx, p, subjectKind, subject, "")
			if err != nil {
				return err
			}
			if !ok {
				return planErrEnterpriseNotFound()
			}
		}
		list, err := subjectPlans(ctx, tx, subjectKind, subject)
		if err != nil {
			return errs.Wrap(op, err)
		}
		for _, x := range list {
			if subjectKind == PlanPark && !p.Covers(auth.ResumptionRead, x.path) {
				continue
			}
			out = append(out, x.Plan)
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// PlanFile opens the file of a plan version for a caller who may read its
// subject. The caller closes the reader.
func (s *Service) PlanFile(ctx context.Context, p *auth.Principal, id int64) (*Plan, io.ReadCloser, error) {
	const op = "resumption.PlanFile"
	if err := planRequireReader(p, op); err != nil {
		return nil, nil, err
	}
	var pl Plan
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		x, pth, err := loadPlan(ctx, tx, id)
		if err != nil {
			return err
		}
		ok, err := planCanRead(ctx, tx, p, x.SubjectKind, x.Subject, pth)
		if err != nil {
			return err
		}
		if !ok {
			return errPlanNotFound()
		}
		pl = x
		return nil
	})
	if err != nil {
		return nil, nil, errs.Wrap(op, err)
	}
	if !pl.HasFile() {
		return nil, nil, &errs.Error{Kind: errs.NotFound, Code: "plan_no_file", Op: op, Message: "该版本预案没有附件"}
	}
	f, err := os.Open(filepath.Join(PlanDir(s.dataDir), pl.FileSHA256))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, &errs.Error{Kind: errs.NotFound, Code: "plan_file_missing", Op: op, Message: "预案附件已丢失，请重新上传", Err: err}
		}
		return nil, nil, errs.Wrap(op, err)
	}
	return &pl, f, nil
}

// WithoutApprovedPlan lists the enterprises and projects in the caller's
// reach whose latest plan version is not approved, or that have no plan.
// ContactPhone is left empty.
func (s *Service) WithoutApprovedPlan(ctx context.Context, p *auth.Principal) ([]Enterprise, error) {
	const op = "resumption.WithoutApprovedPlan"
	if err := planRequireReader(p, op); err != nil {
		return nil, err
	}
	v := visibilityFor(p, auth.ResumptionRead)
	var out []Enterprise
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		out, err = enterprisesWithoutApprovedPlan(ctx, tx, v)
		return errs.Wrap(op, err)
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	for i := range out {
		planSortCategories(out[i].Categories)
	}
	return out, nil
}

// planSortCategories puts categories in the display order of Categories.
func planSortCategories(cs []Category) {
	rank := func(c Category) int {
		for i, x := range Categories {
			if x == c {
				return i
			}
		}
		return len(Categories)
	}
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && rank(cs[j]) < rank(cs[j-1]); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}
