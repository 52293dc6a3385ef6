package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/importer"
	"tongxin/internal/masstest"
	"tongxin/internal/passtoken"
)

// registerCSV is a register file of n households of one resident each in
// 测试小区 of community, English headers; seq makes the ID numbers.
func registerCSV(community string, n, seq int) string {
	var b strings.Builder
	b.WriteString("community_code,estate,building,unit,room,name,id_number,phone,birth_year,flags,status,status_date\n")
	for i := range n {
		k := seq + i
		fmt.Fprintf(&b, "%s,测试小区,%d栋,,%d,测试居民%d,%s,139%08d,,%s,,\n", community, 1+i/10, 101+i%10, k,
			demoIDNumber(fmt.Sprintf("430203%04d0101%03d", 1960+k%40, k%1000)), k, map[bool]string{true: "elderly_alone"}[i%7 == 0])
	}
	return b.String()
}

type registerAnswer struct {
	Rows        int                      `json:"rows"`
	Communities []masstest.CommunitySync `json:"communities"`
}

type householdsPage = masstest.HouseholdPage

// The household register through the real router: import, a refused
// file, the list a community worker sees, a reveal, resident codes that
// the pass verifier's keys verify, the pages.
func TestHouseholdRegisterOverHTTP(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			jianshe, dayuan, inspector := ts.tokenFor(t, "jianshe"), ts.tokenFor(t, "dayuan"), ts.tokenFor(t, "inspector")
			file := registerCSV("430203001001", 30, 100) + strings.SplitN(registerCSV("430203001002", 20, 300), "\n", 2)[1]
			if r := ts.do(t, "POST", "/api/v1/households/import", inspector, "text/csv", strings.NewReader(file)); r.status != 403 {
				t.Fatalf("inspector imports: %d %s", r.status, r.body)
			}
			bad := strings.Replace(file, "测试居民105,", "测试居民105,43020319", 1)
			bad = strings.Replace(bad, "430203001001,测试小区,1栋,,107", "430203001,测试小区,1栋,,107", 1)
			r := ts.do(t, "POST", "/api/v1/households/import", jianshe, "text/csv", strings.NewReader(bad))
			a := decodeAnswer(t, r)
			if r.status != 400 || a.Code != "import_rejected" || len(a.Errors) != 2 || a.Errors[0].Row != 7 ||
				a.Errors[0].Column != "身份证号" || a.Errors[1].Row != 8 || a.Errors[1].Column != "社区代码" {
				t.Fatalf("bad file: %d %s", r.status, r.body)
			}
			r = ts.do(t, "POST", "/api/v1/households/import", jianshe, "text/csv", strings.NewReader(file))
			var ans registerAnswer
			if r.status != 200 || json.Unmarshal(r.body, &ans) != nil || ans.Rows != 50 || len(ans.Communities) != 2 {
				t.Fatalf("import: %d %s", r.status, r.body)
			}

			r = ts.do(t, "GET", "/api/v1/households?estate=测试小区&per_page=25", dayuan, "", nil)
			var page householdsPage
			if r.status != 200 || json.Unmarshal(r.body, &page) != nil || len(page.Items) != 25 || page.Total != 30 {
				t.Fatalf("list: %d %s", r.status, r.body)
			}
			r = ts.do(t, "GET", "/api/v1/households?estate=测试小区&per_page=25&page=2", dayuan, "", nil)
			var page2 householdsPage
			if r.status != 200 || json.Unmarshal(r.body, &page2) != nil || len(page2.Items) != 5 || page2.Page != 2 {
				t.Fatalf("list page 2: %d %s", r.status, r.body)
			}
			h := page.Items[0]
			if h.CommunityCode != "430203001001" || len(h.Residents) != 1 || !strings.Contains(h.Residents[0].IDNumber, "********") {
				t.Fatalf("household: %+v", h)
			}
			res := h.Residents[0]
			revealPath := "/api/v1/residents/" + strconv.FormatInt(res.ID, 10) + "/reveal"
			if r := ts.do(t, "POST", revealPath, dayuan, "application/json", strings.NewReader(`{"reason":""}`)); r.status != 400 {
				t.Fatalf("reveal without a reason: %d %s", r.status, r.body)
			}
			r = ts.do(t, "POST", revealPath, dayuan, "application/json", strings.NewReader(`{"reason":"入户核对"}`))
			var rev masstest.Revealed
			if r.status != 200 || json.Unmarshal(r.body, &rev) != nil || strings.Contains(rev.IDNumber, "*") || rev.IDNumber[14:] != res.IDNumber[14:] {
				t.Fatalf("reveal: %d %s", r.status, r.body)
			}

			r = ts.do(t, "GET", "/api/v1/households/"+strconv.FormatInt(h.ID, 10)+"/codes", dayuan, "", nil)
			var codes masstest.HouseholdCodes
			if r.status != 200 || json.Unmarshal(r.body, &codes) != nil || len(codes.Residents) != 1 {
				t.Fatalf("codes: %d %s", r.status, r.body)
			}
			c, reason := ts.sys.Verifier.VerifyResident(codes.Residents[0].Token)
			if reason != passtoken.OK || c.RID != res.Code || c.HH != h.Code || c.Area != "430203001001" ||
				c.Building != masstest.BuildingKey("430203001001", "测试小区", h.Building) {
				t.Fatalf("resident code: %+v %s", c, reason)
			}
			registerPages(t, ts, h)
		})
	}
}

// registerPages: the register page and the QR sheet, as the community
// worker sees them.
func registerPages(t *testing.T, ts *testSystem, h masstest.Household) {
	t.Helper()
	cookie := ts.login(t, "dayuan", DemoPassword)
	r := ts.as(t, cookie, "GET", "/households?estate=%E6%B5%8B%E8%AF%95%E5%B0%8F%E5%8C%BA", "")
	body := string(r.body)
	if r.status != 200 || !strings.Contains(body, h.Residents[0].IDNumber) || !strings.Contains(body, "/households/codes?") ||
		!strings.Contains(body, `action="/households/import"`) {
		t.Fatalf("register page: %d", r.status)
	}
	r = ts.as(t, cookie, "GET", "/households/codes?community=430203001001&estate=%E6%B5%8B%E8%AF%95%E5%B0%8F%E5%8C%BA&building="+
		strings.ReplaceAll(h.Building, "栋", "%E6%A0%8B"), "")
	if r.status != 200 || strings.Count(string(r.body), "<svg") != 20 || !strings.Contains(string(r.body), "@page") {
		t.Fatalf("codes page: %d, %d QR", r.status, strings.Count(string(r.body), "<svg"))
	}
	ctype, body2 := multipartBody(nil, "register.csv", []byte(registerCSV("430203001001", 30, 100)[:200]+"x,y\n"))
	r = ts.do(t, "POST", "/households/import", "", ctype, bytes.NewReader(body2), "Cookie", cookie)
	if r.status != 400 || !strings.Contains(string(r.body), "未导入任何数据") {
		t.Fatalf("page import of a bad file: %d", r.status)
	}
}

// A register workbook written by openpyxl, Chinese headers under a title
// row, imports.
func TestHouseholdRegisterXLSX(t *testing.T) {
	t.Parallel()
	py := python(t)
	ts := newTestSystem(t, dbtest.Kinds()[0])
	dir := t.TempDir()
	script, book := filepath.Join(dir, "register.py"), filepath.Join(dir, "register.xlsx")
	if err := os.WriteFile(script, []byte(openpyxlRegister), 0o600); err != nil {
		t.Fatal(err)
	}
	id1, id2 := demoIDNumber("43020319800101101"), demoIDNumber("43020320200202102")
	if out, err := exec.Command(py, script, book, id1, id2).CombinedOutput(); err != nil {
		t.Fatalf("openpyxl: %v %s", err, out)
	}
	data, err := os.ReadFile(book)
	if err != nil {
		t.Fatal(err)
	}
	r := ts.do(t, "POST", "/api/v1/households/import", ts.tokenFor(t, "dayuan"), importer.MediaXLSX, bytes.NewReader(data))
	var ans registerAnswer
	if r.status != 200 || json.Unmarshal(r.body, &ans) != nil || ans.Rows != 2 || ans.Communities[0].Households != 1 {
		t.Fatalf("xlsx import: %d %s", r.status, r.body)
	}
	r = ts.do(t, "GET", "/api/v1/households?estate=%E6%A8%B1%E8%8A%B1%E8%8B%91", ts.tokenFor(t, "dayuan"), "", nil)
	var page householdsPage
	if r.status != 200 || json.Unmarshal(r.body, &page) != nil || len(page.Items) != 1 || page.Items[0].Members != 2 ||
		!page.Items[0].Residents[1].Infant || page.Items[0].Residents[1].BirthYear != 2020 {
		t.Fatalf("xlsx household: %d %s", r.status, r.body)
	}
}

// openpyxlRegister writes a register as an office would: a title row,
// Chinese headers, the room and the birth year as numbers.
const openpyxlRegister = `
import sys
import openpyxl
path, id1, id2 = sys.argv[1:4]
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "户籍登记"
ws["A1"] = "大园社区户籍登记表"
ws.append(["社区代码", "小区", "楼栋", "单元", "房号", "姓名", "身份证号", "手机号", "出生年份", "标记", "状态", "状态日期"])
ws.append(["430203001001", "樱花苑", "2栋", "1单元", 302, "赵大明", id1, "13907331234", 1980, "", "在住", ""])
ws.append(["430203001001", "樱花苑", "2栋", "1单元", 302, "赵小宝", id2, "", 2020, "婴幼儿", "", ""])
wb.save(path)
`

// matrixRegister finds the households testingWorld registered (矩阵小区
// of 大园社区, and of the canary community) and their residents by id:
// household.in/out and residentid.in/out.
func matrixRegister(ctx context.Context, sys *System, w *matrixWorld) error {
	for _, s := range []struct{ k, code string }{{"in", inCommunity}, {"out", outCommunity}} {
		page, err := sys.Testing.ListHouseholds(ctx, auth.System(), masstest.HouseholdFilter{Area: s.code, Estate: "矩阵小区"})
		if err != nil {
			return err
		}
		list := page.Items
		if len(list) != 1 || len(list[0].Residents) != 1 {
			return fmt.Errorf("register %s: %d households", s.k, len(list))
		}
		w.obj["household."+s.k] = strconv.FormatInt(list[0].ID, 10)
		w.obj["residentid."+s.k] = strconv.FormatInt(list[0].Residents[0].ID, 10)
	}
	return nil
}

// registerCSVFor is a register file of the cell's community: the
// matrix's resident and a newcomer.
func registerCSVFor(c *cellCtx) []byte {
	area := c.pick(inCommunity, outCommunity)
	return []byte("社区代码,小区,楼栋,房号,姓名,身份证号\n" +
		area + ",矩阵小区,1栋,101,矩阵居民," + demoIDNumber(area[:6]+"19700101501") + "\n" +
		area + ",矩阵小区,1栋,102,新居民," + demoIDNumber(area[:6]+"19800101503") + "\n")
}
