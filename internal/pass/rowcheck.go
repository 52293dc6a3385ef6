package pass

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/passtoken"
	"tongxin/internal/pii"
)

// rowChecker checks the rows of one batch file, a method per column, and
// seals the good ones. The registry lookups (areas, checkpoints) are made
// once per file; an ID number or plate may appear once per file.
type rowChecker struct {
	s          *Service
	ctx        context.Context
	today      time.Time
	ix         *areaIndex
	areaCache  map[string]areaCheck
	cpCache    map[string]cpCheck
	firstID    map[string]int // ID number → first row naming it
	firstPlate map[string]int // plate → first row naming it
	list       importer.Errors

	// The row being checked.
	in       importer.Row
	seen     map[string]bool // the columns found bad
	r        row
	name, id string
	phone    string
	from, to time.Time
}

type areaCheck struct{ code, msg string }

type cpCheck struct {
	info passtoken.CheckpointInfo
	msg  string
}

// checkRows validates and seals the rows of a batch file.
func (s *Service) checkRows(ctx context.Context, sub *subject, in []importer.Row) ([]row, error) {
	ix, err := s.indexReach(ctx, sub.Reach)
	if err != nil {
		return nil, err
	}
	c := &rowChecker{s: s, ctx: ctx, today: startOfDay(s.clock.Now()), ix: ix, areaCache: map[string]areaCheck{},
		cpCache: map[string]cpCheck{}, firstID: map[string]int{}, firstPlate: map[string]int{}}
	out := make([]row, 0, len(in))
	for _, ir := range in {
		ok, err := c.check(ir)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if err := c.seal(); err != nil {
			return nil, err
		}
		out = append(out, c.r)
	}
	if err := s.refuseHeld(ctx, out, sub.Key, &c.list); err != nil {
		return nil, err
	}
	if err := c.list.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// check checks every column of ir, in the order of the file; ok is false
// when one is bad.
func (c *rowChecker) check(ir importer.Row) (ok bool, err error) {
	c.in, c.seen = ir, map[string]bool{}
	c.r = row{num: ir.Num, kind: passtoken.Person}
	c.name, c.id, c.phone = ir.Get("name"), "", ""
	c.checkName()
	c.checkPlate()
	c.checkIDNumber()
	c.checkPhone()
	if err := c.checkAreas(); err != nil {
		return false, err
	}
	if err := c.checkCheckpoints(); err != nil {
		return false, err
	}
	if err := c.checkTransferPoint(); err != nil {
		return false, err
	}
	c.checkValidity()
	return len(c.seen) == 0, nil
}

// bad notes the first problem of a column of the row.
func (c *rowChecker) bad(col, msg string) {
	if !c.seen[col] {
		c.seen[col] = true
		c.list.Add(c.in.Num, BatchSpec.HeaderOf(col), msg)
	}
}

func (c *rowChecker) checkName() {
	if msg := errs.CheckLine(c.name, MaxNameLen, true); msg != "" {
		c.bad("name", msg)
	}
}

// checkPlate makes the row a vehicle's when it names a plate.
func (c *rowChecker) checkPlate() {
	v := c.in.Get("plate")
	if v == "" {
		return
	}
	plate, err := pii.NormalizePlate(v)
	if err != nil {
		c.bad("plate", fmt.Sprintf("%s（%s）", err.Error(), v))
	} else if n, dup := c.firstPlate[plate]; dup {
		c.bad("plate", fmt.Sprintf("车牌 %s 与第 %d 行重复", plate, n))
	} else {
		c.firstPlate[plate] = c.in.Num
	}
	c.r.kind, c.r.plate = passtoken.Vehicle, plate
}

// checkIDNumber: a person's pass needs one, unique in the file; a
// vehicle's may name its driver.
func (c *rowChecker) checkIDNumber() {
	person := c.r.kind == passtoken.Person
	v := c.in.Get("id_number")
	if v == "" {
		if person {
			c.bad("id_number", "人员通行证须填写身份证号")
		}
		return
	}
	norm, err := pii.NormalizeResidentID(v)
	switch {
	case err != nil && importer.ExcelNumber(v):
		c.bad("id_number", importer.ExcelNumberMessage("身份证号"))
	case err != nil:
		c.bad("id_number", err.Error())
	case person && c.firstID[norm] > 0:
		c.bad("id_number", fmt.Sprintf("身份证号与第 %d 行重复", c.firstID[norm]))
	default:
		if person {
			c.firstID[norm] = c.in.Num
		}
		c.id = norm
	}
}

func (c *rowChecker) checkPhone() {
	phone, err := pii.NormalizePhone(c.in.Get("phone"))
	if err != nil {
		c.bad("phone", err.Error())
	}
	c.phone = phone
}

// checkAreas resolves each area named within the enterprise's reach.
func (c *rowChecker) checkAreas() error {
	items := splitList(c.in.Get("areas"))
	switch {
	case len(items) == 0:
		c.bad("areas", "请填写通行区域：名称（如 芦淞区建设街道）或区划编码，多个以 ; 分隔")
	case len(items) > MaxAreasPerPass:
		c.bad("areas", fmt.Sprintf("通行区域不能超过 %d 个", MaxAreasPerPass))
	}
	c.r.areas = nil
	for _, item := range items {
		a, ok := c.areaCache[item]
		if !ok {
			var err error
			if a.code, a.msg, err = c.ix.resolve(c.ctx, c.s.areas, item); err != nil {
				return err
			}
			c.areaCache[item] = a
		}
		if a.msg != "" {
			c.bad("areas", a.msg)
		} else if !slices.Contains(c.r.areas, a.code) {
			c.r.areas = append(c.r.areas, a.code)
		}
	}
	return nil
}

func (c *rowChecker) checkCheckpoints() error {
	c.r.cps = splitList(c.in.Get("checkpoints"))
	if len(c.r.cps) > MaxCheckpointsPerPass {
		c.bad("checkpoints", fmt.Sprintf("指定卡口不能超过 %d 个", MaxCheckpointsPerPass))
	}
	for i, cp := range c.r.cps {
		k, err := c.checkpoint(cp)
		if err != nil {
			return err
		}
		if k.msg != "" {
			c.bad("checkpoints", k.msg)
		}
		c.r.cps[i] = k.info.ID // as the registry writes it ("012" is 12)
	}
	return nil
}

// checkTransferPoint: a vehicle limited to one transfer point names no
// other checkpoint.
func (c *rowChecker) checkTransferPoint() error {
	v := strings.TrimSpace(c.in.Get("transfer_point"))
	if v == "" {
		return nil
	}
	tps := splitList(v)
	switch {
	case c.r.kind != passtoken.Vehicle:
		c.bad("transfer_point", "物资接驳点只用于车辆通行证：请填写车牌，或清空接驳点")
		return nil
	case len(c.r.cps) > 0:
		c.bad("transfer_point", "填写了物资接驳点就不能再指定卡口：车辆只能到达该接驳点")
		return nil
	case len(tps) != 1:
		c.bad("transfer_point", "只能填写一个物资接驳点的卡口编号")
		return nil
	}
	k, err := c.checkpoint(tps[0])
	switch {
	case err != nil:
		return err
	case k.msg != "":
		c.bad("transfer_point", k.msg)
	case c.s.checkpoints == nil:
		c.bad("transfer_point", "卡口登记未接入，无法核实物资接驳点")
	case !k.info.IsTransferPoint():
		c.bad("transfer_point", fmt.Sprintf("卡口 %s「%s」不是物资接驳点", k.info.ID, k.info.Name))
	default:
		c.r.cps = []string{k.info.ID}
	}
	return nil
}

// checkValidity: whole days, at most MaxValidityDays, not over yet.
func (c *rowChecker) checkValidity() {
	from, okFrom := parseDay(c.in.Get("valid_from"))
	to, okTo := parseDay(c.in.Get("valid_to"))
	c.from, c.to = from, to
	if !okFrom {
		c.bad("valid_from", fmt.Sprintf("起始日期须为 2022-11-21 这样的日期，而不是%s", importer.Quote(c.in.Get("valid_from"))))
	}
	if !okTo {
		c.bad("valid_to", fmt.Sprintf("截止日期须为 2022-12-20 这样的日期，而不是%s", importer.Quote(c.in.Get("valid_to"))))
	}
	if !okFrom || !okTo {
		return
	}
	days := int(to.Sub(from).Hours()/24+0.5) + 1
	switch {
	case to.Before(from):
		c.bad("valid_to", "截止日期早于起始日期")
	case days > MaxValidityDays:
		c.bad("valid_to", fmt.Sprintf("有效期 %d 天，不能超过 %d 天", days, MaxValidityDays))
	case to.Before(c.today):
		c.bad("valid_to", "截止日期已过")
	}
}

// checkpoint checks a checkpoint id: a number naming a registered
// checkpoint (when the registry is wired).
func (c *rowChecker) checkpoint(cp string) (cpCheck, error) {
	if k, ok := c.cpCache[cp]; ok {
		return k, nil
	}
	k := cpCheck{info: passtoken.CheckpointInfo{ID: cp}}
	if n, err := strconv.ParseInt(cp, 10, 64); err != nil || n <= 0 {
		k.msg = fmt.Sprintf("卡口编号须为数字，而不是%s", importer.Quote(cp))
	} else if c.s.checkpoints != nil {
		info, err := c.s.checkpoints.Checkpoint(c.ctx, cp)
		switch {
		case errs.Is(err, errs.NotFound):
			k.msg = fmt.Sprintf("卡口 %s 不存在", cp)
		case err != nil:
			return k, err
		default:
			k.info = info
		}
	}
	c.cpCache[cp] = k
	return k, nil
}

// seal fills the checked row's validity and seals its personal data.
func (c *rowChecker) seal() error {
	box, r := c.s.box, &c.r
	r.from, r.to = c.from, c.to.AddDate(0, 0, 1)
	name := strings.TrimSpace(c.name)
	r.nameMasked = pii.MaskName(name)
	var err error
	if r.nameEnc, err = box.Seal(name); err != nil {
		return err
	}
	if c.id != "" {
		if r.idEnc, err = box.Seal(c.id); err != nil {
			return err
		}
		r.idIdx, r.id4 = box.Index(pii.KindResidentID, c.id), pii.Last4(c.id)
	}
	r.phoneEnc, err = box.Seal(c.phone)
	return err
}

// refuseHeld adds to list the rows whose person or vehicle already holds
// a pass. One pass per person and per vehicle at a time, whichever
// enterprise applied: a row whose holder has an active pass, or is in a
// batch awaiting review, for overlapping days is refused. The uploader
// of enterprise own learns no more than that, unless the pass or the
// batch is their own enterprise's: another enterprise's name, pass, batch
// or dates are for the reviewer (GetBatch, Approve).
func (s *Service) refuseHeld(ctx context.Context, rows []row, own string, list *importer.Errors) error {
	probes := make([]probe, 0, len(rows))
	for _, r := range rows {
		probes = append(probes, r.probe())
	}
	var held map[int][]holding
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		held, err = heldRows(ctx, tx, probes, tx.NowMS(), true, 0)
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range rows {
		if hs := held[r.num]; len(hs) > 0 {
			list.AddCode(r.num, BatchSpec.HeaderOf(heldColumn(r.kind)), "pass_already_held", uploaderMessage(r.kind, hs, own))
		}
	}
	return nil
}
