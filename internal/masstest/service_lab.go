package masstest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// labRec is a lab record once read: Row is its file row (0 for JSON).
type labRec struct {
	Index  int
	Row    int
	Tube   string
	Result Result
	Lab    string
	At     int64
	// Code and Message are set when the record itself is wrong.
	Code, Message, Column string
}

// resultWords are the ways a result may be written.
var resultWords = map[string]Result{"negative": Negative, "positive": Positive, "invalid": Invalid,
	"阴性": Negative, "阳性": Positive, "无效": Invalid, "neg": Negative, "pos": Positive, "-": Negative, "+": Positive}

// reportedLayouts are the forms of a report time besides RFC 3339, read
// in Asia/Shanghai.
var reportedLayouts = []string{"2006-1-2 15:04:05", "2006-1-2 15:04", "2006/1/2 15:04:05", "2006/1/2 15:04",
	"2006-1-2T15:04:05", "2006-1-2", "2006/1/2"}

// maxAhead is how far after the moment received a report time may lie
// (the lab's clock).
const maxAhead = 10 * time.Minute

// readLabRecord checks one record; a wrong one carries its code.
func readLabRecord(in LabRecord, index, row int, now time.Time) labRec {
	rec := labRec{Index: index, Row: row, Tube: strings.TrimSpace(in.Tube), Lab: strings.TrimSpace(in.Lab)}
	bad := func(code, col, msg string) labRec {
		rec.Code, rec.Column, rec.Message = code, col, msg
		return rec
	}
	if rec.Tube == "" || len(rec.Tube) > 64 || errs.CheckLine(rec.Tube, 64, true) != "" {
		return bad("invalid_tube", "tube", "管码须为 1 到 64 个字符")
	}
	r, ok := resultWords[strings.ToLower(strings.TrimSpace(in.Result))]
	if !ok {
		return bad("invalid_result", "result", "结果须为 阴性、阳性 或 无效（negative、positive、invalid）")
	}
	rec.Result = r
	if m := errs.CheckLine(rec.Lab, MaxLabLen, false); m != "" {
		return bad("invalid_lab", "lab", "检测机构："+m)
	}
	at, ok := parseReported(in.ReportedAt, now)
	if !ok {
		return bad("invalid_time", "reported_at", "报告时间须为 RFC 3339（如 2022-11-20T08:00:00+08:00）或 2022-11-20 08:00")
	}
	if at.After(now.Add(maxAhead)) {
		return bad("invalid_time", "reported_at", "报告时间晚于当前时间")
	}
	rec.At = at.UnixMilli()
	return rec
}

// parseReported reads a report time; empty is now.
func parseReported(s string, now time.Time) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return now, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, l := range reportedLayouts {
		if t, err := time.ParseInLocation(l, s, clock.Shanghai); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// StoreLabResults stores a batch of lab results and answers each record
// in order: stored, repeat or an error. A record is refused alone; the
// batch is one transaction with its effects and one audit row.
func (s *Service) StoreLabResults(ctx context.Context, p *auth.Principal, in LabBatch) (*LabSummary, error) {
	const op = "masstest.StoreLabResults"
	if err := auth.Require(p, auth.TestingManage, op); err != nil {
		return nil, err
	}
	switch {
	case len(in.Results) == 0:
		return nil, errs.E(errs.Invalid, "empty_batch", "请至少提交一条检测结果")
	case len(in.Results) > MaxLabBatch:
		return nil, errs.Newf(errs.Invalid, "batch_too_large", "一次最多提交 %d 条检测结果", MaxLabBatch)
	}
	now := s.clock.Now()
	recs := make([]labRec, len(in.Results))
	for i, r := range in.Results {
		recs[i] = readLabRecord(r, i, 0, now)
	}
	var out *LabSummary
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		run, err := s.newLabRun(ctx, tx, p, recs)
		if err != nil {
			return err
		}
		if out, err = run.all(); err != nil {
			return err
		}
		return run.audit(fmt.Sprintf("录入检测结果 %d 条", len(recs)))
	})
	return out, errs.Wrap(op, err)
}

// labRun stores the records of one request in tx.
type labRun struct {
	s     *Service
	ctx   context.Context
	tx    *db.Tx
	p     *auth.Principal
	recs  []labRec
	tubes map[string]*tubeRef
	areas map[int64][]AreaRef
	sum   LabSummary
	first *tubeRef // the first tube a result was stored for
	many  bool     // results were stored for more than one tube
}

func (s *Service) newLabRun(ctx context.Context, tx *db.Tx, p *auth.Principal, recs []labRec) (*labRun, error) {
	// A result closes its tube to samples: not while a batch fills it.
	if err := lockSamples(ctx, tx); err != nil {
		return nil, err
	}
	codes := make([]string, 0, len(recs))
	for _, r := range recs {
		if r.Code == "" {
			codes = append(codes, r.Tube)
		}
	}
	tubes, err := loadTubes(ctx, tx, codes)
	if err != nil {
		return nil, err
	}
	var rounds []int64
	seen := map[int64]bool{}
	for _, t := range tubes {
		if !seen[t.RoundID] {
			seen[t.RoundID] = true
			rounds = append(rounds, t.RoundID)
		}
	}
	areas, err := roundAreaPaths(ctx, tx, rounds)
	if err != nil {
		return nil, err
	}
	return &labRun{s: s, ctx: ctx, tx: tx, p: p, recs: recs, tubes: tubes, areas: areas,
		sum: LabSummary{Items: make([]LabAnswer, 0, len(recs))}}, nil
}

// all stores every record in order.
func (run *labRun) all() (*LabSummary, error) {
	for _, rec := range run.recs {
		a, err := run.one(rec)
		if err != nil {
			return nil, err
		}
		switch a.Status {
		case LabStored:
			run.sum.Stored++
		case LabRepeat:
			run.sum.Repeats++
		default:
			run.sum.Errors++
		}
		run.sum.Retests += a.Retests
		run.sum.Closed += boolInt(a.Closed)
		run.sum.Items = append(run.sum.Items, a)
	}
	return &run.sum, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// manages reports whether p manages testing over every area of the
// tube's round.
func (run *labRun) manages(t *tubeRef) bool {
	areas := run.areas[t.RoundID]
	for _, a := range areas {
		if !run.p.Covers(auth.TestingManage, a.Path) {
			return false
		}
	}
	return len(areas) > 0
}

// one stores one record and its effects.
func (run *labRun) one(rec labRec) (LabAnswer, error) {
	a := LabAnswer{Index: rec.Index, Tube: rec.Tube}
	refuse := func(code, msg string) (LabAnswer, error) {
		a.Status, a.Code, a.Message = LabError, code, msg
		return a, nil
	}
	if rec.Code != "" {
		return refuse(rec.Code, rec.Message)
	}
	a.Result = rec.Result
	t := run.tubes[rec.Tube]
	if t == nil || !run.manages(t) {
		return refuse("unknown_tube", "管码 "+rec.Tube+" 不存在或不在您的管理范围内")
	}
	if t.Result != "" {
		if t.Result == rec.Result {
			a.Status = LabRepeat
			return a, nil
		}
		return refuse("result_conflict", fmt.Sprintf("管码 %s 已有结果“%s”，与“%s”不符", rec.Tube, ResultNames[t.Result],
			ResultNames[rec.Result]))
	}
	ok, err := storeTubeResult(run.ctx, run.tx, t.ID, rec.Result, rec.Lab, rec.At)
	if err != nil {
		return a, err
	}
	if !ok { // another request stored a result meanwhile
		if t.Result, err = tubeResult(run.ctx, run.tx, t.ID); err != nil {
			return a, err
		}
		if t.Result == "" {
			return a, fmt.Errorf("masstest: tube %d has no result, yet another request stored one", t.ID)
		}
		return run.one(rec)
	}
	t.Result = rec.Result
	run.many = run.many || (run.first != nil && run.first != t)
	if run.first == nil {
		run.first = t
	}
	a.Status = LabStored
	return a, run.apply(t, rec.Result, &a)
}

// apply does what a stored result means for the residents in the tube.
// Results never change coverage.
func (run *labRun) apply(t *tubeRef, r Result, a *LabAnswer) error {
	if r == Negative && t.PoolSize > 1 {
		return nil
	}
	members, err := tubeMembers(run.ctx, run.tx, t.ID)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.RetestID.Valid {
			return run.closeRetests(t, r, members, a)
		}
	}
	switch r {
	case Positive:
		if t.PoolSize > 1 {
			return run.placeRetests(t, members, CausePoolPositive, a)
		}
		return run.positives(t, members, a)
	case Invalid:
		return run.placeRetests(t, members, CauseInvalid, a)
	}
	return nil
}

// closeRetests closes the retests sampled into a tube: negative or
// positive as the result; invalid asks for another sample (a new retest).
func (run *labRun) closeRetests(t *tubeRef, r Result, members []tubeMember, a *LabAnswer) error {
	var again []tubeMember
	for _, m := range members {
		if !m.RetestID.Valid {
			continue
		}
		status := RetestStatus(r)
		if r == Invalid {
			status = RetestOpen
		}
		closed, err := finishRetest(run.ctx, run.tx, m.RetestID.Int64, status)
		if err != nil {
			return err
		}
		a.Closed = a.Closed || (closed && r != Invalid)
		switch r {
		case Positive:
			if err := run.positives(t, []tubeMember{m}, a); err != nil {
				return err
			}
		case Invalid:
			again = append(again, m)
		}
	}
	if len(again) > 0 {
		return run.placeRetests(t, again, CauseInvalid, a)
	}
	return nil
}

// placeRetests puts members on the retest list for cause and tells their
// communities (and, for a positive pool, the testing group).
func (run *labRun) placeRetests(t *tubeRef, members []tubeMember, cause RetestCause, a *LabAnswer) error {
	byCommunity := map[string][]tubeMember{}
	var order []string
	for _, m := range members {
		if m.RetestID.Valid && cause == CausePoolPositive {
			continue
		}
		fresh, err := insertRetest(run.ctx, run.tx, t.RoundID, t.ID, m, cause)
		if err != nil {
			return err
		}
		if !fresh {
			continue
		}
		a.Retests++
		if _, ok := byCommunity[m.CommunityPath]; !ok {
			order = append(order, m.CommunityPath)
		}
		byCommunity[m.CommunityPath] = append(byCommunity[m.CommunityPath], m)
	}
	for _, path := range order {
		if err := run.s.noticeRetests(run.ctx, run.tx, t, byCommunity[path], cause); err != nil {
			return err
		}
	}
	return nil
}

// positives records the residents of a single tube positive and proposes
// sealing their building.
func (run *labRun) positives(t *tubeRef, members []tubeMember, a *LabAnswer) error {
	for _, m := range members {
		fresh, err := insertPositive(run.ctx, run.tx, t.RoundID, t.ID, m)
		if err != nil {
			return err
		}
		if !fresh {
			continue
		}
		a.Positive = true
		run.sum.Positives++
		if err := run.s.proposeSeal(run.ctx, run.tx, t, m); err != nil {
			return err
		}
		if err := run.s.noticePositive(run.ctx, run.tx, t, m); err != nil {
			return err
		}
	}
	return nil
}

// audit writes the request's one audit row, when it stored anything: the
// tube when it stored one result, else the round of the first.
func (run *labRun) audit(what string) error {
	if run.first == nil {
		return nil
	}
	kind, id := "testing_tube", run.first.ID
	if run.many {
		kind, id = "testing_round", run.first.RoundID
	}
	areaCode := ""
	if as := run.areas[run.first.RoundID]; len(as) > 0 {
		areaCode = as[0].Code
	}
	sum := &run.sum
	return run.s.audit(run.ctx, run.tx, run.p, "testing.lab.results", kind, id, areaCode,
		fmt.Sprintf("%s：新存 %d，重复 %d，错误 %d；列入复核 %d 人，阳性 %d 人，复核结束 %d 人", what, sum.Stored, sum.Repeats,
			sum.Errors, sum.Retests, sum.Positives, sum.Closed))
}
