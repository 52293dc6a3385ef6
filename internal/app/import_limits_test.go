package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"tongxin/internal/db/dbtest"
	"tongxin/internal/importer"
	"tongxin/internal/importer/importtest"
	"tongxin/internal/web"
)

// problem is a problem+json answer.
type problem struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Errors []struct {
		Row     int    `json:"row"`
		Column  string `json:"column"`
		Message string `json:"message"`
	} `json:"errors"`
	ErrorCount int `json:"error_count"`
}

func (r res) problem(t *testing.T, status int, code string) problem {
	t.Helper()
	if r.status != status || r.problemCode(t) != code {
		t.Fatalf("status %d, want %d %s: %.500s", r.status, status, code, r.body)
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// heapPeak samples the heap in use while fn runs and returns the most it
// grew above what was in use before.
func heapPeak(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	})
	fn()
	close(done)
	wg.Wait()
	return peak - base
}

// The ZIP bomb of issue 10 — an XLSX under 1 MB whose sheet unzips to
// 465 MB — uploaded as a pass batch by an enterprise contact, three at
// once: each is refused within seconds with a small answer, the heap
// grows by far less than the sheet (a slot of the import gate may answer
// 503 instead); so are bombs whose ZIP directory understates the size,
// and those that stay within the unzipped limit.
func TestImportBombPassBatch(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			contact := ts.tokenFor(t, "qianjin")
			batches := count(t, ts, "pass_batches")
			for _, tc := range []struct {
				name    string
				shape   importtest.Shape
				size    int64
				declare uint64
				status  int
				code    string
				within  time.Duration // wall time on a busy 2-core machine; see docs/benchmarks.md for CPU
			}{
				{"465 MB of cells", importtest.Cells, 465 << 20, 0, 413, "file_too_large_unzipped", 5 * time.Second},
				{"200 MB of rows, directory says 1 MiB", importtest.Rows, 200 << 20, 1 << 20, 413, "file_too_large_unzipped", 5 * time.Second},
				{"200 MB of rows, directory says just under the limit", importtest.Rows, 200 << 20, importer.MaxUnzipped - 1<<20, 413, "file_too_large_unzipped", 30 * time.Second},
				{"70 MB of cells", importtest.Cells, 70 << 20, 0, 400, "import_too_many_columns", 30 * time.Second},
				// Read like a legitimate file, up to the 20,000 rows of a batch.
				{"70 MB of rows", importtest.Rows, 70 << 20, 0, 400, "import_too_many_rows", 60 * time.Second},
			} {
				t.Run(tc.name, func(t *testing.T) {
					bomb, err := importtest.Bomb(tc.shape, tc.size, tc.declare)
					if err != nil {
						t.Fatal(err)
					}
					if len(bomb) >= 1<<20 {
						t.Fatalf("bomb of %d bytes", len(bomb))
					}
					answers := make([]res, 3)
					took := make([]time.Duration, 3)
					grew := heapPeak(func() {
						var wg sync.WaitGroup
						for i := range answers {
							wg.Go(func() {
								start := time.Now()
								answers[i] = ts.do(t, "POST", "/api/v1/pass-batches", contact, importer.MediaXLSX, bytes.NewReader(bomb))
								took[i] = time.Since(start)
							})
						}
						wg.Wait()
					})
					refused := 0
					for i, r := range answers {
						if r.status == 503 {
							r.problem(t, 503, "import_busy")
							continue
						}
						p := r.problem(t, tc.status, tc.code)
						if tc.status == 413 && !strings.Contains(p.Detail, "80 MB") {
							t.Errorf("detail %q", p.Detail)
						}
						if len(r.body) > 64<<10 || took[i] > tc.within*raceSlowdown {
							t.Errorf("answer of %d bytes after %v", len(r.body), took[i])
						}
						refused++
					}
					if refused == 0 {
						t.Error("no bomb was read")
					}
					t.Logf("heap grew by %d MiB at most; took %v", grew>>20, took)
					if grew > 200<<20 {
						t.Errorf("heap grew by %d MiB", grew>>20)
					}
				})
			}
			if n := count(t, ts, "pass_batches"); n != batches {
				t.Errorf("%d batches stored, want %d", n, batches)
			}
		})
	}
}

func count(t *testing.T, ts *testSystem, table string) int {
	t.Helper()
	var n int
	if err := ts.sys.DB.ReadPool().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A cell of ten megabytes, or of 600 characters, is refused with a clear
// message that repeats at most 30 characters of it.
func TestImportLongCell(t *testing.T) {
	ts := newTestSystem(t, "sqlite")
	contact := ts.tokenFor(t, "qianjin")
	header := []string{"姓名", "身份证号", "手机", "车牌", "区域", "起", "止"}
	strs := func(extra string) func(w io.Writer) error {
		return func(w io.Writer) error {
			for _, s := range append(header, extra) {
				if _, err := fmt.Fprintf(w, "<si><t>%s</t></si>", s); err != nil {
					return err
				}
			}
			return nil
		}
	}
	rows := func(w io.Writer) error {
		_, err := io.WriteString(w, importtest.SharedRow(1, 0, 1, 2, 3, 4, 5, 6)+importtest.SharedRow(2, 7, 1))
		return err
	}
	for _, tc := range []struct {
		name string
		cell string
		row  int
	}{
		{"ten megabytes", strings.Repeat("A", 10<<20), 0},
		{"600 characters", strings.Repeat("A", 600), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := importtest.Book{Rows: rows, Strings: strs(tc.cell)}.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			r := ts.do(t, "POST", "/api/v1/pass-batches", contact, importer.MediaXLSX, bytes.NewReader(data))
			p := r.problem(t, 400, "import_cell_too_long")
			if len(r.body) > 4<<10 || strings.Contains(string(r.body), strings.Repeat("A", 31)) ||
				!strings.Contains(string(r.body), strings.Repeat("A", 30)+"…") || !strings.Contains(p.Detail, "500 个字") {
				t.Errorf("answer %s", r.body)
			}
			if tc.row > 0 && (len(p.Errors) != 1 || p.Errors[0].Row != 2 || p.Errors[0].Column != "姓名" || p.ErrorCount != 1) {
				t.Errorf("errors %+v count %d", p.Errors, p.ErrorCount)
			}
		})
	}
}

// A batch with a problem in each of 150 rows lists the first 100 and
// counts all of them, in the API and on the page.
func TestImportErrorCount(t *testing.T) {
	ts := newTestSystem(t, "sqlite")
	contact := ts.tokenFor(t, "qianjin")
	lines := strings.Split(strings.TrimSpace(passCSV(150)), "\n")
	for i := 1; i < len(lines); i++ {
		lines[i] = strings.Replace(lines[i], ",430211001,", ",430211001,明天", 1) // a bad start date
	}
	csv := strings.Join(lines, "\n") + "\n"
	r := ts.do(t, "POST", "/api/v1/pass-batches", contact, "text/csv", strings.NewReader(csv))
	p := r.problem(t, 400, "import_rejected")
	if len(p.Errors) != 100 || p.ErrorCount != 150 || p.Errors[0].Row != 2 || p.Errors[99].Row != 101 {
		t.Fatalf("%d errors, error_count %d: %+v", len(p.Errors), p.ErrorCount, p.Errors[:1])
	}
	if !strings.Contains(p.Errors[0].Message, "“明天") {
		t.Errorf("message %q", p.Errors[0].Message)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "workers.csv")
	io.WriteString(fw, csv)
	mw.Close()
	page := ts.do(t, "POST", "/pass-batches", contact, mw.FormDataContentType(), &body)
	if page.status != 400 || !strings.Contains(string(page.body), "另有 50 处错误") ||
		strings.Count(string(page.body), "起始日期须为") != 100 {
		t.Fatalf("page %d, %d problems listed: %.300s", page.status, strings.Count(string(page.body), "起始日期须为"), page.body)
	}
}

// Imports beyond web.MaxConcurrentImports are answered 503 at once, with
// Retry-After, whichever import and whether API or page; once one ends,
// the next goes through.
func TestImportGate(t *testing.T) {
	ts := newTestSystem(t, "sqlite")
	contact, admin := ts.tokenFor(t, "qianjin"), ts.tokenFor(t, "admin")
	type held struct {
		w    *io.PipeWriter
		done chan res
	}
	hold := func(path, token, ctype string) held {
		pr, pw := io.Pipe()
		h := held{pw, make(chan res, 1)}
		// A failed test must not leave the upload open: the server's
		// Close would wait for it for ever.
		t.Cleanup(func() { pw.CloseWithError(io.ErrUnexpectedEOF) })
		go func() { h.done <- ts.do(t, "POST", path, token, ctype, pr) }()
		return h
	}
	a := hold("/api/v1/pass-batches", contact, "text/csv")
	b := hold("/api/v1/areas/import", admin, "text/csv")
	deadline := time.Now().Add(10 * time.Second)
	for ts.rt.imports.InUse() < web.MaxConcurrentImports {
		if time.Now().After(deadline) {
			t.Fatalf("%d imports running", ts.rt.imports.InUse())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range []struct{ path, token string }{
		{"/api/v1/enterprises/import", admin},
		{"/api/v1/resumption/reports/import", admin},
		{"/api/v1/pass-batches", contact},
		{"/api/v1/areas/import", admin},
	} {
		start := time.Now()
		r := ts.do(t, "POST", c.path, c.token, "text/csv", strings.NewReader(passCSV(1)))
		p := r.problem(t, 503, "import_busy")
		if r.header.Get("Retry-After") != "10" || !strings.Contains(p.Detail, "请约 10 秒后重试") || time.Since(start) > 5*time.Second*raceSlowdown {
			t.Errorf("%s: Retry-After %q, %q", c.path, r.header.Get("Retry-After"), p.Detail)
		}
	}
	page := ts.do(t, "POST", "/pass-batches", contact, "multipart/form-data; boundary=x", strings.NewReader("--x--\r\n"))
	if page.status != 503 || page.header.Get("Retry-After") != "10" || !strings.Contains(string(page.body), "请约 10 秒后重试") {
		t.Errorf("page: %d %q %.300s", page.status, page.header.Get("Retry-After"), page.body)
	}
	// The held uploads end; their slots are free again.
	io.WriteString(a.w, passCSV(1))
	a.w.Close()
	if r := <-a.done; r.status != 201 {
		t.Fatalf("held batch: %d %s", r.status, r.body)
	}
	b.w.Close()
	(<-b.done).problem(t, 400, "import_empty")
	if r := ts.do(t, "POST", "/api/v1/pass-batches", contact, "text/csv", strings.NewReader(passCSVFrom(1, 1))); r.status != 201 {
		t.Fatalf("after: %d %s", r.status, r.body)
	}
}
