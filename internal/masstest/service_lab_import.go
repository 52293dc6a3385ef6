package masstest

import (
	"context"
	"fmt"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
)

// LabSpec is the lab results file: one row per tube.
var LabSpec = importer.Spec{
	Kind: "lab-results",
	Columns: []importer.Column{
		{Key: "tube", Header: "管码", Aliases: []string{"试管条码", "条码", "样本管码", "barcode"}, Required: true,
			Example: "T202211200001"},
		{Key: "result", Header: "结果", Aliases: []string{"检测结果"}, Required: true, Example: "阴性"},
		{Key: "lab", Header: "检测机构", Aliases: []string{"实验室", "检测实验室"}, Example: "株洲市疾控中心"},
		{Key: "reported_at", Header: "报告时间", Aliases: []string{"reported", "报告日期", "time"},
			Example: "2022-11-20 18:00"},
	},
	MaxRows: MaxLabFileRows,
}

// ImportLabResults stores a lab file, all or nothing: a row with any
// problem (an unknown tube, a conflicting result, a wrong value) refuses
// the whole file with the problems by row and column, and nothing of it
// is stored. A row whose result is already stored (or given twice in the
// file) is a repeat, not a problem.
func (s *Service) ImportLabResults(ctx context.Context, p *auth.Principal, data []byte) (*LabSummary, error) {
	const op = "masstest.ImportLabResults"
	if err := auth.Require(p, auth.TestingManage, op); err != nil {
		return nil, err
	}
	tbl, err := importer.Parse(data, LabSpec)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if len(tbl.Rows) == 0 {
		return nil, errs.E(errs.Invalid, "import_no_rows", "文件中没有检测结果")
	}
	now := s.clock.Now()
	recs := make([]labRec, len(tbl.Rows))
	for i, row := range tbl.Rows {
		recs[i] = readLabRecord(LabRecord{Tube: row.Get("tube"), Result: row.Get("result"), Lab: row.Get("lab"),
			ReportedAt: row.Get("reported_at")}, i, row.Num, now)
	}
	var list importer.Errors
	var out *LabSummary
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		run, err := s.newLabRun(ctx, tx, p, recs)
		if err != nil {
			return err
		}
		if out, err = run.all(); err != nil {
			return err
		}
		for i, a := range out.Items {
			if a.Status == LabError {
				list.AddCode(recs[i].Row, LabSpec.HeaderOf(errorColumn(recs[i], a.Code)), a.Code, a.Message)
			}
		}
		if err := list.Err(); err != nil {
			return err // nothing is stored
		}
		return run.audit(fmt.Sprintf("导入检测结果文件 %d 行", len(recs)))
	})
	return out, errs.Wrap(op, err)
}

// errorColumn is the column of a refused row: the value's own, the
// result's for a conflict, else the tube's.
func errorColumn(rec labRec, code string) string {
	switch {
	case rec.Column != "":
		return rec.Column
	case code == "result_conflict":
		return "result"
	}
	return "tube"
}
