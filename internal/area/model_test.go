package area

import (
	"strings"
	"testing"
)

func TestParseLevel(t *testing.T) {
	cases := []struct {
		in   string
		want Level
		ok   bool
	}{
		{"city", City, true}, {"市", City, true}, {" District ", District, true}, {"区", District, true},
		{"县", District, true}, {"区县", District, true}, {"区/县", District, true}, {"县级市", District, true},
		{"街道", Street, true}, {"乡镇", Street, true}, {"街道／乡镇", Street, true}, {"ｓｔｒｅｅｔ", Street, true},
		{"社区", Community, true}, {"村", Community, true}, {"社区、村", Community, true},
		{"网格", Grid, true}, {"grid", Grid, true}, {"4", Grid, true},
		{"省", "", false}, {"", "", false}, {"5", "", false},
	}
	for _, c := range cases {
		got, ok := ParseLevel(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseLevel(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestLevelRules(t *testing.T) {
	if City.Child() != District || Community.Child() != Grid || Grid.Child() != "" {
		t.Error("Child is wrong")
	}
	for i, l := range Levels() {
		if l.Depth() != i || !l.Valid() {
			t.Errorf("%s: depth %d, want %d", l, l.Depth(), i)
		}
	}
	if Level("province").Valid() {
		t.Error("province is not a level")
	}
}

func TestCodeRules(t *testing.T) {
	cases := []struct {
		level        Level
		code, parent string
		ok           bool
	}{
		{City, "430200", "", true},
		{City, "43020", "", false},
		{District, "430203", "430200", true},
		{District, "431203", "430200", false}, // another city's prefix
		{District, "430200", "430200", false}, // the city itself
		{District, "110101", "110000", true},  // under a municipality
		{District, "4302030", "430200", false},
		{Street, "430203001", "430203", true},
		{Street, "430204001", "430203", false},
		{Street, "43020300a", "430203", false},
		{Community, "430203001001", "430203001", true},
		{Community, "430203002001", "430203001", false},
		{Grid, "430203001001001", "430203001001", true},
		{Grid, "43020300100100", "430203001001", false},
	}
	for _, c := range cases {
		msg := childCodeProblem(c.level, c.code, c.parent)
		if (msg == "") != c.ok {
			t.Errorf("childCodeProblem(%s, %q, %q) = %q, want ok=%v", c.level, c.code, c.parent, msg, c.ok)
		}
	}
	for code, ok := range map[string]bool{"430200": true, "430203001": true, "": false, "4302": false, "43020x": false, "4302030010010010": false} {
		if got := codeFormatProblem(code) == ""; got != ok {
			t.Errorf("codeFormatProblem(%q) ok=%v, want %v", code, got, ok)
		}
	}
	for name, ok := range map[string]bool{"大园社区": true, "": false, strings.Repeat("社", 50): true, strings.Repeat("社", 51): false, "a\nb": false} {
		if got := nameProblem(name) == ""; got != ok {
			t.Errorf("nameProblem(%q) ok=%v, want %v", name, got, ok)
		}
	}
	for code, ok := range map[string]bool{"wjw": true, "ls_wjj": true, "a-1": true, "w": false, "WJW": false, "卫健委": false, strings.Repeat("a", 33): false} {
		if got := orgCodeProblem(code) == ""; got != ok {
			t.Errorf("orgCodeProblem(%q) ok=%v, want %v", code, got, ok)
		}
	}
}

func all(string) bool { return true }

func TestPlannerOrderAndCycles(t *testing.T) {
	known := map[string]Area{"430200": {Code: "430200", Name: "株洲市", Level: City, Path: "/430200/"}}
	t.Run("children before parents", func(t *testing.T) {
		p := planner{Known: known, CanRead: all, CanWrite: all}
		out, problems := p.Plan([]rowInput{
			{Num: 2, Code: "430203001001", Name: "大园社区", Parent: "430203001"},
			{Num: 3, Code: "430203001", Name: "建设街道", Parent: "430203"},
			{Num: 4, Code: "430203", Name: "芦淞区", Parent: "430200", Level: "区"},
		})
		if len(problems) > 0 {
			t.Fatal(problems)
		}
		var got []string
		for _, c := range out {
			got = append(got, c.Area.Code+" "+string(c.Area.Level)+" "+c.Area.Path)
		}
		want := []string{
			"430203 district /430200/430203/",
			"430203001 street /430200/430203/430203001/",
			"430203001001 community /430200/430203/430203001/430203001001/",
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("got %q\nwant %q", got, want)
		}
	})
	t.Run("cycle", func(t *testing.T) {
		p := planner{Known: known, CanRead: all, CanWrite: all}
		_, problems := p.Plan([]rowInput{
			{Num: 2, Code: "430203001", Name: "甲", Parent: "430203001001"},
			{Num: 3, Code: "430203001001", Name: "乙", Parent: "430203001001001"},
			{Num: 4, Code: "430203001001001", Name: "丙", Parent: "430203001"},
			{Num: 5, Code: "430203001001002", Name: "丁", Parent: "430203001001"}, // hangs below the cycle
		})
		if len(problems) != 3 {
			t.Fatalf("problems = %+v, want one per row of the cycle", problems)
		}
		for i, e := range problems {
			if e.Num != i+2 || e.Key != "parent_code" || !strings.Contains(e.Message, "循环") {
				t.Errorf("problem %d = %+v", i, e)
			}
		}
	})
}
