package pass

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/notify"
	"tongxin/internal/passtoken"
	"tongxin/internal/pii"
)

// Areas looks up areas; area.Service satisfies it.
type Areas interface {
	Lookup(ctx context.Context, code string) (*area.Area, error)
	// Subtree is an area and every area below it, top down.
	Subtree(ctx context.Context, code string) ([]area.Area, error)
}

// Enterprises resolves the enterprise a batch is for: its name, its area
// and its registered employees (the default quota). The resumption
// service satisfies it.
type Enterprises interface {
	PassSubject(ctx context.Context, key string) (name, areaCode string, employees int, err error)
}

// Checkpoints looks up a checkpoint by id (errs.NotFound if there is
// none); the checkpoint service satisfies it. Without it a batch's
// checkpoint ids are only checked to be numbers, and transfer points are
// refused (they cannot be told apart).
type Checkpoints interface {
	Checkpoint(ctx context.Context, id string) (passtoken.CheckpointInfo, error)
}

// Service is the pass use cases. Every method that changes something
// authorizes its caller, validates its input and runs in one transaction,
// audited.
type Service struct {
	db          *db.DB
	box         *pii.Box
	areas       Areas
	enterprises Enterprises
	checkpoints Checkpoints
	users       Users
	notifier    Notifier
	keys        *keyring
	clock       clock.Clock
	log         *slog.Logger

	revs     *revset   // the revocation list in memory, for Verify
	verified *verified // tokens whose signature Verify has checked
}

// Deps are the collaborators of the service.
type Deps struct {
	Areas       Areas
	Enterprises Enterprises
	Checkpoints Checkpoints // may be nil
	Users       Users       // may be nil (with Notifier): nobody is notified
	Notifier    Notifier    // may be nil
	DataDir     string      // private keys are kept in DataDir/pass-keys
	Log         *slog.Logger
}

// NewService builds the service.
func NewService(d *db.DB, box *pii.Box, deps Deps) *Service {
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d, box: box, areas: deps.Areas, enterprises: deps.Enterprises, checkpoints: deps.Checkpoints,
		users: deps.Users, notifier: deps.Notifier, keys: newKeyring(d, deps.DataDir, log), clock: d.Clock, log: log, revs: newRevset(d, log), verified: newVerified()}
}

func errEnterpriseNotFound() error {
	return errs.E(errs.NotFound, "enterprise_not_found", "企业不存在")
}

func errBatchNotFound() error {
	return errs.E(errs.NotFound, "batch_not_found", "通行证申请批次不存在")
}

func errPassNotFound() error { return errs.E(errs.NotFound, "pass_not_found", "通行证不存在") }

// normalizeKey folds a credit code typed in lower case or with spaces.
func normalizeKey(key string) string {
	key = strings.TrimSpace(key)
	if c, err := pii.NormalizeCreditCode(key); err == nil {
		return c
	}
	return key
}

// visibility is what a caller reaches: area subtrees with PassRead
// (officers, reviewers) and their own enterprises (contacts).
type visibility struct {
	all   bool
	paths []string
	keys  []string
}

func visibilityFor(p *auth.Principal) visibility {
	paths, all := p.AreaPaths(auth.PassRead)
	v := visibility{all: all, paths: paths}
	if p.Can(auth.PassApply) {
		v.keys = p.Refs(auth.EnterpriseContact)
	}
	return v
}

// reads checks p may read passes at all: 401 without a principal, 403
// without PassRead or PassApply.
func reads(p *auth.Principal, op string) (visibility, error) {
	if p == nil || (!p.Can(auth.PassRead) && !p.Can(auth.PassApply)) {
		return visibility{}, auth.Require(p, auth.PassRead, op)
	}
	return visibilityFor(p), nil
}

// covers reports whether v reaches an object of enterprise key at path.
func (v visibility) covers(key, path string) bool {
	if v.all || slices.Contains(v.keys, key) {
		return true
	}
	for _, p := range v.paths {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// where is the SQL condition selecting the rows v reaches, for a table
// with enterprise_key and area_path columns (prefixed by alias).
func (v visibility) where(args *db.Args, alias string) string {
	if v.all {
		return "1 = 1"
	}
	var ors []string
	for _, p := range v.paths {
		ors = append(ors, alias+"area_path LIKE "+args.Add(db.LikePrefix(p))+` ESCAPE '\'`)
	}
	for _, k := range v.keys {
		ors = append(ors, alias+"enterprise_key = "+args.Add(k))
	}
	if len(ors) == 0 {
		return "1 = 0"
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// subject is an enterprise as the pass module sees it.
type subject struct {
	Key, Name string
	Area      *area.Area
	Employees int
	// Reach is the subtree passes of the enterprise may name: its district
	// (or the area itself when it lies at the city level).
	Reach *area.Area
}

// subjectOf resolves an enterprise and its reach.
func (s *Service) subjectOf(ctx context.Context, key string) (*subject, error) {
	if s.enterprises == nil {
		return nil, errEnterpriseNotFound()
	}
	name, code, employees, err := s.enterprises.PassSubject(ctx, key)
	if err != nil {
		return nil, err
	}
	a, err := s.areas.Lookup(ctx, code)
	if err != nil {
		return nil, err
	}
	sub := &subject{Key: key, Name: name, Area: a, Employees: employees, Reach: a}
	if codes := strings.Split(strings.Trim(a.Path, "/"), "/"); len(codes) > 2 {
		if sub.Reach, err = s.areas.Lookup(ctx, codes[1]); err != nil {
			return nil, err
		}
	}
	return sub, nil
}

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
	data, examples := withoutExamples(tbl.Rows)
	switch {
	case len(data) == 0 && examples > 0:
		return nil, errs.Wrap(op, errs.E(errs.Invalid, "import_no_rows",
			"文件中只有示例行，未提交任何申请：请在示例行下方按示例逐行填写（示例行本身不会提交）"))
	case len(data) == 0:
		return nil, errs.Wrap(op, errs.E(errs.Invalid, "import_no_rows", "文件中没有数据行，未提交任何申请"))
	}
	rows, err := s.checkRows(ctx, sub, data)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	name := strings.TrimSpace(in.FileName)
	if utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name) {
		name = ""
	}
	var id int64
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		persons := 0
		for _, r := range rows {
			if r.kind == passtoken.Person {
				persons++
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO pass_batches (enterprise_key, enterprise_name, area_code, area_path, status,
			file_name, row_count, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, 'submitted', $5, $6, $7, $8) RETURNING id`,
			sub.Key, sub.Name, sub.Area.Code, sub.Area.Path, name, len(rows), p.Actor(), tx.NowMS()).Scan(&id)
		if err != nil {
			return fmt.Errorf("pass: insert batch: %w", err)
		}
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, `INSERT INTO pass_batch_rows (batch_id, row_no, kind, name_masked, name_enc,
				id_enc, id_idx, id4, phone_enc, plate, areas, checkpoints, valid_from, valid_to)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
				id, r.num, string(r.kind), r.nameMasked, r.nameEnc, r.idEnc, r.idIdx, r.id4, r.phoneEnc, r.plate,
				joinList(r.areas), joinList(r.cps), r.from.UnixMilli(), r.to.UnixMilli()); err != nil {
				return fmt.Errorf("pass: insert batch row: %w", err)
			}
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "pass.batch_upload",
			ObjectType: "pass_batch", ObjectID: strconv.FormatInt(id, 10), AreaCode: sub.Area.Code,
			Summary: fmt.Sprintf("%s 提交通行证申请 %d 份（人员 %d，车辆 %d）", sub.Name, len(rows), persons, len(rows)-persons)}); err != nil {
			return err
		}
		return s.notifyReviewers(ctx, tx, id, sub.Name, sub.Area.Path, len(rows), persons)
	})
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

// checkRows validates and seals the rows of a batch file.
func (s *Service) checkRows(ctx context.Context, sub *subject, in []importer.Row) ([]row, error) {
	today := startOfDay(s.clock.Now())
	ix, err := s.indexReach(ctx, sub.Reach)
	if err != nil {
		return nil, err
	}
	type areaCheck struct{ code, msg string }
	areaCache := map[string]areaCheck{}
	type cpCheck struct {
		info passtoken.CheckpointInfo
		msg  string
	}
	cpCache := map[string]cpCheck{}
	// lookupCP checks a checkpoint id: a number naming a registered
	// checkpoint (when the registry is wired).
	lookupCP := func(cp string) (cpCheck, error) {
		if c, ok := cpCache[cp]; ok {
			return c, nil
		}
		c := cpCheck{info: passtoken.CheckpointInfo{ID: cp}}
		if n, err := strconv.ParseInt(cp, 10, 64); err != nil || n <= 0 {
			c.msg = fmt.Sprintf("卡口编号须为数字，而不是%s", importer.Quote(cp))
		} else if s.checkpoints != nil {
			info, err := s.checkpoints.Checkpoint(ctx, cp)
			switch {
			case errs.Is(err, errs.NotFound):
				c.msg = fmt.Sprintf("卡口 %s 不存在", cp)
			case err != nil:
				return c, err
			default:
				c.info = info
			}
		}
		cpCache[cp] = c
		return c, nil
	}
	firstID, firstPlate := map[string]int{}, map[string]int{}
	var list importer.Errors
	out := make([]row, 0, len(in))
	for _, ir := range in {
		seen := map[string]bool{}
		bad := func(col, msg string) {
			if !seen[col] {
				seen[col] = true
				list.Add(ir.Num, BatchSpec.HeaderOf(col), msg)
			}
		}
		r := row{num: ir.Num, kind: passtoken.Person}
		name := ir.Get("name")
		if msg := errs.CheckLine(name, MaxNameLen, true); msg != "" {
			bad("name", msg)
		}
		if v := ir.Get("plate"); v != "" {
			plate, err := pii.NormalizePlate(v)
			if err != nil {
				bad("plate", fmt.Sprintf("%s（%s）", err.Error(), v))
			} else if n, dup := firstPlate[plate]; dup {
				bad("plate", fmt.Sprintf("车牌 %s 与第 %d 行重复", plate, n))
			} else {
				firstPlate[plate] = ir.Num
			}
			r.kind, r.plate = passtoken.Vehicle, plate
		}
		var id string
		if v := ir.Get("id_number"); v != "" {
			norm, err := pii.NormalizeResidentID(v)
			switch {
			case err != nil && importer.ExcelNumber(v):
				bad("id_number", importer.ExcelNumberMessage("身份证号"))
			case err != nil:
				bad("id_number", err.Error())
			case r.kind == passtoken.Person && firstID[norm] > 0:
				bad("id_number", fmt.Sprintf("身份证号与第 %d 行重复", firstID[norm]))
			default:
				if r.kind == passtoken.Person {
					firstID[norm] = ir.Num
				}
				id = norm
			}
		} else if r.kind == passtoken.Person {
			bad("id_number", "人员通行证须填写身份证号")
		}
		phone, err := pii.NormalizePhone(ir.Get("phone"))
		if err != nil {
			bad("phone", err.Error())
		}
		items := splitList(ir.Get("areas"))
		switch {
		case len(items) == 0:
			bad("areas", "请填写通行区域：名称（如 芦淞区建设街道）或区划编码，多个以 ; 分隔")
		case len(items) > MaxAreasPerPass:
			bad("areas", fmt.Sprintf("通行区域不能超过 %d 个", MaxAreasPerPass))
		}
		r.areas = nil
		for _, item := range items {
			c, ok := areaCache[item]
			if !ok {
				if c.code, c.msg, err = ix.resolve(ctx, s.areas, item); err != nil {
					return nil, err
				}
				areaCache[item] = c
			}
			if c.msg != "" {
				bad("areas", c.msg)
			} else if !slices.Contains(r.areas, c.code) {
				r.areas = append(r.areas, c.code)
			}
		}
		r.cps = splitList(ir.Get("checkpoints"))
		if len(r.cps) > MaxCheckpointsPerPass {
			bad("checkpoints", fmt.Sprintf("指定卡口不能超过 %d 个", MaxCheckpointsPerPass))
		}
		for i, cp := range r.cps {
			c, err := lookupCP(cp)
			if err != nil {
				return nil, err
			}
			if c.msg != "" {
				bad("checkpoints", c.msg)
			}
			r.cps[i] = c.info.ID // as the registry writes it ("012" is 12)
		}
		if v := strings.TrimSpace(ir.Get("transfer_point")); v != "" {
			tps := splitList(v)
			switch {
			case r.kind != passtoken.Vehicle:
				bad("transfer_point", "物资接驳点只用于车辆通行证：请填写车牌，或清空接驳点")
			case len(r.cps) > 0:
				bad("transfer_point", "填写了物资接驳点就不能再指定卡口：车辆只能到达该接驳点")
			case len(tps) != 1:
				bad("transfer_point", "只能填写一个物资接驳点的卡口编号")
			default:
				c, err := lookupCP(tps[0])
				switch {
				case err != nil:
					return nil, err
				case c.msg != "":
					bad("transfer_point", c.msg)
				case s.checkpoints == nil:
					bad("transfer_point", "卡口登记未接入，无法核实物资接驳点")
				case !c.info.IsTransferPoint():
					bad("transfer_point", fmt.Sprintf("卡口 %s「%s」不是物资接驳点", c.info.ID, c.info.Name))
				default:
					r.cps = []string{c.info.ID}
				}
			}
		}
		from, okFrom := parseDay(ir.Get("valid_from"))
		to, okTo := parseDay(ir.Get("valid_to"))
		if !okFrom {
			bad("valid_from", fmt.Sprintf("起始日期须为 2022-11-21 这样的日期，而不是%s", importer.Quote(ir.Get("valid_from"))))
		}
		if !okTo {
			bad("valid_to", fmt.Sprintf("截止日期须为 2022-12-20 这样的日期，而不是%s", importer.Quote(ir.Get("valid_to"))))
		}
		if okFrom && okTo {
			days := int(to.Sub(from).Hours()/24+0.5) + 1
			switch {
			case to.Before(from):
				bad("valid_to", "截止日期早于起始日期")
			case days > MaxValidityDays:
				bad("valid_to", fmt.Sprintf("有效期 %d 天，不能超过 %d 天", days, MaxValidityDays))
			case to.Before(today):
				bad("valid_to", "截止日期已过")
			}
		}
		if len(seen) > 0 {
			continue
		}
		r.from, r.to = from, to.AddDate(0, 0, 1)
		r.nameMasked = pii.MaskName(strings.TrimSpace(name))
		if r.nameEnc, err = s.box.Seal(strings.TrimSpace(name)); err != nil {
			return nil, err
		}
		if id != "" {
			if r.idEnc, err = s.box.Seal(id); err != nil {
				return nil, err
			}
			r.idIdx, r.id4 = s.box.Index("resident_id", id), pii.Last4(id)
		}
		if r.phoneEnc, err = s.box.Seal(phone); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	// One pass per person and per vehicle at a time, whichever enterprise
	// applied: a row whose holder has an active pass, or is in a batch
	// awaiting review, for overlapping days is refused. The uploader learns
	// no more than that, unless the pass or the batch is their own
	// enterprise's: another enterprise's name, pass, batch or dates are for
	// the reviewer (GetBatch, Approve).
	probes := make([]probe, 0, len(out))
	for _, r := range out {
		probes = append(probes, r.probe())
	}
	var held map[int][]holding
	err = s.db.Read(ctx, func(tx *db.Tx) (err error) {
		held, err = heldRows(ctx, tx, probes, tx.NowMS(), true, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, r := range out {
		if hs := held[r.num]; len(hs) > 0 {
			list.AddCode(r.num, BatchSpec.HeaderOf(heldColumn(r.kind)), "pass_already_held", uploaderMessage(r.kind, hs, sub.Key))
		}
	}
	if err := list.Err(); err != nil {
		return nil, err
	}
	return out, nil
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

// Conflict is, for the reviewer of a batch awaiting review, what a row's
// person or vehicle already holds for overlapping days: an active pass or
// a row of another batch awaiting review.
type Conflict struct {
	PID            string    `json:"pid,omitempty"`
	BatchID        int64     `json:"batch_id,omitempty"`
	BatchRow       int       `json:"batch_row,omitempty"`
	Enterprise     string    `json:"enterprise"`
	EnterpriseName string    `json:"enterprise_name"`
	ValidFrom      time.Time `json:"valid_from"`
	ValidTo        time.Time `json:"valid_to"`
	Message        string    `json:"message"`
}

// conflicts fills the Conflict of the rows of a batch awaiting review,
// as of now.
func (s *Service) conflicts(ctx context.Context, b *Batch) error {
	return s.db.Read(ctx, func(tx *db.Tx) error {
		stored, err := loadRows(ctx, tx, b.ID)
		if err != nil {
			return err
		}
		held, err := heldRows(ctx, tx, probesOf(stored), tx.NowMS(), true, b.ID)
		if err != nil {
			return err
		}
		for i := range b.Rows {
			r := &b.Rows[i]
			if hs := held[r.Row]; len(hs) > 0 {
				h := hs[0]
				r.Conflict = &Conflict{PID: h.pid, BatchID: h.batch, BatchRow: h.row, Enterprise: h.enterpriseKey,
					EnterpriseName: h.enterpriseName, ValidFrom: clock.FromMillis(h.from), ValidTo: clock.FromMillis(h.to),
					Message: heldMessage(r.Kind, h)}
			}
		}
		return nil
	})
}

// transferPointer returns a function naming the transfer point a pass or
// row is limited to reaching: a vehicle's only checkpoint, when the
// registry says it is a transfer point (nil otherwise). The 接驳点 column
// makes such passes; one whose 卡口 names only a transfer point is the
// same pass. Each checkpoint is looked up once per function.
func (s *Service) transferPointer(ctx context.Context) func(passtoken.Kind, []string) (*passtoken.CheckpointInfo, error) {
	seen := map[string]*passtoken.CheckpointInfo{}
	return func(kind passtoken.Kind, cps []string) (*passtoken.CheckpointInfo, error) {
		if s.checkpoints == nil || kind != passtoken.Vehicle || len(cps) != 1 {
			return nil, nil
		}
		if c, ok := seen[cps[0]]; ok {
			return c, nil
		}
		info, err := s.checkpoints.Checkpoint(ctx, cps[0])
		var c *passtoken.CheckpointInfo
		switch {
		case errs.Is(err, errs.NotFound):
		case err != nil:
			return nil, err
		case info.IsTransferPoint():
			c = &info
		}
		seen[cps[0]] = c
		return c, nil
	}
}

// startOfDay is midnight in Shanghai of t's day.
func startOfDay(t time.Time) time.Time {
	t = t.In(clock.Shanghai)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, clock.Shanghai)
}

// ApproveInput approves rows of a batch (row numbers as in the file; nil
// approves every row); the others are rejected, each with its reason.
type ApproveInput struct {
	Rows    []int       `json:"rows"`
	Note    string      `json:"note"`
	Reasons []RowReason `json:"reasons"`
}

// RowReason is why a row of a batch was not approved.
type RowReason struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
}

// ReasonInput is a rejection or revocation reason.
type ReasonInput struct {
	Reason string `json:"reason"`
}

// loadBatchForReview loads a submitted batch for a reviewer who covers it.
func loadBatchForReview(ctx context.Context, tx *db.Tx, p *auth.Principal, id int64) (*Batch, error) {
	b, err := scanBatch(tx.QueryRowContext(ctx, `SELECT `+batchCols+` FROM pass_batches WHERE id = $1`, id))
	if noRows(err) || (err == nil && !p.Covers(auth.PassReview, b.AreaPath)) {
		return nil, errBatchNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("pass: batch: %w", err)
	}
	if b.Status != Submitted {
		return nil, errs.E(errs.Conflict, "batch_decided", "该批次已审核，不能再次审核")
	}
	return b, nil
}

// quotaOf is the quota of an enterprise: its own, or employees.
func quotaOf(ctx context.Context, tx *db.Tx, key string, employees int) (int, bool, error) {
	var q int
	err := tx.QueryRowContext(ctx, `SELECT quota FROM pass_quotas WHERE enterprise_key = $1`, key).Scan(&q)
	if noRows(err) {
		return employees, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("pass: quota: %w", err)
	}
	return q, false, nil
}

// activeCount counts an enterprise's active, unexpired passes.
func activeCount(ctx context.Context, tx *db.Tx, key string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM passes WHERE enterprise_key = $1 AND status = 'active' AND valid_to > $2`,
		key, tx.NowMS()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pass: active passes: %w", err)
	}
	return n, nil
}

// Approve approves a batch, wholly or row by row, and issues the passes
// in the same transaction: signed tokens, within the enterprise's quota
// (active passes + new ≤ quota, else 409 pass_quota_exceeded).
func (s *Service) Approve(ctx context.Context, p *auth.Principal, id int64, in ApproveInput) (*Batch, error) {
	const op = "pass.Approve"
	if err := auth.Require(p, auth.PassReview, op); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, errs.Wrap(op, err)
	}
	// The default quota is read before the transaction: it is another
	// module's data, and a stale reading only matters if the registry
	// changes in the same instant.
	var employees = -1
	var entKey string
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT enterprise_key FROM pass_batches WHERE id = $1`, id).Scan(&entKey)
	})
	if noRows(err) {
		return nil, errs.Wrap(op, errBatchNotFound())
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if s.enterprises != nil {
		if _, _, employees, err = s.enterprises.PassSubject(ctx, entKey); err != nil && !errs.Is(err, errs.NotFound) {
			return nil, errs.Wrap(op, err)
		}
	}
	var left []RowReason
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if err := lock(ctx, tx, "issue"); err != nil {
			return err
		}
		b, err := loadBatchForReview(ctx, tx, p, id)
		if err != nil {
			return err
		}
		stored, err := loadRows(ctx, tx, id)
		if err != nil {
			return err
		}
		var chosen []storedRow
		if chosen, left, err = chooseRows(stored, in); err != nil {
			return err
		}
		if err := checkNotHeld(ctx, tx, chosen); err != nil {
			return err
		}
		if employees < 0 {
			employees = 0
		}
		quota, _, err := quotaOf(ctx, tx, b.EnterpriseKey, employees)
		if err != nil {
			return err
		}
		active, err := activeCount(ctx, tx, b.EnterpriseKey)
		if err != nil {
			return err
		}
		if active+len(chosen) > quota {
			return errs.Newf(errs.Conflict, "pass_quota_exceeded",
				"超出通行证配额：%s 配额 %d 张，现有有效通行证 %d 张，本次批准 %d 张", b.EnterpriseName, quota, active, len(chosen))
		}
		if err := s.issue(ctx, tx, p, b, chosen); err != nil {
			return err
		}
		status := Approved
		if len(chosen) < len(stored) {
			status = PartlyApproved
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pass_batch_rows SET decision = 'approved' WHERE batch_id = $1`, id); err != nil {
			return fmt.Errorf("pass: decide rows: %w", err)
		}
		for _, r := range left {
			if _, err := tx.ExecContext(ctx, `UPDATE pass_batch_rows SET decision = 'rejected', reason = $1 WHERE batch_id = $2 AND row_no = $3`,
				r.Reason, id, r.Row); err != nil {
				return fmt.Errorf("pass: decide rows: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pass_batches SET status = $1, approved_count = $2, rejected_count = $3,
			reviewed_by = $4, reviewed_at = $5, note = $6 WHERE id = $7`, string(status), len(chosen), len(stored)-len(chosen),
			p.Actor(), tx.NowMS(), strings.TrimSpace(in.Note), id); err != nil {
			return fmt.Errorf("pass: approve batch: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "pass.batch_approve",
			ObjectType: "pass_batch", ObjectID: strconv.FormatInt(id, 10), AreaCode: b.AreaCode,
			Summary: fmt.Sprintf("批准 %s 的通行证申请第 %d 批：签发 %d 张，未批准 %d 行%s", b.EnterpriseName, id, len(chosen),
				len(stored)-len(chosen), reasonsSummary(left))}); err != nil {
			return err
		}
		return s.notifyEnterprise(ctx, tx, b.EnterpriseKey, decidedMessage(b, len(chosen), left, in.Note))
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.batch(ctx, id, false)
}

// checkNotHeld refuses an approval when the person or vehicle of a chosen
// row already holds an active pass valid on one of the same days (issued
// since the upload checked, by another batch approved first): 409
// pass_already_held listing the rows, and nothing is issued. Approvals
// hold the "issue" lock, so two cannot both pass this check.
func checkNotHeld(ctx context.Context, tx *db.Tx, chosen []storedRow) error {
	probes := probesOf(chosen)
	held, err := heldRows(ctx, tx, probes, tx.NowMS(), false, 0)
	if err != nil || len(held) == 0 {
		return err
	}
	var fields []errs.FieldError
	var nums []string
	for _, r := range chosen {
		if hs, ok := held[r.num]; ok {
			fields = append(fields, errs.FieldError{Row: r.num, Column: BatchSpec.HeaderOf(heldColumn(r.kind)),
				Code: "pass_already_held", Message: heldMessage(r.kind, hs[0])})
			nums = append(nums, strconv.Itoa(r.num))
		}
	}
	return &errs.Error{Kind: errs.Conflict, Code: "pass_already_held", Fields: fields,
		Message: fmt.Sprintf("第 %s 行的人员或车辆已持有有效通行证，本次未签发任何通行证：请不批准这些行，或先吊销原证",
			strings.Join(nums, "、"))}
}

// probesOf is what stored rows look for among passes and pending rows.
func probesOf(rows []storedRow) []probe {
	probes := make([]probe, 0, len(rows))
	for _, r := range rows {
		p := probe{num: r.num, kind: r.kind, key: r.plate, from: r.from, to: r.to}
		if r.kind == passtoken.Person {
			p.key = r.idIdx.String
		}
		probes = append(probes, p)
	}
	return probes
}

// issue signs and stores a pass for each row, with the signing key
// (created on first use), and moves the key's last expiry.
func (s *Service) issue(ctx context.Context, tx *db.Tx, p *auth.Principal, b *Batch, rows []storedRow) error {
	if len(rows) == 0 {
		return nil
	}
	kid, priv, err := s.keys.signer(ctx, tx)
	if err != nil {
		return err
	}
	numbers, err := freshNumbers(ctx, tx, len(rows))
	if err != nil {
		return err
	}
	var lastExp int64
	now := tx.NowMS()
	values := make([][]any, 0, len(rows))
	for i, r := range rows {
		pid := NewPID()
		c := passtoken.Claims{PID: pid, Kind: r.kind, Name: r.nameMasked, ID4: r.id4, Plate: r.plate, Ent: b.EnterpriseKey,
			EntName: tokenEntName(b.EnterpriseName), Areas: r.areas, CPs: r.cps, NBF: r.from / 1000, EXP: r.to / 1000}
		token, err := passtoken.Sign(priv, kid, c)
		if err != nil {
			return err
		}
		values = append(values, []any{pid, string(r.kind), b.EnterpriseKey, b.EnterpriseName, b.AreaPath,
			r.nameMasked, r.nameEnc, r.idEnc, r.idIdx, r.id4, r.phoneEnc, r.plate, joinList(r.areas), joinList(r.cps),
			r.from, r.to, kid, token, b.ID, r.num, now, p.Actor(), numbers[i]})
		lastExp = max(lastExp, r.to)
	}
	if err := insertPasses(ctx, tx, values); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE pass_keys SET last_exp = $1 WHERE kid = $2 AND last_exp < $1`, lastExp, kid); err != nil {
		return fmt.Errorf("pass: key expiry: %w", err)
	}
	return nil
}

// insertChunk is how many passes one INSERT writes on PostgreSQL, where
// each statement is a round trip: 23 values each, well under its limit of
// 65535 parameters. SQLite runs in process, and binding thousands of
// parameters costs it more than it saves: one row per statement there,
// each prepared once (see db.Tx).
func insertChunk(d db.Dialect) int {
	if d == db.Postgres {
		return 250
	}
	return sqliteInsertChunk
}

var sqliteInsertChunk = 32

// insertPasses writes passes (the 23 values of insertPassHead each) with
// multi-row INSERTs, insertChunk rows at a time.
func insertPasses(ctx context.Context, tx *db.Tx, values [][]any) error {
	for len(values) > 0 {
		n := min(len(values), insertChunk(tx.Dialect))
		var b strings.Builder
		b.WriteString(insertPassHead)
		args := make([]any, 0, n*len(values[0]))
		for i, v := range values[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for j := range v {
				if j > 0 {
					b.WriteString(", ")
				}
				args = append(args, v[j])
				b.WriteString("$" + strconv.Itoa(len(args)))
			}
			b.WriteString(", 'active')")
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("pass: insert passes: %w", err)
		}
		values = values[n:]
	}
	return nil
}

// insertPassHead lists the columns insertPasses fills; status is the
// constant 'active' after them.
const insertPassHead = `INSERT INTO passes (pid, kind, enterprise_key, enterprise_name, area_path, name_masked, name_enc, id_enc,
	id_idx, id4, phone_enc, plate, areas, checkpoints, valid_from, valid_to, kid, token, batch_id, batch_row, issued_at, issued_by,
	number, status) VALUES `

// Reject rejects a whole batch with a reason.
func (s *Service) Reject(ctx context.Context, p *auth.Principal, id int64, in ReasonInput) (*Batch, error) {
	const op = "pass.Reject"
	if err := auth.Require(p, auth.PassReview, op); err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(in.Reason)
	if msg := errs.CheckLine(reason, MaxReasonLen, true); msg != "" {
		return nil, errs.Wrap(op, errs.Fields("invalid_reason", "请填写驳回理由", errs.FieldError{Field: "reason", Message: msg}))
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		b, err := loadBatchForReview(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pass_batch_rows SET decision = 'rejected' WHERE batch_id = $1`, id); err != nil {
			return fmt.Errorf("pass: reject rows: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pass_batches SET status = 'rejected', rejected_count = row_count,
			reviewed_by = $1, reviewed_at = $2, note = $3 WHERE id = $4`, p.Actor(), tx.NowMS(), reason, id); err != nil {
			return fmt.Errorf("pass: reject batch: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "pass.batch_reject",
			ObjectType: "pass_batch", ObjectID: strconv.FormatInt(id, 10), AreaCode: b.AreaCode,
			Summary: fmt.Sprintf("驳回 %s 的通行证申请第 %d 批（%d 行）：%s", b.EnterpriseName, id, b.RowCount, reason)}); err != nil {
			return err
		}
		return s.notifyEnterprise(ctx, tx, b.EnterpriseKey, notify.Message{Event: EventBatchRejected,
			Title: fmt.Sprintf("通行证申请第 %d 批被驳回", id),
			Body:  fmt.Sprintf("%s 的 %d 份申请全部未批准。驳回理由：%s", b.EnterpriseName, b.RowCount, reason),
			Link:  batchLink(id), ObjectType: "pass_batch", ObjectID: strconv.FormatInt(id, 10), AreaPath: b.AreaPath})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.batch(ctx, id, false)
}

// GetBatch returns a batch with its rows, for a caller who reaches it;
// a reviewer of a batch awaiting review gets each row's Conflict.
func (s *Service) GetBatch(ctx context.Context, p *auth.Principal, id int64) (*Batch, error) {
	const op = "pass.GetBatch"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	b, err := s.batch(ctx, id, true)
	if err == nil && !v.covers(b.EnterpriseKey, b.AreaPath) {
		err = errBatchNotFound()
	}
	// Its reviewer sees what each row's holder already has.
	if err == nil && b.Status == Submitted && p.Covers(auth.PassReview, b.AreaPath) {
		err = s.conflicts(ctx, b)
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return b, nil
}

// BatchFilter selects batches.
type BatchFilter struct {
	Statuses   []BatchStatus
	Enterprise string
	Before     int64 // id cursor
	Limit      int
}

// ListBatches lists the batches the caller reaches, newest first: the
// review queue of a reviewer (status=submitted), an enterprise's own.
func (s *Service) ListBatches(ctx context.Context, p *auth.Principal, f BatchFilter) ([]Batch, error) {
	const op = "pass.ListBatches"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	var args db.Args
	where := []string{v.where(&args, "")}
	if len(f.Statuses) > 0 {
		var in []string
		for _, st := range f.Statuses {
			in = append(in, args.Add(string(st)))
		}
		where = append(where, "status IN ("+strings.Join(in, ", ")+")")
	}
	if f.Enterprise != "" {
		where = append(where, "enterprise_key = "+args.Add(normalizeKey(f.Enterprise)))
	}
	if f.Before > 0 {
		where = append(where, "id < "+args.Add(f.Before))
	}
	if f.Limit <= 0 {
		f.Limit = DefaultListLimit
	}
	var out []Batch
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+batchCols+` FROM pass_batches WHERE `+strings.Join(where, " AND ")+
			` ORDER BY id DESC LIMIT `+args.Add(f.Limit), args.List...)
		if err != nil {
			return fmt.Errorf("pass: batches: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			b, err := scanBatch(rows)
			if err != nil {
				return err
			}
			out = append(out, *b)
		}
		return rows.Err()
	})
	return out, errs.Wrap(op, err)
}

// BatchPasses lists the passes issued for a batch, with their tokens.
func (s *Service) BatchPasses(ctx context.Context, p *auth.Principal, id int64) ([]Pass, error) {
	const op = "pass.BatchPasses"
	if _, err := s.GetBatchBrief(ctx, p, id); err != nil {
		return nil, err
	}
	list, err := s.passes(ctx, `batch_id = $1 ORDER BY batch_row`, []any{id}, true)
	return list, errs.Wrap(op, err)
}

// GetBatchBrief is GetBatch without the rows.
func (s *Service) GetBatchBrief(ctx context.Context, p *auth.Principal, id int64) (*Batch, error) {
	const op = "pass.GetBatch"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	b, err := s.batch(ctx, id, false)
	if err == nil && !v.covers(b.EnterpriseKey, b.AreaPath) {
		err = errBatchNotFound()
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return b, nil
}

// GetPass returns a pass with its token, for a caller who reaches it.
func (s *Service) GetPass(ctx context.Context, p *auth.Principal, pid string) (*Pass, error) {
	const op = "pass.GetPass"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	if !validPID(pid) {
		return nil, errs.Wrap(op, errPassNotFound())
	}
	list, err := s.passes(ctx, `pid = $1`, []any{pid}, true)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if len(list) == 0 || !v.covers(list[0].EnterpriseKey, list[0].AreaPath) {
		return nil, errs.Wrap(op, errPassNotFound())
	}
	return &list[0], nil
}

// PassFilter selects passes.
type PassFilter struct {
	Enterprise string
	Status     Status
	Batch      int64
	Before     int64 // id cursor
	Limit      int
}

// ListPasses lists the passes the caller reaches, newest first, without
// tokens.
func (s *Service) ListPasses(ctx context.Context, p *auth.Principal, f PassFilter) ([]Pass, error) {
	const op = "pass.ListPasses"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	var args db.Args
	where := []string{v.where(&args, "")}
	if f.Enterprise != "" {
		where = append(where, "enterprise_key = "+args.Add(normalizeKey(f.Enterprise)))
	}
	switch f.Status {
	case StatusActive:
		where = append(where, "status = 'active' AND valid_to > "+args.Add(s.clock.Now().UnixMilli()))
	case StatusExpired:
		where = append(where, "status = 'active' AND valid_to <= "+args.Add(s.clock.Now().UnixMilli()))
	case StatusRevoked:
		where = append(where, "status = 'revoked'")
	}
	if f.Batch > 0 {
		where = append(where, "batch_id = "+args.Add(f.Batch))
	}
	if f.Before > 0 {
		where = append(where, "id < "+args.Add(f.Before))
	}
	if f.Limit <= 0 {
		f.Limit = DefaultListLimit
	}
	list, err := s.passes(ctx, strings.Join(where, " AND ")+" ORDER BY id DESC LIMIT "+args.Add(f.Limit), args.List, false)
	return list, errs.Wrap(op, err)
}

// Revoke revokes one pass with a reason: it joins the revocation list.
func (s *Service) Revoke(ctx context.Context, p *auth.Principal, pid string, in ReasonInput) (*Pass, error) {
	const op = "pass.Revoke"
	if err := auth.Require(p, auth.PassReview, op); err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(in.Reason)
	if msg := errs.CheckLine(reason, MaxReasonLen, true); msg != "" {
		return nil, errs.Wrap(op, errs.Fields("invalid_reason", "请填写吊销理由", errs.FieldError{Field: "reason", Message: msg}))
	}
	if !validPID(pid) {
		return nil, errs.Wrap(op, errPassNotFound())
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		if err := lock(ctx, tx, "revocations"); err != nil {
			return err
		}
		var status, entKey, entName, path, kid, name string
		err := tx.QueryRowContext(ctx, `SELECT status, enterprise_key, enterprise_name, area_path, kid, name_masked FROM passes WHERE pid = $1`, pid).
			Scan(&status, &entKey, &entName, &path, &kid, &name)
		if noRows(err) || (err == nil && !p.Covers(auth.PassReview, path)) {
			return errPassNotFound()
		}
		if err != nil {
			return fmt.Errorf("pass: revoke: %w", err)
		}
		if status != string(StatusActive) {
			return errs.E(errs.Conflict, "pass_revoked", "该通行证已吊销")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pass_revocations (pid, kid, revoked_at, reason) VALUES ($1, $2, $3, $4)`,
			pid, kid, tx.NowMS(), reason); err != nil {
			return fmt.Errorf("pass: revoke: %w", err)
		}
		tx.AfterCommit(s.revs.invalidate)
		if _, err := tx.ExecContext(ctx, `UPDATE passes SET status = 'revoked', revoked_at = $1, revoke_reason = $2, revoked_by = $3
			WHERE pid = $4`, tx.NowMS(), reason, p.Actor(), pid); err != nil {
			return fmt.Errorf("pass: revoke: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "pass.revoke",
			ObjectType: "pass", ObjectID: pid, AreaCode: areaOfPath(path),
			Summary: fmt.Sprintf("吊销 %s 的通行证 %s（%s）：%s", entName, pid, name, reason)}); err != nil {
			return err
		}
		return s.notifyEnterprise(ctx, tx, entKey, notify.Message{Event: EventRevoked, Title: "通行证已吊销",
			Body: fmt.Sprintf("%s 的通行证 %s（%s）已吊销。理由：%s", entName, pid, name, reason),
			Link: "/pass-batches", ObjectType: "pass", ObjectID: pid, AreaPath: path})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	list, err := s.passes(ctx, `pid = $1`, []any{pid}, false)
	if err != nil || len(list) == 0 {
		return nil, errs.Wrap(op, err)
	}
	return &list[0], nil
}

// areaOfPath is the last code of an area path.
func areaOfPath(path string) string {
	codes := strings.Split(strings.Trim(path, "/"), "/")
	return codes[len(codes)-1]
}

// RevokeResult counts the passes a bulk revocation revoked.
type RevokeResult struct {
	Revoked int `json:"revoked"`
}

// RevokeEnterprise revokes every active pass of an enterprise.
func (s *Service) RevokeEnterprise(ctx context.Context, p *auth.Principal, key string, in ReasonInput) (*RevokeResult, error) {
	const op = "pass.RevokeEnterprise"
	if err := auth.Require(p, auth.PassReview, op); err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(in.Reason)
	if msg := errs.CheckLine(reason, MaxReasonLen, true); msg != "" {
		return nil, errs.Wrap(op, errs.Fields("invalid_reason", "请填写吊销理由", errs.FieldError{Field: "reason", Message: msg}))
	}
	key = normalizeKey(key)
	sub, err := s.subjectOf(ctx, key)
	if err == nil && !p.Covers(auth.PassReview, sub.Area.Path) {
		err = errEnterpriseNotFound()
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	res := &RevokeResult{}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		n, err := revokeWhere(ctx, tx, p.Actor(), "enterprise_key = $1", key, reason)
		if err != nil {
			return err
		}
		tx.AfterCommit(s.revs.invalidate)
		res.Revoked = n
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "pass.revoke_enterprise",
			ObjectType: "enterprise", ObjectID: key, AreaCode: sub.Area.Code,
			Summary: fmt.Sprintf("吊销 %s 的全部有效通行证 %d 张：%s", sub.Name, n, reason)}); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		return s.notifyEnterprise(ctx, tx, key, notify.Message{Event: EventRevoked, Title: "全部通行证已吊销",
			Body: fmt.Sprintf("%s 的全部有效通行证 %d 张已吊销。理由：%s", sub.Name, n, reason),
			Link: "/pass-batches", ObjectType: "enterprise", ObjectID: key, AreaPath: sub.Area.Path})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return res, nil
}

// revokeWhere revokes the active passes matching cond (one argument, $1)
// under the revocations lock, each with its revocation entry in id order.
func revokeWhere(ctx context.Context, tx *db.Tx, actor, cond string, arg any, reason string) (int, error) {
	if err := lock(ctx, tx, "revocations"); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO pass_revocations (pid, kid, revoked_at, reason)
		SELECT pid, kid, CAST($2 AS BIGINT), CAST($3 AS TEXT) FROM passes WHERE `+cond+` AND status = 'active' ORDER BY id`, arg, tx.NowMS(), reason)
	if err != nil {
		return 0, fmt.Errorf("pass: revoke: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `UPDATE passes SET status = 'revoked', revoked_at = $2, revoke_reason = $3, revoked_by = $4
		WHERE `+cond+` AND status = 'active'`, arg, tx.NowMS(), reason, actor); err != nil {
		return 0, fmt.Errorf("pass: revoke: %w", err)
	}
	return int(n), nil
}

// GetQuota returns an enterprise's quota and its use.
func (s *Service) GetQuota(ctx context.Context, p *auth.Principal, key string) (*Quota, error) {
	const op = "pass.GetQuota"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	key = normalizeKey(key)
	sub, err := s.subjectOf(ctx, key)
	if err == nil && !v.covers(key, sub.Area.Path) {
		err = errEnterpriseNotFound()
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	q := &Quota{Enterprise: key}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		if q.Quota, q.Default, err = quotaOf(ctx, tx, key, sub.Employees); err != nil {
			return err
		}
		q.Active, err = activeCount(ctx, tx, key)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return q, nil
}

// QuotaInput sets a quota; nil returns to the default (employees).
type QuotaInput struct {
	Quota *int `json:"quota"`
}

// SetQuota sets an enterprise's quota (reviewers over its area).
func (s *Service) SetQuota(ctx context.Context, p *auth.Principal, key string, in QuotaInput) (*Quota, error) {
	const op = "pass.SetQuota"
	if err := auth.Require(p, auth.PassReview, op); err != nil {
		return nil, err
	}
	if in.Quota != nil && (*in.Quota < 0 || *in.Quota > 1000000) {
		return nil, errs.Wrap(op, errs.Fields("invalid_quota", "配额须为 0 到 1000000 之间的整数",
			errs.FieldError{Field: "quota", Message: "须为 0 到 1000000"}))
	}
	key = normalizeKey(key)
	sub, err := s.subjectOf(ctx, key)
	if err == nil && !p.Covers(auth.PassReview, sub.Area.Path) {
		err = errEnterpriseNotFound()
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		summary := fmt.Sprintf("%s 的通行证配额恢复为职工人数 %d", sub.Name, sub.Employees)
		if in.Quota == nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM pass_quotas WHERE enterprise_key = $1`, key); err != nil {
				return fmt.Errorf("pass: quota: %w", err)
			}
		} else {
			if _, err := tx.ExecContext(ctx, `INSERT INTO pass_quotas (enterprise_key, quota, updated_at, updated_by) VALUES ($1, $2, $3, $4)
				ON CONFLICT (enterprise_key) DO UPDATE SET quota = excluded.quota, updated_at = excluded.updated_at,
				updated_by = excluded.updated_by`, key, *in.Quota, tx.NowMS(), p.Actor()); err != nil {
				return fmt.Errorf("pass: quota: %w", err)
			}
			summary = fmt.Sprintf("%s 的通行证配额设为 %d", sub.Name, *in.Quota)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "pass.quota",
			ObjectType: "enterprise", ObjectID: key, AreaCode: sub.Area.Code, Summary: summary})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.GetQuota(ctx, p, key)
}

// EnterpriseStats counts the passes of one enterprise. Over a period
// (StatsQuery), Issued, Revoked and Expired count what happened in it —
// passes issued, revoked, and ended (not revoked) — and Persons and
// Vehicles split Issued; Active is always the active passes now. Without
// a period they are totals.
type EnterpriseStats struct {
	Enterprise     string `json:"enterprise"`
	EnterpriseName string `json:"enterprise_name"`
	Issued         int    `json:"issued"`
	Active         int    `json:"active"`
	Expired        int    `json:"expired"`
	Revoked        int    `json:"revoked"`
	Persons        int    `json:"persons"`
	Vehicles       int    `json:"vehicles"`
}

// StatsQuery is the period of pass statistics, [From, To): whole days in
// Asia/Shanghai (see ParseStatsPeriod). A zero From or To leaves that end
// open; both zero asks for totals.
type StatsQuery struct {
	From, To time.Time
}

// Period reports whether q names a period.
func (q StatsQuery) Period() bool { return !q.From.IsZero() || !q.To.IsZero() }

// FirstDay is the period's first day in Shanghai, "" when open.
func (q StatsQuery) FirstDay() string {
	if q.From.IsZero() {
		return ""
	}
	return q.From.In(clock.Shanghai).Format(DateLayout)
}

// LastDay is the period's last day in Shanghai (To is the exclusive end),
// "" when open.
func (q StatsQuery) LastDay() string {
	if q.To.IsZero() {
		return ""
	}
	return lastDay(q.To)
}

// Stats counts the passes issued and revoked per enterprise, for the
// enterprises the caller reaches, most issued first; over a period only
// the enterprises with something to count are listed.
func (s *Service) Stats(ctx context.Context, p *auth.Principal, q StatsQuery) ([]EnterpriseStats, error) {
	const op = "pass.Stats"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	from, to := int64(0), int64(math.MaxInt64)
	if !q.From.IsZero() {
		from = q.From.UnixMilli()
	}
	if !q.To.IsZero() {
		to = q.To.UnixMilli()
	}
	var args db.Args
	now := args.Add(s.clock.Now().UnixMilli())
	f, t := args.Add(from), args.Add(to)
	issued := "issued_at >= " + f + " AND issued_at < " + t
	where := v.where(&args, "")
	var out []EnterpriseStats
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT enterprise_key, ename, issued, active, expired, revoked, persons, vehicles FROM (
			SELECT enterprise_key, MAX(enterprise_name) AS ename,
			SUM(CASE WHEN `+issued+` THEN 1 ELSE 0 END) AS issued,
			SUM(CASE WHEN status = 'active' AND valid_to > `+now+` THEN 1 ELSE 0 END) AS active,
			SUM(CASE WHEN status = 'active' AND valid_to <= `+now+` AND valid_to >= `+f+` AND valid_to < `+t+` THEN 1 ELSE 0 END) AS expired,
			SUM(CASE WHEN status = 'revoked' AND revoked_at >= `+f+` AND revoked_at < `+t+` THEN 1 ELSE 0 END) AS revoked,
			SUM(CASE WHEN kind = 'person' AND `+issued+` THEN 1 ELSE 0 END) AS persons,
			SUM(CASE WHEN kind = 'vehicle' AND `+issued+` THEN 1 ELSE 0 END) AS vehicles
			FROM passes WHERE `+where+` GROUP BY enterprise_key) counts
			WHERE issued + active + expired + revoked > 0
			ORDER BY issued DESC, active DESC, enterprise_key`, args.List...)
		if err != nil {
			return fmt.Errorf("pass: stats: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e EnterpriseStats
			if err := rows.Scan(&e.Enterprise, &e.EnterpriseName, &e.Issued, &e.Active, &e.Expired, &e.Revoked, &e.Persons, &e.Vehicles); err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, errs.Wrap(op, err)
}

// StatsXLSX is Stats as a spreadsheet.
func (s *Service) StatsXLSX(ctx context.Context, p *auth.Principal, q StatsQuery) ([]byte, error) {
	list, err := s.Stats(ctx, p, q)
	if err != nil {
		return nil, err
	}
	header := []string{"统一社会信用代码", "企业", "签发", "当前有效", "已过期", "已吊销", "人员", "车辆"}
	if q.Period() {
		header = []string{"统一社会信用代码", "企业", "期间签发", "当前有效", "期间到期", "期间吊销", "期间签发人员", "期间签发车辆"}
	}
	sheet := importer.Sheet{Name: "通行证统计", Cols: make([]importer.Col, len(header))}
	for i, h := range header {
		sheet.Cols[i] = importer.Col{Header: h, Type: importer.Int}
	}
	sheet.Cols[0].Type, sheet.Cols[1].Type = importer.Text, importer.Text
	for _, e := range list {
		sheet.Rows = append(sheet.Rows, []any{e.Enterprise, e.EnterpriseName, e.Issued, e.Active, e.Expired, e.Revoked, e.Persons, e.Vehicles})
	}
	return importer.WriteBook(sheet)
}
