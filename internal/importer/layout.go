package importer

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The layouts offices give their spreadsheets: a title (often merged
// across the columns), a "填报单位：… 填报日期：…" line or blank rows above
// the header, a 序号 column, a 备注 column after the data, units in the
// header cells ("职工人数（人）"), an instructions sheet before the data
// sheet. The importer finds the header and the data sheet by the column
// names it knows.

// headerScan is how many rows from the top may hold the header.
const headerScan = 10

// counterNames are the headers of running-number columns, which are
// ignored wherever they stand.
var counterNames = map[string]bool{"序号": true, "序": true, "行号": true, "no": true, "no.": true, "#": true, "编号": true}

// unitSuffix matches a trailing bracketed unit or note of a header cell:
// "(人)", "（万元）" after folding, "[kw]", "【必填】".
var unitSuffix = regexp.MustCompile(`\s*(\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕)\s*$`)

// lookup finds the column of a normalised header name: as it is, without
// spaces (a header broken over lines), then without trailing units.
func (m matcher) lookup(n string) (int, bool) {
	for n != "" {
		if i, ok := m[n]; ok {
			return i, true
		}
		if i, ok := m[strings.ReplaceAll(n, " ", "")]; ok {
			return i, true
		}
		cut := unitSuffix.ReplaceAllString(n, "")
		if cut == n {
			break
		}
		n = cut
	}
	return 0, false
}

// score counts the distinct columns of the spec that the cells name.
func (m matcher) score(cells []string) int {
	seen := map[int]bool{}
	for _, c := range cells {
		if i, ok := m.lookup(normHeader(c)); ok {
			seen[i] = true
		}
	}
	return len(seen)
}

// complete reports whether cells are a header beyond doubt: every
// required column and at least two columns (or the spec's only one).
func (b *builder) complete(cells []string) bool {
	found := map[int]bool{}
	for _, c := range cells {
		if i, ok := b.m.lookup(normHeader(c)); ok {
			found[i] = true
		}
	}
	for i, c := range b.spec.Columns {
		if c.Required && !found[i] {
			return false
		}
	}
	return len(found) >= min(2, len(b.spec.Columns))
}

// pendingRow is a row read before the header was found.
type pendingRow struct {
	num   int
	cells []string
}

// chooseHeader takes the buffered row that names the most columns as the
// header (the first one when none does, so that its error names it), drops
// the rows above it and reads the rows below it as data.
func (b *builder) chooseHeader() error {
	best, bestScore := 0, 0
	for i, p := range b.pending {
		if s := b.m.score(p.cells); s > bestScore {
			best, bestScore = i, s
		}
	}
	rows := b.pending
	b.pending = nil
	b.hasHeader = true
	if err := b.header(rows[best].num, rows[best].cells); err != nil {
		return err
	}
	for _, p := range rows[best+1:] {
		if err := b.data(p.num, p.cells); err != nil {
			return err
		}
	}
	return nil
}

// isCounter reports whether a normalised header names a running number.
func isCounter(n string) bool {
	return counterNames[strings.ReplaceAll(n, " ", "")]
}

// foldValue turns full-width digits and Latin letters (from Chinese input
// methods) into ASCII ones, and full-width spaces into spaces.
func foldValue(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= 0xFF10 && r <= 0xFF5A || r == 0x3000 }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９', r >= 'Ａ' && r <= 'Ｚ', r >= 'ａ' && r <= 'ｚ':
			return r - 0xFEE0
		case r == 0x3000:
			return ' '
		}
		return r
	}, s)
}

// timeOfDay matches the time a date cell may carry: 8:00, 08:00:00,
// 08:00:00.000, with an optional AM/PM.
var timeOfDay = regexp.MustCompile(`^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(\s*([AaPp][Mm]))?$`)

// DatePart returns the day of a date cell: "2022-11-20 08:00:00" and
// "2022/11/20 8:00" (a date cell whose format shows the time) give the part
// before the time, and an Excel day number such as 44885 (a date cell read
// without its format) gives 2022-11-20. Anything else is returned as is,
// trimmed, for the caller's date check to accept or refuse.
func DatePart(s string) string {
	s = strings.TrimSpace(s)
	if day, t, ok := strings.Cut(s, " "); ok && timeOfDay.MatchString(strings.TrimSpace(t)) {
		return day
	}
	if day, t, ok := strings.Cut(s, "T"); ok && len(day) >= 8 && timeOfDay.MatchString(strings.TrimSuffix(t, "Z")) {
		return day
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && n >= 36526 && n < 73051 && !strings.ContainsAny(s, "eE") {
		// 2000-01-01 to 2099-12-31 in Excel's 1900 date system.
		d := excelEpoch.Add(time.Duration(int64(n)) * 24 * time.Hour)
		return d.Format(time.DateOnly)
	}
	return s
}

// excelNumber matches what a long number becomes in a cell formatted as a
// number: 4.30203199001011E+17 as shown, 430203199001011000 as read from
// the file (Excel keeps 15 significant digits, so the rest are zeros), or
// 430203199001011000.0.
var excelNumber = regexp.MustCompile(`^\d(\.\d+)?[eE]\+?\d+$|^\d{12,}\.\d*$|^\d{13,}000$`)

// ExcelNumber reports whether a cell that should hold a long code (an ID
// number) may hold what Excel makes of it in a number cell: scientific
// notation, a decimal point, or more than 15 digits ending in zeros. Its
// last digits are lost for good; the fix is to format the column as text
// and type the codes again. Callers ask only of a code they found invalid.
func ExcelNumber(s string) bool {
	return excelNumber.MatchString(strings.TrimSpace(s))
}

// ExcelNumberMessage is what an import says of such a cell, naming the
// column.
func ExcelNumberMessage(column string) string {
	return fmt.Sprintf("%s被 Excel 存成了数字（显示为科学计数法或带小数点），后几位已经丢失；请设置该列为文本格式后重新填写", column)
}

// odsMime is the media type an OpenDocument spreadsheet stores first in
// its ZIP (the "mimetype" part, uncompressed).
var odsMime = []byte("application/vnd.oasis.opendocument")

// isODS reports whether a ZIP is an OpenDocument file (.ods) rather than
// an XLSX.
func isODS(data []byte) bool {
	return bytes.Contains(data[:min(len(data), 200)], odsMime)
}
