package area

import (
	"context"
	"fmt"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
)

// ImportResult is the answer to an accepted import. Rejected is always 0:
// a file with any bad row is refused as a whole with an error listing them.
type ImportResult struct {
	Accepted int               `json:"accepted"`
	Rejected int               `json:"rejected"`
	Created  int               `json:"created"`
	Updated  int               `json:"updated"`
	Errors   []errs.FieldError `json:"errors"`
	// IgnoredColumns are the headers of the file's columns that were not
	// read (序号, 备注 after the data), as written; [] when none.
	IgnoredColumns []string `json:"ignored_columns"`
}

// Import reads a CSV or XLSX file of areas (see ImportSpec), checks every
// row and then, only if all are good, creates the new areas and renames the
// existing ones in one transaction. Rows may list children before their
// parents. Every row is checked against the caller's write scope.
func (s *Service) Import(ctx context.Context, p *auth.Principal, data []byte) (*ImportResult, error) {
	const op = "area.Import"
	if err := auth.Require(p, auth.AreaWrite, op); err != nil {
		return nil, err
	}
	tbl, err := importer.Parse(data, ImportSpec)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if len(tbl.Rows) == 0 {
		return nil, errs.Wrap(op, errs.E(errs.Invalid, "import_no_rows", "文件中没有数据行，未导入任何数据"))
	}
	rows := rowsOf(tbl)
	res := &ImportResult{Accepted: len(rows), Errors: []errs.FieldError{}, IgnoredColumns: append([]string{}, tbl.Ignored...)}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		changes, problems, err := s.applyAreas(ctx, tx, p, rows)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			var list importer.Errors
			for _, e := range problems {
				list.Add(e.Num, ImportSpec.HeaderOf(e.Key), e.Message)
			}
			return list.Err()
		}
		res.Created, res.Updated = countChanges(changes.list)
		top := CommonRoot(changes.paths)
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "area.import",
			ObjectType: "area", ObjectID: top, AreaCode: top,
			Summary: fmt.Sprintf("导入区划文件：共 %d 行，新建 %d 个，更新 %d 个", len(rows), res.Created, res.Updated)})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return res, nil
}

// applied is what applyAreas did: the changes, and the paths of all rows.
type applied struct {
	list  []planned
	paths []string
}

// applyAreas plans rows against the stored tree and, when every row is
// good, writes and audits the changes. Problems are returned, not written.
func (s *Service) applyAreas(ctx context.Context, tx *db.Tx, p *auth.Principal, rows []rowInput) (*applied, []rowError, error) {
	var codes []string
	seen := map[string]bool{}
	for _, r := range rows {
		for _, c := range []string{normCode(r.Code), normCode(r.Parent)} {
			if c != "" && len(c) <= 32 && !seen[c] {
				seen[c] = true
				codes = append(codes, c)
			}
		}
	}
	known, err := knownAreas(ctx, tx, codes)
	if err != nil {
		return nil, nil, err
	}
	pl := planner{
		Known:    known,
		CanRead:  func(path string) bool { return p.Covers(auth.AreaRead, path) },
		CanWrite: func(path string) bool { return p.Covers(auth.AreaWrite, path) },
	}
	changes, problems := pl.Plan(rows)
	if len(problems) > 0 {
		return nil, problems, nil
	}
	paths := pl.Paths()
	for _, c := range changes {
		a := c.Area
		e := audit.Entry{ActorID: p.UserID, Actor: p.Actor(), ObjectType: "area", ObjectID: a.Code, AreaCode: a.Code}
		if c.Create {
			if err := insertArea(ctx, tx, a); err != nil {
				return nil, nil, err
			}
			e.Action = "area.create"
			e.Summary = fmt.Sprintf("新建%s级区划 %s（%s）", a.Level.Label(), a.Name, a.Code)
			if a.ParentCode != "" {
				e.Summary += "，上级 " + a.ParentCode
			}
		} else {
			if err := renameArea(ctx, tx, a.Code, a.Name); err != nil {
				return nil, nil, err
			}
			e.Action = "area.update"
			e.Summary = fmt.Sprintf("区划 %s 名称由“%s”改为“%s”", a.Code, c.OldName, a.Name)
		}
		if err := audit.Record(ctx, tx, e); err != nil {
			return nil, nil, err
		}
	}
	return &applied{list: changes, paths: paths}, nil, nil
}

func rowsOf(tbl *importer.Table) []rowInput {
	rows := make([]rowInput, len(tbl.Rows))
	for i, r := range tbl.Rows {
		rows[i] = rowInput{Num: r.Num, Code: r.Get("code"), Name: r.Get("name"), Level: r.Get("level"), Parent: r.Get("parent_code")}
	}
	return rows
}

func countChanges(changes []planned) (created, updated int) {
	for _, c := range changes {
		if c.Create {
			created++
		} else {
			updated++
		}
	}
	return created, updated
}

// CommonRoot returns the code of the deepest area shared by all non-empty
// paths, "" if none (or several roots): the area an audit row about
// several objects is filed under.
func CommonRoot(paths []string) string {
	var common []string
	first := true
	for _, p := range paths {
		if p == "" {
			continue
		}
		codes := CodesOf(p)
		if first {
			common, first = codes, false
			continue
		}
		n := 0
		for n < len(common) && n < len(codes) && common[n] == codes[n] {
			n++
		}
		common = common[:n]
	}
	if len(common) == 0 {
		return ""
	}
	return common[len(common)-1]
}

// Seed creates or updates the given areas, departments and work groups so
// that the database holds them, changing nothing that already matches: a
// second run with the same data changes nothing and writes no audit rows.
// It returns the number of objects created or changed.
func (s *Service) Seed(ctx context.Context, p *auth.Principal, areas []Area, depts []Department, groups []Workgroup) (int, error) {
	const op = "area.Seed"
	if err := auth.Require(p, auth.AreaWrite, op); err != nil {
		return 0, err
	}
	rows := make([]rowInput, len(areas))
	for i, a := range areas {
		rows[i] = rowInput{Num: i + 1, Code: a.Code, Name: a.Name, Level: string(a.Level), Parent: a.ParentCode}
	}
	changed := 0
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		changes, problems, err := s.applyAreas(ctx, tx, p, rows)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			fields := make([]errs.FieldError, len(problems))
			for i, e := range problems {
				fields[i] = errs.FieldError{Row: e.Num, Field: e.Key, Message: e.Message}
			}
			return errs.Rows("seed_invalid", fmt.Sprintf("区划数据有 %d 处错误，未写入任何数据", len(fields)), fields)
		}
		changed += len(changes.list)
		for _, d := range depts {
			ok, err := s.upsertOrg(ctx, tx, p, departmentKind(), deptRow(d, true))
			if err != nil {
				return err
			}
			if ok {
				changed++
			}
		}
		for _, g := range groups {
			ok, err := s.upsertOrg(ctx, tx, p, workgroupKind(), groupRow(g, true))
			if err != nil {
				return err
			}
			if ok {
				changed++
			}
		}
		return nil
	})
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	return changed, nil
}
