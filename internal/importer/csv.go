package importer

import (
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

// decodeText returns data as UTF-8 text: UTF-8 with or without BOM as is,
// UTF-16 when it starts with a BOM (Excel's "Unicode text"), and anything else
// that is not valid UTF-8 as GB18030.
func decodeText(data []byte) (string, error) {
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
	if dec != nil {
		var err error
		if data, err = dec.Bytes(data); err != nil {
			return "", errUnreadableCSV("：文件编码无法识别")
		}
	}
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return "", errUnreadableCSV("：文件不是文本格式")
	}
	return string(data), nil
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
	text, err := decodeText(data)
	if err != nil {
		return err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = separator(text)
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	extra := 0 // lines that continue a multi-line cell and so are no rows of their own
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return errUnreadableCSV(fmt.Sprintf("：第 %d 行格式有误", pe.StartLine-extra))
			}
			return errUnreadableCSV("")
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
