package ticket

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// Limits of the public intake, per fixed window of PublicWindow.
const (
	PublicWindow         = time.Hour
	MaxFilingsPerAddress = 10 // help requests from one client address
	MaxFilingsPerPhone   = 3  // help requests for one phone number
	MaxLookupsPerAddress = 30 // status look-ups from one client address
)

// PublicInput is a resident's help request, filed without an account.
type PublicInput struct {
	Name        string `json:"name"`
	Phone       string `json:"phone"`
	AreaCode    string `json:"area_code"` // the community
	Address     string `json:"address"`
	Category    string `json:"category"`
	Description string `json:"description"`
	// ConfirmDuplicate files the request even though the same phone filed
	// one of the same category within RepeatWindow.
	ConfirmDuplicate bool `json:"confirm_duplicate"`
}

// Receipt is what a resident gets back: the tracking number to follow the
// request with.
type Receipt struct {
	Tracking  string    `json:"tracking"`
	Status    Status    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

func errThrottled() error {
	return errs.E(errs.TooMany, "too_many_requests", "提交过于频繁，请稍后再试，或拨打 12345 热线")
}

// FilePublic files a resident's help request. client is the caller's
// address; requests are throttled per address and per phone number.
func (s *Service) FilePublic(ctx context.Context, client string, in PublicInput) (*Receipt, error) {
	const op = "ticket.FilePublic"
	if strings.TrimSpace(in.Category) == "" {
		in.Category = "other"
	}
	var fields []errs.FieldError
	if msg := errs.CheckText(strings.TrimSpace(in.Name), MaxNameLen, true); msg != "" {
		fields = append(fields, errs.FieldError{Field: "name", Message: msg})
	}
	if strings.TrimSpace(in.Phone) == "" {
		fields = append(fields, errs.FieldError{Field: "phone", Message: "必填：用于查询进度和回访"})
	}
	if len(fields) > 0 {
		return nil, errs.Fields("invalid_ticket", "求助内容有误", fields...)
	}
	f, err := s.validate(ctx, Input{Kind: ResidentHelp, Category: in.Category, Urgency: Normal, Channel: ChannelWeb,
		SubjectKind: SubjectHousehold, AreaCode: in.AreaCode, Address: in.Address, Description: in.Description,
		ReporterName: in.Name, ReporterPhone: in.Phone})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if !f.category.Audience.For(AudienceResident) {
		return nil, errs.Fields("invalid_ticket", "求助内容有误",
			errs.FieldError{Field: "category", Message: "「" + f.category.Name + "」是企业问题的类别，请选择求助类别"})
	}
	f.createdBy = "public"
	if err := s.allow(ctx, rateKey{"file:addr:" + client, MaxFilingsPerAddress},
		rateKey{"file:phone:" + s.box.Index("phone", f.phone), MaxFilingsPerPhone}); err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out Receipt
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		// Checked after the throttle, so that nobody learns quickly which
		// numbers asked for what.
		if !in.ConfirmDuplicate {
			n, err := s.recentRepeats(ctx, tx, f.phone, f.category.Code)
			if err != nil {
				return err
			}
			if n > 0 {
				return errPossibleRepeat()
			}
		}
		id, err := s.insert(ctx, tx, f)
		if err != nil {
			return err
		}
		t, err := loadTicket(ctx, tx, s.box, fmt.Sprint(id))
		if err != nil {
			return err
		}
		out = Receipt{Tracking: t.Tracking, Status: t.Status, CreatedAt: t.CreatedAt}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &out, nil
}

// rateKey is one counter and its limit.
type rateKey struct {
	key string
	max int
}

// allow counts one use of every key, in a transaction of its own so that
// refused and failed attempts count too, and answers TooMany when any is
// over its limit.
func (s *Service) allow(ctx context.Context, keys ...rateKey) error {
	ok := true
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		ok = true
		for _, k := range keys {
			within, err := limit(ctx, tx, k.key, k.max)
			if err != nil {
				return err
			}
			ok = ok && within
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !ok {
		return errThrottled()
	}
	return nil
}

// PublicView is what the public status page shows: the state of the
// request, never who handles it by name nor anything of other people.
type PublicView struct {
	Tracking     string       `json:"tracking"`
	Status       Status       `json:"status"`
	StatusName   string       `json:"status_name"`
	CategoryName string       `json:"category_name"`
	AreaName     string       `json:"area_name"`
	CreatedAt    time.Time    `json:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at"`
	ResolveBy    time.Time    `json:"resolve_by"`
	CanConfirm   bool         `json:"can_confirm"`
	Steps        []PublicStep `json:"steps"`
	MergedInto   string       `json:"merged_into,omitempty"`
}

// PublicStep is one step of the request's progress.
type PublicStep struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

func errPublicNotFound() error {
	return errs.E(errs.NotFound, "ticket_not_found", "未找到该求助：请核对受理编号和手机号后四位")
}

// publicTicket finds tracking for a caller who knows the last four digits
// of its reporter's phone, throttling look-ups per client address. A wrong
// number and wrong digits answer alike.
func (s *Service) publicTicket(ctx context.Context, tx *db.Tx, tracking, last4 string) (*Ticket, error) {
	tracking = strings.ToUpper(strings.TrimSpace(tracking))
	last4 = strings.TrimSpace(last4)
	if !strings.HasPrefix(tracking, "WT") || len(last4) != 4 {
		return nil, errPublicNotFound()
	}
	t, err := loadTicket(ctx, tx, s.box, tracking)
	if errs.Is(err, errs.NotFound) {
		return nil, errPublicNotFound()
	}
	if err != nil {
		return nil, err
	}
	if t.phone == "" || subtle.ConstantTimeCompare([]byte(pii.Last4(t.phone)), []byte(last4)) != 1 {
		return nil, errPublicNotFound()
	}
	return t, nil
}

// PublicStatus answers the status page. Look-ups count against the
// client's limit whether they match or not, so guessing is slow.
func (s *Service) PublicStatus(ctx context.Context, client, tracking, last4 string) (*PublicView, error) {
	const op = "ticket.PublicStatus"
	if err := s.allow(ctx, rateKey{"lookup:addr:" + client, MaxLookupsPerAddress}); err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.publicView(ctx, tracking, last4)
}

func (s *Service) publicView(ctx context.Context, tracking, last4 string) (*PublicView, error) {
	var out *PublicView
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		t, err := s.publicTicket(ctx, tx, tracking, last4)
		if err != nil {
			return err
		}
		events, err := loadEvents(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		v := &PublicView{Tracking: t.Tracking, Status: t.Status, StatusName: t.StatusName, CategoryName: t.CategoryName,
			AreaName: t.AreaName, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, ResolveBy: t.ResolveBy,
			CanConfirm: t.Status == Resolved && t.reporterID == 0, MergedInto: t.MergedInto}
		for _, e := range events {
			if text := publicText(e); text != "" {
				v.Steps = append(v.Steps, PublicStep{At: e.At, Text: text})
			}
		}
		out = v
		return nil
	})
	return out, errs.Wrap("ticket.PublicStatus", err)
}

// publicText is a timeline event in words fit for the resident: no names
// of officers, departments' names only as "相关部门".
func publicText(e Event) string {
	switch e.Kind {
	case "filed":
		return "已受理您的求助"
	case "routed":
		return "已转交相关部门办理"
	case "escalated":
		return "办理超时，已提级督办"
	case "merged":
		return "与同一诉求合并办理"
	case "auto_confirmed":
		return "办结后未收到您的答复，已自动确认"
	case "transition":
		switch e.ToStatus {
		case Assigned:
			return "已分派承办部门"
		case InProgress:
			return "正在办理"
		case Resolved:
			return "已办结：" + e.Note
		case Rejected:
			return "未予受理：" + e.Note
		case Confirmed:
			return "已确认办结"
		case Reopened:
			return "已重新办理"
		}
	}
	return ""
}

// PublicConfirm lets the resident who filed a request answer its
// resolution: satisfied confirms it, otherwise it is reopened with the
// resident's words.
func (s *Service) PublicConfirm(ctx context.Context, client, tracking, last4 string, satisfied bool, note string) (*PublicView, error) {
	const op = "ticket.PublicConfirm"
	note = strings.TrimSpace(note)
	if !satisfied {
		if msg := errs.CheckText(note, MaxNoteLen, true); msg != "" {
			return nil, errs.Fields("note_required", "请说明尚未解决的问题", errs.FieldError{Field: "note", Message: msg})
		}
	}
	if err := s.allow(ctx, rateKey{"lookup:addr:" + client, MaxLookupsPerAddress}); err != nil {
		return nil, errs.Wrap(op, err)
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		t, err := s.publicTicket(ctx, tx, tracking, last4)
		if err != nil {
			return err
		}
		if t.reporterID != 0 {
			return errs.E(errs.Forbidden, "not_reporter", "请由提出人在系统内确认")
		}
		to := Confirmed
		if !satisfied {
			to = Reopened
		}
		if !CanTransition(t.Status, to) {
			return errBadTransition(t.Status, to)
		}
		resident := &auth.Principal{Username: "public", DisplayName: "求助人"}
		return s.apply(ctx, tx, resident, t, TransitionInput{To: to, Note: note}, nil)
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.publicView(ctx, tracking, last4)
}
