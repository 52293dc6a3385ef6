package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/ticket"
)

// The demo's two weeks of tickets are replayed through the services on a
// clock of their own (db.DB.WithClock) that walks from the first filing to
// now, the sweeper running every half hour of it: so every ticket, its
// timeline, deadlines, escalations, notifications and audit rows are what
// the services write, dated when they happened.

// demoTicketCase is a ticket of the demo's history: filed on day (0 = 13
// days ago) at a time of day by filer, answered (in_progress) after
// respond and resolved after resolve (0: never) by handler.
type demoTicketCase struct {
	day              int
	at               time.Duration
	filer            string
	in               ticket.Input
	respond, resolve time.Duration
	handler          string
	note             string
	confirm          bool // the reporter confirms a day after
}

// demoHotlineCalls are what residents and firms called or wrote about,
// with the category, urgency, the handling note and who handles.
var demoHotlineCalls = []struct {
	category string
	urgency  ticket.Urgency
	desc     string
	note     string
}{
	{"food", ticket.Normal, "小区封控第三天，家中蔬菜和米面快吃完了，团购一直没送到。", "社区已协调保供超市上门配送，今日送达。"},
	{"medical", ticket.Critical, "孕妇 37 周出现腹痛，小区封控无法出门，请求安排车辆送医。", "已安排专车闭环转运至市妇幼保健院。"},
	{"elderly_care", ticket.Urgent, "独居老人腿脚不便，降压药只剩两天的量，子女在外地。", "已联系社区医生上门送药并建立每日问候。"},
	{"logistics", ticket.Urgent, "外地发来的原材料卡在高速出口，司机无法进城卸货。", "已协调物资接驳点，由本地车辆接驳进厂。"},
	{"materials", ticket.Normal, "包装材料供应商在封控区内，无法发货，影响下周交付。", "已协调供应商闭环生产并开具通行证明。"},
	{"staff_passes", ticket.Normal, "车间 20 名员工住在管控小区，无法到岗，申请办理通行证。", "已指导企业上传白名单，工信局当日审核。"},
	{"utilities", ticket.Urgent, "园区厂房停电，冷库药品需要持续供电，请协调抢修。", "供电公司已恢复供电，冷库温度正常。"},
	{"other", ticket.Normal, "小区门口核酸采样点排队过长，老人站不住，建议增设座椅。", "已增设座椅并开设老人优先通道。"},
	{"food", ticket.Urgent, "婴儿奶粉断货，附近药店和超市都买不到，请帮忙协调。", "已联系母婴店配送两罐奶粉。"},
	{"medical", ticket.Urgent, "尿毒症患者每周需透析三次，封控期间出行困难。", "已安排社区专车定时接送透析。"},
	{"elderly_care", ticket.Normal, "楼上老人家中无人应门，邻居担心其身体状况。", "社区网格员上门查看，老人安好，已留联系方式。"},
	{"other", ticket.Normal, "小区垃圾两天未清运，楼道有异味。", "已协调环卫加派车辆清运，并每日两次消杀。"},
	{"logistics", ticket.Normal, "快递站点停运，网购的药品滞留在分拣中心。", "已协调快递企业闭环配送药品。"},
	{"food", ticket.Normal, "购买的平价蔬菜包少了一份，请核实。", "已补送一份蔬菜包。"},
	{"staff_passes", ticket.Urgent, "医院护工住在封控区，白名单卡过期，无法上班。", "已重新核发通行证。"},
	{"other", ticket.Normal, "有人在小区内聚集打牌，未佩戴口罩。", "社区已上门劝导并加强巡查。"},
}

// demoResidentNames are fictional callers.
var demoResidentNames = []string{"张桂英", "李建华", "王淑芬", "刘志明", "陈秀兰", "杨国庆", "赵丽娟", "黄卫东", "周小红", "吴德胜", "徐美玲", "孙长江"}

// demoTicketCases lays the calls out over the two weeks: three a day,
// most answered within the hour and resolved the same day, every seventh
// never answered (it climbs to the HQ), every seventh but one answered
// late after escalation, a few still in progress.
func demoTicketCases(now time.Time, communities []string) []demoTicketCase {
	var out []demoTicketCase
	n := 0
	for day := 0; day < demoDays; day++ {
		for slot := range 3 {
			call := demoHotlineCalls[n%len(demoHotlineCalls)]
			c := demoTicketCase{day: day, at: time.Duration(8+4*slot)*time.Hour + time.Duration(n*7%50)*time.Minute,
				filer: "hotline", note: call.note}
			area := communities[n*5%len(communities)]
			if n%4 == 0 {
				area = "430203001001" // 大园社区 calls most
			}
			c.in = ticket.Input{Category: call.category, Urgency: call.urgency, Channel: ticket.ChannelHotline, AreaCode: area,
				Address: fmt.Sprintf("%d 栋 %d 单元 %d", 1+n%18, 1+n%3, 101+n%6*100+n%4), Description: call.desc,
				ReporterName: demoResidentNames[n%len(demoResidentNames)], ReporterPhone: fmt.Sprintf("1397331%04d", 1000+n*37%9000)}
			if call.category == "materials" || call.category == "utilities" || call.category == "logistics" && n%2 == 0 {
				c.filer, c.confirm = "qianjin", true
				c.in = ticket.Input{Category: call.category, Urgency: call.urgency, Channel: ticket.ChannelWeb,
					Enterprise: demoPassEnterprise, Description: call.desc}
			}
			c.handler = demoHandler(c.in)
			switch {
			case n%7 == 0:
				// Nobody answers: it climbs to the HQ and waits there.
			case n%7 == 3:
				c.respond, c.resolve, c.handler = 5*time.Hour, 26*time.Hour, "hqstaff"
			case n%7 == 5 && day >= demoDays-3:
				c.respond = 40 * time.Minute // still in progress
			default:
				c.respond = time.Duration(15+n*11%45) * time.Minute
				c.resolve = time.Duration(3+n%9) * time.Hour
			}
			out = append(out, c)
			n++
		}
	}
	// Today's last calls: not answered yet, one of them nearly due.
	for i, ago := range []time.Duration{95 * time.Minute, 20 * time.Minute} {
		call := demoHotlineCalls[i]
		start := demoDay(now, demoDays-1)
		out = append(out, demoTicketCase{day: demoDays - 1, at: max(now.Sub(start)-ago, 0), filer: "hotline",
			in: ticket.Input{Category: call.category, Urgency: ticket.Normal, Channel: ticket.ChannelHotline,
				AreaCode: "430203001001", Address: "沿江路 6 号", Description: call.desc,
				ReporterName: demoResidentNames[i], ReporterPhone: fmt.Sprintf("1367331%04d", 2000+i)}})
	}
	return out
}

// demoHandler is the demo account that handles a ticket: the department
// it is routed to when the demo has one of its officers, else the office
// of its area (the HQ staff outside 芦淞区).
func demoHandler(in ticket.Input) string {
	switch in.Category {
	case "materials", "staff_passes", "utilities":
		return "gxj"
	case "elderly_care":
		return "minzheng"
	}
	switch a := in.AreaCode; {
	case a == "430203001001":
		return "dayuan"
	case len(a) >= 9 && a[:9] == "430203001":
		return "jianshe"
	case len(a) >= 6 && a[:6] == "430203":
		return "lusong"
	}
	return "hqstaff"
}

// demoEvent is one step of the replay.
type demoEvent struct {
	at time.Time
	do func(ctx context.Context, h *System) error
}

// demoHistory replays the two weeks of tickets, passes and scans. Each
// part does nothing once it exists: the tickets once the desk has more
// than the four demoTickets files, passes and scans once the contact of
// 中车 exists.
func demoHistory(ctx context.Context, sys *System) error {
	now := sys.DB.Clock.Now()
	events, err := demoTicketEvents(ctx, sys, now)
	if err != nil {
		return err
	}
	st := &passState{tokens: map[string][]string{}}
	passes, err := demoPassEvents(ctx, sys, now, st)
	if err != nil {
		return err
	}
	if len(passes) > 0 {
		scans, err := demoScanEvents(ctx, sys, now, st)
		if err != nil {
			return err
		}
		events = append(append(events, passes...), scans...)
	}
	return replay(ctx, sys, events, now)
}

// demoTicketEvents are the events of the ticket cases, none once the desk
// has more than the four tickets demoTickets files.
func demoTicketEvents(ctx context.Context, sys *System, now time.Time) ([]demoEvent, error) {
	if list, err := sys.Tickets.List(ctx, auth.System(), ticket.Filter{Limit: 5}); err != nil {
		return nil, fmt.Errorf("demo: tickets: %w", err)
	} else if len(list) > 4 {
		return nil, nil
	}
	areas, _, _ := area.DemoCity()
	var communities []string
	for _, a := range areas {
		if a.Level == area.Community && slices.Contains([]string{"430202", "430203", "430204", "430211"}, a.Code[:6]) {
			communities = append(communities, a.Code)
		}
	}
	var events []demoEvent
	for _, c := range demoTicketCases(now, communities) {
		events = append(events, c.events(demoDay(now, c.day).Add(c.at), now)...)
	}
	return events, nil
}

// events are the steps of one case filed at filed, none after now.
func (c demoTicketCase) events(filed, now time.Time) []demoEvent {
	var tracking string
	out := []demoEvent{{filed, func(ctx context.Context, h *System) error {
		p, err := demoPrincipal(ctx, h, c.filer)
		if err != nil {
			return err
		}
		t, err := h.Tickets.Create(ctx, p, c.in)
		if err != nil {
			return fmt.Errorf("demo: ticket %q: %w", c.in.Description, err)
		}
		tracking = t.Tracking
		return nil
	}}}
	step := func(after time.Duration, who string, in ticket.TransitionInput) {
		if after == 0 || filed.Add(after).After(now) {
			return
		}
		out = append(out, demoEvent{filed.Add(after), func(ctx context.Context, h *System) error {
			p, err := demoPrincipal(ctx, h, who)
			if err != nil {
				return err
			}
			if _, err := h.Tickets.Transition(ctx, p, tracking, in); err != nil {
				return fmt.Errorf("demo: ticket %s to %s by %s: %w", tracking, in.To, who, err)
			}
			return nil
		}})
	}
	step(c.respond, c.handler, ticket.TransitionInput{To: ticket.InProgress})
	if c.respond != 0 {
		step(c.resolve, c.handler, ticket.TransitionInput{To: ticket.Resolved, Note: c.note})
	}
	if c.confirm && c.resolve != 0 && c.respond != 0 {
		step(c.resolve+24*time.Hour, c.filer, ticket.TransitionInput{To: ticket.Confirmed, Note: "问题已解决，谢谢。"})
	}
	return out
}

// demoPrincipal is the principal of a demo account.
func demoPrincipal(ctx context.Context, sys *System, username string) (*auth.Principal, error) {
	id, roles, err := sys.Auth.LookupUser(ctx, username)
	if err != nil {
		return nil, fmt.Errorf("demo: user %s: %w", username, err)
	}
	return &auth.Principal{UserID: id, Username: username, Assignments: roles}, nil
}

// replay runs events in time order through services on a clock of their
// own, sweeping the tickets every half hour of it, and sweeps once more at
// now.
func replay(ctx context.Context, sys *System, events []demoEvent, now time.Time) error {
	if len(events) == 0 {
		return nil
	}
	slices.SortStableFunc(events, func(a, b demoEvent) int { return a.at.Compare(b.at) })
	clk := clock.NewManual(events[0].at)
	h := wireSystem(sys.DB.WithClock(clk), sys.Box, sys.DataDir, sys.Log, wiring{})
	sweepTo := func(t time.Time) error {
		for next := clk.Now().Truncate(30 * time.Minute).Add(30 * time.Minute); !next.After(t); next = next.Add(30 * time.Minute) {
			clk.Set(next)
			if _, err := h.Tickets.SweepAll(ctx); err != nil {
				return fmt.Errorf("demo: sweep: %w", err)
			}
		}
		clk.Set(t)
		return nil
	}
	for _, e := range events {
		if err := sweepTo(e.at); err != nil {
			return err
		}
		if err := e.do(ctx, h); err != nil {
			return err
		}
	}
	if err := sweepTo(now); err != nil {
		return err
	}
	_, err := h.Tickets.SweepAll(ctx)
	return err
}
