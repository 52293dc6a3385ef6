package resumption

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// statusZh are the Chinese words of report statuses.
var statusZh = map[Status]string{Resumed: "已复工", Partial: "部分复工", Suspended: "停工"}

// parseStatus reads a status code or its Chinese name.
func parseStatusText(s string) (Status, bool) {
	s = strings.TrimSpace(s)
	st := Status(strings.ToLower(s))
	if st.Valid() {
		return st, true
	}
	for k, name := range statusZh {
		if s == name {
			return k, true
		}
	}
	switch s {
	case "复工", "全面复工":
		return Resumed, true
	case "未复工", "停产":
		return Suspended, true
	}
	return "", false
}

// reportSummary describes a filed report for the audit log.
func reportSummary(in ReportInput) string {
	s := fmt.Sprintf("填报 %s 复工日报：%s，产能 %d%%，应到岗 %d 人，实际到岗 %d 人，闭环生产 %s",
		in.Date, statusZh[in.Status], *in.CapacityPct, *in.StaffExpected, *in.StaffOnSite, zhYesNo(in.ClosedLoop))
	if strings.TrimSpace(in.Note) != "" {
		s += "，有备注"
	}
	return s
}

func invalidReport(fe []errs.FieldError) error {
	return &errs.Error{Kind: errs.Invalid, Code: "invalid_report", Message: fe[0].Message, Fields: fe}
}

// FileReport files a daily report of the enterprise with key for in.Date.
// Every filing is a new version; the latest filed version is the report of
// that date. The caller needs ResumptionReport over the enterprise, or to
// be its contact or liaison. One write transaction: one indexed lookup,
// one insert, one audit row, and the per-day figures kept
// (fileDayChange: one read of index probes before the insert, one or two
// rows of figures and the unit's latest report changed after it).
func (s *Service) FileReport(ctx context.Context, p *auth.Principal, key string, in ReportInput) (*Report, error) {
	const op = "resumption.FileReport"
	v, err := reach(p, auth.ResumptionReport, op)
	if err != nil {
		return nil, err
	}
	in.Note = strings.TrimSpace(in.Note)
	key = lookupKey(key)
	var r *Report
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		t, err := reportTarget(ctx, tx, v, key)
		if err != nil {
			return err
		}
		if fe := in.Validate(tx.Now.In(clock.Shanghai).Format(DateLayout)); len(fe) > 0 {
			return invalidReport(fe)
		}
		c, err := beginFileDayChange(ctx, tx, t, in.Date)
		if err != nil {
			return err
		}
		var id int64
		if r, id, err = s.fileReport(ctx, tx, p, t.ID, key, t.AreaCode, in); err != nil {
			return err
		}
		return c.commit(ctx, tx, id, in, tx.NowMS())
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return r, nil
}

// fileReport inserts a validated report version of the unit with id and
// audits it; it returns the report and the version's id.
func (s *Service) fileReport(ctx context.Context, tx *db.Tx, p *auth.Principal, id int64, key, areaCode string, in ReportInput) (*Report, int64, error) {
	rid, err := insertReport(ctx, tx, id, in, p.Actor())
	if err != nil {
		return nil, 0, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "report.file",
		ObjectType: "enterprise", ObjectID: key, AreaCode: areaCode, Summary: reportSummary(in)}); err != nil {
		return nil, 0, err
	}
	return &Report{EnterpriseKey: key, Date: in.Date, Status: in.Status, CapacityPct: *in.CapacityPct,
		StaffExpected: *in.StaffExpected, StaffOnSite: *in.StaffOnSite, ClosedLoop: in.ClosedLoop, Note: in.Note,
		FiledAt: tx.Now, FiledBy: p.Actor()}, rid, nil
}

// DefaultReportsLimit is the number of dates Reports returns when asked
// for 0; MaxReportsLimit bounds it.
const (
	DefaultReportsLimit = 90
	MaxReportsLimit     = 1000
)

// Reports returns the current report of each date of the enterprise,
// newest date first, at most limit dates.
func (s *Service) Reports(ctx context.Context, p *auth.Principal, key string, limit int) ([]Report, error) {
	const op = "resumption.Reports"
	v, err := reach(p, auth.ResumptionRead, op)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultReportsLimit
	}
	limit = min(limit, MaxReportsLimit)
	key = lookupKey(key)
	var out []Report
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		t, err := reportTarget(ctx, tx, v, key)
		if err != nil {
			return err
		}
		out, err = currentReports(ctx, tx, t.ID, key, limit)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// ReportVersions returns every filed version of the report of one date,
// newest first.
func (s *Service) ReportVersions(ctx context.Context, p *auth.Principal, key, date string) ([]Report, error) {
	const op = "resumption.ReportVersions"
	v, err := reach(p, auth.ResumptionRead, op)
	if err != nil {
		return nil, err
	}
	key = lookupKey(key)
	var out []Report
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		t, err := reportTarget(ctx, tx, v, key)
		if err != nil {
			return err
		}
		out, err = reportVersions(ctx, tx, t.ID, key, date)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}
