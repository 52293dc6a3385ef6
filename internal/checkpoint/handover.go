package checkpoint

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// LogHandover records goods handed over at transfer point ref, from a
// vehicle from outside to one from inside. Who may scan there may log.
func (s *Service) LogHandover(ctx context.Context, p *auth.Principal, ref string, in HandoverInput) (*Handover, error) {
	const op = "checkpoint.LogHandover"
	if err := requireScan(p, op); err != nil {
		return nil, err
	}
	row, err := s.checkHandover(ctx, &in, op)
	if err != nil {
		return nil, err
	}
	row.actor = p.Actor()
	var out *Handover
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		c, err := s.scannable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if c.Kind != TransferPoint {
			return errs.Newf(errs.Conflict, "not_transfer_point", "「%s」不是物资接驳点，不能登记接驳", c.Name)
		}
		row.checkpoint = c.ID
		id, err := insertHandover(ctx, tx, row)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "checkpoint.handover",
			ObjectType: "checkpoint", ObjectID: c.Ref(), AreaCode: c.AreaCode,
			Summary: fmt.Sprintf("「%s」接驳：%s %s %s %s，%s → %s", c.Name, row.entName, in.Goods, formatQty(in.Quantity), in.Unit,
				pii.MaskPlate(row.outside), pii.MaskPlate(row.inside))}); err != nil {
			return err
		}
		out = &Handover{ID: id, CheckpointID: c.ID, CheckpointName: c.Name, Enterprise: row.key, EnterpriseName: row.entName,
			Goods: in.Goods, Quantity: in.Quantity, Unit: in.Unit, OutsidePlate: row.outside, InsidePlate: row.inside,
			At: row.at.UTC().Truncate(time.Millisecond), RecordedBy: p.Actor(), RecordedAt: tx.Now}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// handoverCheck gathers the problems of a handover by field.
type handoverCheck struct{ fe []errs.FieldError }

func (c *handoverCheck) add(field, msg string) {
	c.fe = append(c.fe, errs.FieldError{Field: field, Message: msg})
}

// text checks a text field.
func (c *handoverCheck) text(field, v string, limit int) {
	if msg := errs.CheckText(v, limit, true); msg != "" {
		c.add(field, msg)
	}
}

// plate normalizes a plate, "" with a problem when it is not one.
func (c *handoverCheck) plate(field, v string) string {
	plate, err := pii.NormalizePlate(v)
	if err != nil {
		c.add(field, err.Error())
	}
	return plate
}

// checkHandover tidies in and checks it (the enterprise in the registry),
// returning the row to log without its checkpoint and actor; the problems
// are one Invalid error by field.
func (s *Service) checkHandover(ctx context.Context, in *HandoverInput, op string) (handoverRow, error) {
	now := s.clock.Now()
	var c handoverCheck
	in.Goods, in.Unit = strings.TrimSpace(in.Goods), strings.TrimSpace(in.Unit)
	row := handoverRow{in: *in, at: now}
	key, err := pii.NormalizeCreditCode(in.Enterprise)
	if err != nil {
		c.add("enterprise", err.Error())
	}
	c.text("goods", in.Goods, MaxGoodsLen)
	if math.IsNaN(in.Quantity) || math.IsInf(in.Quantity, 0) || in.Quantity <= 0 || in.Quantity > 1e9 {
		c.add("quantity", "数量须为大于 0 的数")
	}
	c.text("unit", in.Unit, MaxUnitLen)
	row.outside, row.inside = c.plate("outside_plate", in.OutsidePlate), c.plate("inside_plate", in.InsidePlate)
	if row.outside != "" && row.outside == row.inside {
		c.add("inside_plate", "接驳双方不能是同一辆车")
	}
	if in.At != nil {
		row.at = *in.At
		if row.at.After(now.Add(ClockSkew)) {
			c.add("at", "接驳时间不能晚于现在")
		}
	}
	row.key = key
	if key != "" {
		if row.entName, err = s.handoverEnterprise(ctx, key, &c); err != nil {
			return row, errs.Wrap(op, err)
		}
	}
	if len(c.fe) > 0 {
		return row, errs.Fields("invalid_handover", c.fe[0].Message, c.fe...)
	}
	return row, nil
}

// handoverEnterprise is the registered name of enterprise key; an
// enterprise not registered (or no registry) is a problem of c.
func (s *Service) handoverEnterprise(ctx context.Context, key string, c *handoverCheck) (string, error) {
	if s.enterprises == nil {
		c.add("enterprise", "企业名录不可用")
		return "", nil
	}
	name, _, _, err := s.enterprises.EnterpriseSubject(ctx, key)
	if errs.Is(err, errs.NotFound) {
		c.add("enterprise", "企业 "+key+" 未在企业名录中登记")
		return "", nil
	}
	return name, err
}

// scannable loads checkpoint ref if p may scan (and log) there.
func (s *Service) scannable(ctx context.Context, tx *db.Tx, p *auth.Principal, ref, op string) (*Checkpoint, error) {
	id, err := parseID(ref)
	if err != nil {
		return nil, err
	}
	c, err := loadCheckpoint(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := canScan(p, c, op); err != nil {
		return nil, err
	}
	return c, nil
}

// formatQty writes a quantity without trailing zeros.
func formatQty(q float64) string { return strconv.FormatFloat(q, 'f', -1, 64) }

// Handovers lists the handovers of transfer point ref, newest first.
func (s *Service) Handovers(ctx context.Context, p *auth.Principal, ref string, limit int) ([]*Handover, error) {
	const op = "checkpoint.Handovers"
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var out []*Handover
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		c, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		out, err = queryHandovers(ctx, tx, c.ID, limit)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// HandoverStats counts the handovers of a period: per day, per enterprise
// and per kind of goods.
type HandoverStats struct {
	From        string            `json:"from"` // YYYY-MM-DD, Asia/Shanghai, inclusive
	To          string            `json:"to"`
	Area        string            `json:"area,omitempty"`
	Total       int               `json:"total"`
	Days        []HandoverDay     `json:"days"`
	Enterprises []HandoverCompany `json:"enterprises"`
	Goods       []HandoverGoods   `json:"goods"`
}

// HandoverDay is one day's handovers.
type HandoverDay struct {
	Date      string `json:"date"`
	Handovers int    `json:"handovers"`
}

// HandoverCompany is one enterprise's handovers, with its goods.
type HandoverCompany struct {
	Key       string          `json:"enterprise"`
	Name      string          `json:"enterprise_name"`
	Handovers int             `json:"handovers"`
	Goods     []HandoverGoods `json:"goods"`
}

// HandoverGoods is the handovers of one kind of goods in one unit.
type HandoverGoods struct {
	Goods     string  `json:"goods"`
	Unit      string  `json:"unit"`
	Handovers int     `json:"handovers"`
	Quantity  float64 `json:"quantity"`
}

// HandoverStats counts the handovers at the transfer points p may read.
func (s *Service) HandoverStats(ctx context.Context, p *auth.Principal, q StatsQuery) (*HandoverStats, error) {
	const op = "checkpoint.HandoverStats"
	f, err := s.statsFilter(ctx, p, q, op)
	if err != nil {
		return nil, err
	}
	t := handoverTally{days: map[string]int{}, ents: map[string]*HandoverCompany{},
		entGoods: map[[3]string]*HandoverGoods{}, goods: map[[2]string]*HandoverGoods{}}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		return eachHandover(ctx, tx, f, q.From, q.To, t.add)
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return t.stats(q), nil
}

// handoverTally counts handovers by day, enterprise, enterprise and
// goods, and goods.
type handoverTally struct {
	total    int
	days     map[string]int
	ents     map[string]*HandoverCompany
	entGoods map[[3]string]*HandoverGoods
	goods    map[[2]string]*HandoverGoods
}

func (t *handoverTally) add(h handoverFact) {
	t.total++
	t.days[dayOf(h.at)]++
	e := t.ents[h.key]
	if e == nil {
		e = &HandoverCompany{Key: h.key, Name: h.name, Goods: []HandoverGoods{}}
		t.ents[h.key] = e
	}
	e.Handovers++
	eg := t.entGoods[[3]string{h.key, h.goods, h.unit}]
	if eg == nil {
		eg = &HandoverGoods{Goods: h.goods, Unit: h.unit}
		t.entGoods[[3]string{h.key, h.goods, h.unit}] = eg
	}
	eg.Handovers++
	eg.Quantity += h.quantity
	gg := t.goods[[2]string{h.goods, h.unit}]
	if gg == nil {
		gg = &HandoverGoods{Goods: h.goods, Unit: h.unit}
		t.goods[[2]string{h.goods, h.unit}] = gg
	}
	gg.Handovers++
	gg.Quantity += h.quantity
}

// stats are the counts of the period q, in their order.
func (t *handoverTally) stats(q StatsQuery) *HandoverStats {
	st := &HandoverStats{From: dayOf(q.From), To: dayOf(q.To.Add(-time.Millisecond)), Area: q.Area, Total: t.total,
		Days: []HandoverDay{}, Enterprises: []HandoverCompany{}, Goods: []HandoverGoods{}}
	for d := q.From; d.Before(q.To); d = d.AddDate(0, 0, 1) {
		st.Days = append(st.Days, HandoverDay{Date: dayOf(d), Handovers: t.days[dayOf(d)]})
	}
	for k, eg := range t.entGoods {
		t.ents[k[0]].Goods = append(t.ents[k[0]].Goods, *eg)
	}
	for _, e := range t.ents {
		sortGoods(e.Goods)
		st.Enterprises = append(st.Enterprises, *e)
	}
	sortCompanies(st.Enterprises)
	for _, g := range t.goods {
		st.Goods = append(st.Goods, *g)
	}
	sortGoods(st.Goods)
	return st
}
