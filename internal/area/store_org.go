package area

import (
	"context"
	"database/sql"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Departments and work groups share one table shape; org names the table.

type orgTable string

const (
	departmentsTable orgTable = "departments"
	workgroupsTable  orgTable = "workgroups"
)

// orgRow is a department or a work group with its area's path. Caps are
// its capabilities as stored ("pass_review,resumption_manage");
// CapsSet says an update sets them (else it keeps them).
type orgRow struct {
	Code, Name, AreaCode, Remit, AreaPath string
	Caps                                  string
	CapsSet                               bool
}

func (t orgTable) cols() string {
	remit := "''"
	if t == workgroupsTable {
		remit = "o.remit"
	}
	return `o.code, o.name, o.area_code, ` + remit + `, a.path, o.capabilities`
}

func (t orgTable) query(ctx context.Context, tx *db.Tx, where string, a *db.Args) ([]orgRow, error) {
	out, err := db.Collect(ctx, tx, scanOrg, `SELECT `+t.cols()+` FROM `+string(t)+` o JOIN areas a ON a.code = o.area_code
		WHERE `+where+` ORDER BY a.depth, a.code, o.code`, a.List...)
	if err != nil {
		return nil, errs.Wrap("area.list_"+string(t), err)
	}
	if out == nil {
		out = []orgRow{}
	}
	return out, nil
}

func scanOrg(sc db.Scanner) (orgRow, error) {
	var r orgRow
	err := sc.Scan(&r.Code, &r.Name, &r.AreaCode, &r.Remit, &r.AreaPath, &r.Caps)
	return r, err
}

// get returns the row with code, or ok false.
func (t orgTable) get(ctx context.Context, tx *db.Tx, code string) (orgRow, bool, error) {
	var a db.Args
	list, err := t.query(ctx, tx, "o.code = "+a.Add(code), &a)
	if err != nil || len(list) == 0 {
		return orgRow{}, false, err
	}
	return list[0], true, nil
}

// list returns the rows whose area is inside sc.
func (t orgTable) list(ctx context.Context, tx *db.Tx, sc scope) ([]orgRow, error) {
	var a db.Args
	return t.query(ctx, tx, sc.where("a.path", &a), &a)
}

// insert adds a row; ok is false when the code is taken.
func (t orgTable) insert(ctx context.Context, tx *db.Tx, r orgRow) (bool, error) {
	var res sql.Result
	var err error
	if t == workgroupsTable {
		res, err = tx.ExecContext(ctx, `INSERT INTO workgroups (code, name, area_code, remit, capabilities, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (code) DO NOTHING`, r.Code, r.Name, r.AreaCode, r.Remit, r.Caps, tx.NowMS())
	} else {
		res, err = tx.ExecContext(ctx, `INSERT INTO departments (code, name, area_code, capabilities, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (code) DO NOTHING`, r.Code, r.Name, r.AreaCode, r.Caps, tx.NowMS())
	}
	if err != nil {
		return false, errs.Wrap("area.insert_"+string(t), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, errs.Wrap("area.insert_"+string(t), err)
	}
	return n == 1, nil
}

func (t orgTable) update(ctx context.Context, tx *db.Tx, r orgRow) error {
	var err error
	if t == workgroupsTable {
		_, err = tx.ExecContext(ctx, `UPDATE workgroups SET name = $1, area_code = $2, remit = $3, capabilities = $4, updated_at = $5 WHERE code = $6`,
			r.Name, r.AreaCode, r.Remit, r.Caps, tx.NowMS(), r.Code)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE departments SET name = $1, area_code = $2, capabilities = $3, updated_at = $4 WHERE code = $5`,
			r.Name, r.AreaCode, r.Caps, tx.NowMS(), r.Code)
	}
	return errs.Wrap("area.update_"+string(t), err)
}

// getDepartment returns the department with code (its code, name and
// area), NotFound if there is none.
func getDepartment(ctx context.Context, tx *db.Tx, code string) (Department, error) {
	var d Department
	err := tx.QueryRowContext(ctx, `SELECT code, name, area_code FROM departments WHERE code = $1`, code).
		Scan(&d.Code, &d.Name, &d.AreaCode)
	return d, db.NotFound("area.Department", err, "department_not_found", "部门不存在")
}
