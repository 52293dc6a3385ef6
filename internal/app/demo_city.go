package app

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"tongxin/internal/area"
	"tongxin/internal/resumption"
)

// The demo city's registry: the scale of the seed (株洲日报, 2022-11-21) in
// the four urban districts — 735 above-scale industrial enterprises, 1,775
// "四上" enterprises and 209 projects — with names drawn from word lists,
// credit codes with valid check characters and two weeks of daily reports
// whose rates climb to the seed's figures on the last day: 632 industrial
// (86%), 1,349 "四上" (76%), 197 projects (94.3%) with 16,644 of 21,504
// workers on site (77.4%). Everything is generated from a fixed seed, so
// every run builds the same city, dated relative to today.

// demoDays is the number of days of reports, today included.
const demoDays = 14

// Groups of generated units.
const (
	groupIndustrial = iota // 规上工业
	groupFourAbove         // the other three "四上" categories
	groupProject           // projects
)

// The seed's figures on the last day.
const (
	seedIndustrial, seedIndustrialResumed = 735, 632
	seedFourAbove, seedFourAboveResumed   = 1775, 1349
	seedProjects, seedProjectsResumed     = 209, 197
	seedProjectStaff, seedProjectOnSite   = 21504, 16644
)

// cityUnit is an enterprise or project of the demo city with its story:
// the day (0 = 13 days ago … 13 = today) it first reports and the day it
// starts working; noDay for never.
type cityUnit struct {
	in       resumption.EnterpriseInput
	group    int
	district string
	first    int
	resume   int
	expected int // staff expected, every day
	onSite   int // staff on site on the last day it works
	capacity int // capacity on the last day it works
	partial  bool
	skipLast bool // has not filed today's report yet
	named    bool // one of demoEnterprises: today's report is filed by demoResumption
	note     string
}

const noDay = demoDays

// districtPlan is how many units of each group a district has, and how
// late it resumes (a higher bias resumes later: 芦淞区 had the sealed 大园社区).
type districtPlan struct {
	code                          string
	industrial, fourAbove, projts int
	bias                          float64
	park                          string
}

var demoDistricts = []districtPlan{
	{"430211", 230, 230, 70, -0.08, "株洲高新区"},
	{"430204", 220, 180, 48, -0.03, "田心高科园"},
	{"430202", 160, 250, 50, 0, "金山科技工业园"},
	{"430203", 125, 380, 41, 0.1, "芦淞服饰产业园"},
}

// Word lists for names.
var (
	demoBrandFirst  = []rune("华恒湘金宏新天云瑞鑫盛泰兴隆顺宇晟博远诚嘉德凯利丰佳安永明鼎中昊炎神")
	demoBrandSecond = []rune("锐通达泰源丰隆科信诚昌航辉联创力威正美和发祥润特")
	demoIndustries  = map[string][]string{
		"industrial":    {"机械制造", "硬质合金", "轨道交通装备", "电子科技", "新材料", "精密铸造", "陶瓷", "化工", "电机", "汽车零部件", "航空零部件", "包装材料", "食品", "制药", "电力设备", "冶金"},
		"garment":       {"服饰", "制衣", "针织", "服装"},
		"construction":  {"建设工程", "建筑工程", "房地产开发", "置业", "路桥建设", "建筑劳务"},
		"trade":         {"商贸", "超市", "餐饮管理", "酒店", "服装批发", "医药连锁", "汽车销售", "农产品批发"},
		"services":      {"物流", "信息技术", "物业管理", "检测技术", "人力资源服务", "软件", "运输", "广告传媒"},
		"projectPlaces": {"车站路", "建设路", "红旗路", "新华路", "长江路", "黄河路", "泰山路", "栗雨", "天台", "田心", "清水塘", "月塘", "贺家土", "庆云", "响石岭", "枫溪"},
		"projectKinds":  {"提质改造工程", "安置房建设项目", "标准厂房项目", "污水管网改造工程", "学校建设项目", "道路拓宽工程", "老旧小区改造项目", "商业综合体项目", "棚户区改造项目", "产业园二期项目", "医院门诊楼项目"},
	}
	demoSurnames      = []rune("王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段")
	demoSuspendNotes  = []string{"片区封控，待解封后复工", "员工未返岗", "原材料未到位", "防疫物资待验收", "等待园区复工审批"}
	demoPartialFactor = 0.6
)

// demoCityUnits generates the city's units (the named demoEnterprises
// first) from a fixed seed.
func demoCityUnits(areas []area.Area) []cityUnit {
	r := rand.New(rand.NewPCG(2022, 1120))
	g := &cityGen{r: r, names: map[string]bool{}, keys: map[string]bool{}, areas: demoAreasByDistrict(areas)}
	units := demoNamedUnits()
	for _, u := range units {
		g.names[u.in.Name], g.keys[u.in.Key] = true, true
	}
	for _, d := range demoDistricts {
		industrial, projects := d.industrial, d.projts
		for _, u := range units {
			if u.district == d.code && u.group == groupIndustrial {
				industrial--
			}
			if u.district == d.code && u.group == groupProject {
				projects--
			}
		}
		for range industrial {
			units = append(units, g.unit(d, groupIndustrial))
		}
		for range d.fourAbove {
			units = append(units, g.unit(d, groupFourAbove))
		}
		for range projects {
			units = append(units, g.unit(d, groupProject))
		}
	}
	planResumption(r, units)
	planProjectStaff(r, units)
	return units
}

// demoNamedUnits are demoEnterprises with their story; their last report
// is the one demoResumption files.
func demoNamedUnits() []cityUnit {
	story := []struct {
		group, resume, onSite, capacity int
		expected                        int
		partial                         bool
	}{
		{groupIndustrial, 0, 2640, 80, 3000, false},
		{groupIndustrial, 0, 1500, 50, 2400, true},
		{groupIndustrial, 3, 1860, 90, 2000, false},
		{groupIndustrial, 6, 310, 60, 400, true},
		{groupProject, noDay, 0, 0, 150, false},
	}
	var out []cityUnit
	for i, in := range demoEnterprises {
		s := story[i]
		out = append(out, cityUnit{in: in, group: s.group, district: in.AreaCode[:6], first: 0, resume: s.resume,
			expected: s.expected, onSite: s.onSite, capacity: s.capacity, partial: s.partial, named: true, note: "片区封控，待解封后复工"})
	}
	return out
}

// demoAreasByDistrict lists the streets and communities of each district.
func demoAreasByDistrict(areas []area.Area) map[string][]string {
	out := map[string][]string{}
	for _, a := range areas {
		if a.Level == area.Street || a.Level == area.Community {
			out[a.Code[:6]] = append(out[a.Code[:6]], a.Code)
		}
	}
	return out
}

// cityGen draws units.
type cityGen struct {
	r      *rand.Rand
	names  map[string]bool
	keys   map[string]bool
	areas  map[string][]string
	serial int
}

func (g *cityGen) pick(list []string) string { return list[g.r.IntN(len(list))] }

// unit draws one unit of group in district d.
func (g *cityGen) unit(d districtPlan, group int) cityUnit {
	in := resumption.EnterpriseInput{Kind: resumption.KindEnterprise, AreaCode: g.pick(g.areas[d.code])}
	in.ContactName = string(demoSurnames[g.r.IntN(len(demoSurnames))]) + []string{"先生", "女士", "经理", "主任"}[g.r.IntN(4)]
	in.ContactPhone = fmt.Sprintf("1%d%09d", 3+g.r.IntN(7), g.r.IntN(1e9))
	switch group {
	case groupIndustrial:
		words := demoIndustries["industrial"]
		if d.code == "430203" && g.r.IntN(3) > 0 {
			words = demoIndustries["garment"]
		}
		in.Name = g.enterpriseName(words)
		in.Categories = []string{string(resumption.IndustrialAboveScale)}
		in.Employees = g.staff(30, 900)
		in.IsKey = g.r.IntN(12) == 0
		in.ClosedLoop = in.Employees > 300 && g.r.IntN(2) == 0
		if g.r.IntN(3) > 0 {
			in.Park = d.park
		}
	case groupFourAbove:
		cat, words := g.fourAboveCategory()
		in.Name = g.enterpriseName(demoIndustries[words])
		in.Categories = []string{string(cat)}
		in.Employees = g.staff(10, 400)
		in.IsKey = g.r.IntN(30) == 0
	default:
		in.Kind = resumption.KindProject
		in.Name = g.projectName()
		in.Employees = g.staff(30, 260)
		in.IsKey = g.r.IntN(8) == 0
		in.ContactName = "项目部" + in.ContactName
	}
	in.Key = g.key(in.Kind, d.code)
	return cityUnit{in: in, group: group, district: d.code, expected: in.Employees}
}

// fourAboveCategory draws one of the three non-industrial categories and
// the word list of its names.
func (g *cityGen) fourAboveCategory() (resumption.Category, string) {
	switch n := g.r.IntN(100); {
	case n < 29:
		return resumption.ConstructionRealEstate, "construction"
	case n < 70:
		return resumption.TradeCateringAboveQuota, "trade"
	default:
		return resumption.ServicesAboveScale, "services"
	}
}

// staff draws a head count between lo and hi, most of them small.
func (g *cityGen) staff(lo, hi int) int {
	x := g.r.Float64()
	return lo + int(float64(hi-lo)*x*x*x)
}

// enterpriseName draws an unused name such as 株洲华锐机械制造有限公司.
func (g *cityGen) enterpriseName(words []string) string {
	for {
		brand := string(demoBrandFirst[g.r.IntN(len(demoBrandFirst))]) + string(demoBrandSecond[g.r.IntN(len(demoBrandSecond))])
		prefix := []string{"株洲", "株洲", "株洲市", "湖南"}[g.r.IntN(4)]
		suffix := []string{"有限公司", "有限公司", "有限责任公司", "股份有限公司"}[g.r.IntN(4)]
		name := prefix + brand + g.pick(words) + suffix
		if !g.names[name] {
			g.names[name] = true
			return name
		}
	}
}

// projectName draws an unused name such as 红旗路提质改造工程.
func (g *cityGen) projectName() string {
	for n := 0; ; n++ {
		name := g.pick(demoIndustries["projectPlaces"]) + g.pick(demoIndustries["projectKinds"])
		if n > 20 {
			name = strings.Replace(name, "项目", fmt.Sprintf("（%s期）项目", []string{"一", "二", "三", "四"}[n%4]), 1)
		}
		if !g.names[name] {
			g.names[name] = true
			return name
		}
	}
}

// key draws an unused credit code registered in district (GB 32100: 9 for
// market regulation, 1 for an enterprise, the district's code, a
// 9-character organisation code, the check character) or a project code.
func (g *cityGen) key(kind resumption.Kind, district string) string {
	for {
		var k string
		if kind == resumption.KindProject {
			g.serial++
			k = fmt.Sprintf("ZZXM-2022-%04d", g.serial)
		} else {
			var b strings.Builder
			b.WriteString("91" + district + "MA4")
			for range 6 {
				b.WriteByte(demoCreditChars[g.r.IntN(len(demoCreditChars))])
			}
			k = demoCreditCode(b.String())
		}
		if !g.keys[k] {
			g.keys[k] = true
			return k
		}
	}
}

// demoCreditChars is the alphabet of credit codes (no I, O, S, V, Z).
const demoCreditChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// demoCreditCode completes 17 characters with the GB 32100 check character.
func demoCreditCode(base string) string {
	sum, w := 0, 1
	for i := range 17 {
		sum += strings.IndexByte(demoCreditChars, base[i]) * w
		w = w * 3 % 31
	}
	return base + string(demoCreditChars[(31-sum%31)%31])
}

// demoCurve is the share of a group's last-day working units already
// working on day k: 30–45% at the start, a logistic climb to all of them.
func demoCurve(start float64, k int) float64 {
	l := func(x int) float64 { return 1 / (1 + math.Exp(-(float64(x)-6)/2)) }
	return start + (1-start)*(l(k)-l(0))/(l(demoDays-1)-l(0))
}

// planResumption gives each generated unit the day it first reports and
// the day it starts working, so that every group's count of working units
// rises every day to the seed's figure on the last.
func planResumption(r *rand.Rand, units []cityUnit) {
	bias := map[string]float64{}
	for _, d := range demoDistricts {
		bias[d.code] = d.bias
	}
	for _, grp := range []struct {
		group, target int
		start         float64
	}{
		{groupIndustrial, seedIndustrialResumed, 0.42},
		{groupFourAbove, seedFourAboveResumed - seedIndustrialResumed, 0.38},
		{groupProject, seedProjectsResumed, 0.3},
	} {
		var gen []*cityUnit
		namedWorking := 0
		for i := range units {
			u := &units[i]
			switch {
			case u.group != grp.group:
			case u.named:
				if u.resume < noDay {
					namedWorking++
				}
			default:
				gen = append(gen, u)
			}
		}
		score := make(map[*cityUnit]float64, len(gen))
		for _, u := range gen {
			score[u] = r.Float64() + bias[u.district]
			if strings.HasPrefix(u.in.AreaCode, "430203001") {
				score[u] += 0.07 // 建设街道, around the sealed 大园社区
			}
		}
		// Who never resumes is drawn alike everywhere; who resumes
		// first leans on the district.
		target := grp.target - namedWorking
		r.Shuffle(len(gen), func(i, j int) { gen[i], gen[j] = gen[j], gen[i] })
		slices.SortStableFunc(gen[:target], func(a, b *cityUnit) int { return cmpFloat(score[a], score[b]) })
		prev := 0
		for k := range demoDays {
			n := max(int(math.Round(float64(target)*demoCurve(grp.start, k))), prev+1)
			if k == demoDays-1 {
				n = target
			}
			for _, u := range gen[prev:n] {
				u.resume = k
			}
			prev = n
		}
		for _, u := range gen[target:] {
			u.resume = noDay
		}
		for _, u := range gen {
			planUnit(r, u)
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// planUnit draws the rest of a unit's story: when it first reports, how
// it ends (capacity, staff on site, partial or not) and whether it has
// filed today's report yet.
func planUnit(r *rand.Rand, u *cityUnit) {
	switch n := r.IntN(100); {
	case n < 72:
		u.first = 0
	case n < 92:
		u.first = 1 + r.IntN(3)
	default:
		u.first = 4 + r.IntN(5)
	}
	if u.resume < noDay {
		u.first = min(u.first, u.resume)
	} else if u.group != groupProject && r.IntN(8) == 0 {
		u.first = noDay // never reported (every project reports its staff)
	}
	u.partial = r.IntN(6) == 0
	u.capacity = 70 + r.IntN(31)
	if u.partial {
		u.capacity = 35 + r.IntN(30)
	}
	u.onSite = int(float64(u.expected) * (0.7 + 0.3*r.Float64()))
	u.note = demoSuspendNotes[r.IntN(len(demoSuspendNotes))]
	u.skipLast = u.group != groupProject && u.first < demoDays-1 && u.resume < demoDays-1 && r.IntN(20) == 0
}

// planProjectStaff scales the generated projects' staff so that the last
// day's project figures are the seed's: 21,504 expected, 16,644 on site.
func planProjectStaff(r *rand.Rand, units []cityUnit) {
	var gen []*cityUnit
	expected, named := 0, 0
	for i := range units {
		u := &units[i]
		if u.group != groupProject {
			continue
		}
		if u.named {
			named += u.expected
			continue
		}
		gen = append(gen, u)
		expected += u.expected
	}
	want := seedProjectStaff - named
	sum := 0
	for _, u := range gen {
		u.expected = max(10, u.expected*want/expected)
		sum += u.expected
	}
	for i := 0; sum != want; i = (i + 1) % len(gen) {
		step := 1
		if sum > want {
			step = -1
		}
		if u := gen[i]; u.expected+step >= 10 {
			u.expected += step
			u.in.Employees = u.expected
			sum += step
		}
	}
	var working []*cityUnit
	workingExpected := 0
	for _, u := range gen {
		u.in.Employees = u.expected
		u.onSite = 0
		if u.resume < noDay {
			working = append(working, u)
			workingExpected += u.expected
		}
	}
	ratio := float64(seedProjectOnSite) / float64(workingExpected)
	onSite := 0
	for _, u := range working {
		u.onSite = min(u.expected, int(float64(u.expected)*(ratio+0.1*(r.Float64()-0.5))))
		onSite += u.onSite
	}
	for i := 0; onSite != seedProjectOnSite; i = (i + 1) % len(working) {
		u := working[i]
		if onSite < seedProjectOnSite && u.onSite < u.expected {
			u.onSite++
			onSite++
		} else if onSite > seedProjectOnSite && u.onSite > 0 {
			u.onSite--
			onSite--
		}
	}
}
