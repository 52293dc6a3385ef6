package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/masstest"
)

// The demo's mass testing (全员核酸): 大园社区, one of the first sealed
// areas, has its register — three estates, about three hundred
// households — and fifteen rounds of testing, one a day up to yesterday,
// door to door at first, the missed households fewer round after round;
// the last round's results are in, and a pooled tube came back positive,
// whose ten residents wait on the retest list. Today's round is open: the
// collectors' page has a round to sample in.

const (
	demoTestingCommunity = "430203001001" // 大园社区
	demoTestingRounds    = 15
	demoTestingLab       = "株洲市疾控中心实验室"
)

// demoEstate is an estate of 大园社区: buildings × units × floors × two
// rooms a floor.
type demoEstate struct {
	name                     string
	buildings, units, floors int
}

var demoEstates = []demoEstate{{"大园小区", 6, 2, 6}, {"建设新村", 4, 1, 6}, {"芦淞花园", 5, 2, 5}}

var (
	demoGiven = []string{"建国", "秀英", "桂英", "志强", "丽华", "海燕", "伟", "芳", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "霞", "平", "刚", "玉兰", "子涵", "雨萱", "浩然", "梓轩", "一诺", "欣怡"}
)

// demoHash is a stable number for a key.
func demoHash(format string, a ...any) uint32 {
	h := fnv.New32a()
	fmt.Fprintf(h, format, a...)
	return h.Sum32()
}

// demoRegisterCSV is 大园社区's register as its community workers would
// upload it: one row a resident.
func demoRegisterCSV(now time.Time) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"社区代码", "小区", "楼栋", "单元", "房号", "姓名", "身份证号", "手机号", "出生年份", "标记", "状态"})
	n := 0
	for ei, e := range demoEstates {
		for bi := 1; bi <= e.buildings; bi++ {
			for u := 1; u <= e.units; u++ {
				for fl := 1; fl <= e.floors; fl++ {
					for room := 1; room <= 2; room++ {
						size := 1 + int(demoHash("%d/%d/%d/%d/%d", ei, bi, u, fl, room)%4)
						for k := 0; k < size; k++ {
							n++
							w.Write(demoResidentRow(now, e, bi, u, fl*100+room, k, n))
						}
					}
				}
			}
		}
	}
	w.Flush()
	return b.Bytes()
}

// demoResidentRow is the nth resident, the kth of their household.
func demoResidentRow(now time.Time, e demoEstate, building, unit, room, k, n int) []string {
	h := demoHash("resident/%d", n)
	year := 1940 + int(h%62)
	flags, status := "", "在住"
	switch {
	case k == 2 && h%3 == 0:
		year = now.Year() - 1 // an infant
		flags = "婴幼儿"
	case year < 1950 && h%2 == 0:
		flags = "独居老人"
	case year < 1955 && h%5 == 1:
		flags = "行动不便"
	case h%97 == 5:
		flags = "卧床"
	}
	if h%61 == 7 {
		status = "外出"
	}
	name := string(demoSurnames[h%uint32(len(demoSurnames))]) + demoGiven[(h/7)%uint32(len(demoGiven))]
	id := demoIDNumber(fmt.Sprintf("430203%04d%02d%02d%03d", year, 1+h%12, 1+(h/13)%28, n%1000))
	phone := fmt.Sprintf("139%08d", 7330000+n)
	return []string{demoTestingCommunity, e.name, strconv.Itoa(building) + "栋", strconv.Itoa(unit) + "单元", strconv.Itoa(room), name, id,
		phone, strconv.Itoa(year), flags, status}
}

// demoTesting loads the register and replays the rounds on a clock of
// their own. It does nothing once 大园社区 has households.
func demoTesting(ctx context.Context, sys *System) error {
	sysP := auth.System()
	if page, err := sys.Testing.ListHouseholds(ctx, sysP, masstest.HouseholdFilter{Area: demoTestingCommunity, Page: 1, PerPage: 1}); err != nil {
		return fmt.Errorf("demo: households: %w", err)
	} else if len(page.Items) > 0 {
		return nil
	}
	now := sys.DB.Clock.Now()
	first := demoDay(now, demoDays-1-demoTestingRounds)
	clk := clock.NewManual(first.Add(-2 * time.Hour))
	h := wireSystem(sys.DB.WithClock(clk), sys.Box, sys.DataDir, sys.Log, wiring{})
	ps, err := demoPrincipals(ctx, sys, "dayuan", "hesuan", "volunteer")
	if err != nil {
		return err
	}
	dayuan, hesuan := ps[0], ps[1]
	if _, err := h.Testing.ImportHouseholds(ctx, dayuan, demoRegisterCSV(now)); err != nil {
		return fmt.Errorf("demo: register: %w", err)
	}
	c, err := h.Testing.CreateCampaign(ctx, hesuan, masstest.CampaignInput{Name: "芦淞区全员核酸检测", AreaCode: "430203"})
	if err != nil {
		return fmt.Errorf("demo: campaign: %w", err)
	}
	ref := strconv.FormatInt(c.ID, 10)
	for _, s := range []masstest.SiteInput{
		{Name: "大园社区文化广场采样点", Place: "建设南路大园社区文化广场", AreaCode: demoTestingCommunity, Hours: "07:00-21:00"},
		{Name: "芦淞花园南门采样点", Place: "芦淞花园南门", AreaCode: demoTestingCommunity, Hours: "07:00-12:00, 14:00-19:00"},
	} {
		if _, err := h.Testing.CreateSite(ctx, hesuan, ref, s); err != nil {
			return fmt.Errorf("demo: site: %w", err)
		}
	}
	if _, err := h.Testing.CreateTeam(ctx, hesuan, ref, masstest.TeamInput{Name: "大园社区上门采样队", AreaCode: demoTestingCommunity,
		Members: []masstest.TeamMember{{Username: "dayuan", Kind: masstest.MemberCommunityWorker},
			{Username: "volunteer", Kind: masstest.MemberVolunteer}}}); err != nil {
		return fmt.Errorf("demo: team: %w", err)
	}
	sites, err := h.Testing.Sites(ctx, hesuan, ref)
	if err != nil {
		return err
	}
	for k := 1; k <= demoTestingRounds; k++ {
		day := demoDay(now, demoDays-1-demoTestingRounds+k-1)
		if err := demoTestingRound(ctx, h, clk, c.ID, sites[0].ID, k, day, nil); err != nil {
			return err
		}
	}
	// Today's round, open all day: what was sampled so far.
	return demoTestingRound(ctx, h, clk, c.ID, sites[0].ID, demoTestingRounds+1, demoDay(now, demoDays-1), &now)
}
