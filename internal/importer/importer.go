// Package importer reads the CSV and XLSX files that users upload to import
// data, and writes the templates and XLSX exports they download.
//
// A Spec lists the columns of one import kind. Each column is recognised by
// its English Key, its Chinese Header or any alias, so a file may use Chinese
// headers, English headers or a mix; headers are compared after trimming,
// folding full-width characters, ignoring case and dropping the "*" or
// "（必填）" markers people add by hand. The format is sniffed from the bytes,
// not the file name: XLSX is a ZIP, anything else is CSV, decoded as UTF-8
// (with or without BOM), UTF-16 with BOM, or GB18030, which is what Excel in
// China saves. Parse only maps cells to keys and reports file-level problems;
// the caller validates values row by row, collecting problems in Errors so the
// whole file is rejected with one report naming row, column and reason. Row
// numbers are those a spreadsheet user sees: blank rows are skipped but still
// counted.
//
// Files come as offices make them (layout.go): the header is the row among
// the first ten that names the most known columns, so titles, a
// "填报单位/填报日期" line and blank rows above it are skipped; of a
// workbook, the sheet whose header names the most columns is read; header
// cells may carry units ("职工人数（人）") or line breaks; a 序号 column and
// unknown columns after the last known one are ignored and listed in
// Table.Ignored; full-width digits and letters in values become ASCII.
package importer

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"tongxin/internal/errs"
)

// DefaultMaxRows is the limit on data rows when Spec.MaxRows is 0.
const DefaultMaxRows = 100000

// Column describes one column of an import kind.
type Column struct {
	Key      string   // the English code name, e.g. "code"; also accepted as a header
	Header   string   // the Chinese header shown in templates, e.g. "编码"
	Aliases  []string // other accepted headers (case-insensitive, trimmed), e.g. "区划代码"
	Required bool     // header must be present (values may still be validated by the caller)
	Example  string   // an example value for the template's second row
}

// title is the header text shown to users for the column.
func (c Column) title() string {
	if c.Header != "" {
		return c.Header
	}
	return c.Key
}

// Spec describes the columns of one import kind.
type Spec struct {
	Kind    string // e.g. "areas"; used in template file names
	Columns []Column
	MaxRows int // 0 means 100000
}

// HeaderOf returns the Chinese header of the column with the given key, for
// error reports; the key itself when the column has no Header or is unknown.
func (s Spec) HeaderOf(key string) string {
	for _, c := range s.Columns {
		if c.Key == key {
			return c.title()
		}
	}
	return key
}

func (s Spec) maxRows() int {
	if s.MaxRows > 0 {
		return s.MaxRows
	}
	return DefaultMaxRows
}

// Row is one data row. Num is the 1-based line/row number in the file as a
// spreadsheet user sees it (the header is row 1, so the first data row is 2).
type Row struct {
	Num    int
	values map[string]string
}

// Get returns the trimmed cell value of the column with the given Key, "" if
// the column is absent or the cell empty.
func (r Row) Get(key string) string { return r.values[key] }

// Table is the parsed content of an import file.
type Table struct {
	Columns []string // keys present, in file order
	Rows    []Row
	// Ignored are the headers of the columns that were not read: a
	// running number (序号) and unknown columns after the last known one
	// (备注), as written in the file.
	Ignored []string
}

// Has reports whether the file had a column with the given key.
func (t *Table) Has(key string) bool {
	for _, k := range t.Columns {
		if k == key {
			return true
		}
	}
	return false
}

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1} // .xls, or an encrypted .xlsx
)

// Parse reads data as CSV or XLSX, chosen by sniffing (XLSX is a ZIP), not by
// name, and maps the header cells to the Columns of spec. See the package
// documentation for the accepted encodings and header forms.
//
// Errors are *errs.Error of Kind Invalid with a Chinese message: code
// "import_empty" (no header), "import_unreadable", "import_unknown_column",
// "import_duplicate_column", "import_missing_column" (header problems are all
// listed in Fields with Row set to the header row; the code names the first
// kind in that order), "import_too_many_rows", and "import_extra_cells" when
// a row has values under no header (in a CSV usually an unquoted separator
// that shifted the row).
func Parse(data []byte, spec Spec) (*Table, error) {
	const op = "importer.Parse"
	m, err := newMatcher(spec)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errs.Wrap(op, errEmpty())
	}
	b := &builder{spec: spec, m: m, max: spec.maxRows()}
	switch {
	case bytes.HasPrefix(data, zipMagic) && isODS(data):
		err = errs.E(errs.Invalid, "import_unreadable",
			"无法读取该文件：不支持 OpenDocument 表格（.ods，WPS 或 LibreOffice 的默认格式），请另存为 .xlsx 或 CSV 后再导入")
	case bytes.HasPrefix(data, zipMagic) || bytes.HasPrefix(data, []byte("PK\x05\x06")):
		err = readXLSX(data, spec, m.score, b.add)
	case bytes.HasPrefix(data, oleMagic):
		err = errs.E(errs.Invalid, "import_unreadable",
			"无法读取该文件：不支持旧版 Excel（.xls）或加密的文件，请另存为 .xlsx 或 CSV 后再导入")
	default:
		err = readCSV(data, b.add)
	}
	if err == nil {
		err = b.finish()
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &b.table, nil
}

func errEmpty() *errs.Error {
	return errs.E(errs.Invalid, "import_empty", "文件为空或没有表头行，请使用导入模板填写后再上传")
}

// matcher maps normalised header names to column indexes of a Spec.
type matcher map[string]int

func newMatcher(spec Spec) (matcher, error) {
	m := matcher{}
	for i, c := range spec.Columns {
		if c.Key == "" {
			return nil, fmt.Errorf("importer: column %d of spec %q has no key", i, spec.Kind)
		}
		names := append([]string{c.Key, c.Header}, c.Aliases...)
		for _, n := range names {
			k := normHeader(n)
			if k == "" {
				continue
			}
			for _, k := range []string{k, strings.ReplaceAll(k, " ", "")} {
				if j, ok := m[k]; ok && j != i {
					return nil, fmt.Errorf("importer: header %q matches columns %q and %q of spec %q",
						n, spec.Columns[j].Key, c.Key, spec.Kind)
				}
				m[k] = i
			}
		}
	}
	return m, nil
}

// normHeader folds a header cell for matching: full-width characters become
// half-width, full-width spaces are dropped, runs of white space become one
// space, the required markers "*" and "(必填)" are removed at either end and
// letters are lower-cased.
func normHeader(s string) string {
	s = strings.ReplaceAll(s, "\u3000", "")
	s = strings.ReplaceAll(s, "\ufeff", "")
	s = width.Fold.String(s)
	s = strings.Join(strings.Fields(s), " ")
	for {
		t := s
		for _, mark := range []string{"*", "(必填)"} {
			s = strings.TrimSpace(strings.TrimSuffix(s, mark))
			s = strings.TrimSpace(strings.TrimPrefix(s, mark))
		}
		if s == t {
			break
		}
	}
	return strings.ToLower(s)
}

// colName returns the spreadsheet name of the 0-based column i: A, B, … AA.
func colName(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// echoRunes is the most of a cell that a message repeats.
const echoRunes = 30

// Short returns the start of a cell for a message: at most 30 characters
// and "…", control characters as spaces. Messages never repeat more of a
// cell than this.
func Short(s string) string {
	s = strings.TrimSpace(s)
	cut := false
	n := 0
	for i := range s {
		if n == echoRunes {
			s, cut = s[:i], true
			break
		}
		n++
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if cut {
		s += "…"
	}
	return s
}

// Quote is Short in Chinese quotation marks: “…”.
func Quote(s string) string { return "“" + Short(s) + "”" }

func quote(s string) string { return Quote(s) }

// maxExtraErrors bounds the rows reported as having cells under no header.
const maxExtraErrors = 100

// builder turns a stream of (row number, cells) into a Table.
type builder struct {
	spec      Spec
	m         matcher
	max       int
	hasHeader bool
	keyOf     []string // cell index -> key, "" for a cell under no header
	ignored   map[int]bool
	pending   []pendingRow // rows read before the header was found
	table     Table
	extras    []errs.FieldError
	long      Errors // cells over MaxCellRunes
}

// lastCell returns the index of the last non-blank cell, -1 if none.
func lastCell(cells []string) int {
	for i := len(cells) - 1; i >= 0; i-- {
		if strings.TrimSpace(cells[i]) != "" {
			return i
		}
	}
	return -1
}

func (b *builder) add(num int, cells []string) error {
	last := lastCell(cells)
	if last < 0 {
		return nil
	}
	if last >= MaxColumns {
		return errs.Newf(errs.Invalid, "import_too_many_columns",
			"文件第 %d 行有 %d 列以上的内容（直到第 %s 列），最多允许 %d 列；请只保留导入模板中的列后再导入",
			num, MaxColumns, colName(last), MaxColumns)
	}
	cells = cells[:last+1]
	for i, c := range cells {
		if n := utf8.RuneCountInString(c); n > MaxCellRunes {
			if n = utf8.RuneCountInString(strings.TrimSpace(c)); n > MaxCellRunes {
				b.long.Add(num, b.title(i), fmt.Sprintf("第 %s 列内容有 %d 个字，超过 %d 个字的上限：%s",
					colName(i), n, MaxCellRunes, quote(c)))
				cells[i] = ""
			}
		}
	}
	if !b.hasHeader {
		switch {
		case num <= headerScan:
			b.pending = append(b.pending, pendingRow{num: num, cells: append([]string(nil), cells...)})
			if !b.complete(cells) {
				return nil // perhaps a title; the header may come later
			}
			return b.chooseHeader()
		case len(b.pending) > 0:
			if err := b.chooseHeader(); err != nil {
				return err
			}
		default:
			b.hasHeader = true
			return b.header(num, cells)
		}
	}
	return b.data(num, cells)
}

// data reads one data row.
func (b *builder) data(num int, cells []string) error {
	if len(b.table.Rows) >= b.max {
		return errs.Newf(errs.Invalid, "import_too_many_rows",
			"文件数据超过 %d 行，请拆分为多个文件分别导入", b.max)
	}
	row := Row{Num: num, values: make(map[string]string, len(b.table.Columns))}
	for i, c := range cells {
		v := strings.TrimSpace(foldValue(c))
		if v == "" || b.ignored[i] {
			continue
		}
		if i < len(b.keyOf) && b.keyOf[i] != "" {
			row.values[b.keyOf[i]] = v
			continue
		}
		if len(b.extras) == 0 || b.extras[len(b.extras)-1].Row != num {
			b.extras = append(b.extras, errs.FieldError{Row: num, Column: colName(i),
				Message: fmt.Sprintf("第 %s 列没有表头，但本行在该列有内容 %s；若为 CSV 文件，请检查内容中的逗号是否加了引号",
					colName(i), quote(v))})
			if len(b.extras) >= maxExtraErrors {
				return b.extraErr()
			}
		}
	}
	b.table.Rows = append(b.table.Rows, row)
	return nil
}

// title names the cell index i for a message: its column's Chinese
// header, or its letter when it is under no header (yet).
func (b *builder) title(i int) string {
	if i < len(b.keyOf) && b.keyOf[i] != "" {
		return b.spec.HeaderOf(b.keyOf[i])
	}
	return colName(i)
}

func (b *builder) longErr() error {
	return b.long.err("import_cell_too_long",
		fmt.Sprintf("文件有 %d 个单元格超过 %d 个字，未导入任何数据", b.long.Len(), MaxCellRunes))
}

func (b *builder) extraErr() error {
	return errs.Rows("import_extra_cells",
		fmt.Sprintf("文件有 %d 行在没有表头的列中有内容，未导入任何数据", len(b.extras)), b.extras)
}

func (b *builder) header(num int, cells []string) error {
	var unknown, dup, missing []errs.FieldError
	seen := make(map[int]int) // column index -> cell index
	b.keyOf = make([]string, len(cells))
	b.ignored = map[int]bool{}
	var strangers []int // cells of unknown headers
	lastKnown := -1
	for i, cell := range cells {
		name := strings.TrimSpace(cell)
		n := normHeader(name)
		if n == "" {
			continue
		}
		ci, ok := b.m.lookup(n)
		if !ok {
			strangers = append(strangers, i)
			continue
		}
		lastKnown = i
		if j, ok := seen[ci]; ok {
			dup = append(dup, errs.FieldError{Row: num, Column: Short(name),
				Message: fmt.Sprintf("列 %s（第 %s 列）与第 %s 列重复，都对应“%s”",
					quote(name), colName(i), colName(j), b.spec.Columns[ci].title())})
			continue
		}
		seen[ci] = i
		b.keyOf[i] = b.spec.Columns[ci].Key
		b.table.Columns = append(b.table.Columns, b.spec.Columns[ci].Key)
	}
	for ci, c := range b.spec.Columns {
		if _, ok := seen[ci]; c.Required && !ok {
			missing = append(missing, errs.FieldError{Row: num, Column: c.title(),
				Message: fmt.Sprintf("缺少必填列“%s”", c.title())})
		}
	}
	// A running number is ignored wherever it stands, and so is an unknown
	// column after the last known one (备注) unless a required column is
	// missing (it may be that column misspelt).
	for _, i := range strangers {
		name := strings.TrimSpace(cells[i])
		if isCounter(normHeader(name)) || (i > lastKnown && lastKnown >= 0 && len(missing) == 0) {
			b.ignored[i] = true
			b.table.Ignored = append(b.table.Ignored, Short(name))
			continue
		}
		unknown = append(unknown, errs.FieldError{Row: num, Column: Short(name),
			Message: fmt.Sprintf("无法识别的列名 %s（第 %s 列），请使用导入模板中的表头", quote(name), colName(i))})
	}
	var code string
	var parts []string
	for _, p := range []struct {
		list       []errs.FieldError
		code, text string
	}{
		{unknown, "import_unknown_column", "无法识别的列"},
		{dup, "import_duplicate_column", "重复的列"},
		{missing, "import_missing_column", "缺少必填列"},
	} {
		if len(p.list) == 0 {
			continue
		}
		if code == "" {
			code = p.code
		}
		names := make([]string, len(p.list))
		for i, f := range p.list {
			names[i] = f.Column
		}
		parts = append(parts, p.text+" "+strings.Join(names, "、"))
	}
	if code == "" {
		return nil
	}
	fields := append(append(unknown, dup...), missing...)
	return errs.Rows(code, "表头有误："+strings.Join(parts, "；")+"。请使用导入模板中的表头", fields)
}

func (b *builder) finish() error {
	if !b.hasHeader && len(b.pending) > 0 {
		if err := b.chooseHeader(); err != nil {
			return err
		}
	}
	if !b.hasHeader {
		return errEmpty()
	}
	if b.long.Len() > 0 {
		return b.longErr()
	}
	if len(b.extras) > 0 {
		return b.extraErr()
	}
	return nil
}
