package resumption

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
	"tongxin/internal/web"
)

// Prevention plans (一企一策 / 一园一策): a contingency plan per enterprise
// or per industrial park, in versions, each with an optional uploaded file
// and a review status.

// Plan subject kinds.
const (
	PlanEnterprise = "enterprise" // 一企一策
	PlanPark       = "park"       // 一园一策
)

// Plan statuses.
const (
	PlanSubmitted = "submitted"
	PlanApproved  = "approved"
	PlanRejected  = "rejected"
)

// MaxPlanFile bounds an uploaded plan file.
const MaxPlanFile = 10 << 20

// Limits of a plan's texts.
const (
	maxPlanTitle    = 200
	maxPlanSubject  = 100
	maxPlanFileName = 200
	maxPlanNote     = 500
)

// Media types of plan files, as sniffed from their bytes.
const (
	MediaPDF  = "application/pdf"
	MediaDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	MediaPNG  = "image/png"
	MediaJPEG = "image/jpeg"
	MediaWebP = "image/webp"
)

// Plan is one version of a prevention plan.
type Plan struct {
	ID          int64      `json:"id"`
	SubjectKind string     `json:"subject_kind"`
	Subject     string     `json:"subject"`
	AreaCode    string     `json:"area_code"`
	Version     int        `json:"version"`
	Title       string     `json:"title"`
	FileName    string     `json:"file_name"`
	MediaType   string     `json:"media_type"`
	FileSHA256  string     `json:"file_sha256"`
	FileSize    int64      `json:"file_size"`
	Status      string     `json:"status"`
	ReviewNote  string     `json:"review_note"`
	CreatedAt   time.Time  `json:"created_at"`
	CreatedBy   string     `json:"created_by"`
	ReviewedAt  *time.Time `json:"reviewed_at"`
	ReviewedBy  string     `json:"reviewed_by"`
}

// HasFile reports whether the version carries an uploaded file.
func (pl Plan) HasFile() bool { return pl.FileSHA256 != "" }

// PlanInput is a plan version as submitted. AreaCode is read for parks
// only: an enterprise's plan belongs to the enterprise's own area.
type PlanInput struct {
	SubjectKind string
	Subject     string
	AreaCode    string
	Title       string
	FileName    string
	File        []byte
}

// SniffPlanFile returns the media type and usual extension of a plan file,
// judged from its bytes only: PDF, DOCX (a ZIP holding word/document.xml),
// PNG, JPEG or WebP. ok is false for anything else.
func SniffPlanFile(b []byte) (mediaType, ext string, ok bool) {
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return MediaPDF, ".pdf", true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return MediaPNG, ".png", true
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return MediaJPEG, ".jpg", true
	case len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP")):
		return MediaWebP, ".webp", true
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return "", "", false
		}
		for _, f := range zr.File {
			if f.Name == "word/document.xml" {
				return MediaDOCX, ".docx", true
			}
		}
	}
	return "", "", false
}

// planFileName keeps the last element of a client's file name, without
// control characters, within maxPlanFileName runes.
func planFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" {
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if rs := []rune(name); len(rs) > maxPlanFileName {
		ext := path.Ext(name)
		if len([]rune(ext)) > 10 {
			ext = ""
		}
		name = string(rs[:maxPlanFileName-len([]rune(ext))]) + ext
	}
	return name
}

// PlanDir is where plan files are kept, each named by its SHA-256.
func PlanDir(dataDir string) string { return filepath.Join(dataDir, "uploads", "plans") }

func errPlanNotFound() *errs.Error { return errs.E(errs.NotFound, "plan_not_found", "预案不存在") }

func planErrEnterpriseNotFound() *errs.Error {
	return errs.E(errs.NotFound, "enterprise_not_found", "企业不存在")
}

// planSubjectName is the Chinese name of a subject kind, for messages and
// the audit log.
func planSubjectName(kind string) string {
	if kind == PlanPark {
		return "一园一策"
	}
	return "一企一策"
}

// validatePlan checks the texts of in and sniffs its file.
func validatePlan(in *PlanInput) (mediaType, ext string, err error) {
	in.SubjectKind = strings.TrimSpace(in.SubjectKind)
	in.Subject = strings.TrimSpace(in.Subject)
	in.AreaCode = strings.TrimSpace(in.AreaCode)
	in.Title = strings.TrimSpace(in.Title)
	if in.SubjectKind == PlanEnterprise {
		in.Subject = planSubjectKey(in.Subject)
	}
	var fe []errs.FieldError
	add := func(field, msg string) { fe = append(fe, errs.FieldError{Field: field, Message: msg}) }
	switch in.SubjectKind {
	case PlanEnterprise, PlanPark:
	default:
		add("subject_kind", "预案对象须为 enterprise（一企一策）或 park（一园一策）")
	}
	switch {
	case in.Subject == "":
		add("subject", "请填写企业代码或园区名称")
	case utf8.RuneCountInString(in.Subject) > maxPlanSubject || strings.ContainsFunc(in.Subject, unicode.IsControl):
		add("subject", fmt.Sprintf("企业代码或园区名称不能超过 %d 个字，且不能含控制字符", maxPlanSubject))
	}
	if in.SubjectKind == PlanPark && in.AreaCode == "" {
		add("area_code", "园区预案须填写所在区划编码")
	}
	switch {
	case in.Title == "":
		add("title", "请填写预案标题")
	case utf8.RuneCountInString(in.Title) > maxPlanTitle || strings.ContainsFunc(in.Title, unicode.IsControl):
		add("title", fmt.Sprintf("预案标题不能超过 %d 个字，且不能含控制字符", maxPlanTitle))
	}
	if len(fe) > 0 {
		return "", "", &errs.Error{Kind: errs.Invalid, Code: "plan_invalid", Message: "预案信息有误，请检查标出的字段", Fields: fe}
	}
	if len(in.File) == 0 {
		return "", "", nil
	}
	if len(in.File) > MaxPlanFile {
		return "", "", &errs.Error{Kind: errs.TooLarge, Code: "plan_file_too_large",
			Message: fmt.Sprintf("预案文件不能超过 %d MB", MaxPlanFile>>20),
			Fields:  []errs.FieldError{{Field: "file", Message: fmt.Sprintf("文件超过 %d MB", MaxPlanFile>>20)}}}
	}
	mediaType, ext, ok := SniffPlanFile(in.File)
	if !ok {
		return "", "", &errs.Error{Kind: errs.Invalid, Code: "plan_file_type",
			Message: "预案文件须为 PDF、Word（DOCX）或图片（PNG、JPEG、WebP）；文件类型按内容判断，与文件名无关",
			Fields:  []errs.FieldError{{Field: "file", Message: "不支持的文件类型"}}}
	}
	return mediaType, ext, nil
}

// planSubjectKey is an enterprise key as stored: a valid credit code in
// canonical form, anything else (a project code) as typed.
func planSubjectKey(raw string) string {
	raw = strings.TrimSpace(raw)
	if c, err := pii.NormalizeCreditCode(raw); err == nil {
		return c
	}
	return raw
}

// planSubmitVisibility is who may submit an enterprise's plan: managers
// over its area, its contacts and its assigned liaisons.
func planSubmitVisibility(p *auth.Principal) visibility {
	paths, all := p.AreaPaths(auth.ResumptionManage)
	v := visibility{all: all, paths: paths, keys: p.Refs(auth.EnterpriseContact)}
	if p.HasRole(auth.Liaison) {
		v.liaisonID = p.UserID
	}
	return v
}

// planEnterpriseIn returns the area code of the enterprise key when v reaches
// it, found false otherwise.
func planEnterpriseIn(ctx context.Context, tx *db.Tx, key string, v visibility) (areaCode string, found bool, err error) {
	if v.none() {
		return "", false, nil
	}
	args := &db.Args{}
	q := `SELECT e.area_code FROM enterprises e JOIN areas a ON a.code = e.area_code WHERE e.ekey = ` + args.Add(key) +
		` AND ` + v.where(args)
	err = tx.QueryRowContext(ctx, q, args.List...).Scan(&areaCode)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, errs.Wrap("resumption.planEnterpriseIn", err)
	}
	return areaCode, true, nil
}

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
	var out *Plan
	for attempt := 0; ; attempt++ {
		x := pl
		err = s.db.Write(ctx, func(tx *db.Tx) error {
			if err := s.planSubjectForSubmit(ctx, tx, p, &x, in.AreaCode); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM prevention_plans
				WHERE subject_kind = $1 AND subject = $2`, x.SubjectKind, x.Subject).Scan(&x.Version); err != nil {
				return errs.Wrap(op, err)
			}
			x.CreatedAt = tx.Now
			if err := tx.QueryRowContext(ctx, `INSERT INTO prevention_plans (subject_kind, subject, area_code, version, title,
				file_name, media_type, file_sha256, file_size, status, review_note, created_at, created_by, reviewed_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'submitted', '', $10, $11, '') RETURNING id`,
				x.SubjectKind, x.Subject, x.AreaCode, x.Version, x.Title, x.FileName, x.MediaType, x.FileSHA256, x.FileSize,
				tx.NowMS(), x.CreatedBy).Scan(&x.ID); err != nil {
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
		})
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
	var first string
	err := tx.QueryRowContext(ctx, `SELECT area_code FROM prevention_plans WHERE subject_kind = 'park' AND subject = $1
		ORDER BY version LIMIT 1`, x.Subject).Scan(&first)
	switch {
	case errors.Is(err, sql.ErrNoRows):
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

const planCols = `pp.id, pp.subject_kind, pp.subject, pp.area_code, pp.version, pp.title, pp.file_name, pp.media_type,
	pp.file_sha256, pp.file_size, pp.status, pp.review_note, pp.created_at, pp.created_by, pp.reviewed_at, pp.reviewed_by`

func scanPlan(sc interface{ Scan(...any) error }, extra ...any) (Plan, error) {
	var pl Plan
	var created int64
	var reviewed sql.NullInt64
	dest := append([]any{&pl.ID, &pl.SubjectKind, &pl.Subject, &pl.AreaCode, &pl.Version, &pl.Title, &pl.FileName, &pl.MediaType,
		&pl.FileSHA256, &pl.FileSize, &pl.Status, &pl.ReviewNote, &created, &pl.CreatedBy, &reviewed, &pl.ReviewedBy}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return pl, err
	}
	pl.CreatedAt = time.UnixMilli(created).UTC()
	if reviewed.Valid {
		t := time.UnixMilli(reviewed.Int64).UTC()
		pl.ReviewedAt = &t
	}
	return pl, nil
}

// loadPlan loads a plan with the area path that governs access to it: the
// enterprise's current area for an enterprise's plan, the plan's area for
// a park's.
func loadPlan(ctx context.Context, tx *db.Tx, id int64) (Plan, string, error) {
	row := tx.QueryRowContext(ctx, `SELECT `+planCols+`, COALESCE(ea.path, a.path)
		FROM prevention_plans pp JOIN areas a ON a.code = pp.area_code
		LEFT JOIN enterprises e ON pp.subject_kind = 'enterprise' AND e.ekey = pp.subject
		LEFT JOIN areas ea ON ea.code = e.area_code
		WHERE pp.id = $1`, id)
	var pth string
	pl, err := scanPlan(row, &pth)
	if err != nil {
		return pl, "", db.NotFound("resumption.loadPlan", err, "plan_not_found", "预案不存在")
	}
	return pl, pth, nil
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
		res, err := tx.ExecContext(ctx, `UPDATE prevention_plans SET status = $1, review_note = $2, reviewed_at = $3, reviewed_by = $4
			WHERE id = $5 AND status = 'submitted'`, status, note, tx.NowMS(), p.Actor(), id)
		if err != nil {
			return errs.Wrap(op, err)
		}
		if n, err := res.RowsAffected(); err != nil {
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
		rows, err := tx.QueryContext(ctx, `SELECT `+planCols+`, a.path FROM prevention_plans pp JOIN areas a ON a.code = pp.area_code
			WHERE pp.subject_kind = $1 AND pp.subject = $2 ORDER BY pp.version DESC`, subjectKind, subject)
		if err != nil {
			return errs.Wrap(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			var pth string
			pl, err := scanPlan(rows, &pth)
			if err != nil {
				return errs.Wrap(op, err)
			}
			if subjectKind == PlanPark && !p.Covers(auth.ResumptionRead, pth) {
				continue
			}
			out = append(out, pl)
		}
		return errs.Wrap(op, rows.Err())
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
		args := &db.Args{}
		rows, err := tx.QueryContext(ctx, `SELECT e.id, e.ekey, e.kind, e.name, e.area_code, a.name, a.path, e.park, e.is_key,
			e.employees, e.contact_name, e.closed_loop, e.created_at, e.updated_at
			FROM enterprises e JOIN areas a ON a.code = e.area_code
			WHERE `+v.where(args)+` AND NOT EXISTS (
				SELECT 1 FROM prevention_plans pp WHERE pp.subject_kind = 'enterprise' AND pp.subject = e.ekey
				AND pp.status = 'approved' AND pp.version = (SELECT MAX(q.version) FROM prevention_plans q
					WHERE q.subject_kind = 'enterprise' AND q.subject = e.ekey))
			ORDER BY a.path, e.name, e.ekey`, args.List...)
		if err != nil {
			return errs.Wrap(op, err)
		}
		defer rows.Close()
		byID := map[int64]int{}
		for rows.Next() {
			var e Enterprise
			var kind string
			var created, updated int64
			if err := rows.Scan(&e.ID, &e.Key, &kind, &e.Name, &e.AreaCode, &e.AreaName, &e.AreaPath, &e.Park, &e.IsKey,
				&e.Employees, &e.ContactName, &e.ClosedLoop, &created, &updated); err != nil {
				return errs.Wrap(op, err)
			}
			e.Kind = Kind(kind)
			e.CreatedAt, e.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
			e.Categories, e.Liaisons = []Category{}, []string{}
			byID[e.ID] = len(out)
			out = append(out, e)
		}
		if err := rows.Err(); err != nil {
			return errs.Wrap(op, err)
		}
		rows.Close()
		if len(out) == 0 {
			return nil
		}
		args = &db.Args{}
		crows, err := tx.QueryContext(ctx, `SELECT ec.enterprise_id, ec.category FROM enterprise_categories ec
			JOIN enterprises e ON e.id = ec.enterprise_id JOIN areas a ON a.code = e.area_code
			WHERE `+v.where(args)+` ORDER BY ec.enterprise_id`, args.List...)
		if err != nil {
			return errs.Wrap(op, err)
		}
		defer crows.Close()
		for crows.Next() {
			var id int64
			var c string
			if err := crows.Scan(&id, &c); err != nil {
				return errs.Wrap(op, err)
			}
			if i, ok := byID[id]; ok {
				out[i].Categories = append(out[i].Categories, Category(c))
			}
		}
		return errs.Wrap(op, crows.Err())
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
