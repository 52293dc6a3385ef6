package checkpoint

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
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
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO traffic_measures (kind, target, target_kind, area_code, area_path, description,
			effective_from, effective_to, status, created_at, created_by, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $10, $9, $10) RETURNING id`,
			string(in.Kind), in.Target, string(in.TargetKind), a.Code, a.Path, in.Description,
			in.EffectiveFrom.UnixMilli(), msArg(in.EffectiveTo), tx.NowMS(), p.Actor()).Scan(&id)
		if err != nil {
			return fmt.Errorf("checkpoint: create measure: %w", err)
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
		if _, err := tx.ExecContext(ctx, `UPDATE traffic_measures SET kind = $1, target = $2, target_kind = $3, area_code = $4,
			area_path = $5, description = $6, effective_from = $7, effective_to = $8, status = $9, version = version + 1,
			updated_at = $10, updated_by = $11 WHERE id = $12`,
			string(in.Kind), in.Target, string(in.TargetKind), a.Code, a.Path, in.Description, in.EffectiveFrom.UnixMilli(),
			msArg(in.EffectiveTo), string(status), tx.NowMS(), p.Actor(), m.ID); err != nil {
			return fmt.Errorf("checkpoint: update measure: %w", err)
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
		moment := tx.Now
		where, args := "1 = 1", []any{}
		if at != nil {
			moment = *at
			ms := at.UnixMilli()
			where = `m.status <> 'cancelled' AND m.effective_from <= $1 AND (m.effective_to IS NULL OR m.effective_to > $1)`
			args = append(args, ms)
		}
		var err error
		out, err = queryMeasures(ctx, tx, where, args, moment)
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
		var paths []string
		for _, l := range []struct {
			field string
			ids   []int64
		}{{"starts", in.Starts}, {"lifts", in.Lifts}} {
			for _, id := range l.ids {
				m, err := loadMeasure(ctx, tx, id, tx.Now)
				if errs.Is(err, errs.NotFound) || (err == nil && !p.Covers(auth.TrafficManage, m.AreaPath)) {
					return errs.Fields("measure_not_found", fmt.Sprintf("管制措施 %d 不存在", id),
						errs.FieldError{Field: l.field, Message: fmt.Sprintf("措施 %d 不存在", id)})
				}
				if err != nil {
					return err
				}
				if m.Status != MeasureActive {
					return errs.Newf(errs.Conflict, "measure_not_active", "管制措施 %d（%s）已%s，不能再由通告启动或解除", id, m.Target,
						map[MeasureStatus]string{MeasureLifted: "解除", MeasureCancelled: "撤销"}[m.Status])
				}
				paths = append(paths, m.AreaPath)
			}
		}
		code := in.AreaCode
		if code == "" {
			if root := area.CommonRoot(paths); root != "" {
				code = lastCode(root)
			} else if ps, _ := p.AreaPaths(auth.TrafficManage); len(ps) == 1 {
				code = lastCode(ps[0])
			} else {
				return errs.Fields("invalid_notice", "请填写通告的区划编码", errs.FieldError{Field: "area_code", Message: "必填"})
			}
		}
		a, err := s.manageArea(ctx, p, code, op)
		if err != nil {
			return err
		}
		pub := published.UnixMilli()
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO traffic_notices (number, title, body, area_code, area_path, published_at,
			created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			in.Number, in.Title, in.Body, a.Code, a.Path, pub, tx.NowMS(), p.Actor()).Scan(&id)
		if tx.Dialect.IsUniqueViolation(err) {
			return errs.Newf(errs.Conflict, "notice_exists", "文号 %s 的通告已发布", in.Number)
		}
		if err != nil {
			return fmt.Errorf("checkpoint: publish notice: %w", err)
		}
		for _, l := range []struct {
			action string
			ids    []int64
		}{{"start", in.Starts}, {"lift", in.Lifts}} {
			for _, mid := range l.ids {
				if _, err := tx.ExecContext(ctx, `INSERT INTO traffic_notice_measures (notice_id, measure_id, action) VALUES ($1, $2, $3)`,
					id, mid, l.action); err != nil {
					return fmt.Errorf("checkpoint: notice measures: %w", err)
				}
			}
		}
		for _, mid := range in.Lifts {
			// Ends at publication; a measure that was to start later
			// never takes effect (effective_to = effective_from).
			if _, err := tx.ExecContext(ctx, `UPDATE traffic_measures SET status = 'lifted',
				effective_to = CASE WHEN effective_from > $1 THEN effective_from
				                    WHEN effective_to IS NULL OR effective_to > $1 THEN $1 ELSE effective_to END,
				version = version + 1, updated_at = $2, updated_by = $3 WHERE id = $4 AND status = 'active'`,
				pub, tx.NowMS(), p.Actor(), mid); err != nil {
				return fmt.Errorf("checkpoint: lift measure: %w", err)
			}
		}
		summary := fmt.Sprintf("发布通告 %s「%s」", in.Number, in.Title)
		if len(in.Starts) > 0 {
			summary += fmt.Sprintf("，启动措施 %d 项", len(in.Starts))
		}
		if len(in.Lifts) > 0 {
			summary += fmt.Sprintf("，解除措施 %d 项", len(in.Lifts))
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "traffic.notice.publish",
			ObjectType: "traffic_notice", ObjectID: in.Number, AreaCode: a.Code, Summary: summary}); err != nil {
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
		rows, err := tx.QueryContext(ctx, `SELECT `+noticeCols+noticeFrom+` WHERE n.published_at <= $1
			ORDER BY n.published_at DESC, n.id DESC LIMIT `+strconv.Itoa(limit), tx.NowMS())
		if err != nil {
			return fmt.Errorf("checkpoint: notices: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			n, err := scanNotice(rows)
			if err != nil {
				return fmt.Errorf("checkpoint: notices: %w", err)
			}
			out = append(out, n)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return loadNoticeLinks(ctx, tx, out)
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

// ---------------------------------------------------------------------
// Store

func msArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// lastCode is the deepest code of an area path.
func lastCode(path string) string {
	codes := area.CodesOf(path)
	if len(codes) == 0 {
		return ""
	}
	return codes[len(codes)-1]
}

const measureCols = `m.id, m.kind, m.target, m.target_kind, m.area_code, COALESCE(a.name, m.area_code), m.area_path, m.description,
	m.effective_from, m.effective_to, m.status, m.version, m.created_at, m.created_by, m.updated_at`

const measureFrom = ` FROM traffic_measures m LEFT JOIN areas a ON a.code = m.area_code`

func scanMeasure(sc scanner, at time.Time) (*Measure, error) {
	var m Measure
	var from, created, updated int64
	var to sql.NullInt64
	if err := sc.Scan(&m.ID, &m.Kind, &m.Target, &m.TargetKind, &m.AreaCode, &m.AreaName, &m.AreaPath, &m.Description,
		&from, &to, &m.Status, &m.Version, &created, &m.CreatedBy, &updated); err != nil {
		return nil, err
	}
	m.KindName = MeasureKindNames[m.Kind]
	m.EffectiveFrom, m.EffectiveTo = clock.FromMillis(from), msPtr(to)
	m.CreatedAt, m.UpdatedAt = clock.FromMillis(created), clock.FromMillis(updated)
	m.InForce = m.inForce(at)
	m.Notices = []NoticeRef{}
	return &m, nil
}

// queryMeasures lists the measures matching where, newest first, with
// their notices; InForce is as of at.
func queryMeasures(ctx context.Context, tx *db.Tx, where string, args []any, at time.Time) ([]*Measure, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+measureCols+measureFrom+` WHERE `+where+
		` ORDER BY m.effective_from DESC, m.id DESC LIMIT 1000`, args...)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: measures: %w", err)
	}
	defer rows.Close()
	var out []*Measure
	for rows.Next() {
		m, err := scanMeasure(rows, at)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: measures: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, loadMeasureNotices(ctx, tx, out)
}

// loadMeasure reads measure id, InForce as of at.
func loadMeasure(ctx context.Context, tx *db.Tx, id int64, at time.Time) (*Measure, error) {
	list, err := queryMeasures(ctx, tx, "m.id = $1", []any{id}, at)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errMeasureNotFound()
	}
	return list[0], nil
}

// loadMeasureNotices fills the notices that started or lifted each measure.
func loadMeasureNotices(ctx context.Context, tx *db.Tx, list []*Measure) error {
	if len(list) == 0 {
		return nil
	}
	byID := map[int64]*Measure{}
	ids := make([]int64, len(list))
	for i, m := range list {
		byID[m.ID], ids[i] = m, m.ID
	}
	rows, err := tx.QueryContext(ctx, `SELECT l.measure_id, n.id, n.number, l.action, n.published_at
		FROM traffic_notice_measures l JOIN traffic_notices n ON n.id = l.notice_id
		WHERE l.measure_id IN (`+idList(ids)+`) ORDER BY n.published_at, n.id`)
	if err != nil {
		return fmt.Errorf("checkpoint: measure notices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var mid, pub int64
		var r NoticeRef
		if err := rows.Scan(&mid, &r.ID, &r.Number, &r.Action, &pub); err != nil {
			return fmt.Errorf("checkpoint: measure notices: %w", err)
		}
		r.PublishedAt = clock.FromMillis(pub)
		byID[mid].Notices = append(byID[mid].Notices, r)
	}
	return rows.Err()
}

const noticeCols = `n.id, n.number, n.title, n.body, n.area_code, COALESCE(a.name, n.area_code), n.area_path, n.published_at,
	n.created_at, n.created_by`

const noticeFrom = ` FROM traffic_notices n LEFT JOIN areas a ON a.code = n.area_code`

func scanNotice(sc scanner) (*Notice, error) {
	var n Notice
	var pub, created int64
	if err := sc.Scan(&n.ID, &n.Number, &n.Title, &n.Body, &n.AreaCode, &n.AreaName, &n.AreaPath, &pub, &created, &n.CreatedBy); err != nil {
		return nil, err
	}
	n.PublishedAt, n.CreatedAt = clock.FromMillis(pub), clock.FromMillis(created)
	n.Starts, n.Lifts = []int64{}, []int64{}
	return &n, nil
}

// loadNotice reads notice id with the ids of its measures, and the
// measures themselves when full is set.
func loadNotice(ctx context.Context, tx *db.Tx, id int64, full bool) (*Notice, error) {
	n, err := scanNotice(tx.QueryRowContext(ctx, `SELECT `+noticeCols+noticeFrom+` WHERE n.id = $1`, id))
	if noRows(err) {
		return nil, errNoticeNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: notice: %w", err)
	}
	if err := loadNoticeLinks(ctx, tx, []*Notice{n}); err != nil {
		return nil, err
	}
	if full {
		ids := append(slices.Clone(n.Starts), n.Lifts...)
		if len(ids) > 0 {
			ms, err := queryMeasures(ctx, tx, "m.id IN ("+idList(ids)+")", nil, tx.Now)
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				n.Measures = append(n.Measures, *m)
			}
		}
	}
	return n, nil
}

// loadNoticeLinks fills the measures each notice starts and lifts.
func loadNoticeLinks(ctx context.Context, tx *db.Tx, list []*Notice) error {
	if len(list) == 0 {
		return nil
	}
	byID := map[int64]*Notice{}
	ids := make([]int64, len(list))
	for i, n := range list {
		byID[n.ID], ids[i] = n, n.ID
	}
	rows, err := tx.QueryContext(ctx, `SELECT notice_id, measure_id, action FROM traffic_notice_measures
		WHERE notice_id IN (`+idList(ids)+`) ORDER BY notice_id, measure_id`)
	if err != nil {
		return fmt.Errorf("checkpoint: notice measures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var nid, mid int64
		var action string
		if err := rows.Scan(&nid, &mid, &action); err != nil {
			return fmt.Errorf("checkpoint: notice measures: %w", err)
		}
		if action == "start" {
			byID[nid].Starts = append(byID[nid].Starts, mid)
		} else {
			byID[nid].Lifts = append(byID[nid].Lifts, mid)
		}
	}
	return rows.Err()
}

// localTime shows t in Asia/Shanghai, for audit summaries.
func localTime(t time.Time) string { return t.In(clock.Shanghai).Format("2006-01-02 15:04") }
