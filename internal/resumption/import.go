package resumption

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
)

// ImportResult is the answer to an import. Without partial, a file with
// any bad row is refused as a whole (errs.Rows, code import_rejected), so
// Rejected is 0; with partial, the good rows are written and the bad ones
// counted and listed.
type ImportResult struct {
	Accepted   int               `json:"accepted"`
	Rejected   int               `json:"rejected"`
	Created    int               `json:"created"`
	Updated    int               `json:"updated"`
	Errors     []errs.FieldError `json:"errors"`      // the first importer.MaxErrors, by row
	ErrorCount int               `json:"error_count"` // all of them
	// IgnoredColumns are the headers of the file's columns that were not
	// read (序号, 备注 after the data), as written; [] when none.
	IgnoredColumns []string `json:"ignored_columns"`
}

// EnterpriseSpec is the file format of enterprise imports.
var EnterpriseSpec = importer.Spec{
	Kind: "enterprises",
	Columns: []importer.Column{
		{Key: "credit_code", Header: "统一社会信用代码", Aliases: []string{"信用代码", "社会信用代码"}, Example: "914302001838260003"},
		{Key: "project_code", Header: "项目编码", Aliases: []string{"项目代码"}},
		{Key: "kind", Header: "类型", Aliases: []string{"type"}, Example: "企业"},
		{Key: "name", Header: "名称", Aliases: []string{"企业名称", "项目名称", "单位名称"}, Required: true, Example: "株洲千金药业股份有限公司"},
		{Key: "area_code", Header: "区域编码", Aliases: []string{"区划编码", "区域代码", "行政区划代码", "area"}, Required: true, Example: "430211001"},
		{Key: "park", Header: "园区", Aliases: []string{"所在园区"}, Example: "株洲高新区"},
		{Key: "categories", Header: "类别", Aliases: []string{"统计类别", "category"}, Example: "规上工业"},
		{Key: "key", Header: "重点", Aliases: []string{"重点企业", "是否重点", "is_key"}, Example: "是"},
		{Key: "employees", Header: "职工人数", Aliases: []string{"员工人数", "职工数"}, Example: "2100"},
		{Key: "contact_name", Header: "联系人", Example: "张三"},
		{Key: "contact_phone", Header: "联系电话", Aliases: []string{"联系人电话", "手机号", "手机"}, Example: "13907330003"},
		{Key: "closed_loop", Header: "闭环生产", Aliases: []string{"是否闭环生产"}, Example: "否"},
	},
}

// ReportSpec is the file format of daily report imports.
var ReportSpec = importer.Spec{
	Kind: "resumption-reports",
	Columns: []importer.Column{
		{Key: "key", Header: "统一社会信用代码/项目编码", Required: true, Example: "914302001838260003",
			Aliases: []string{"credit_code", "project_code", "企业编码", "统一社会信用代码", "项目编码", "信用代码"}},
		{Key: "date", Header: "日期", Aliases: []string{"填报日期", "报告日期"}, Required: true, Example: "2022-11-20"},
		{Key: "status", Header: "状态", Aliases: []string{"复工状态"}, Required: true, Example: "已复工"},
		{Key: "capacity_pct", Header: "产能", Aliases: []string{"产能(%)", "产能百分比"}, Required: true, Example: "80"},
		{Key: "staff_expected", Header: "应到岗人数", Aliases: []string{"应到岗"}, Required: true, Example: "120"},
		{Key: "staff_on_site", Header: "实际到岗人数", Aliases: []string{"实际到岗", "到岗人数", "实到岗人数"}, Required: true, Example: "95"},
		{Key: "closed_loop", Header: "闭环生产", Aliases: []string{"是否闭环生产"}, Example: "是"},
		{Key: "note", Header: "备注", Example: ""},
	},
}

func errNoRows() error {
	return errs.E(errs.Invalid, "import_no_rows", "文件中没有数据行，未导入任何数据")
}

// parseCount reads a non-negative integer cell: "1,200", "80%" (when
// percent) and "120.0" are accepted.
func parseCount(s string, percent bool) (int, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if percent {
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(s, "%"), "％"))
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int64(f)) && f > -1e9 && f < 1e9 {
		return int(f), true
	}
	return 0, false
}

// parseFlag reads 是/否, true/false, 1/0, Y/N (case-insensitive); an empty
// cell is false.
func parseFlag(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "是", "true", "1", "y", "yes", "√":
		return true, true
	case "", "否", "false", "0", "n", "no", "×":
		return false, true
	}
	return false, false
}

// ignoredOf lists the columns an import did not read, never nil.
func ignoredOf(tbl *importer.Table) []string {
	return append([]string{}, tbl.Ignored...)
}

// normalizeDate rewrites 2022/11/20, 2022.11.20, 2022-1-5 and 2022年11月20日
// as YYYY-MM-DD, dropping a time of day a date cell carries (and reading an
// Excel day number, see importer.DatePart); anything else is returned as is for Validate to refuse.
func normalizeDate(s string) string {
	s = importer.DatePart(s)
	t := strings.NewReplacer("年", "-", "月", "-", "日", "", "/", "-", ".", "-").Replace(s)
	parts := strings.Split(t, "-")
	if len(parts) != 3 {
		return s
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return s
		}
		n[i] = v
	}
	if n[0] < 1000 || n[0] > 9999 {
		return s
	}
	return fmt.Sprintf("%04d-%02d-%02d", n[0], n[1], n[2])
}

func splitCategories(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '；' || r == ',' || r == '，' || r == '、' })
}

// rowProblems collects the problems of one row by column key, so that a
// column already refused is not refused twice.
type rowProblems struct {
	num   int
	spec  importer.Spec
	items []errs.FieldError
	cols  map[string]bool
}

func newRowProblems(num int, spec importer.Spec) *rowProblems {
	return &rowProblems{num: num, spec: spec, cols: map[string]bool{}}
}

func (r *rowProblems) add(col, msg string) {
	if r.cols[col] {
		return
	}
	r.cols[col] = true
	r.items = append(r.items, errs.FieldError{Row: r.num, Column: r.spec.HeaderOf(col), Message: msg})
}

// ok reports whether the row has no problem.
func (r *rowProblems) ok() bool { return len(r.items) == 0 }

// addTo copies the problems into list.
func (r *rowProblems) addTo(list *importer.Errors) {
	for _, f := range r.items {
		list.Add(f.Row, f.Column, f.Message)
	}
}

// importResult fills the counts and errors of a result from the rows'
// problems.
func importResult(res *ImportResult, list *importer.Errors) {
	res.Errors = list.List()
	if res.Errors == nil {
		res.Errors = []errs.FieldError{}
	}
	res.ErrorCount = list.Len()
	res.Rejected = list.Rows()
}

// enterpriseRow is a checked row of an enterprise import.
type enterpriseRow struct {
	pr       *rowProblems
	keyCol   string
	rec      enterpriseRecord
	phoneEnc []byte
}

// ImportEnterprises reads a CSV or XLSX file of enterprises and projects
// (EnterpriseSpec), checks every row and creates or updates them by key in
// one transaction. Without partial any bad row refuses the whole file.
func (s *Service) ImportEnterprises(ctx context.Context, p *auth.Principal, data []byte, partial bool) (*ImportResult, error) {
	const op = "resumption.ImportEnterprises"
	if err := auth.Require(p, auth.ResumptionManage, op); err != nil {
		return nil, err
	}
	tbl, err := importer.Parse(data, EnterpriseSpec)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if !tbl.Has("credit_code") && !tbl.Has("project_code") {
		return nil, errs.Wrap(op, errs.Rows("import_missing_column", "表头有误：缺少“统一社会信用代码”或“项目编码”列。请使用导入模板中的表头",
			[]errs.FieldError{{Row: 1, Column: "统一社会信用代码", Message: "缺少必填列“统一社会信用代码”（项目填“项目编码”）"}}))
	}
	if len(tbl.Rows) == 0 {
		return nil, errs.Wrap(op, errNoRows())
	}
	ck := &enterpriseChecker{s: s, p: p, areas: map[string][2]string{}, firstRow: map[string]int{}}
	rows := make([]enterpriseRow, 0, len(tbl.Rows))
	for _, row := range tbl.Rows {
		r, err := ck.row(ctx, row)
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		rows = append(rows, r)
	}
	res := &ImportResult{}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		*res = ImportResult{IgnoredColumns: ignoredOf(tbl)}
		return s.saveEnterpriseRows(ctx, tx, p, rows, partial, res, len(tbl.Rows))
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return res, nil
}

// enterpriseChecker checks the rows of an enterprise import one by one:
// the cells, the rules of a single save, the area (once per code) and
// keys repeated in the file.
type enterpriseChecker struct {
	s        *Service
	p        *auth.Principal
	areas    map[string][2]string // code -> path, problem
	firstRow map[string]int       // key -> the row it first appeared in
}

// row checks one row; the error is a failure to check, not a problem of
// the row.
func (ck *enterpriseChecker) row(ctx context.Context, row importer.Row) (enterpriseRow, error) {
	pr := newRowProblems(row.Num, EnterpriseSpec)
	in, keyCol := enterpriseInputOf(row, pr)
	rec, fe := validateEnterprise(in)
	for _, f := range fe {
		col := f.Field
		if col == "key" {
			col = keyCol
		}
		pr.add(col, f.Message)
	}
	if rec.AreaCode != "" && !pr.cols["area_code"] {
		if err := ck.area(ctx, &rec, pr); err != nil {
			return enterpriseRow{}, err
		}
	}
	ck.duplicate(&rec, pr, keyCol, row.Num)
	var enc []byte
	if pr.ok() {
		var err error
		if enc, err = ck.s.box.Seal(rec.Phone); err != nil {
			return enterpriseRow{}, err
		}
	}
	return enterpriseRow{pr: pr, keyCol: keyCol, rec: rec, phoneEnc: enc}, nil
}

// area resolves and checks the row's area, each code once per file.
func (ck *enterpriseChecker) area(ctx context.Context, rec *enterpriseRecord, pr *rowProblems) error {
	a, seen := ck.areas[rec.AreaCode]
	if !seen {
		path, msg, err := ck.s.checkArea(ctx, ck.p, rec.AreaCode)
		if err != nil {
			return err
		}
		a = [2]string{path, msg}
		ck.areas[rec.AreaCode] = a
	}
	if a[1] != "" {
		pr.add("area_code", a[1])
	}
	rec.AreaPath = a[0]
	return nil
}

// duplicate refuses a key that an earlier row of the file has.
func (ck *enterpriseChecker) duplicate(rec *enterpriseRecord, pr *rowProblems, keyCol string, num int) {
	if rec.Key == "" {
		return
	}
	if first, dup := ck.firstRow[rec.Key]; dup {
		pr.add(keyCol, fmt.Sprintf("%s 与第 %d 行重复", rec.Key, first))
		rec.Key = ""
		return
	}
	ck.firstRow[rec.Key] = num
}

// enterpriseInputOf reads the cells of an enterprise row into an input,
// recording the cells it cannot read; keyCol is the column of its key.
func enterpriseInputOf(row importer.Row, pr *rowProblems) (in EnterpriseInput, keyCol string) {
	in = EnterpriseInput{
		Name: row.Get("name"), AreaCode: row.Get("area_code"), Park: row.Get("park"),
		Categories: splitCategories(row.Get("categories")), ContactName: row.Get("contact_name"), ContactPhone: row.Get("contact_phone"),
	}
	credit, project := row.Get("credit_code"), row.Get("project_code")
	in.Kind = importKind(row.Get("kind"), credit, project)
	keyCol, in.Key = "credit_code", credit
	if in.Kind == KindProject {
		keyCol, in.Key = "project_code", project
	}
	var ok bool
	if in.IsKey, ok = parseFlag(row.Get("key")); !ok {
		pr.add("key", fmt.Sprintf("重点须填“是”或“否”，而不是%s", importer.Quote(row.Get("key"))))
	}
	if in.ClosedLoop, ok = parseFlag(row.Get("closed_loop")); !ok {
		pr.add("closed_loop", fmt.Sprintf("闭环生产须填“是”或“否”，而不是%s", importer.Quote(row.Get("closed_loop"))))
	}
	if v := row.Get("employees"); v != "" {
		if in.Employees, ok = parseCount(v, false); !ok {
			pr.add("employees", fmt.Sprintf("职工人数须为整数，而不是%s", importer.Quote(v)))
		}
	}
	return in, keyCol
}

// importKind reads the kind cell: empty means a project when only the
// project code is filled, an enterprise otherwise; anything unknown is
// left for validateEnterprise to refuse.
func importKind(cell, credit, project string) Kind {
	switch k := strings.ToLower(cell); k {
	case "":
		if credit == "" && project != "" {
			return KindProject
		}
		return KindEnterprise
	case "企业", "enterprise":
		return KindEnterprise
	case "项目", "project":
		return KindProject
	default:
		return Kind(k)
	}
}

// saveEnterpriseRows checks the checked rows against the stored
// enterprises, refuses the file (without partial) if any row is bad, and
// saves the good rows, with one audit row for the file of n rows.
func (s *Service) saveEnterpriseRows(ctx context.Context, tx *db.Tx, p *auth.Principal, rows []enterpriseRow, partial bool, res *ImportResult, n int) error {
	var keys []string
	for _, r := range rows {
		if r.rec.Key != "" {
			keys = append(keys, r.rec.Key)
		}
	}
	stored, err := storedByKeys(ctx, tx, keys)
	if err != nil {
		return err
	}
	var list importer.Errors
	for _, r := range rows {
		if r.rec.Key != "" {
			if msg := updateProblem(p, r.rec, stored[r.rec.Key]); msg != "" {
				r.pr.add(r.keyCol, msg)
			}
		}
		r.pr.addTo(&list)
	}
	if !partial && list.Len() > 0 {
		return list.Err()
	}
	var paths []string
	for _, r := range rows {
		if !r.pr.ok() {
			continue
		}
		created, err := s.writeEnterprise(ctx, tx, p, r.rec, r.phoneEnc, stored[r.rec.Key])
		if err != nil {
			return err
		}
		if created {
			res.Created++
		} else {
			res.Updated++
		}
		res.Accepted++
		paths = append(paths, r.rec.AreaPath)
	}
	importResult(res, &list)
	return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "enterprise.import",
		ObjectType: "enterprise", AreaCode: area.CommonRoot(paths),
		Summary: fmt.Sprintf("导入企业文件：共 %d 行，新建 %d 家，更新 %d 家，拒绝 %d 行", n, res.Created, res.Updated, res.Rejected)})
}

// reportRow is a parsed row of a report import.
type reportRow struct {
	pr  *rowProblems
	key string
	in  ReportInput
}

// ImportReports reads a CSV or XLSX file of daily reports (ReportSpec)
// and files each row as a new report version, in one transaction. A row
// whose enterprise does not exist or is outside the caller's reach is
// refused. Without partial any bad row refuses the whole file.
func (s *Service) ImportReports(ctx context.Context, p *auth.Principal, data []byte, partial bool) (*ImportResult, error) {
	const op = "resumption.ImportReports"
	v, err := reach(p, auth.ResumptionReport, op)
	if err != nil {
		return nil, err
	}
	tbl, err := importer.Parse(data, ReportSpec)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if len(tbl.Rows) == 0 {
		return nil, errs.Wrap(op, errNoRows())
	}
	res := &ImportResult{}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		*res = ImportResult{IgnoredColumns: ignoredOf(tbl)}
		rows := make([]reportRow, 0, len(tbl.Rows))
		var keys []string
		seenKey := map[string]bool{}
		for _, row := range tbl.Rows {
			r := parseReportRow(row)
			if r.key != "" && !seenKey[r.key] {
				seenKey[r.key] = true
				keys = append(keys, r.key)
			}
			rows = append(rows, r)
		}
		targets, err := reportTargets(ctx, tx, v, keys)
		if err != nil {
			return err
		}
		good, list := checkReportRows(rows, targets, tx.Now.In(clock.Shanghai).Format(DateLayout))
		if !partial && list.Len() > 0 {
			return list.Err()
		}
		ids := make([]int64, len(good))
		for i, r := range good {
			ids[i] = targets[r.key].ID
		}
		c, err := beginDayChange(ctx, tx, ids)
		if err != nil {
			return err
		}
		var paths []string
		for _, r := range good {
			t := targets[r.key]
			if _, _, err := s.fileReport(ctx, tx, p, t.ID, r.key, t.AreaCode, r.in); err != nil {
				return err
			}
			paths = append(paths, t.AreaPath)
		}
		if err := c.commit(ctx, tx); err != nil {
			return err
		}
		res.Accepted, res.Created = len(good), len(good)
		importResult(res, &list)
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "report.import",
			ObjectType: "enterprise", AreaCode: area.CommonRoot(paths),
			Summary: fmt.Sprintf("导入复工日报文件：共 %d 行，填报 %d 份，拒绝 %d 行", len(tbl.Rows), res.Accepted, res.Rejected)})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return res, nil
}

// checkReportRows checks the parsed rows of a report import against the
// enterprises found (targets), the rules of a filing as of today and the
// dates repeated in the file; it returns the good rows and the problems.
func checkReportRows(rows []reportRow, targets map[string]reportTargetRef, today string) ([]reportRow, importer.Errors) {
	first := map[[2]string]int{}
	var good []reportRow
	var list importer.Errors
	for _, r := range rows {
		if _, ok := targets[r.key]; r.key != "" && !ok {
			r.pr.add("key", "企业不存在或无权填报")
		}
		for _, f := range r.in.Validate(today) {
			r.pr.add(f.Field, f.Message)
		}
		if r.key != "" && !r.pr.cols["date"] {
			k := [2]string{r.key, r.in.Date}
			if n, dup := first[k]; dup {
				r.pr.add("date", fmt.Sprintf("%s 的 %s 日报与第 %d 行重复", r.key, r.in.Date, n))
			} else {
				first[k] = r.pr.num
			}
		}
		r.pr.addTo(&list)
		if r.pr.ok() {
			good = append(good, r)
		}
	}
	return good, list
}

// parseReportRow reads the cells of a report row, recording the cells it
// cannot read; Validate checks the rest.
func parseReportRow(row importer.Row) reportRow {
	pr := newRowProblems(row.Num, ReportSpec)
	r := reportRow{pr: pr, key: lookupKey(row.Get("key"))}
	if r.key == "" {
		pr.add("key", "请填写统一社会信用代码或项目编码")
	}
	r.in.Date = normalizeDate(row.Get("date"))
	if v := row.Get("status"); v != "" {
		st, ok := parseStatusText(v)
		if !ok {
			pr.add("status", fmt.Sprintf("状态须为 已复工、部分复工 或 停工，而不是%s", importer.Quote(v)))
		}
		r.in.Status = st
	}
	for _, c := range []struct {
		col     string
		dst     **int
		percent bool
		name    string
	}{
		{"capacity_pct", &r.in.CapacityPct, true, "产能"},
		{"staff_expected", &r.in.StaffExpected, false, "应到岗人数"},
		{"staff_on_site", &r.in.StaffOnSite, false, "实际到岗人数"},
	} {
		v := row.Get(c.col)
		if v == "" {
			continue
		}
		n, ok := parseCount(v, c.percent)
		if !ok {
			pr.add(c.col, fmt.Sprintf("%s须为整数，而不是%s", c.name, importer.Quote(v)))
			continue
		}
		*c.dst = &n
	}
	var ok bool
	if r.in.ClosedLoop, ok = parseFlag(row.Get("closed_loop")); !ok {
		pr.add("closed_loop", fmt.Sprintf("闭环生产须填“是”或“否”，而不是%s", importer.Quote(row.Get("closed_loop"))))
	}
	r.in.Note = row.Get("note")
	return r
}
