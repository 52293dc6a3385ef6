package resumption

// "No data" on the statistics pages: a group without reports shows "—"
// rather than 0.0%, and its chart point is null (a gap in ECharts).

// pageNoData is what a cell without data shows.
const pageNoData = "—"

// pageGroupPct is a group's rate in percent, or "—" without data.
func pageGroupPct(g GroupStat) string {
	if !g.HasRate() {
		return pageNoData
	}
	return pagePct(g.Rate)
}

// pageStaffPct is a staff rate in percent, or "—" without staff expected.
func pageStaffPct(s StaffStat) string {
	if !s.HasRate() {
		return pageNoData
	}
	return pagePct(s.Rate)
}

// pageChartPct is a chart point in percent, nil without data.
func pageChartPct(r float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return pageNum(pageRatioPct(r))
}

// pageChartGroup is a group's chart point.
func pageChartGroup(g GroupStat) *float64 { return pageChartPct(g.Rate, g.HasRate()) }

// pageNum is a chart point.
func pageNum(v float64) *float64 { return &v }
