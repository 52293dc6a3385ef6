package masstest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// CampaignInput creates a campaign.
type CampaignInput struct {
	Name     string `json:"name"`
	AreaCode string `json:"area_code"`
}

// RoundInput creates a round. Number 0 is the next; AreaCodes empty is
// the campaign's area.
type RoundInput struct {
	Number    int       `json:"number"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Mode      Mode      `json:"mode"`
	AreaCodes []string  `json:"area_codes"`
}

// SiteInput creates a sampling site.
type SiteInput struct {
	Name     string `json:"name"`
	Place    string `json:"place"`
	AreaCode string `json:"area_code"`
	Hours    string `json:"hours"`
}

// TeamInput creates a team of collectors.
type TeamInput struct {
	Name     string       `json:"name"`
	AreaCode string       `json:"area_code"`
	Members  []TeamMember `json:"members"`
}

// Limits of texts, in characters, and of lists.
const (
	MaxNameLen    = 60
	MaxPlaceLen   = 120
	MaxHoursLen   = 60
	MaxTeamSize   = 200
	MaxRoundAreas = 200
	// MaxRoundLength is the longest window a round may have.
	MaxRoundLength = 7 * 24 * time.Hour
)

func (in CampaignInput) validate() []errs.FieldError {
	if m := errs.CheckLine(in.Name, MaxNameLen, true); m != "" {
		return []errs.FieldError{{Field: "name", Message: m}}
	}
	return nil
}

func (in RoundInput) validate() []errs.FieldError {
	var fe []errs.FieldError
	if in.Number < 0 || in.Number > 10000 {
		fe = append(fe, errs.FieldError{Field: "number", Message: "轮次须为 1 到 10000"})
	}
	if in.StartsAt.IsZero() || in.EndsAt.IsZero() {
		fe = append(fe, errs.FieldError{Field: "starts_at", Message: "请填写开始和结束时间"})
	} else if !in.EndsAt.After(in.StartsAt) {
		fe = append(fe, errs.FieldError{Field: "ends_at", Message: "结束时间须晚于开始时间"})
	} else if in.EndsAt.Sub(in.StartsAt) > MaxRoundLength {
		fe = append(fe, errs.FieldError{Field: "ends_at", Message: "一轮最长 7 天"})
	}
	if ModeNames[in.Mode] == "" {
		fe = append(fe, errs.FieldError{Field: "mode", Message: "方式须为 sites、door 或 both"})
	}
	if len(in.AreaCodes) > MaxRoundAreas {
		fe = append(fe, errs.FieldError{Field: "area_codes", Message: "区划最多 200 个"})
	}
	return fe
}

func (in SiteInput) validate() []errs.FieldError {
	var fe []errs.FieldError
	if m := errs.CheckLine(in.Name, MaxNameLen, true); m != "" {
		fe = append(fe, errs.FieldError{Field: "name", Message: m})
	}
	if m := errs.CheckLine(in.Place, MaxPlaceLen, false); m != "" {
		fe = append(fe, errs.FieldError{Field: "place", Message: m})
	}
	if m := errs.CheckLine(in.Hours, MaxHoursLen, false); m != "" {
		fe = append(fe, errs.FieldError{Field: "hours", Message: m})
	}
	return fe
}

func (in TeamInput) validate() []errs.FieldError {
	var fe []errs.FieldError
	if m := errs.CheckLine(in.Name, MaxNameLen, true); m != "" {
		fe = append(fe, errs.FieldError{Field: "name", Message: m})
	}
	if len(in.Members) > MaxTeamSize {
		fe = append(fe, errs.FieldError{Field: "members", Message: "一队最多 200 人"})
	}
	seen := map[string]bool{}
	for i, m := range in.Members {
		f := "members[" + strconv.Itoa(i) + "]"
		switch {
		case m.Kind != MemberCommunityWorker && m.Kind != MemberVolunteer && m.Kind != MemberMedical:
			fe = append(fe, errs.FieldError{Field: f + ".kind", Message: "须为 community_worker、volunteer 或 medical"})
		case strings.TrimSpace(m.Username) == "":
			fe = append(fe, errs.FieldError{Field: f + ".username", Message: "必填"})
		case seen[m.Username]:
			fe = append(fe, errs.FieldError{Field: f + ".username", Message: "重复"})
		}
		seen[m.Username] = true
	}
	return fe
}

// manageArea resolves an area and checks that p manages testing over it.
func (s *Service) manageArea(ctx context.Context, p *auth.Principal, code, field string) (AreaRef, error) {
	a, err := s.areas.Resolve(ctx, code, field)
	if err != nil {
		return AreaRef{}, err
	}
	if !p.Covers(auth.TestingManage, a.Path) {
		return AreaRef{}, errs.Fields("area_not_found", "区划 "+a.Code+" 不在您的管理范围内",
			errs.FieldError{Field: field, Message: "不在管理范围内"})
	}
	if a.Level == area.Grid {
		return AreaRef{}, errs.Fields("area_too_low", "检测以社区为最小单位", errs.FieldError{Field: field, Message: "须为社区或以上"})
	}
	return AreaRef{Code: a.Code, Name: a.Name, Path: a.Path}, nil
}

// CreateCampaign starts a campaign over an area p manages.
func (s *Service) CreateCampaign(ctx context.Context, p *auth.Principal, in CampaignInput) (*Campaign, error) {
	const op = "masstest.CreateCampaign"
	if err := auth.Require(p, auth.TestingManage, op); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if fe := in.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_campaign", fe[0].Message, fe...)
	}
	a, err := s.manageArea(ctx, p, in.AreaCode, "area_code")
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out *Campaign
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		id, err := insertCampaign(ctx, tx, in.Name, a, p.Actor())
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, p, "testing.campaign.create", "testing_campaign", id, a.Code,
			fmt.Sprintf("新建检测任务「%s」（%s）", in.Name, a.Name)); err != nil {
			return err
		}
		out, err = loadCampaign(ctx, tx, id)
		return err
	})
	return out, errs.Wrap(op, err)
}

// audit records a change in tx.
func (s *Service) audit(ctx context.Context, tx *db.Tx, p *auth.Principal, action, kind string, id int64, areaCode, summary string) error {
	return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: action, ObjectType: kind,
		ObjectID: strconv.FormatInt(id, 10), AreaCode: areaCode, Summary: summary})
}

// readCampaign loads campaign ref if p reads testing over part of it.
func (s *Service) readCampaign(ctx context.Context, tx *db.Tx, p *auth.Principal, ref, op string) (*Campaign, error) {
	if err := auth.Require(p, auth.TestingRead, op); err != nil {
		return nil, err
	}
	id, err := parseRef(ref, errCampaignNotFound)
	if err != nil {
		return nil, err
	}
	c, err := loadCampaign(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !readsRound(p, &Round{Areas: []AreaRef{{Path: c.AreaPath}}}) {
		return nil, errCampaignNotFound()
	}
	return c, nil
}

// GetCampaign answers a campaign with its rounds, newest first.
func (s *Service) GetCampaign(ctx context.Context, p *auth.Principal, ref string) (*Campaign, error) {
	const op = "masstest.GetCampaign"
	var out *Campaign
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		c, err := s.readCampaign(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		rounds, err := queryRounds(ctx, tx, "r.campaign_id = $1", []any{c.ID})
		for _, r := range rounds {
			c.Rounds = append(c.Rounds, *r)
		}
		out = c
		return err
	})
	return out, errs.Wrap(op, err)
}

// ListCampaigns lists the campaigns over areas p reads, or inside them,
// or above them (a community worker sees the city's campaign).
func (s *Service) ListCampaigns(ctx context.Context, p *auth.Principal) ([]*Campaign, error) {
	const op = "masstest.ListCampaigns"
	if err := auth.Require(p, auth.TestingRead, op); err != nil {
		return nil, err
	}
	var out []*Campaign
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		where, args := overlapWhere(p, "c.area_path")
		var err error
		out, err = listCampaigns(ctx, tx, where, args)
		return err
	})
	return out, errs.Wrap(op, err)
}

// CreateRound adds a numbered round to a campaign.
func (s *Service) CreateRound(ctx context.Context, p *auth.Principal, campaignRef string, in RoundInput) (*Round, error) {
	const op = "masstest.CreateRound"
	if err := auth.Require(p, auth.TestingManage, op); err != nil {
		return nil, err
	}
	var c *Campaign
	if err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		c, err = s.readCampaign(ctx, tx, p, campaignRef, op)
		return err
	}); err != nil {
		return nil, errs.Wrap(op, err)
	}
	if fe := in.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_round", fe[0].Message, fe...)
	}
	areas, err := s.roundAreas(ctx, p, c, in.AreaCodes)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if err := s.checkSealed(ctx, in, areas); err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out *Round
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		var err error
		if in.Number == 0 {
			if in.Number, err = nextRoundNumber(ctx, tx, c.ID); err != nil {
				return err
			}
		}
		id, err := insertRound(ctx, tx, c.ID, in, areas, p.Actor())
		if err != nil {
			return err
		}
		if id == 0 {
			return errs.Fields("round_exists", fmt.Sprintf("第 %d 轮已存在", in.Number), errs.FieldError{Field: "number", Message: "已存在"})
		}
		if err := s.buildRound(ctx, tx, id, areas); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, p, "testing.round.create", "testing_round", id, c.AreaCode,
			fmt.Sprintf("「%s」第 %d 轮（%s，%s）", c.Name, in.Number, ModeNames[in.Mode], areaNames(areas))); err != nil {
			return err
		}
		out, err = loadRound(ctx, tx, id, tx.Now)
		return err
	})
	return out, errs.Wrap(op, err)
}

func areaNames(list []AreaRef) string {
	names := make([]string, len(list))
	for i, a := range list {
		names[i] = a.Name
	}
	return strings.Join(names, "、")
}

// roundAreas resolves a round's areas: each inside the campaign's area
// and managed by p, none inside another.
func (s *Service) roundAreas(ctx context.Context, p *auth.Principal, c *Campaign, codes []string) ([]AreaRef, error) {
	if len(codes) == 0 {
		codes = []string{c.AreaCode}
	}
	var out []AreaRef
	for i, code := range codes {
		field := "area_codes[" + strconv.Itoa(i) + "]"
		a, err := s.manageArea(ctx, p, code, field)
		if err != nil {
			return nil, err
		}
		if !within(a.Path, c.AreaPath) {
			return nil, errs.Fields("area_outside_campaign", a.Name+" 不在检测任务的区划内", errs.FieldError{Field: field, Message: "不在任务区划内"})
		}
		if slices.ContainsFunc(out, func(b AreaRef) bool { return within(a.Path, b.Path) || within(b.Path, a.Path) }) {
			return nil, errs.Fields("area_overlap", a.Name+" 与其他区划重叠", errs.FieldError{Field: field, Message: "重叠"})
		}
		out = append(out, a)
	}
	return out, nil
}

// buildRound writes the coverage rows of a new round: every community
// with households in its areas, nothing sampled yet.
func (s *Service) buildRound(ctx context.Context, tx *db.Tx, round int64, areas []AreaRef) error {
	paths := make([]string, len(areas))
	for i, a := range areas {
		paths[i] = a.Path
	}
	communities, err := communitiesWithHouseholds(ctx, tx, paths)
	if err != nil {
		return err
	}
	for _, c := range communities {
		if err := rebuildCommunity(ctx, tx, round, c); err != nil {
			return err
		}
	}
	return nil
}

// GetRound answers a round p may read.
func (s *Service) GetRound(ctx context.Context, p *auth.Principal, ref string) (*Round, error) {
	const op = "masstest.GetRound"
	var out *Round
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = s.readRound(ctx, tx, p, ref, op)
		return err
	})
	return out, errs.Wrap(op, err)
}

// CloseRound ends a round before its time: no more samples are taken.
func (s *Service) CloseRound(ctx context.Context, p *auth.Principal, ref string) (*Round, error) {
	const op = "masstest.CloseRound"
	var out *Round
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		r, err := s.readRound(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if err := s.managesRound(p, r, op); err != nil {
			return err
		}
		if r.ClosedAt != nil {
			return errs.E(errs.Conflict, "round_closed", "本轮已结束")
		}
		if err := closeRound(ctx, tx, r.ID, p.Actor()); err != nil {
			return err
		}
		tx.AfterCommit(func() { s.rounds.forget(r.ID) })
		if err := s.audit(ctx, tx, p, "testing.round.close", "testing_round", r.ID, "",
			fmt.Sprintf("「%s」第 %d 轮结束", r.Campaign, r.Number)); err != nil {
			return err
		}
		out, err = loadRound(ctx, tx, r.ID, tx.Now)
		return err
	})
	return out, errs.Wrap(op, err)
}

// managesRound: p manages testing over every area of r.
func (s *Service) managesRound(p *auth.Principal, r *Round, op string) error {
	for _, a := range r.Areas {
		if !p.Covers(auth.TestingManage, a.Path) {
			return auth.ErrForbidden(op)
		}
	}
	return nil
}

// CreateSite adds a sampling site to a campaign.
func (s *Service) CreateSite(ctx context.Context, p *auth.Principal, campaignRef string, in SiteInput) (*Site, error) {
	const op = "masstest.CreateSite"
	if err := auth.Require(p, auth.TestingManage, op); err != nil {
		return nil, err
	}
	in.Name, in.Place, in.Hours = strings.TrimSpace(in.Name), strings.TrimSpace(in.Place), strings.TrimSpace(in.Hours)
	if fe := in.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_site", fe[0].Message, fe...)
	}
	c, a, err := s.campaignPlace(ctx, p, campaignRef, in.AreaCode, op)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out *Site
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		id, err := insertSite(ctx, tx, c.ID, in, a, p.Actor())
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, p, "testing.site.create", "testing_site", id, a.Code,
			fmt.Sprintf("「%s」新增采样点 %s（%s）", c.Name, in.Name, a.Name)); err != nil {
			return err
		}
		site, _, err := loadSite(ctx, tx, c.ID, id)
		out = &site
		return err
	})
	return out, errs.Wrap(op, err)
}

// campaignPlace reads a campaign and resolves an area inside it that p
// manages.
func (s *Service) campaignPlace(ctx context.Context, p *auth.Principal, campaignRef, code, op string) (*Campaign, AreaRef, error) {
	var c *Campaign
	if err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		c, err = s.readCampaign(ctx, tx, p, campaignRef, op)
		return err
	}); err != nil {
		return nil, AreaRef{}, err
	}
	if strings.TrimSpace(code) == "" {
		code = c.AreaCode
	}
	a, err := s.manageArea(ctx, p, code, "area_code")
	if err != nil {
		return nil, AreaRef{}, err
	}
	if !within(a.Path, c.AreaPath) {
		return nil, AreaRef{}, errs.Fields("area_outside_campaign", a.Name+" 不在检测任务的区划内",
			errs.FieldError{Field: "area_code", Message: "不在任务区划内"})
	}
	return c, a, nil
}

// Sites lists a campaign's sampling sites.
func (s *Service) Sites(ctx context.Context, p *auth.Principal, campaignRef string) ([]Site, error) {
	const op = "masstest.Sites"
	var out []Site
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		c, err := s.readCampaign(ctx, tx, p, campaignRef, op)
		if err != nil {
			return err
		}
		out, err = listSites(ctx, tx, c.ID)
		return err
	})
	return out, errs.Wrap(op, err)
}

// CreateTeam adds a team of collectors to a campaign; every member is an
// active account.
func (s *Service) CreateTeam(ctx context.Context, p *auth.Principal, campaignRef string, in TeamInput) (*Team, error) {
	const op = "masstest.CreateTeam"
	if err := auth.Require(p, auth.TestingManage, op); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	for i := range in.Members {
		in.Members[i].Username = strings.TrimSpace(in.Members[i].Username)
	}
	if fe := in.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_team", fe[0].Message, fe...)
	}
	c, a, err := s.campaignPlace(ctx, p, campaignRef, in.AreaCode, op)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out *Team
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		for i, m := range in.Members {
			ok, err := userExists(ctx, tx, m.Username)
			if err != nil {
				return err
			}
			if !ok {
				return errs.Fields("user_not_found", "账号 "+m.Username+" 不存在或已停用",
					errs.FieldError{Field: "members[" + strconv.Itoa(i) + "].username", Message: "账号不存在"})
			}
		}
		id, err := insertTeam(ctx, tx, c.ID, in, a, p.Actor())
		if err != nil {
			return err
		}
		tx.AfterCommit(func() { s.rounds.forgetTeams(c.ID) })
		if err := s.audit(ctx, tx, p, "testing.team.create", "testing_team", id, a.Code,
			fmt.Sprintf("「%s」新增采样队 %s（%d 人）", c.Name, in.Name, len(in.Members))); err != nil {
			return err
		}
		teams, err := listTeams(ctx, tx, c.ID)
		for _, t := range teams {
			if t.ID == id {
				out = t
			}
		}
		return err
	})
	return out, errs.Wrap(op, err)
}

// Teams lists a campaign's teams with their members.
func (s *Service) Teams(ctx context.Context, p *auth.Principal, campaignRef string) ([]*Team, error) {
	const op = "masstest.Teams"
	var out []*Team
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		c, err := s.readCampaign(ctx, tx, p, campaignRef, op)
		if err != nil {
			return err
		}
		out, err = listTeams(ctx, tx, c.ID)
		return err
	})
	return out, errs.Wrap(op, err)
}
