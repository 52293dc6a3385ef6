package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"html"
	"io"
	"strings"
	"unicode/utf8"

	"tongxin/internal/errs"
)

// The limits of one import file. An upload is at most web.MaxUploadBody
// (20 MiB); these bound what it may expand to, so that a small crafted file
// costs little time and memory whatever it holds.
const (
	// MaxUnzipped bounds the unzipped size of an XLSX, all its parts
	// together: four times the 20 MiB upload limit. The sizes the ZIP
	// directory declares are checked first, then the bytes actually
	// inflated, since declared sizes can lie.
	MaxUnzipped = 80 << 20
	// MaxCellRunes bounds the text of one cell.
	MaxCellRunes = 500
	// MaxColumns bounds the columns of a row (up to its last non-empty cell).
	MaxColumns = 256
	// MaxErrors bounds the problems an error lists; Error.Total counts all.
	MaxErrors = 100

	// maxZipEntries bounds the parts of an XLSX (Excel writes about 10).
	maxZipEntries = 1000
	// xmlInMemory is excelize's UnzipXMLSizeLimit: a worksheet or shared
	// string table larger than this is unzipped to a temporary file and
	// read from there as a stream; smaller ones stay in memory.
	xmlInMemory = 1 << 20
	// maxPartInMemory bounds every other part (workbook, styles, relations,
	// images), which excelize holds and decodes whole, and maxInMemory all
	// of them together.
	maxPartInMemory = 4 << 20
	maxInMemory     = 16 << 20
	// maxXMLSegment bounds a tag or a text between two tags: what the XML
	// decoder must hold at once. A cell of MaxCellRunes is far shorter.
	maxXMLSegment = 2 << 20
	// maxSharedStrings bounds the shared string table (excelize indexes it
	// at 40 bytes an item); a spec allows fewer, see sharedStringLimit.
	maxSharedStrings = 1_000_000
)

func errUnzipped(detail string) *errs.Error {
	return errs.Newf(errs.TooLarge, "file_too_large_unzipped",
		"XLSX 文件解压后过大（%s），最多允许 %s；请删除多余的工作表、图片和空行，或另存为 CSV 后再导入", detail, sizeText(MaxUnzipped))
}

func errCellTooLongInFile(prefix string) *errs.Error {
	return errs.Newf(errs.Invalid, "import_cell_too_long",
		"文件中有单元格内容超过 %d 个字：%s，未导入任何数据；请检查后再导入", MaxCellRunes, quote(prefix))
}

// sharedStringLimit is the most distinct texts a file of spec can need:
// one per cell of the largest allowed file, at most maxSharedStrings.
func sharedStringLimit(spec Spec) int {
	return min(maxSharedStrings, (spec.maxRows()+1)*(len(spec.Columns)+4))
}

// checkXLSX refuses an XLSX that would cost more to open than any
// legitimate import file: too many parts, a declared or actual unzipped
// size over MaxUnzipped, parts that excelize would hold in memory over
// their limits, an XML tag or text longer than maxXMLSegment, a shared
// string table larger than the spec can use, or DTD directives. It reads
// every part once as a stream, so its memory is a few buffers.
func checkXLSX(data []byte, spec Spec) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil || len(zr.File) > maxZipEntries {
		return errUnreadableXLSX()
	}
	// The directory first: a bomb that says what it is costs nothing.
	var declared, inMemory uint64
	for _, f := range zr.File {
		size := f.UncompressedSize64
		if size > MaxUnzipped || declared+size > MaxUnzipped {
			return errUnzipped("声明大小超过 " + sizeText(MaxUnzipped))
		}
		declared += size
		if !streamed(f) {
			if size > maxPartInMemory {
				return errUnzipped(fmt.Sprintf("其中 %s 超过 %s", shortName(f.Name), sizeText(maxPartInMemory)))
			}
			if inMemory += size; inMemory > maxInMemory {
				return errUnzipped(fmt.Sprintf("工作表以外的部分超过 %s", sizeText(maxInMemory)))
			}
		}
	}
	// Then the bytes themselves.
	budget := &budget{left: MaxUnzipped}
	for _, f := range zr.File {
		if err := checkPart(f, budget, spec); err != nil {
			return err
		}
	}
	return nil
}

// streamed reports whether excelize reads the part from a temporary file
// rather than from memory: worksheets and the shared string table above
// xmlInMemory (by declared size, as excelize decides).
func streamed(f *zip.File) bool {
	name := strings.ToLower(strings.ReplaceAll(f.Name, `\`, "/"))
	return (name == "xl/sharedstrings.xml" || strings.HasPrefix(name, "xl/worksheets/sheet")) &&
		f.UncompressedSize64 > xmlInMemory
}

func shortName(name string) string {
	if len(name) > 60 || !utf8.ValidString(name) {
		return "一个部件"
	}
	return name
}

// budget counts the bytes inflated by all parts together.
type budget struct{ left int64 }

// partReader inflates one part, refusing more bytes than the part declared
// or than the whole file may have.
type partReader struct {
	r        io.Reader
	declared uint64
	read     uint64
	b        *budget
}

var (
	errOverBudget     = errors.New("importer: unzipped size over the limit")
	errTooManyStrings = errors.New("importer: shared string table over the limit")
)

func (p *partReader) Read(buf []byte) (int, error) {
	if p.read > p.declared || p.b.left < 0 {
		return 0, errOverBudget
	}
	n, err := p.r.Read(buf)
	p.read += uint64(n)
	p.b.left -= int64(n)
	if p.read > p.declared || p.b.left < 0 {
		return n, errOverBudget
	}
	return n, err
}

func checkPart(f *zip.File, b *budget, spec Spec) error {
	raw, err := f.OpenRaw()
	if err != nil {
		return errUnreadableXLSX()
	}
	var r io.Reader
	switch f.Method {
	case zip.Store:
		r = raw
	case zip.Deflate:
		fr := flate.NewReader(raw)
		defer fr.Close()
		r = fr
	default:
		return errUnreadableXLSX()
	}
	pr := &partReader{r: r, declared: f.UncompressedSize64, b: b}
	name := strings.ToLower(strings.ReplaceAll(f.Name, `\`, "/"))
	if strings.HasSuffix(name, ".xml") || strings.HasSuffix(name, ".rels") {
		sc := xmlScan{maxSI: -1}
		switch {
		case name == "xl/sharedstrings.xml":
			sc.maxSI = sharedStringLimit(spec)
		case strings.HasPrefix(name, "xl/worksheets/sheet"):
			sc.sheet = true
		}
		err = sc.scan(pr)
	} else {
		_, err = io.Copy(io.Discard, pr)
	}
	switch {
	case errors.Is(err, errOverBudget):
		if pr.read > pr.declared {
			return errUnzipped("实际内容超过其声明的大小")
		}
		return errUnzipped("超过 " + sizeText(MaxUnzipped))
	case errors.Is(err, errTooManyStrings):
		return errs.Newf(errs.Invalid, "import_too_many_rows",
			"文件中的不同文字超过 %d 项，多于本类导入最多 %d 行所能用到的，未导入任何数据；请只保留需要导入的数据后再导入",
			sharedStringLimit(spec), spec.maxRows())
	case errs.As(err) != nil:
		return err
	case err != nil:
		return errUnreadableXLSX()
	}
	if pr.read != pr.declared {
		return errUnreadableXLSX()
	}
	return nil
}

// xmlScan reads an XML part as bytes, without decoding it, and refuses a
// tag or text longer than maxXMLSegment, a comment, CDATA section or
// processing instruction as long, and any DTD directive; a cell (<c>) or
// shared string (<si>) element longer than maxCellXML, whatever it is made
// of (a text, or a million rich-text runs); in a sheet, a row of more
// than maxRowCells cells; in a shared string table (maxSI >= 0), more
// than maxSI items.
type xmlScan struct {
	maxSI int
	sheet bool

	pos       int64 // bytes read
	elemStart int64 // where the open <c> or <si> began, -1 if none
	cells     int   // cells of the current row
	si        int
}

const (
	// maxCellXML bounds the XML of one cell or shared string: MaxCellRunes
	// characters, each as an entity, in rich-text runs with their fonts.
	maxCellXML = 256 << 10
	// maxRowCells is Excel's own limit on the columns of a sheet (XFD).
	maxRowCells = 16384
)

func (sc *xmlScan) scan(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	seg := 0                     // bytes since the last '<'
	head := make([]byte, 0, 256) // the first bytes of the segment, for the message
	sc.elemStart = -1
	for {
		chunk, err := br.ReadSlice('<')
		seg += len(chunk)
		sc.pos += int64(len(chunk))
		if len(head) < cap(head) {
			head = append(head, chunk[:min(len(chunk), cap(head)-len(head))]...)
		}
		if seg > maxXMLSegment || (sc.elemStart >= 0 && sc.pos-sc.elemStart > maxCellXML) {
			return errCellTooLongInFile(textOf(head))
		}
		switch err {
		case nil:
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			return nil
		default:
			return err
		}
		seg, head = 1, head[:0]
		p, err := br.Peek(1)
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		switch p[0] {
		case '!':
			p, _ = br.Peek(8)
			switch {
			case bytes.HasPrefix(p, []byte("!--")):
				err = sc.skipPast(br, "-->")
			case bytes.HasPrefix(p, []byte("![CDATA[")):
				err = sc.skipPast(br, "]]>")
			default:
				return errUnreadableXLSX()
			}
		case '?':
			err = sc.skipPast(br, "?>")
		case '/':
			p, _ = br.Peek(16)
			if n := string(localName(p[1:])); n == "c" || n == "si" {
				sc.elemStart = -1
			}
		default:
			if err = sc.start(br); err != nil {
				return err
			}
		}
		if err != nil {
			return err
		}
	}
}

// start looks at a start tag.
func (sc *xmlScan) start(br *bufio.Reader) error {
	if !sc.sheet && sc.maxSI < 0 {
		return nil
	}
	p, _ := br.Peek(16)
	switch string(localName(p)) {
	case "row":
		sc.cells = 0
	case "c":
		if sc.sheet {
			sc.elemStart = sc.pos - 1
			if sc.cells++; sc.cells > maxRowCells {
				return errs.Newf(errs.Invalid, "import_too_many_columns",
					"文件中有一行超过 %d 个单元格，最多允许 %d 列；请只保留导入模板中的列后再导入", maxRowCells, MaxColumns)
			}
		}
	case "si":
		if sc.maxSI >= 0 {
			sc.elemStart = sc.pos - 1
			if sc.si++; sc.si > sc.maxSI {
				return errTooManyStrings
			}
		}
	}
	return nil
}

// localName returns the element name at the start of p (after '<' or
// '</'), without its namespace prefix.
func localName(p []byte) []byte {
	from := 0
	for i, c := range p {
		switch c {
		case ' ', '\t', '\r', '\n', '/', '>':
			return p[from:i]
		case ':':
			from = i + 1
		}
	}
	return p[from:]
}

// skipPast reads up to and including term, at most maxXMLSegment bytes.
func (sc *xmlScan) skipPast(br *bufio.Reader, term string) error {
	last := term[len(term)-1]
	var tail []byte
	n := 0
	for {
		chunk, err := br.ReadSlice(last)
		sc.pos += int64(len(chunk))
		if n += len(chunk); n > maxXMLSegment {
			return errCellTooLongInFile("")
		}
		tail = append(tail, chunk[max(0, len(chunk)-len(term)):]...)
		tail = tail[max(0, len(tail)-len(term)):]
		switch {
		case err == nil && string(tail) == term:
			return nil
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
			continue
		}
		return errUnreadableXLSX()
	}
}

// textOf returns the text of the start of an XML segment: what follows its
// tag, entities decoded, cut at a whole character.
func textOf(seg []byte) string {
	if i := bytes.IndexByte(seg, '>'); i >= 0 {
		seg = seg[i+1:]
	}
	for len(seg) > 0 && !utf8.Valid(seg) {
		seg = seg[:len(seg)-1]
	}
	return html.UnescapeString(string(seg))
}
