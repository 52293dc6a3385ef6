package resumption

import (
	"archive/zip"
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
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
