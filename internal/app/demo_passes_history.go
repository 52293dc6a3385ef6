package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/checkpoint"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/pass"
)

// The demo's two weeks of passes and scans, replayed with the tickets: the
// contacts of 中车 and 北汽 apply for their workers' passes, the industry
// bureau's officer gxj approves or rejects them, and over the last three
// days the checkpoints scan them hour by hour (offline batches uploaded at
// the end of each hour, each scan verified as of its moment).

// demoPassContacts are the contacts of 中车 and 北汽.
var demoPassContacts = []demoUser{
	{"zhongche", "中车株洲车辆联系人", "enterprise_contact", "enterprise:91430200184287000F"},
	{"beiqi", "北汽株洲分公司联系人", "enterprise_contact", "enterprise:91430200616784000D"},
}

// demoBatchCase is a batch of the history: uploaded on day at a time by
// contact, with workers living in areas, reviewed review later.
type demoBatchCase struct {
	day     int
	at      time.Duration
	contact string
	workers int
	areas   []string
	review  time.Duration // 0: still pending
	reject  string        // the reason, if rejected
	file    string
}

var demoBatchCases = []demoBatchCase{
	{1, 9 * time.Hour, "zhongche", 60, []string{"430204", "430204003"}, 5 * time.Hour, "", "中车株洲车辆复工人员白名单第一批.xlsx"},
	{2, 10 * time.Hour, "beiqi", 42, []string{"430211", "430211003;430211001"}, 20 * time.Hour, "", "北汽株洲分公司闭环生产人员名单.xlsx"},
	{5, 14 * time.Hour, "zhongche", 25, []string{"430204"}, 3 * time.Hour, "名单中 3 人的身份证号与姓名不符，请核对后重新提交", "中车株洲车辆白名单第二批.xlsx"},
	{6, 9 * time.Hour, "zhongche", 25, []string{"430204"}, 4 * time.Hour, "", "中车株洲车辆白名单第二批（更正）.xlsx"},
	{11, 11 * time.Hour, "beiqi", 30, []string{"430211001;430211002", "430211"}, 6 * time.Hour, "", "北汽株洲分公司供应商驻厂人员.xlsx"},
	{13, 0, "beiqi", 15, []string{"430211"}, 0, "", "北汽株洲分公司第三批.xlsx"},
}

// demoGivenNames are given names of fictional workers.
var demoGivenNames = []string{"建国", "秀英", "志强", "丽华", "海涛", "红梅", "文斌", "晓燕", "国强", "春花", "伟", "芳", "磊", "静", "军", "敏", "勇", "霞", "杰", "娟"}

// passState is what the pass events share: the tokens of approved
// passes, by the areas they were issued for.
type passState struct {
	tokens map[string][]string // areas -> tokens
	serial int
}

// demoPassEvents are the events of the batches; the pending batch of
// today is uploaded two hours ago (or at midnight, early in the day).
func demoPassEvents(ctx context.Context, sys *System, now time.Time, st *passState) ([]demoEvent, error) {
	if _, err := sys.Auth.GetUser(ctx, auth.System(), demoPassContacts[0].username); err == nil {
		return nil, nil
	} else if !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	start := demoDay(now, 0).Add(8 * time.Hour)
	events := []demoEvent{{start, func(ctx context.Context, h *System) error {
		for _, u := range demoPassContacts {
			if _, err := h.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: u.username, DisplayName: u.name,
				Password: DemoPassword, Roles: []auth.RoleInput{{Role: u.role, Scope: u.scope}}}); err != nil {
				return fmt.Errorf("demo: user %s: %w", u.username, err)
			}
			quota := 600
			if _, err := h.Passes.SetQuota(ctx, auth.System(), strings.TrimPrefix(u.scope, "enterprise:"), pass.QuotaInput{Quota: &quota}); err != nil {
				return fmt.Errorf("demo: quota: %w", err)
			}
		}
		return nil
	}}}
	for _, c := range demoBatchCases {
		at := demoDay(now, c.day).Add(c.at)
		if c.day == demoDays-1 {
			at = now.Add(-2 * time.Hour)
			if day := demoDay(now, c.day); at.Before(day) {
				at = day
			}
		}
		events = append(events, c.events(at, now, st)...)
	}
	return events, nil
}

// events upload the batch at at and review it (never after now).
func (c demoBatchCase) events(at, now time.Time, st *passState) []demoEvent {
	var id int64
	out := []demoEvent{{at, func(ctx context.Context, h *System) error {
		p, err := demoPrincipal(ctx, h, c.contact)
		if err != nil {
			return err
		}
		b, err := h.Passes.Upload(ctx, p, pass.UploadInput{Data: c.csv(at, st), FileName: c.file})
		if err != nil {
			return fmt.Errorf("demo: batch %s: %w", c.file, err)
		}
		id = b.ID
		return nil
	}}}
	if c.review == 0 || at.Add(c.review).After(now) {
		return out
	}
	return append(out, demoEvent{at.Add(c.review), func(ctx context.Context, h *System) error {
		gxj, err := demoPrincipal(ctx, h, "gxj")
		if err != nil {
			return err
		}
		if c.reject != "" {
			_, err := h.Passes.Reject(ctx, gxj, id, pass.ReasonInput{Reason: c.reject})
			return err
		}
		if _, err := h.Passes.Approve(ctx, gxj, id, pass.ApproveInput{Note: "名单已核，同意"}); err != nil {
			return fmt.Errorf("demo: approve %s: %w", c.file, err)
		}
		passes, err := h.Passes.BatchPasses(ctx, auth.System(), id)
		if err != nil {
			return err
		}
		for _, ps := range passes {
			areas := strings.Join(ps.Areas, ";")
			st.tokens[areas] = append(st.tokens[areas], ps.Token)
		}
		return nil
	}})
}

// csv is the batch's file: fictional workers with valid ID numbers and
// phones, valid for thirty days from the upload.
func (c demoBatchCase) csv(at time.Time, st *passState) []byte {
	var b strings.Builder
	b.WriteString("姓名,身份证号,手机,车牌,区域,起,止\n")
	at = at.In(clock.Shanghai) // the dates of the file are Shanghai's, whatever zone at came in
	from, to := at.Format("2006-01-02"), at.AddDate(0, 0, 29).Format("2006-01-02")
	for i := range c.workers {
		st.serial++
		n := st.serial
		name := string(demoSurnames[n*7%len(demoSurnames)]) + demoGivenNames[n*3%len(demoGivenNames)]
		birth := time.Date(1968+n*13%32, time.Month(1+n%12), 1+n*5%28, 0, 0, 0, 0, time.UTC)
		id := demoIDNumber(fmt.Sprintf("%s%s%03d", c.areas[0][:6], birth.Format("20060102"), 500+n%400))
		plate := ""
		if i%9 == 4 {
			plate = fmt.Sprintf("湘B·%c%04d", "ADFGK"[n%5], 1000+n*31%9000)
		}
		fmt.Fprintf(&b, "%s,%s,1587331%04d,%s,%s,%s,%s\n", name, id, n, plate, c.areas[i%len(c.areas)], from, to)
	}
	return []byte(b.String())
}

// demoScanPoints are the checkpoints scanning in the last three days,
// with their busiest hour's scans.
var demoScanPoints = []struct {
	name string
	peak int
}{
	{"株洲大桥", 24}, {"建宁大桥", 30}, {"芦淞大桥", 18}, {"枫溪大桥", 14}, {"建设路中心广场南口", 12}, {"枫溪大道坚固立交路口", 9},
}

// demoHourShare is the share of the peak scanned in each hour of the day:
// quiet at night, busy when shifts start and end.
var demoHourShare = [24]float64{0.05, 0.03, 0.02, 0.02, 0.05, 0.15, 0.5, 1, 0.9, 0.55, 0.4, 0.45, 0.5, 0.4, 0.4, 0.45, 0.6, 0.95, 0.85, 0.5, 0.3, 0.2, 0.12, 0.08}

// demoScanEvents upload each hour's scans of every checkpoint at the end
// of the hour, over the three days before now.
func demoScanEvents(ctx context.Context, sys *System, now time.Time, st *passState) ([]demoEvent, error) {
	list, err := sys.Checkpoints.List(ctx, auth.System(), checkpoint.Filter{})
	if err != nil {
		return nil, fmt.Errorf("demo: checkpoints: %w", err)
	}
	var events []demoEvent
	for ci, sp := range demoScanPoints {
		var cp *checkpoint.Checkpoint
		for _, c := range list {
			if c.Name == sp.name {
				cp = c
			}
		}
		if cp == nil {
			continue
		}
		for hour := demoDay(now, demoDays-3); hour.Before(now.Truncate(time.Hour)); hour = hour.Add(time.Hour) {
			n := int(float64(sp.peak)*demoHourShare[hour.Hour()] + 0.5)
			if n == 0 {
				continue
			}
			events = append(events, demoEvent{hour.Add(59 * time.Minute), scanHour(cp, ci, hour, n, st)})
		}
	}
	return events, nil
}

// scanHour uploads n scans made at cp in the hour from hour, of passes
// issued for the areas around it (one in twenty of a pass for elsewhere,
// refused); nothing where no pass of the demo is valid.
func scanHour(cp *checkpoint.Checkpoint, ci int, hour time.Time, n int, st *passState) func(context.Context, *System) error {
	return func(ctx context.Context, h *System) error {
		var here, elsewhere []string
		for areas, tokens := range st.tokens {
			if covers(areas, cp.AreaCode) {
				here = append(here, tokens...)
			} else {
				elsewhere = append(elsewhere, tokens...)
			}
		}
		var in checkpoint.BatchInput
		for i := range n {
			if len(here) == 0 {
				return nil // no pass of the demo is valid here
			}
			pool := here
			if i%20 == 19 && len(elsewhere) > 0 {
				pool = elsewhere
			}
			k := int(hour.Unix()/3600)*7 + i*13 + ci
			at := hour.Add(time.Duration(i*3600/n) * time.Second)
			in.Scans = append(in.Scans, checkpoint.ScanInput{Token: pool[k%len(pool)],
				ClientID: fmt.Sprintf("demo-%d-%d-%d", ci, hour.Unix(), i), ScannedAt: &at})
		}
		if _, err := h.Checkpoints.ScanBatch(ctx, auth.System(), cp.Ref(), in); err != nil {
			return fmt.Errorf("demo: scans at %s: %w", cp.Name, err)
		}
		return nil
	}
}

// covers reports whether one of the ";"-separated area codes is code or
// above it.
func covers(areas, code string) bool {
	for _, a := range strings.Split(areas, ";") {
		if strings.HasPrefix(code, a) {
			return true
		}
	}
	return false
}
