package pass

import (
	"bytes"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tongxin/internal/clock"
	"tongxin/internal/errs"
)

// Statistics per period: passes issued and revoked in [from, to], whole
// days in Shanghai, passes that ended in it, and the passes active now;
// totals without a period. The XLSX export follows the period.
func TestStatsPerPeriod(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		// 11-20 10:00: three workers and a vehicle valid for two days.
		a := f.approve(f.upload(workersFrom(0, 3, "司机甲,,13907336666,湘B·12345,430211,2022-11-20,2022-11-21")).ID)
		first, _ := f.svc.BatchPasses(f.Ctx, f.gxj, a.ID)
		// 11-22 00:30 in Shanghai (still 11-21 in UTC): two more workers,
		// one of the first revoked.
		f.Clock.Set(time.Date(2022, 11, 22, 0, 30, 0, 0, clock.Shanghai))
		f.approve(f.upload(workersFrom(10, 2)).ID)
		if _, err := f.svc.Revoke(f.Ctx, f.gxj, first[0].PID, ReasonInput{Reason: "离职"}); err != nil {
			t.Fatal(err)
		}
		// 11-25: another revoked.
		f.Clock.Set(time.Date(2022, 11, 25, 10, 0, 0, 0, clock.Shanghai))
		if _, err := f.svc.Revoke(f.Ctx, f.gxj, first[1].PID, ReasonInput{Reason: "离职"}); err != nil {
			t.Fatal(err)
		}
		stats := func(from, to string) EnterpriseStats {
			t.Helper()
			q, err := ParseStatsPeriod(from, to, f.Clock.Now())
			if err != nil {
				t.Fatalf("%s–%s: %v", from, to, err)
			}
			list, err := f.svc.Stats(f.Ctx, f.gxj, q)
			if err != nil || len(list) != 1 || list[0].Enterprise != qianjin {
				t.Fatalf("%s–%s: %+v %v", from, to, list, err)
			}
			return list[0]
		}
		cases := []struct {
			from, to string
			want     EnterpriseStats
		}{
			{"", "", EnterpriseStats{Issued: 6, Active: 3, Expired: 1, Revoked: 2, Persons: 5, Vehicles: 1}},
			{"2022-11-20", "2022-11-20", EnterpriseStats{Issued: 4, Active: 3, Persons: 3, Vehicles: 1}},
			{"2022-11-21", "2022-11-21", EnterpriseStats{Active: 3}},
			{"2022-11-22", "2022-11-22", EnterpriseStats{Issued: 2, Active: 3, Expired: 1, Revoked: 1, Persons: 2}},
			{"2022-11-23", "", EnterpriseStats{Active: 3, Revoked: 1}},
			{"", "2022-11-21", EnterpriseStats{Issued: 4, Active: 3, Persons: 3, Vehicles: 1}},
			{"2022-11-01", "2022-11-30", EnterpriseStats{Issued: 6, Active: 3, Expired: 1, Revoked: 2, Persons: 5, Vehicles: 1}},
		}
		for _, c := range cases {
			got := stats(c.from, c.to)
			c.want.Enterprise, c.want.EnterpriseName = qianjin, "株洲千金药业股份有限公司"
			if got != c.want {
				t.Errorf("%s–%s: %+v, want %+v", c.from, c.to, got, c.want)
			}
		}
		// Out of reach: another enterprise's contact sees nothing.
		if list, err := f.svc.Stats(f.Ctx, f.other, StatsQuery{}); err != nil || len(list) != 0 {
			t.Fatalf("other contact: %+v %v", list, err)
		}
		// The export of 11-22.
		q, _ := ParseStatsPeriod("2022-11-22", "2022-11-22", f.Clock.Now())
		b, err := f.svc.StatsXLSX(f.Ctx, f.gxj, q)
		if err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.GetRows(x.GetSheetName(0))
		if err != nil || len(rows) != 2 || rows[0][2] != "期间签发" || rows[1][0] != qianjin || rows[1][2] != "2" || rows[1][5] != "1" {
			t.Fatalf("xlsx %v %v", rows, err)
		}
		// Bad periods.
		for _, c := range []struct{ from, to, field string }{
			{"2022-13-01", "", "from"}, {"", "tomorrow", "to"}, {"2022-11-25", "2022-11-20", "to"}, {"20221120", "2022-11-30", "from"},
		} {
			_, err := ParseStatsPeriod(c.from, c.to, f.Clock.Now())
			if e := mustErr(t, err, errs.Invalid, "bad_period"); len(e.Fields) != 1 || e.Fields[0].Field != c.field {
				t.Errorf("%q–%q: %+v", c.from, c.to, e.Fields)
			}
		}
	})
}
