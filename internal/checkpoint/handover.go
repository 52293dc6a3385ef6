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
	"tongxin/internal/clock"
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
	now := s.clock.Now()
	var fe []errs.FieldError
	add := func(field, msg string) { fe = append(fe, errs.FieldError{Field: field, Message: msg}) }
	in.Goods, in.Unit = strings.TrimSpace(in.Goods), strings.TrimSpace(in.Unit)
	key, err := pii.NormalizeCreditCode(in.Enterprise)
	if err != nil {
		add("enterprise", err.Error())
	}
	if msg := errs.CheckText(in.Goods, MaxGoodsLen, true); msg != "" {
		add("goods", msg)
	}
	if math.IsNaN(in.Quantity) || math.IsInf(in.Quantity, 0) || in.Quantity <= 0 || in.Quantity > 1e9 {
		add("quantity", "数量须为大于 0 的数")
	}
	if msg := errs.CheckText(in.Unit, MaxUnitLen, true); msg != "" {
		add("unit", msg)
	}
	outside, err := pii.NormalizePlate(in.OutsidePlate)
	if err != nil {
		add("outside_plate", err.Error())
	}
	inside, err := pii.NormalizePlate(in.InsidePlate)
	if err != nil {
		add("inside_plate", err.Error())
	}
	if outside != "" && outside == inside {
		add("inside_plate", "接驳双方不能是同一辆车")
	}
	at := now
	if in.At != nil {
		at = *in.At
		if at.After(now.Add(ClockSkew)) {
			add("at", "接驳时间不能晚于现在")
		}
	}
	var entName string
	if key != "" {
		if s.enterprises == nil {
			add("enterprise", "企业名录不可用")
		} else if name, _, _, err := s.enterprises.EnterpriseSubject(ctx, key); errs.Is(err, errs.NotFound) {
			add("enterprise", "企业 "+key+" 未在企业名录中登记")
		} else if err != nil {
			return nil, errs.Wrap(op, err)
		} else {
			entName = name
		}
	}
	if len(fe) > 0 {
		return nil, errs.Fields("invalid_handover", fe[0].Message, fe...)
	}
	var out *Handover
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		c, err := s.scannable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if c.Kind != TransferPoint {
			return errs.Newf(errs.Conflict, "not_transfer_point", "「%s」不是物资接驳点，不能登记接驳", c.Name)
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO checkpoint_handovers (checkpoint_id, enterprise_key, enterprise_name, goods,
			quantity, unit, outside_plate, inside_plate, handed_at, recorded_at, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			c.ID, key, entName, in.Goods, in.Quantity, in.Unit, outside, inside, at.UnixMilli(), tx.NowMS(), p.Actor()).Scan(&id)
		if err != nil {
			return fmt.Errorf("checkpoint: handover: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "checkpoint.handover",
			ObjectType: "checkpoint", ObjectID: c.Ref(), AreaCode: c.AreaCode,
			Summary: fmt.Sprintf("「%s」接驳：%s %s %s %s，%s → %s", c.Name, entName, in.Goods, formatQty(in.Quantity), in.Unit,
				pii.MaskPlate(outside), pii.MaskPlate(inside))}); err != nil {
			return err
		}
		out = &Handover{ID: id, CheckpointID: c.ID, CheckpointName: c.Name, Enterprise: key, EnterpriseName: entName,
			Goods: in.Goods, Quantity: in.Quantity, Unit: in.Unit, OutsidePlate: outside, InsidePlate: inside,
			At: at.UTC().Truncate(time.Millisecond), RecordedBy: p.Actor(), RecordedAt: tx.Now}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
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

const handoverCols = `h.id, h.checkpoint_id, c.name, h.enterprise_key, h.enterprise_name, h.goods, h.quantity, h.unit,
	h.outside_plate, h.inside_plate, h.handed_at, h.recorded_by, h.recorded_at`

func scanHandover(sc scanner) (*Handover, error) {
	var h Handover
	var at, rec int64
	if err := sc.Scan(&h.ID, &h.CheckpointID, &h.CheckpointName, &h.Enterprise, &h.EnterpriseName, &h.Goods, &h.Quantity,
		&h.Unit, &h.OutsidePlate, &h.InsidePlate, &at, &h.RecordedBy, &rec); err != nil {
		return nil, err
	}
	h.At, h.RecordedAt = clock.FromMillis(at), clock.FromMillis(rec)
	return &h, nil
}

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
		rows, err := tx.QueryContext(ctx, `SELECT `+handoverCols+` FROM checkpoint_handovers h JOIN checkpoints c ON c.id = h.checkpoint_id
			WHERE h.checkpoint_id = $1 ORDER BY h.handed_at DESC, h.id DESC LIMIT `+strconv.Itoa(limit), c.ID)
		if err != nil {
			return fmt.Errorf("checkpoint: handovers: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			h, err := scanHandover(rows)
			if err != nil {
				return fmt.Errorf("checkpoint: handovers: %w", err)
			}
			out = append(out, h)
		}
		return rows.Err()
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

// StatsQuery is a period and an optional area (a code: its subtree).
type StatsQuery struct {
	From, To time.Time // [From, To)
	Area     string
}

// HandoverStats counts the handovers at the transfer points p may read.
func (s *Service) HandoverStats(ctx context.Context, p *auth.Principal, q StatsQuery) (*HandoverStats, error) {
	const op = "checkpoint.HandoverStats"
	var args db.Args
	where, err := s.statsWhere(ctx, p, q, op, &args)
	if err != nil {
		return nil, err
	}
	where += " AND h.handed_at >= " + args.Add(q.From.UnixMilli()) + " AND h.handed_at < " + args.Add(q.To.UnixMilli())
	st := &HandoverStats{From: dayOf(q.From), To: dayOf(q.To.Add(-time.Millisecond)), Area: q.Area,
		Days: []HandoverDay{}, Enterprises: []HandoverCompany{}, Goods: []HandoverGoods{}}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT h.handed_at, h.enterprise_key, h.enterprise_name, h.goods, h.unit, h.quantity
			FROM checkpoint_handovers h JOIN checkpoints c ON c.id = h.checkpoint_id WHERE `+where, args.List...)
		if err != nil {
			return fmt.Errorf("checkpoint: handover stats: %w", err)
		}
		defer rows.Close()
		days := map[string]int{}
		ents := map[string]*HandoverCompany{}
		entGoods := map[[3]string]*HandoverGoods{}
		goods := map[[2]string]*HandoverGoods{}
		for rows.Next() {
			var at int64
			var key, name, g, unit string
			var qty float64
			if err := rows.Scan(&at, &key, &name, &g, &unit, &qty); err != nil {
				return fmt.Errorf("checkpoint: handover stats: %w", err)
			}
			st.Total++
			days[dayOf(clock.FromMillis(at))]++
			e := ents[key]
			if e == nil {
				e = &HandoverCompany{Key: key, Name: name, Goods: []HandoverGoods{}}
				ents[key] = e
			}
			e.Handovers++
			eg := entGoods[[3]string{key, g, unit}]
			if eg == nil {
				eg = &HandoverGoods{Goods: g, Unit: unit}
				entGoods[[3]string{key, g, unit}] = eg
			}
			eg.Handovers++
			eg.Quantity += qty
			gg := goods[[2]string{g, unit}]
			if gg == nil {
				gg = &HandoverGoods{Goods: g, Unit: unit}
				goods[[2]string{g, unit}] = gg
			}
			gg.Handovers++
			gg.Quantity += qty
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for d := q.From; d.Before(q.To); d = d.AddDate(0, 0, 1) {
			st.Days = append(st.Days, HandoverDay{Date: dayOf(d), Handovers: days[dayOf(d)]})
		}
		for k, eg := range entGoods {
			ents[k[0]].Goods = append(ents[k[0]].Goods, *eg)
		}
		for _, e := range ents {
			sortGoods(e.Goods)
			st.Enterprises = append(st.Enterprises, *e)
		}
		sortCompanies(st.Enterprises)
		for _, g := range goods {
			st.Goods = append(st.Goods, *g)
		}
		sortGoods(st.Goods)
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return st, nil
}

// statsWhere is the condition selecting the checkpoints (aliased c) of a
// statistics query: those p may read, inside q's area.
func (s *Service) statsWhere(ctx context.Context, p *auth.Principal, q StatsQuery, op string, args *db.Args) (string, error) {
	if p == nil {
		return "", auth.Require(p, auth.CheckpointRead, op)
	}
	r := readReach(p)
	if r.none() {
		return "", auth.ErrForbidden(op)
	}
	if !q.To.After(q.From) {
		return "", errs.Fields("bad_period", "结束日期不能早于开始日期", errs.FieldError{Field: "to", Message: "早于开始日期"})
	}
	if q.To.Sub(q.From) > 366*24*time.Hour {
		return "", errs.Fields("bad_period", "统计区间不能超过一年", errs.FieldError{Field: "from", Message: "区间过长"})
	}
	where := r.where(args)
	if q.Area != "" {
		a, err := s.resolveArea(ctx, q.Area, "area")
		if err != nil {
			return "", errs.Wrap(op, err)
		}
		where += " AND c.area_path LIKE " + args.Add(db.LikePrefix(a.Path)) + ` ESCAPE '\'`
	}
	return where, nil
}

// dayOf is the date of t in Asia/Shanghai.
func dayOf(t time.Time) string { return t.In(clock.Shanghai).Format(time.DateOnly) }
