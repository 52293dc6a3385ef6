package checkpoint

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Traffic control is public: anyone may read the measures and notices,
// without an account. Holders of TrafficManage create and change measures
// and publish notices within their areas.

func errMeasureNotFound() *errs.Error {
	return errs.E(errs.NotFound, "measure_not_found", "管制措施不存在")
}

func errNoticeNotFound() *errs.Error {
	return errs.E(errs.NotFound, "notice_not_found", "通告不存在")
}

// manageArea resolves an area for a traffic change and checks that p
// holds TrafficManage over it.
func (s *Service) manageArea(ctx context.Context, p *auth.Principal, code, op string) (*area.Area, error) {
	a, err := s.resolveArea(ctx, code, "area_code")
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if !p.Covers(auth.TrafficManage, a.Path) {
		return nil, errs.Fields("area_not_found", "区划 "+a.Code+" 不在您的管理范围内", errs.FieldError{Field: "area_code", Message: "不在管理范围内"})
	}
	return a, nil
}

// CreateMeasure records a traffic-control measure.
func (s *Service) CreateMeasure(ctx context.Context, p *auth.Principal, in MeasureInput) (*Measure, error) {
	const op = "checkpoint.CreateMeasure"
	if err := auth.Require(p, auth.TrafficManage, op); err != nil {
		return nil, err
	}
	if fe := in.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_measure", fe[0].Message, fe...)
	}
	if in.Status == MeasureCancelled {
		return nil, errs.Fields("invalid_measure", "新措施不能是已撤销状态", errs.FieldError{Field: "status", Message: "新措施须为 active"})
	}
	a, err := s.manageArea(ctx, p, in.AreaCode, op)
	if err != nil {
		return nil, err
	}
	var out *Measure
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		id, err := insertMeasure(ctx, tx, measureRow{in: in, area: areaRef{a.Code, a.Path}, actor: p.Actor()})
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "traffic.measure.create",
			ObjectType: "traffic_measure", ObjectID: strconv.FormatInt(id, 10), AreaCode: a.Code,
			Summary: fmt.Sprintf("新增%s：%s（%s起）", MeasureKindNames[in.Kind], in.Target, localTime(in.EffectiveFrom))}); err != nil {
			return err
		}
		out, err = loadMeasure(ctx, tx, id, tx.Now)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// UpdateMeasure replaces a measure's fields. Its status may go between
// active and cancelled; a lifted measure is ended by its notice and can no
// longer change.
func (s *Service) UpdateMeasure(ctx context.Context, p *auth.Principal, id int64, in MeasureInput) (*Measure, error) {
	const op = "checkpoint.UpdateMeasure"
	if err := auth.Require(p, auth.TrafficManage, op); err != nil {
		return nil, err
	}
	// A measure out of reach is not found, whatever the body says.
	if err := s.db.Read(ctx, func(tx *db.Tx) error {
		m, err := loadMeasure(ctx, tx, id, tx.Now)
		if err == nil && !p.Covers(auth.TrafficManage, m.AreaPath) {
			err = errMeasureNotFound()
		}
		return err
	}); err != nil {
		return nil, errs.Wrap(op, err)
	}
	if fe := in.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_measure", fe[0].Message, fe...)
	}
	a, err := s.manageArea(ctx, p, in.AreaCode, op)
	if err != nil {
		return nil, err
	}
	var out *Measure
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		m, err := loadMeasure(ctx, tx, id, tx.Now)
		if err != nil {
			return err
		}
		if !p.Covers(auth.TrafficManage, m.AreaPath) {
			return errMeasureNotFound()
		}
		if in.Version != 0 && in.Version != m.Version {
			return errs.E(errs.Conflict, "stale_measure", "措施已被他人更新，请刷新后重试")
		}
		if m.Status == MeasureLifted {
			return errs.E(errs.Conflict, "measure_lifted", "措施已由通告解除，不能再修改")
		}
		status := m.Status
		if in.Status != "" {
			status = in.Status
		}
		if err := updateMeasure(ctx, tx, m.ID, measureRow{in: in, area: areaRef{a.Code, a.Path}, status: status,
			actor: p.Actor()}); err != nil {
			return err
		}
		summary := fmt.Sprintf("修改%s：%s", MeasureKindNames[in.Kind], in.Target)
		if status != m.Status {
			summary += "，状态 " + string(m.Status) + " → " + string(status)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "traffic.measure.update",
			ObjectType: "traffic_measure", ObjectID: strconv.FormatInt(m.ID, 10), AreaCode: a.Code, Summary: summary}); err != nil {
			return err
		}
		out, err = loadMeasure(ctx, tx, m.ID, tx.Now)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// Measures lists measures, newest first: with at, those in force at that
// moment; without, every measure (InForce as of now). No login needed.
func (s *Service) Measures(ctx context.Context, at *time.Time) ([]*Measure, error) {
	const op = "checkpoint.Measures"
	var out []*Measure
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		out, err = listMeasures(ctx, tx, at)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// Measure returns one measure with its notices. No login needed.
func (s *Service) Measure(ctx context.Context, id int64) (*Measure, error) {
	const op = "checkpoint.Measure"
	var out *Measure
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = loadMeasure(ctx, tx, id, tx.Now)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// PublishNotice publishes a notice and applies it: the measures it lifts
// end at its publication time (if they were to end later, or never); the
// measures it starts are linked to it and keep their own times. Every
// measure named must be active and within the caller's reach. The notice's
// area defaults to the deepest area containing its measures.
func (s *Service) PublishNotice(ctx context.Context, p *auth.Principal, in NoticeInput) (*Notice, error) {
	const op = "checkpoint.PublishNotice"
	if err := auth.Require(p, auth.TrafficManage, op); err != nil {
		return nil, err
	}
	if fe := in.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_notice", fe[0].Message, fe...)
	}
	published := s.clock.Now()
	if in.PublishedAt != nil {
		published = *in.PublishedAt
	}
	var out *Notice
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		paths, err := noticeMeasurePaths(ctx, tx, p, in)
		if err != nil {
			return err
		}
		a, err := s.noticeArea(ctx, p, in.AreaCode, paths, op)
		if err != nil {
			return err
		}
		row := noticeRow{in: in, area: areaRef{a.Code, a.Path}, published: published.UnixMilli(), actor: p.Actor()}
		id, err := applyNotice(ctx, tx, row)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "traffic.notice.publish",
			ObjectType: "traffic_notice", ObjectID: in.Number, AreaCode: a.Code, Summary: noticeSummary(in)}); err != nil {
			return err
		}
		out, err = loadNotice(ctx, tx, id, true)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// noticeMeasurePaths checks the measures a notice starts and lifts (each
// active and within p's reach) and returns their area paths.
func noticeMeasurePaths(ctx context.Context, tx *db.Tx, p *auth.Principal, in NoticeInput) ([]string, error) {
	var paths []string
	for _, l := range []struct {
		field string
		ids   []int64
	}{{"starts", in.Starts}, {"lifts", in.Lifts}} {
		for _, id := range l.ids {
			m, err := loadMeasure(ctx, tx, id, tx.Now)
			if errs.Is(err, errs.NotFound) || (err == nil && !p.Covers(auth.TrafficManage, m.AreaPath)) {
				return nil, errs.Fields("measure_not_found", fmt.Sprintf("管制措施 %d 不存在", id),
					errs.FieldError{Field: l.field, Message: fmt.Sprintf("措施 %d 不存在", id)})
			}
			if err != nil {
				return nil, err
			}
			if m.Status != MeasureActive {
				return nil, errs.Newf(errs.Conflict, "measure_not_active", "管制措施 %d（%s）已%s，不能再由通告启动或解除", id, m.Target,
					map[MeasureStatus]string{MeasureLifted: "解除", MeasureCancelled: "撤销"}[m.Status])
			}
			paths = append(paths, m.AreaPath)
		}
	}
	return paths, nil
}

// noticeArea resolves the area of a notice: code, else the deepest area
// containing its measures' paths, else the one area where p manages
// traffic. p must manage traffic there.
func (s *Service) noticeArea(ctx context.Context, p *auth.Principal, code string, paths []string, op string) (*area.Area, error) {
	if code == "" {
		if root := area.CommonRoot(paths); root != "" {
			code = lastCode(root)
		} else if ps, _ := p.AreaPaths(auth.TrafficManage); len(ps) == 1 {
			code = lastCode(ps[0])
		} else {
			return nil, errs.Fields("invalid_notice", "请填写通告的区划编码", errs.FieldError{Field: "area_code", Message: "必填"})
		}
	}
	return s.manageArea(ctx, p, code, op)
}

// applyNotice writes a notice, links its measures and lifts those it
// lifts; it returns the notice's id.
func applyNotice(ctx context.Context, tx *db.Tx, r noticeRow) (int64, error) {
	id, err := insertNotice(ctx, tx, r)
	if tx.Dialect.IsUniqueViolation(err) {
		return 0, errs.Newf(errs.Conflict, "notice_exists", "文号 %s 的通告已发布", r.in.Number)
	}
	if err != nil {
		return 0, fmt.Errorf("checkpoint: publish notice: %w", err)
	}
	if err := linkNoticeMeasures(ctx, tx, id, "start", r.in.Starts); err != nil {
		return 0, err
	}
	if err := linkNoticeMeasures(ctx, tx, id, "lift", r.in.Lifts); err != nil {
		return 0, err
	}
	for _, mid := range r.in.Lifts {
		if err := liftMeasure(ctx, tx, mid, r.published, r.actor); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// noticeSummary is the audit's summary of publishing in.
func noticeSummary(in NoticeInput) string {
	summary := fmt.Sprintf("发布通告 %s「%s」", in.Number, in.Title)
	if len(in.Starts) > 0 {
		summary += fmt.Sprintf("，启动措施 %d 项", len(in.Starts))
	}
	if len(in.Lifts) > 0 {
		summary += fmt.Sprintf("，解除措施 %d 项", len(in.Lifts))
	}
	return summary
}

// Notices lists the notices published up to now, newest first. No login
// needed.
func (s *Service) Notices(ctx context.Context, limit int) ([]*Notice, error) {
	const op = "checkpoint.Notices"
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	var out []*Notice
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		out, err = queryNotices(ctx, tx, limit)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// Notice returns one published notice with its measures. No login needed.
func (s *Service) Notice(ctx context.Context, ref string) (*Notice, error) {
	const op = "checkpoint.Notice"
	id, err := strconv.ParseInt(strings.TrimSpace(ref), 10, 64)
	if err != nil || id <= 0 {
		return nil, errNoticeNotFound()
	}
	var out *Notice
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		n, err := loadNotice(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if n.PublishedAt.After(tx.Now) {
			return errNoticeNotFound()
		}
		out = n
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// lastCode is the deepest code of an area path.
func lastCode(path string) string {
	codes := area.CodesOf(path)
	if len(codes) == 0 {
		return ""
	}
	return codes[len(codes)-1]
}

// localTime shows t in Asia/Shanghai, for audit summaries.
func localTime(t time.Time) string { return t.In(clock.Shanghai).Format("2006-01-02 15:04") }
