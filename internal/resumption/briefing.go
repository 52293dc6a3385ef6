package resumption

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// The briefing paragraph (简报) states the statistics in the newspaper's
// register: "截至11月20日下午5点，城区复工项目共计197个，复工率为94.3%，…".
// Rates are rounded as the newspaper rounds them: projects and staff to one
// decimal, enterprises to whole percent, power recovery to two decimals;
// loads are written in 万千瓦. Sentences whose figures are absent are left
// out: a group without units, or none of whose units reported, has no
// rate to state. With date= the paragraph speaks of the report date
// ("截至11月20日").

// Briefing is the paragraph in Chinese and English with the figures it
// states.
type Briefing struct {
	AsOf  time.Time `json:"as_of"`
	Area  string    `json:"area"`
	ZH    string    `json:"zh"`
	EN    string    `json:"en"`
	Stats *Stats    `json:"stats"`
}

// urbanDistricts are, per city, the districts its headquarters calls
// "城区" (the urban area). GB/T 2260 does not tell them apart from the
// suburban districts (渌口区 is a 市辖区 too), so they are listed here. Never
// modified.
var urbanDistricts = map[string][]string{
	"430200": {"430202", "430203", "430204", "430211"}, // 株洲市: 荷塘区, 芦淞区, 石峰区, 天元区
}

// Briefing returns the briefing paragraph for the statistics of q.
func (s *Service) Briefing(ctx context.Context, p *auth.Principal, q StatsQuery) (*Briefing, error) {
	const op = "resumption.Briefing"
	var out *Briefing
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		st, sc, err := s.statsIn(ctx, tx, p, q, op)
		if err != nil {
			return err
		}
		zhArea, enArea := areaPhrases(sc.areas)
		out = &Briefing{AsOf: st.AsOf, Area: st.Area, Stats: st,
			ZH: briefingZH(st, zhArea), EN: briefingEN(st, enArea)}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// areaPhrases names the areas in the paragraph: "城区" for exactly a
// city's urban districts, "全市" for one city, else their names.
func areaPhrases(areas []areaRef) (zh, en string) {
	codes := make([]string, len(areas))
	names := make([]string, len(areas))
	for i, a := range areas {
		codes[i], names[i] = a.Code, a.Name
	}
	slices.Sort(codes)
	for _, urban := range urbanDistricts {
		if slices.Equal(codes, urban) {
			return "城区", "the urban districts"
		}
	}
	if len(areas) == 1 && areas[0].Level == "city" {
		return "全市", "the city"
	}
	return strings.Join(names, "、"), strings.Join(names, ", ")
}

// pct is a/b in percent rounded to dec decimals.
func pct(a, b float64, dec int) float64 {
	if b == 0 {
		return 0
	}
	f := math.Pow10(dec)
	return math.Round(a/b*100*f) / f
}

// pctText writes a percentage rounded to dec decimals without trailing
// zeros ("86", "94.3").
func pctText(a, b float64, dec int) string {
	return strconv.FormatFloat(pct(a, b, dec), 'f', -1, 64)
}

// recoveryText writes a power recovery in percent with two decimals.
func recoveryText(load, baseline float64) string {
	return strconv.FormatFloat(pct(load, baseline, 2), 'f', 2, 64)
}

// wanText writes kW in 万千瓦 (10,000 kW) with at most two decimals.
func wanText(kw float64) string {
	return strconv.FormatFloat(math.Round(kw/100)/100, 'f', -1, 64)
}

// grouped writes n with thousands separators (English).
func grouped(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// loadEN writes kW for English readers: "59.65 million kW", "527,100 kW".
func loadEN(kw float64) string {
	if kw >= 1e6 {
		return strconv.FormatFloat(math.Round(kw/1e4)/100, 'f', -1, 64) + " million kW"
	}
	return grouped(int64(math.Round(kw))) + " kW"
}

// timeZH writes "11月20日下午5点" (minutes when not on the hour).
func timeZH(t time.Time) string {
	t = t.In(clock.Shanghai)
	h := t.Hour()
	var part string
	switch {
	case h < 6:
		part = "凌晨"
	case h < 12:
		part = "上午"
	case h == 12:
		part = "中午"
	case h < 18:
		part, h = "下午", h-12
	default:
		part, h = "晚上", h-12
	}
	s := fmt.Sprintf("%d月%d日%s%d点", int(t.Month()), t.Day(), part, h)
	if t.Minute() != 0 {
		s += fmt.Sprintf("%d分", t.Minute())
	}
	return s
}

// timeEN writes "5 p.m. on 20 November" ("5:30 p.m." off the hour).
func timeEN(t time.Time) string {
	t = t.In(clock.Shanghai)
	h, suffix := t.Hour(), "a.m."
	if h >= 12 {
		suffix = "p.m."
	}
	if h = h % 12; h == 0 {
		h = 12
	}
	clockText := strconv.Itoa(h)
	if t.Minute() != 0 {
		clockText += fmt.Sprintf(":%02d", t.Minute())
	}
	return fmt.Sprintf("%s %s on %d %s", clockText, suffix, t.Day(), t.Month())
}

// dateZH writes "2022-11-19" as "11月19日".
func dateZH(date string) string {
	d, err := time.Parse(DateLayout, date)
	if err != nil {
		return date
	}
	return fmt.Sprintf("%d月%d日", int(d.Month()), d.Day())
}

// dateEN writes "2022-11-19" as "19 November".
func dateEN(date string) string {
	d, err := time.Parse(DateLayout, date)
	if err != nil {
		return date
	}
	return fmt.Sprintf("%d %s", d.Day(), d.Month())
}

// powerPart is one load figure of the power sentence.
type powerPart struct {
	zhLabel, enLabel string
	stat             PowerStat
}

// powerParts lists the figures the power sentence states: the city's and
// districts' industrial loads, then the parks' total.
func powerParts(st *Stats) []powerPart {
	var out []powerPart
	parks := 0
	for _, p := range st.Power {
		switch {
		case p.Scope == ScopeCityIndustrial:
			out = append(out, powerPart{"全市工业负荷", "the city's maximum industrial load", p})
		case strings.HasPrefix(p.Scope, ScopeDistrictIndustrial+":"):
			out = append(out, powerPart{p.Name + "负荷", "the maximum load of " + p.Name, p})
		case strings.HasPrefix(p.Scope, ScopePark+":"):
			parks++
		}
	}
	if total, ok := st.ParksTotal(); ok {
		if parks == 1 {
			for _, p := range st.Power {
				if strings.HasPrefix(p.Scope, ScopePark+":") {
					out = append(out, powerPart{p.Name + "负荷", "the maximum load of " + p.Name, p})
				}
			}
		} else {
			out = append(out, powerPart{"园区总负荷", "the industrial parks' total maximum load", total})
		}
	}
	return out
}

// briefingZH writes the Chinese paragraph.
func briefingZH(st *Stats, areaPhrase string) string {
	var b strings.Builder
	lead := "截至" + whenZH(st) + "，" + areaPhrase
	proj, projStaff := st.Group(GroupProject), st.StaffOf(GroupProject)
	four, ind := st.Group(GroupFourAbove), st.Group(string(IndustrialAboveScale))
	if proj.HasRate() {
		fmt.Fprintf(&b, "%s复工项目共计%d个，复工率为%s%%", lead, proj.Resumed, pctText(float64(proj.Resumed), float64(proj.Total), 1))
		if projStaff.Expected > 0 {
			fmt.Fprintf(&b, "，累计到位员工%d人，到位率为%s%%", projStaff.OnSite,
				pctText(float64(projStaff.OnSite), float64(projStaff.Expected), 1))
		}
		b.WriteString("。")
	}
	if four.HasRate() {
		if b.Len() > 0 {
			b.WriteString("同时，")
		} else {
			b.WriteString(lead)
		}
		fmt.Fprintf(&b, "重点行业“四上”企业复工复产累计%d家，复工复产率为%s%%", four.Resumed,
			pctText(float64(four.Resumed), float64(four.Total), 0))
		if ind.HasRate() {
			fmt.Fprintf(&b, "，其中规模以上工业企业%d家，复工复产率达%s%%", ind.Resumed,
				pctText(float64(ind.Resumed), float64(ind.Total), 0))
		}
		b.WriteString("。")
	}
	if b.Len() == 0 {
		b.WriteString(lead + "暂无企业和项目复工复产数据。")
	}
	parts := powerParts(st)
	for i, p := range parts {
		if i == 0 {
			b.WriteString("从电力数据来看，")
		} else {
			b.WriteString("，")
		}
		if i == 0 || p.stat.Date != parts[i-1].stat.Date {
			b.WriteString("截至" + dateZH(p.stat.Date) + "，")
		}
		again := "恢复至"
		if i == 0 {
			again = "已恢复至"
		}
		fmt.Fprintf(&b, "%s最大值为%s万千瓦，%s疫情前的%s%%", p.zhLabel, wanText(p.stat.MaxLoadKW), again,
			recoveryText(p.stat.MaxLoadKW, p.stat.BaselineKW))
	}
	if len(parts) > 0 {
		b.WriteString("。")
	}
	return b.String()
}

// briefingEN writes the English rendering, with the same figures.
func briefingEN(st *Stats, areaPhrase string) string {
	var b strings.Builder
	where := ""
	if areaPhrase != "" {
		where = " in " + areaPhrase
	}
	lead := "As of " + whenEN(st) + ", "
	proj, projStaff := st.Group(GroupProject), st.StaffOf(GroupProject)
	four, ind := st.Group(GroupFourAbove), st.Group(string(IndustrialAboveScale))
	if proj.HasRate() {
		fmt.Fprintf(&b, "%s%s projects%s had resumed work, a resumption rate of %s%%", lead, grouped(int64(proj.Resumed)), where,
			pctText(float64(proj.Resumed), float64(proj.Total), 1))
		if projStaff.Expected > 0 {
			fmt.Fprintf(&b, ", with %s workers on site, an on-site rate of %s%%", grouped(int64(projStaff.OnSite)),
				pctText(float64(projStaff.OnSite), float64(projStaff.Expected), 1))
		}
		b.WriteString(".")
	}
	if four.HasRate() {
		in := where
		if b.Len() > 0 {
			b.WriteString(" Meanwhile, ")
			in = ""
		} else {
			b.WriteString(lead)
		}
		fmt.Fprintf(&b, "%s \"four above\" enterprises in key sectors%s had resumed work and production, a rate of %s%%",
			grouped(int64(four.Resumed)), in, pctText(float64(four.Resumed), float64(four.Total), 0))
		if ind.HasRate() {
			fmt.Fprintf(&b, ", including %s above-scale industrial enterprises, a rate of %s%%", grouped(int64(ind.Resumed)),
				pctText(float64(ind.Resumed), float64(ind.Total), 0))
		}
		b.WriteString(".")
	}
	if b.Len() == 0 {
		fmt.Fprintf(&b, "%sno enterprise or project%s had reported on its resumption of work.", lead, where)
	}
	parts := powerParts(st)
	for i, p := range parts {
		if i == 0 {
			b.WriteString(" According to power data, ")
		} else {
			b.WriteString(", and ")
		}
		if i == 0 || p.stat.Date != parts[i-1].stat.Date {
			b.WriteString("as of " + dateEN(p.stat.Date) + ", ")
		}
		fmt.Fprintf(&b, "%s was %s, back to %s%% of the pre-epidemic level", p.enLabel, loadEN(p.stat.MaxLoadKW),
			recoveryText(p.stat.MaxLoadKW, p.stat.BaselineKW))
	}
	if len(parts) > 0 {
		b.WriteString(".")
	}
	return b.String()
}
