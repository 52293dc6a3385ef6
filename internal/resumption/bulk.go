package resumption

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Bulk loads write history that already happened — the demo city's two
// weeks, or a city moving its registry and reports over from another
// system — in one transaction each, with one audit row for the batch.
// Every row passes the checks of a single save or filing; a report keeps
// the moment it was filed (never later than now), so that statistics "as
// known at" a past moment see it as the HQ saw it then. One audit row per
// report (as FileReport writes) would be tens of thousands of rows that
// say the same thing as the batch's row, and would cost most of the load.

// FiledReport is a report version with the moment it was filed.
type FiledReport struct {
	Key     string
	FiledAt time.Time
	ReportInput
}

// FiledReading is a power reading with the moment it was filed.
type FiledReading struct {
	FiledAt time.Time
	ReadingInput
}

// BulkRegister creates the enterprises and projects of ins, none of which
// may exist yet, in one transaction with one audit row (enterprise.import)
// whose summary starts with note. The caller needs ResumptionManage over
// every unit's area; any bad unit refuses the whole batch, named by its
// position.
func (s *Service) BulkRegister(ctx context.Context, p *auth.Principal, ins []EnterpriseInput, note string) (int, error) {
	const op = "resumption.BulkRegister"
	if err := auth.Require(p, auth.ResumptionManage, op); err != nil {
		return 0, err
	}
	recs := make([]enterpriseRecord, len(ins))
	encs := make([][]byte, len(ins))
	idxs := make([]string, len(ins))
	paths := map[string][2]string{}
	for i, in := range ins {
		rec, fe := validateEnterprise(in)
		if len(fe) == 0 {
			a, seen := paths[rec.AreaCode]
			if !seen {
				path, msg, err := s.checkArea(ctx, p, rec.AreaCode)
				if err != nil {
					return 0, errs.Wrap(op, err)
				}
				a = [2]string{path, msg}
				paths[rec.AreaCode] = a
			}
			if a[1] != "" {
				fe = append(fe, errs.FieldError{Field: "area_code", Message: a[1]})
			}
			rec.AreaPath = a[0]
		}
		if len(fe) > 0 {
			return 0, errs.Wrap(op, errs.Newf(errs.Invalid, "invalid_enterprise", "第 %d 家（%s）：%s", i+1, in.Name, fe[0].Message))
		}
		enc, err := s.box.Seal(rec.Phone)
		if err != nil {
			return 0, errs.Wrap(op, err)
		}
		recs[i], encs[i], idxs[i] = rec, enc, s.box.Index("phone", rec.Phone)
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		keys := make([]string, len(recs))
		for i, r := range recs {
			keys[i] = r.Key
		}
		stored, err := storedByKeys(ctx, tx, keys)
		if err != nil {
			return err
		}
		if len(stored) > 0 {
			for _, k := range keys {
				if stored[k] != nil {
					return errs.Newf(errs.Conflict, "enterprise_exists", "%s 已登记", k)
				}
			}
		}
		ids, err := insertEnterprises(ctx, tx, recs, encs, idxs)
		if err != nil {
			return err
		}
		if err := insertCategories(ctx, tx, recs, ids); err != nil {
			return err
		}
		if err := newUnitsChange(ids).commit(ctx, tx); err != nil {
			return err
		}
		var areaPaths []string
		for _, r := range recs {
			areaPaths = append(areaPaths, r.AreaPath)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "enterprise.import",
			ObjectType: "enterprise", AreaCode: area.CommonRoot(areaPaths),
			Summary: fmt.Sprintf("%s：批量登记 %d 家企业和项目", note, len(recs))})
	})
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	return len(recs), nil
}

// BulkFile files report versions with the moments they were filed, in one
// transaction with one audit row (report.import) whose summary starts with
// note. Each report passes the checks of FileReport as of the day it was
// filed (no report dated after that day); no filing moment may be later
// than now. The caller needs ResumptionReport over every unit.
func (s *Service) BulkFile(ctx context.Context, p *auth.Principal, rs []FiledReport, note string) (int, error) {
	const op = "resumption.BulkFile"
	v, err := reach(p, auth.ResumptionReport, op)
	if err != nil {
		return 0, err
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		keys := make([]string, 0, len(rs))
		seen := map[string]bool{}
		for _, r := range rs {
			if !seen[r.Key] {
				seen[r.Key] = true
				keys = append(keys, r.Key)
			}
		}
		targets, err := reportTargets(ctx, tx, v, keys)
		if err != nil {
			return err
		}
		rows := make([][]any, len(rs))
		var paths []string
		first, last := "", ""
		for i, r := range rs {
			t, ok := targets[r.Key]
			if !ok {
				return errs.Newf(errs.NotFound, "enterprise_not_found", "第 %d 份日报：企业 %s 不存在或无权填报", i+1, r.Key)
			}
			if r.FiledAt.After(tx.Now) {
				return errs.Newf(errs.Invalid, "invalid_report", "第 %d 份日报：填报时间晚于现在", i+1)
			}
			if fe := r.Validate(r.FiledAt.In(clock.Shanghai).Format(DateLayout)); len(fe) > 0 {
				return errs.Newf(errs.Invalid, "invalid_report", "第 %d 份日报（%s %s）：%s", i+1, r.Key, r.Date, fe[0].Message)
			}
			rows[i] = []any{t.ID, r.Date, string(r.Status), *r.CapacityPct, *r.StaffExpected, *r.StaffOnSite, r.ClosedLoop,
				strings.TrimSpace(r.Note), r.FiledAt.UnixMilli(), p.Actor()}
			if first == "" || r.Date < first {
				first = r.Date
			}
			last = max(last, r.Date)
			paths = append(paths, t.AreaPath)
		}
		ids := make([]int64, 0, len(targets))
		for _, t := range targets {
			ids = append(ids, t.ID)
		}
		c, err := beginDayChange(ctx, tx, ids)
		if err != nil {
			return err
		}
		if err := insertReportRows(ctx, tx, rows); err != nil {
			return errs.Wrap(op, err)
		}
		if err := c.commit(ctx, tx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "report.import",
			ObjectType: "enterprise", AreaCode: area.CommonRoot(paths),
			Summary: fmt.Sprintf("%s：批量填报 %d 家单位的复工日报 %d 份，日期 %s 至 %s", note, len(keys), len(rs), first, last)})
	})
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	return len(rs), nil
}

// BulkReadings files power readings with the moments they were filed, in
// one transaction with one audit row (power.reading.add) whose summary
// starts with note. Every scope must have a baseline the caller manages
// (ResumptionManage over its area); no reading may be dated after the day
// it was filed, nor filed later than now.
func (s *Service) BulkReadings(ctx context.Context, p *auth.Principal, rs []FiledReading, note string) (int, error) {
	const op = "resumption.BulkReadings"
	if err := auth.Require(p, auth.ResumptionManage, op); err != nil {
		return 0, err
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		rows := make([][]any, len(rs))
		bases := map[string]baselineRow{}
		for i, r := range rs {
			ps, err := parsePowerScope(r.Scope)
			if err != nil {
				return err
			}
			scope := ps.String()
			b, seen := bases[scope]
			if !seen {
				found := false
				if b, found, err = getBaseline(ctx, tx, scope); err != nil {
					return err
				}
				if !found {
					return errBaselineNotFound()
				}
				if err := auth.Authorize(p, auth.ResumptionManage, b.path, op, errBaselineNotFound()); err != nil {
					return err
				}
				bases[scope] = b
			}
			d, err := time.Parse(DateLayout, r.Date)
			switch {
			case err != nil || d.Format(DateLayout) != r.Date:
				return errs.Newf(errs.Invalid, "invalid_reading", "第 %d 条负荷：日期须为 YYYY-MM-DD 格式的有效日期", i+1)
			case !validLoad(r.MaxLoadKW):
				return errs.Newf(errs.Invalid, "invalid_reading", "第 %d 条负荷：最大负荷须为不小于 0 的千瓦数", i+1)
			case r.FiledAt.After(tx.Now) || r.Date > r.FiledAt.In(clock.Shanghai).Format(DateLayout):
				return errs.Newf(errs.Invalid, "invalid_reading", "第 %d 条负荷：不能填报未来日期", i+1)
			}
			rows[i] = []any{scope, r.Date, r.MaxLoadKW, r.FiledAt.UnixMilli(), p.Actor()}
		}
		if err := insertReadingRows(ctx, tx, rows); err != nil {
			return errs.Wrap(op, err)
		}
		var names, paths []string
		for _, b := range bases {
			names, paths = append(names, b.Name), append(paths, b.path)
		}
		slices.Sort(names)
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "power.reading.add",
			ObjectType: "power_reading", AreaCode: area.CommonRoot(paths),
			Summary: fmt.Sprintf("%s：批量填报 %s 的最大负荷 %d 条", note, strings.Join(names, "、"), len(rs))})
	})
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	return len(rs), nil
}
