package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tongxin import reads an office's file (a title line, a 填报单位 line, a
// 序号 column, units in a header, a 备注 column) and says which columns
// it ignored.
func TestCLIImportNamesIgnoredColumns(t *testing.T) {
	in := demoInst(t, "sqlite")
	file := filepath.Join(t.TempDir(), "企业名录.csv")
	csv := "2022年企业名录,,,,,\n填报单位：芦淞区工信局,,,,,\n,,,,,\n" +
		"序号,统一社会信用代码,名称,区域编码,职工人数（人）,备注\n" +
		"1," + validCreditCode("91430203MA4T00009") + ",建设南路制衣厂,430203001,３００,新增\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, in, "", "import", "enterprises", file)
	if !strings.Contains(out, "已导入 1 行：新增 1") || !strings.Contains(out, "已忽略的列（不属于导入模板）：序号、备注") {
		t.Errorf("import printed %q", out)
	}
}

// validCreditCode completes a 17-character credit code with its GB 32100
// check character.
func validCreditCode(base string) string {
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	weights := []int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum := 0
	for i, w := range weights {
		sum += strings.IndexByte(chars, base[i]) * w
	}
	return base + string(chars[(31-sum%31)%31])
}
