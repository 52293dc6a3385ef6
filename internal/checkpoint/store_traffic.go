package checkpoint

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
)

// linkChunk bounds the ids of one IN list (db.In) of the traffic reads.
const linkChunk = 256

const measureCols = `m.id, m.kind, m.target, m.target_kind, m.area_code, COALESCE(a.name, m.area_code), m.area_path, m.description,
	m.effective_from, m.effective_to, m.status, m.version, m.created_at, m.created_by, m.updated_at`

const measureFrom = ` FROM traffic_measures m LEFT JOIN areas a ON a.code = m.area_code`

// scanMeasureAt reads measures whose InForce is as of at.
func scanMeasureAt(at time.Time) func(db.Scanner) (*Measure, error) {
	return func(sc db.Scanner) (*Measure, error) {
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
}

// queryMeasures lists the measures matching where, newest first, with
// their notices; InForce is as of at.
func queryMeasures(ctx context.Context, tx *db.Tx, where string, args []any, at time.Time) ([]*Measure, error) {
	out, err := db.Collect(ctx, tx, scanMeasureAt(at), `SELECT `+measureCols+measureFrom+` WHERE `+where+
		` ORDER BY m.effective_from DESC, m.id DESC LIMIT 1000`, args...)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: measures: %w", err)
	}
	return out, loadMeasureNotices(ctx, tx, out)
}

// listMeasures lists measures, newest first: with at, those in force at
// that moment (InForce as of at); without, every measure (InForce as of
// the transaction's time).
func listMeasures(ctx context.Context, tx *db.Tx, at *time.Time) ([]*Measure, error) {
	if at == nil {
		return queryMeasures(ctx, tx, "1 = 1", nil, tx.Now)
	}
	return queryMeasures(ctx, tx, `m.status <> 'cancelled' AND m.effective_from <= $1 AND (m.effective_to IS NULL OR m.effective_to > $1)`,
		[]any{at.UnixMilli()}, *at)
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
	byID := make(map[int64]*Measure, len(list))
	ids := make([]int64, len(list))
	for i, m := range list {
		byID[m.ID], ids[i] = m, m.ID
	}
	return db.Chunks(len(ids), linkChunk, func(lo, hi int) error {
		var args db.Args
		q := `SELECT l.measure_id, n.id, n.number, l.action, n.published_at
			FROM traffic_notice_measures l JOIN traffic_notices n ON n.id = l.notice_id
			WHERE l.measure_id IN ` + db.In(&args, ids[lo:hi]) + ` ORDER BY n.published_at, n.id`
		err := db.Each(ctx, tx, func(sc db.Scanner) error {
			var mid, pub int64
			var r NoticeRef
			if err := sc.Scan(&mid, &r.ID, &r.Number, &r.Action, &pub); err != nil {
				return err
			}
			r.PublishedAt = clock.FromMillis(pub)
			byID[mid].Notices = append(byID[mid].Notices, r)
			return nil
		}, q, args.List...)
		if err != nil {
			return fmt.Errorf("checkpoint: measure notices: %w", err)
		}
		return nil
	})
}

// measureRow is a measure's fields as written, with the actor of the
// change.
type measureRow struct {
	in     MeasureInput
	area   areaRef
	status MeasureStatus
	actor  string
}

// insertMeasure writes a new active measure and returns its id.
func insertMeasure(ctx context.Context, tx *db.Tx, r measureRow) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO traffic_measures (kind, target, target_kind, area_code, area_path, description,
			effective_from, effective_to, status, created_at, created_by, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $10, $9, $10) RETURNING id`,
		string(r.in.Kind), r.in.Target, string(r.in.TargetKind), r.area.code, r.area.path, r.in.Description,
		r.in.EffectiveFrom.UnixMilli(), msArg(r.in.EffectiveTo), tx.NowMS(), r.actor).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("checkpoint: create measure: %w", err)
	}
	return id, nil
}

// updateMeasure replaces measure id's fields with r's.
func updateMeasure(ctx context.Context, tx *db.Tx, id int64, r measureRow) error {
	if _, err := tx.ExecContext(ctx, `UPDATE traffic_measures SET kind = $1, target = $2, target_kind = $3, area_code = $4,
			area_path = $5, description = $6, effective_from = $7, effective_to = $8, status = $9, version = version + 1,
			updated_at = $10, updated_by = $11 WHERE id = $12`,
		string(r.in.Kind), r.in.Target, string(r.in.TargetKind), r.area.code, r.area.path, r.in.Description, r.in.EffectiveFrom.UnixMilli(),
		msArg(r.in.EffectiveTo), string(r.status), tx.NowMS(), r.actor, id); err != nil {
		return fmt.Errorf("checkpoint: update measure: %w", err)
	}
	return nil
}

// liftMeasure ends active measure id at pub (Unix ms); a measure that was
// to start later never takes effect (effective_to = effective_from).
func liftMeasure(ctx context.Context, tx *db.Tx, id, pub int64, actor string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE traffic_measures SET status = 'lifted',
				effective_to = CASE WHEN effective_from > $1 THEN effective_from
				                    WHEN effective_to IS NULL OR effective_to > $1 THEN $1 ELSE effective_to END,
				version = version + 1, updated_at = $2, updated_by = $3 WHERE id = $4 AND status = 'active'`,
		pub, tx.NowMS(), actor, id); err != nil {
		return fmt.Errorf("checkpoint: lift measure: %w", err)
	}
	return nil
}

const noticeCols = `n.id, n.number, n.title, n.body, n.area_code, COALESCE(a.name, n.area_code), n.area_path, n.published_at,
	n.created_at, n.created_by`

const noticeFrom = ` FROM traffic_notices n LEFT JOIN areas a ON a.code = n.area_code`

func scanNotice(sc db.Scanner) (*Notice, error) {
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
		// At most 100 measures a notice (NoticeInput.validate).
		if ids := append(slices.Clone(n.Starts), n.Lifts...); len(ids) > 0 {
			var args db.Args
			ms, err := queryMeasures(ctx, tx, "m.id IN "+db.In(&args, ids), args.List, tx.Now)
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

// queryNotices lists the notices published up to the transaction's time,
// newest first, with their measures' ids.
func queryNotices(ctx context.Context, tx *db.Tx, limit int) ([]*Notice, error) {
	out, err := db.Collect(ctx, tx, scanNotice, `SELECT `+noticeCols+noticeFrom+` WHERE n.published_at <= $1
			ORDER BY n.published_at DESC, n.id DESC LIMIT `+strconv.Itoa(limit), tx.NowMS())
	if err != nil {
		return nil, fmt.Errorf("checkpoint: notices: %w", err)
	}
	return out, loadNoticeLinks(ctx, tx, out)
}

// loadNoticeLinks fills the measures each notice starts and lifts.
func loadNoticeLinks(ctx context.Context, tx *db.Tx, list []*Notice) error {
	byID := make(map[int64]*Notice, len(list))
	ids := make([]int64, len(list))
	for i, n := range list {
		byID[n.ID], ids[i] = n, n.ID
	}
	return db.Chunks(len(ids), linkChunk, func(lo, hi int) error {
		var args db.Args
		q := `SELECT notice_id, measure_id, action FROM traffic_notice_measures
		WHERE notice_id IN ` + db.In(&args, ids[lo:hi]) + ` ORDER BY notice_id, measure_id`
		err := db.Each(ctx, tx, func(sc db.Scanner) error {
			var nid, mid int64
			var action string
			if err := sc.Scan(&nid, &mid, &action); err != nil {
				return err
			}
			if action == "start" {
				byID[nid].Starts = append(byID[nid].Starts, mid)
			} else {
				byID[nid].Lifts = append(byID[nid].Lifts, mid)
			}
			return nil
		}, q, args.List...)
		if err != nil {
			return fmt.Errorf("checkpoint: notice measures: %w", err)
		}
		return nil
	})
}

// noticeRow is a notice as published, with its area and actor.
type noticeRow struct {
	in        NoticeInput
	area      areaRef
	published int64 // Unix ms
	actor     string
}

// insertNotice writes a notice and returns its id; a number already
// published is reported as the dialect's unique violation, unwrapped.
func insertNotice(ctx context.Context, tx *db.Tx, r noticeRow) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO traffic_notices (number, title, body, area_code, area_path, published_at,
			created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		r.in.Number, r.in.Title, r.in.Body, r.area.code, r.area.path, r.published, tx.NowMS(), r.actor).Scan(&id)
	return id, err
}

// linkNoticeMeasures records that notice id starts or lifts (action) each
// of ids.
func linkNoticeMeasures(ctx context.Context, tx *db.Tx, id int64, action string, ids []int64) error {
	for _, mid := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO traffic_notice_measures (notice_id, measure_id, action) VALUES ($1, $2, $3)`,
			id, mid, action); err != nil {
			return fmt.Errorf("checkpoint: notice measures: %w", err)
		}
	}
	return nil
}
