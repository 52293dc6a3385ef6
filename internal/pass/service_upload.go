package pass

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/passtoken"
)

// UploadInput is a batch file and the enterprise it is for ("" when the
// caller is the contact of one enterprise only).
type UploadInput struct {
	Enterprise string
	FileName   string
	Data       []byte
}

// row is a checked row of a batch, sealed.
type row struct {
	num                      int
	kind                     passtoken.Kind
	nameMasked, id4, plate   string
	nameEnc, idEnc, phoneEnc []byte
	idIdx                    any
	areas, cps               []string
	from, to                 time.Time
}

// enterpriseFor picks the enterprise of an application: the one named,
// which must be the caller's own, or the caller's only one.
func enterpriseFor(p *auth.Principal, named string) (string, error) {
	named = normalizeKey(named)
	refs := p.Refs(auth.EnterpriseContact)
	if named == "" {
		if len(refs) != 1 {
			return "", errs.Fields("enterprise_required", "请选择为哪家企业申请（enterprise）",
				errs.FieldError{Field: "enterprise", Message: "必填"})
		}
		return refs[0], nil
	}
	if !p.IsSystem() && !slices.Contains(refs, named) {
		return "", errEnterpriseNotFound()
	}
	return named, nil
}

// Upload checks every row of a batch file (BatchSpec) and stores the batch
// for review. Any bad row refuses the whole file: 400 import_rejected
// naming row, column and reason; nothing is stored.
func (s *Service) Upload(ctx context.Context, p *auth.Principal, in UploadInput) (*Batch, error) {
	const op = "pass.Upload"
	if err := auth.Require(p, auth.PassApply, op); err != nil {
		return nil, err
	}
	key, err := enterpriseFor(p, in.Enterprise)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	sub, err := s.subjectOf(ctx, key)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	tbl, err := importer.Parse(in.Data, BatchSpec)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	data, err := dataRows(tbl.Rows)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	rows, err := s.checkRows(ctx, sub, data)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	id, err := s.storeBatch(ctx, p, sub, uploadName(in.FileName), rows)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	b, err := s.batch(ctx, id, false)
	if err != nil {
		return nil, err
	}
	b.IgnoredColumns = tbl.Ignored
	return b, nil
}

// dataRows are the rows of a file to apply for, without its examples:
// none is 400 import_no_rows.
func dataRows(all []importer.Row) ([]importer.Row, error) {
	data, examples := withoutExamples(all)
	switch {
	case len(data) == 0 && examples > 0:
		return nil, errs.E(errs.Invalid, "import_no_rows",
			"文件中只有示例行，未提交任何申请：请在示例行下方按示例逐行填写（示例行本身不会提交）")
	case len(data) == 0:
		return nil, errs.E(errs.Invalid, "import_no_rows", "文件中没有数据行，未提交任何申请")
	}
	return data, nil
}

// uploadName is the file name kept with a batch: "" when too long or not
// UTF-8.
func uploadName(name string) string {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name) {
		return ""
	}
	return name
}

// storeBatch stores the checked rows of sub's batch, audited, and
// announces it to its reviewers.
func (s *Service) storeBatch(ctx context.Context, p *auth.Principal, sub *subject, name string, rows []row) (int64, error) {
	persons := 0
	for _, r := range rows {
		if r.kind == passtoken.Person {
			persons++
		}
	}
	var id int64
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		var err error
		if id, err = insertBatch(ctx, tx, sub, name, p.Actor(), rows); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "pass.batch_upload",
			ObjectType: "pass_batch", ObjectID: strconv.FormatInt(id, 10), AreaCode: sub.Area.Code,
			Summary: fmt.Sprintf("%s 提交通行证申请 %d 份（人员 %d，车辆 %d）", sub.Name, len(rows), persons, len(rows)-persons)}); err != nil {
			return err
		}
		return s.notifyReviewers(ctx, tx, id, sub.Name, sub.Area.Path, len(rows), persons)
	})
	return id, err
}

// probe is what a checked row looks for among passes and pending rows.
func (r *row) probe() probe {
	p := probe{num: r.num, kind: r.kind, key: r.plate, from: r.from.UnixMilli(), to: r.to.UnixMilli()}
	if r.kind == passtoken.Person {
		p.key, _ = r.idIdx.(string)
	}
	return p
}

// heldRows finds the probes whose person or vehicle already holds an
// active pass (or, when pending, is in a batch awaiting review other than
// batch skip) valid on one of the same days: by row number, the holdings
// that overlap, passes first.
func heldRows(ctx context.Context, tx *db.Tx, probes []probe, now int64, pending bool, skip int64) (map[int][]holding, error) {
	found, err := findHoldings(ctx, tx, probes, now, pending)
	if err != nil {
		return nil, err
	}
	out := map[int][]holding{}
	for _, p := range probes {
		var hs []holding
		for _, h := range found[holdKey{p.kind, p.key}] {
			if h.from < p.to && h.to > p.from && (h.pid != "" || h.batch != skip) {
				hs = append(hs, h)
			}
		}
		// Passes before pending rows, each in order of validity.
		slices.SortStableFunc(hs, func(a, b holding) int {
			if (a.pid != "") == (b.pid != "") {
				return 0
			}
			if a.pid != "" {
				return -1
			}
			return 1
		})
		if len(hs) > 0 {
			out[p.num] = hs
		}
	}
	return out, nil
}

// heldColumn is the BatchSpec key of the column that names a holder.
func heldColumn(k passtoken.Kind) string {
	if k == passtoken.Vehicle {
		return "plate"
	}
	return "id_number"
}

// heldMessage names what the person or vehicle already holds: the pass,
// its enterprise and last day, or the pending batch and row with their
// enterprise and days. For reviewers, and for an uploader whose own
// enterprise it is.
func heldMessage(k passtoken.Kind, h holding) string {
	msg := "该人员"
	if k == passtoken.Vehicle {
		msg = "该车辆"
	}
	from, to := clock.FromMillis(h.from).In(clock.Shanghai).Format(DateLayout), lastDay(clock.FromMillis(h.to))
	if h.pid != "" {
		return msg + fmt.Sprintf("已持有有效通行证 %s（%s），有效至 %s；如需换证请先吊销原证", h.pid, h.enterpriseName, to)
	}
	return msg + fmt.Sprintf("已在待审核的通行证申请第 %d 批第 %d 行（%s，%s 至 %s）；请等待审核结果，或请审核人员驳回该批后再提交",
		h.batch, h.row, h.enterpriseName, from, to)
}

// uploaderMessage is what the uploader of enterprise own learns of a
// refused row: the details of a pass or pending row of its own, else only
// that the holder has one (no other enterprise, pass id, batch or date).
func uploaderMessage(k passtoken.Kind, hs []holding, own string) string {
	for _, h := range hs {
		if h.enterpriseKey == own {
			return heldMessage(k, h)
		}
	}
	if k == passtoken.Vehicle {
		return "此车辆已持有有效通行证或有待审核的申请，不能重复申请"
	}
	return "此人已持有有效通行证或有待审核的申请，不能重复申请"
}
