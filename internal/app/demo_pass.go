package app

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/checkpoint"
	"tongxin/internal/clock"
	"tongxin/internal/pass"
)

// demoPassEnterprise is 株洲千金药业, whose contact applies for passes.
const demoPassEnterprise = "914302001838260003"

// demoIDNumber completes a 17-digit ID number base with its GB 11643
// check character.
func demoIDNumber(base string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(base[i]-'0') * w
	}
	return base + string("10X98765432"[sum%11])
}

// demoPasses gives 千金药业 a pass quota, one approved batch of workers and
// a supply vehicle (signed passes, printable cards) and one batch waiting
// for the industry bureau's officer gxj. It does nothing once the
// enterprise has a batch.
func demoPasses(ctx context.Context, sys *System) error {
	sysP := auth.System()
	if list, err := sys.Passes.ListBatches(ctx, sysP, pass.BatchFilter{Enterprise: demoPassEnterprise, Limit: 1}); err != nil {
		return fmt.Errorf("demo: pass batches: %w", err)
	} else if len(list) > 0 {
		return nil
	}
	principal := func(username string) (*auth.Principal, error) {
		id, roles, err := sys.Auth.LookupUser(ctx, username)
		if err != nil {
			return nil, fmt.Errorf("demo: user %s: %w", username, err)
		}
		return &auth.Principal{UserID: id, Username: username, Assignments: roles}, nil
	}
	contact, err := principal("qianjin")
	if err != nil {
		return err
	}
	gxj, err := principal("gxj")
	if err != nil {
		return err
	}
	quota := 500
	if _, err := sys.Passes.SetQuota(ctx, sysP, demoPassEnterprise, pass.QuotaInput{Quota: &quota}); err != nil {
		return fmt.Errorf("demo: pass quota: %w", err)
	}
	today := sys.DB.Clock.Now().In(clock.Shanghai)
	from, to := today.Format("2006-01-02"), today.AddDate(0, 0, 29).Format("2006-01-02")
	file := func(rows [][5]string) []byte {
		var b strings.Builder
		b.WriteString("姓名,身份证号,手机,车牌,区域,起,止\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s\n", r[0], r[1], r[2], r[3], r[4], from, to)
		}
		return []byte(b.String())
	}
	approved := file([][5]string{
		{"李建国", demoIDNumber("43021119800312201"), "13907331001", "", "430211001;430211002"},
		{"王秀兰", demoIDNumber("43021119850607202"), "13907331002", "", "430211001"},
		{"张志强", demoIDNumber("43020319900918303"), "13907331003", "", "430211001;430211003"},
		{"刘芳", demoIDNumber("43020219920125404"), "13907331004", "", "430211001"},
		{"陈伟", demoIDNumber("43021119781103105"), "13907331005", "湘B·D12345", "430211"},
	})
	b, err := sys.Passes.Upload(ctx, contact, pass.UploadInput{Data: approved, FileName: "千金药业白名单第一批.csv"})
	if err != nil {
		return fmt.Errorf("demo: pass batch: %w", err)
	}
	if _, err := sys.Passes.Approve(ctx, gxj, b.ID, pass.ApproveInput{Note: "名单已核，同意"}); err != nil {
		return fmt.Errorf("demo: approve pass batch: %w", err)
	}
	// A supply lorry from outside the city that may only reach the
	// transfer point, where its goods change to a vehicle from inside.
	tps, err := sys.Checkpoints.List(ctx, sysP, checkpoint.Filter{Kind: checkpoint.TransferPoint})
	if err != nil {
		return fmt.Errorf("demo: transfer points: %w", err)
	}
	if len(tps) > 0 {
		lorry := fmt.Sprintf("姓名,身份证号,手机,车牌,区域,接驳点,起,止\n王师傅,,13907331009,湘A·8M361,430211,%s,%s,%s\n",
			tps[0].Ref(), from, to)
		lb, err := sys.Passes.Upload(ctx, contact, pass.UploadInput{Data: []byte(lorry), FileName: "千金药业物资车辆.csv"})
		if err != nil {
			return fmt.Errorf("demo: transfer-point pass: %w", err)
		}
		if _, err := sys.Passes.Approve(ctx, gxj, lb.ID, pass.ApproveInput{Note: "限到达接驳点"}); err != nil {
			return fmt.Errorf("demo: approve transfer-point pass: %w", err)
		}
	}
	pending := file([][5]string{
		{"赵磊", demoIDNumber("43021119870715206"), "13907331006", "", "430211001"},
		{"孙丽", demoIDNumber("43021119930228307"), "13907331007", "", "430211001;430211002"},
		{"周强", demoIDNumber("43021119760830408"), "13907331008", "湘B·6K789", "430211"},
	})
	if _, err := sys.Passes.Upload(ctx, contact, pass.UploadInput{Data: pending, FileName: "千金药业白名单第二批.csv"}); err != nil {
		return fmt.Errorf("demo: pending pass batch: %w", err)
	}
	return nil
}
