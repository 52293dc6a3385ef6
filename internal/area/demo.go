package area

import "tongxin/internal/auth"

// DemoCity returns the demo data of 株洲市: the city and its nine
// county-level divisions (GB/T 2260 codes), streets and communities of the
// four urban districts (codes below district level are the project's own),
// two grids of 大园社区, the city departments named in the seed and the
// headquarters' work groups. Areas come top down. Only 市工信局 reviews
// passes and manages the resumption registry; the other departments handle
// the tickets routed to them. Of the work groups, 全员核酸检测组 manages
// the testing campaigns city-wide (testing_manage).
func DemoCity() (areas []Area, depts []Department, groups []Workgroup) {
	const city = "430200"
	add := func(code, name string, level Level, parent string) {
		areas = append(areas, Area{Code: code, Name: name, Level: level, ParentCode: parent, Depth: level.Depth()})
	}
	add(city, "株洲市", City, "")
	districts := []struct{ code, name string }{
		{"430202", "荷塘区"}, {"430203", "芦淞区"}, {"430204", "石峰区"}, {"430211", "天元区"}, {"430212", "渌口区"},
		{"430223", "攸县"}, {"430224", "茶陵县"}, {"430225", "炎陵县"}, {"430281", "醴陵市"},
	}
	for _, d := range districts {
		add(d.code, d.name, District, city)
	}
	type street struct {
		code, name  string
		communities []string // names; codes are the street's code + 001, 002, …
	}
	streets := []street{
		{"430202001", "月塘街道", []string{"月塘社区", "樟树坡社区"}},
		{"430202002", "宋家桥街道", []string{"宋家桥社区", "文化路社区"}},
		{"430202003", "茨菇塘街道", []string{"茨菇塘社区", "新塘社区"}},
		{"430203001", "建设街道", []string{"大园社区", "古大桥社区", "新华桥社区"}},
		{"430203002", "贺家土街道", []string{"贺家土社区", "杉木塘社区"}},
		{"430203003", "庆云街道", []string{"庆云社区", "中心广场社区"}},
		{"430204001", "井龙街道", []string{"郭家塘村", "井龙社区", "新利社区"}},
		{"430204002", "响石岭街道", []string{"响石岭社区", "湘氮社区"}},
		{"430204003", "清水塘街道", []string{"清水塘社区", "霞湾社区"}},
		{"430211001", "嵩山路街道", []string{"嵩山社区", "天台社区"}},
		{"430211002", "泰山路街道", []string{"泰山社区", "华强社区"}},
		{"430211003", "栗雨街道", []string{"栗雨社区", "湘芸社区"}},
		{"430212001", "渌口镇", []string{"渌口社区"}},
		{"430223001", "联星街道", []string{"城关社区"}},
		{"430224001", "思聪街道", []string{"云阳社区"}},
		{"430225001", "霞阳镇", []string{"霞阳社区"}},
		{"430281001", "来龙门街道", []string{"来龙门社区"}},
	}
	for _, s := range streets {
		add(s.code, s.name, Street, s.code[:6])
	}
	for _, s := range streets {
		for i, name := range s.communities {
			add(s.code+threeDigits(i+1), name, Community, s.code)
		}
	}
	add("430203001001001", "庐山春天网格", Grid, "430203001001")
	add("430203001001002", "早安华庭网格", Grid, "430203001001")

	depts = []Department{
		{Code: "wjw", Name: "市卫健委", AreaCode: city},
		{Code: "gxj", Name: "市工信局", AreaCode: city, Capabilities: []auth.Capability{auth.CapPassReview, auth.CapResumptionManage}},
		{Code: "mzj", Name: "市民政局", AreaCode: city},
		{Code: "jtj", Name: "市交通运输局", AreaCode: city},
		{Code: "gaj", Name: "市公安局", AreaCode: city},
		{Code: "mch", Name: "市贸促会", AreaCode: city},
		{Code: "swj", Name: "市商务局", AreaCode: city},
		{Code: "ls_wjj", Name: "芦淞区卫健局", AreaCode: "430203"},
		{Code: "sf_jw", Name: "石峰区纪委监委", AreaCode: "430204"},
	}
	groups = []Workgroup{
		{Code: "testing", Name: "全员核酸检测组", AreaCode: city, Remit: "组织全员核酸检测的轮次、采样点和上门采样，确保不漏一户、不漏一人",
			Capabilities: []auth.Capability{auth.CapTestingManage}},
		{Code: "central_quarantine", Name: "集中隔离管控组", AreaCode: city, Remit: "统筹集中隔离场所和房间，负责隔离人员的转运、管理和解除",
			Capabilities: []auth.Capability{auth.CapCentralQuarantine}},
		{Code: "home_quarantine", Name: "居家隔离管控组", AreaCode: city, Remit: "落实居家隔离人员的登记、健康监测和上门服务",
			Capabilities: []auth.Capability{auth.CapHomeQuarantine}},
		{Code: "tracing", Name: "流调溯源和重点人员排查组", AreaCode: city, Remit: "开展病例流调溯源，排查管控密接、次密接和重点人员"},
		{Code: "traffic", Name: "交通管控组", AreaCode: city, Remit: "设置和管理卡口，发布交通管制通告，保障应急和保供通道畅通"},
		{Code: "mobilisation", Name: "社会动员组(社区防控组)", AreaCode: city, Remit: "指导社区防控，组织党员干部和志愿者下沉社区参与服务"},
		{Code: "supply_enterprise", Name: "防疫物资保障和企业服务组", AreaCode: city, Remit: "保障防疫和生活物资供应，服务企业复工复产，协调解决企业困难"},
	}
	return areas, depts, groups
}

// threeDigits renders 1…999 as "001"…"999".
func threeDigits(n int) string {
	return string([]byte{byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)})
}
