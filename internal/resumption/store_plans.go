package resumption

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

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

const planCols = `pp.id, pp.subject_kind, pp.subject, pp.area_code, pp.version, pp.title, pp.file_name, pp.media_type,
	pp.file_sha256, pp.file_size, pp.status, pp.review_note, pp.created_at, pp.created_by, pp.reviewed_at, pp.reviewed_by`

func scanPlan(sc db.Scanner, extra ...any) (Plan, error) {
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

// nextPlanVersion is the number of a subject's next plan version.
func nextPlanVersion(ctx context.Context, tx *db.Tx, kind, subject string) (int, error) {
	var v int
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM prevention_plans
				WHERE subject_kind = $1 AND subject = $2`, kind, subject).Scan(&v)
	return v, err
}

// insertPlan inserts the submitted version x, created now, and returns
// its id.
func insertPlan(ctx context.Context, tx *db.Tx, x Plan) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO prevention_plans (subject_kind, subject, area_code, version, title,
				file_name, media_type, file_sha256, file_size, status, review_note, created_at, created_by, reviewed_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'submitted', '', $10, $11, '') RETURNING id`,
		x.SubjectKind, x.Subject, x.AreaCode, x.Version, x.Title, x.FileName, x.MediaType, x.FileSHA256, x.FileSize,
		tx.NowMS(), x.CreatedBy).Scan(&id)
	return id, err
}

// parkFirstArea is the area code of the first version of a park's plan,
// "" when the park has none.
func parkFirstArea(ctx context.Context, tx *db.Tx, park string) (string, error) {
	var first string
	err := tx.QueryRowContext(ctx, `SELECT area_code FROM prevention_plans WHERE subject_kind = 'park' AND subject = $1
		ORDER BY version LIMIT 1`, park).Scan(&first)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return first, err
}

// reviewPlan records the review of a submitted version and returns the
// number of versions changed: 0 when it was no longer submitted.
func reviewPlan(ctx context.Context, tx *db.Tx, id int64, status, note, reviewer string) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE prevention_plans SET status = $1, review_note = $2, reviewed_at = $3, reviewed_by = $4
			WHERE id = $5 AND status = 'submitted'`, status, note, tx.NowMS(), reviewer, id)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// planRow is a plan version with the path of its area.
type planRow struct {
	Plan
	path string
}

// subjectPlans reads the versions of a subject's plan, newest first.
func subjectPlans(ctx context.Context, tx *db.Tx, kind, subject string) ([]planRow, error) {
	return db.Collect(ctx, tx, func(sc db.Scanner) (planRow, error) {
		var r planRow
		var err error
		r.Plan, err = scanPlan(sc, &r.path)
		return r, err
	}, `SELECT `+planCols+`, a.path FROM prevention_plans pp JOIN areas a ON a.code = pp.area_code
			WHERE pp.subject_kind = $1 AND pp.subject = $2 ORDER BY pp.version DESC`, kind, subject)
}

// enterprisesWithoutApprovedPlan reads the enterprises within v whose
// latest plan version is not approved, or that have no plan, by area path,
// name and key, with their categories (not sorted) and without liaisons or
// phone.
func enterprisesWithoutApprovedPlan(ctx context.Context, tx *db.Tx, v visibility) ([]Enterprise, error) {
	args := &db.Args{}
	out, err := db.Collect(ctx, tx, func(sc db.Scanner) (Enterprise, error) {
		var e Enterprise
		var kind string
		var created, updated int64
		if err := sc.Scan(&e.ID, &e.Key, &kind, &e.Name, &e.AreaCode, &e.AreaName, &e.AreaPath, &e.Park, &e.IsKey,
			&e.Employees, &e.ContactName, &e.ClosedLoop, &created, &updated); err != nil {
			return e, err
		}
		e.Kind = Kind(kind)
		e.CreatedAt, e.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		e.Categories, e.Liaisons = []Category{}, []string{}
		return e, nil
	}, `SELECT e.id, e.ekey, e.kind, e.name, e.area_code, a.name, a.path, e.park, e.is_key,
			e.employees, e.contact_name, e.closed_loop, e.created_at, e.updated_at
			FROM enterprises e JOIN areas a ON a.code = e.area_code
			WHERE `+v.where(args)+` AND NOT EXISTS (
				SELECT 1 FROM prevention_plans pp WHERE pp.subject_kind = 'enterprise' AND pp.subject = e.ekey
				AND pp.status = 'approved' AND pp.version = (SELECT MAX(q.version) FROM prevention_plans q
					WHERE q.subject_kind = 'enterprise' AND q.subject = e.ekey))
			ORDER BY a.path, e.name, e.ekey`, args.List...)
	if err != nil || len(out) == 0 {
		return out, err
	}
	byID := make(map[int64]int, len(out))
	for i, e := range out {
		byID[e.ID] = i
	}
	args = &db.Args{}
	return out, db.Each(ctx, tx, func(sc db.Scanner) error {
		var id int64
		var c string
		if err := sc.Scan(&id, &c); err != nil {
			return err
		}
		if i, ok := byID[id]; ok {
			out[i].Categories = append(out[i].Categories, Category(c))
		}
		return nil
	}, `SELECT ec.enterprise_id, ec.category FROM enterprise_categories ec
			JOIN enterprises e ON e.id = ec.enterprise_id JOIN areas a ON a.code = e.area_code
			WHERE `+v.where(args)+` ORDER BY ec.enterprise_id`, args.List...)
}
