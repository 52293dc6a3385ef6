package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"tongxin/internal/errs"
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

func errUnreadableCSV(detail string) *errs.Error {
	return errs.E(errs.Invalid, "import_unreadable", "无法读取 CSV 文件"+detail+"，请用 Excel 另存为 CSV 或 XLSX 后再导入")
}

// maxCSVLine bounds one line of a CSV file (a record, or one line of a
// record whose quoted cells span several lines); a cell is shorter still
// (MaxCellRunes).
const maxCSVLine = 1 << 20

var (
	errBadEncoding = errors.New("importer: undecodable text")
	errNotText     = errors.New("importer: NUL byte in text")
	errLineTooLong = errors.New("importer: CSV line too long")
)

// textReader returns data as a stream of UTF-8 text: UTF-8 with or without
// BOM as is, UTF-16 when it starts with a BOM (Excel's "Unicode text"),
// and anything else that is not valid UTF-8 as GB18030, decoded as it is
// read.
func textReader(data []byte) (io.Reader, error) {
	var dec *encoding.Decoder
	switch {
	case bytes.HasPrefix(data, bomUTF8):
		data = data[len(bomUTF8):]
	case bytes.HasPrefix(data, bomUTF16LE):
		dec = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
	case bytes.HasPrefix(data, bomUTF16BE):
		dec = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
	case !utf8.Valid(data):
		dec = simplifiedchinese.GB18030.NewDecoder()
	}
	if dec == nil {
		if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
			return nil, errUnreadableCSV("：文件不是文本格式")
		}
		return bytes.NewReader(data), nil
	}
	return &decoded{r: transform.NewReader(bytes.NewReader(data), dec)}, nil
}

// decoded is text being decoded: a decoding error is errBadEncoding, a
// NUL character errNotText.
type decoded struct {
	r   io.Reader
	err error // sticky
}

func (d *decoded) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.r.Read(p)
	switch {
	case bytes.IndexByte(p[:n], 0) >= 0:
		d.err = errNotText
	case err != nil && !errors.Is(err, io.EOF):
		d.err = errBadEncoding
	default:
		return n, err
	}
	return n, d.err
}

// lineLimit refuses a line longer than maxCSVLine bytes.
type lineLimit struct {
	r     io.Reader
	line  int // bytes since the last line break
	lines int // line breaks read
}

func (l *lineLimit) Read(p []byte) (int, error) {
	if l.line > maxCSVLine {
		return 0, errLineTooLong
	}
	n, err := l.r.Read(p)
	for _, c := range p[:n] {
		if c == '\n' {
			l.line = 0
			l.lines++
		} else if l.line++; l.line > maxCSVLine {
			return n, errLineTooLong
		}
	}
	return n, err
}

// separator picks the field separator from the header line: a comma, or a
// semicolon or tab when the line has no comma but has those.
func separator(text string) rune {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.Contains(line, ",") {
			return ','
		}
		semi, tab := strings.Count(line, ";"), strings.Count(line, "\t")
		switch {
		case tab > 0 && tab >= semi:
			return '\t'
		case semi > 0:
			return ';'
		}
		return ','
	}
	return ','
}

// readCSV calls fn with each record of the CSV text and its row number as a
// spreadsheet shows it: every line starts a row, except the continuation
// lines of a quoted cell that spans several lines.
func readCSV(data []byte, fn func(num int, cells []string) error) error {
	text, err := textReader(data)
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(text, 64<<10)
	head, err := br.Peek(64 << 10) // the separator is chosen from the header line
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return csvErr(err, 1)
	}
	ll := &lineLimit{r: br}
	r := csv.NewReader(ll)
	r.Comma = separator(string(head))
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	extra := 0 // lines that continue a multi-line cell and so are no rows of their own
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && (errors.Is(err, csv.ErrQuote) || errors.Is(err, csv.ErrBareQuote)) {
				return errUnreadableCSV(fmt.Sprintf("：第 %d 行格式有误", pe.StartLine-extra))
			}
			return csvErr(err, ll.lines+1-extra)
		}
		start, _ := r.FieldPos(0)
		last := len(rec) - 1
		end, _ := r.FieldPos(last)
		end += strings.Count(rec[last], "\n")
		if err := fn(start-extra, rec); err != nil {
			return err
		}
		extra += end - start
	}
}

// csvErr is the error of a failed read of a CSV file, near line.
func csvErr(err error, line int) error {
	switch {
	case errors.Is(err, errLineTooLong):
		return errs.Newf(errs.Invalid, "import_cell_too_long",
			"CSV 文件第 %d 行过长，超过 %s，未导入任何数据；请检查后再导入", line, sizeText(maxCSVLine))
	case errors.Is(err, errBadEncoding):
		return errUnreadableCSV("：文件编码无法识别")
	case errors.Is(err, errNotText):
		return errUnreadableCSV("：文件不是文本格式")
	}
	return errUnreadableCSV("")
}
