// Package importtest builds XLSX files for tests of imports: minimal
// workbooks whose parts are written as streams, so that a test can make a
// file that unzips to hundreds of megabytes (a ZIP bomb) without holding
// it in memory, and files whose ZIP directory lies about their sizes.
package importtest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
)

// Book describes a workbook of one sheet.
type Book struct {
	// Rows writes the content of <sheetData>: <row> elements.
	Rows func(w io.Writer) error
	// Strings, when set, writes the <si> items of the shared string table.
	Strings func(w io.Writer) error
	// Declare, when positive, is the uncompressed size the ZIP directory
	// claims for every part, whatever the part's real size.
	Declare uint64
}

const main = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`

// Bytes returns the XLSX file.
func (b Book) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	sstType, sstRel := "", ""
	if b.Strings != nil {
		sstType = `<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>`
		sstRel = `<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>`
	}
	parts := []struct {
		name  string
		write func(w io.Writer) error
	}{
		{"[Content_Types].xml", text(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` + sstType + `</Types>`)},
		{"_rels/.rels", text(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)},
		{"xl/workbook.xml", text(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook ` + main + ` xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`)},
		{"xl/_rels/workbook.xml.rels", text(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` + sstRel + `</Relationships>`)},
		{"xl/worksheets/sheet1.xml", wrap(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet `+main+`><sheetData>`, b.Rows, `</sheetData></worksheet>`)},
	}
	if b.Strings != nil {
		parts = append(parts, struct {
			name  string
			write func(w io.Writer) error
		}{"xl/sharedStrings.xml", wrap(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst `+main+`>`, b.Strings, `</sst>`)})
	}
	for _, p := range parts {
		var err error
		if b.Declare > 0 {
			err = lying(zw, p.name, b.Declare, p.write)
		} else {
			var w io.Writer
			if w, err = zw.Create(p.name); err == nil {
				err = p.write(w)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("importtest: %s: %w", p.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// lying writes a part deflated, with a directory entry that declares size.
func lying(zw *zip.Writer, name string, size uint64, write func(w io.Writer) error) error {
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	crc := crc32.NewIEEE()
	if err := write(io.MultiWriter(fw, crc)); err != nil {
		return err
	}
	if err := fw.Close(); err != nil {
		return err
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc.Sum32(),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: size})
	if err != nil {
		return err
	}
	_, err = w.Write(comp.Bytes())
	return err
}

func text(s string) func(w io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func wrap(head string, body func(w io.Writer) error, tail string) func(w io.Writer) error {
	return func(w io.Writer) error {
		if _, err := io.WriteString(w, head); err != nil {
			return err
		}
		if body != nil {
			if err := body(w); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, tail)
		return err
	}
}

// Row returns a <row> of inline string cells from column A.
func Row(num int, cells ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<row r="%d">`, num)
	for i, c := range cells {
		fmt.Fprintf(&b, `<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>`, col(i), num, c)
	}
	b.WriteString(`</row>`)
	return b.String()
}

// SharedRow returns a <row> of cells that refer to shared strings by index.
func SharedRow(num int, indexes ...int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<row r="%d">`, num)
	for i, x := range indexes {
		fmt.Fprintf(&b, `<c r="%s%d" t="s"><v>%d</v></c>`, col(i), num, x)
	}
	b.WriteString(`</row>`)
	return b.String()
}

func col(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// Bomb returns an XLSX of a pass batch: a header and a first row, then
// either (Cells) a row that repeats one cell, or (Rows) the first row
// repeated, until the sheet unzips to at least size bytes. Cells
// compresses about 500 times, Rows about 200 times: a block of XML is
// deflated once and its deflate blocks repeated, so that building a bomb
// costs well under a second whatever its size. With declare > 0, the ZIP
// directory claims the sheet is declare bytes.
func Bomb(shape Shape, size int64, declare uint64) ([]byte, error) {
	book := Book{Rows: func(io.Writer) error { return nil }}
	small, err := book.Bytes()
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(bytes.NewReader(small), int64(len(small)))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if f.Name == "xl/worksheets/sheet1.xml" {
			continue
		}
		if err := zw.Copy(f); err != nil {
			return nil, err
		}
	}
	head := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet ` + main + `><sheetData>` +
		Row(1, "姓名", "身份证号", "手机", "车牌", "区域", "起", "止") +
		Row(2, "张三", "430202199001011237", "13800000000", "", "430211001", "2022-11-21", "2022-12-20")
	unit, tail := `<c><v>1</v></c>`, `</row></sheetData></worksheet>`
	if shape == Rows {
		// The same row again, without r= attributes so that every copy is alike.
		unit = Row(2, "张三", "430202199001011237", "13800000000", "", "430211001", "2022-11-21", "2022-12-20")
		for _, a := range []string{` r="2"`, ` r="A2"`, ` r="B2"`, ` r="C2"`, ` r="D2"`, ` r="E2"`, ` r="F2"`, ` r="G2"`, ` r="H2"`} {
			unit = strings.Replace(unit, a, "", 1)
		}
		tail = `</sheetData></worksheet>`
	} else {
		head += `<row r="3">`
	}
	block := strings.Repeat(unit, (1<<20)/len(unit))
	k := (size-int64(len(head)+len(tail)))/int64(len(block)) + 1
	crc := crc32.Update(0, crc32.IEEETable, []byte(head))
	blockBytes := []byte(block)
	for range k {
		crc = crc32.Update(crc, crc32.IEEETable, blockBytes)
	}
	crc = crc32.Update(crc, crc32.IEEETable, []byte(tail))
	total := uint64(len(head)) + uint64(k)*uint64(len(block)) + uint64(len(tail))
	h, b, t := deflated(head, false), deflated(block, false), deflated(tail, true)
	if declare == 0 {
		declare = total
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(h)+len(t)) + uint64(k)*uint64(len(b)), UncompressedSize64: declare})
	if err != nil {
		return nil, err
	}
	w.Write(h)
	for range k {
		w.Write(b)
	}
	w.Write(t)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Shape is the repeated part of a Bomb.
type Shape int

const (
	Cells Shape = iota // one row of millions of cells
	Rows               // millions of rows
)

// deflated compresses s on its own into deflate blocks that end on a byte
// boundary, so that they may be followed by others; last ends the stream.
func deflated(s string, last bool) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write([]byte(s))
	if last {
		fw.Close()
	} else {
		fw.Flush()
	}
	return buf.Bytes()
}
