package masstest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
)

const campaignCols = `c.id, c.name, c.area_code, COALESCE(a.name, c.area_code), c.area_path, c.created_at, c.created_by`

func scanCampaign(sc db.Scanner) (*Campaign, error) {
	var c Campaign
	var created int64
	if err := sc.Scan(&c.ID, &c.Name, &c.AreaCode, &c.AreaName, &c.AreaPath, &created, &c.CreatedBy); err != nil {
		return nil, err
	}
	c.CreatedAt = clock.FromMillis(created)
	c.Rounds = []Round{}
	return &c, nil
}

func insertCampaign(ctx context.Context, tx *db.Tx, name string, a AreaRef, actor string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO testing_campaigns (name, area_code, area_path, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, name, a.Code, a.Path, tx.NowMS(), actor).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("masstest: insert campaign: %w", err)
	}
	return id, nil
}

func loadCampaign(ctx context.Context, tx *db.Tx, id int64) (*Campaign, error) {
	c, err := scanCampaign(tx.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM testing_campaigns c
		LEFT JOIN areas a ON a.code = c.area_code WHERE c.id = $1`, id))
	if err != nil {
		return nil, db.NotFound("masstest.campaign", err, "campaign_not_found", "检测任务不存在")
	}
	return c, nil
}

// listCampaigns lists the campaigns matching where, newest first.
func listCampaigns(ctx context.Context, tx *db.Tx, where string, args []any) ([]*Campaign, error) {
	out, err := db.Collect(ctx, tx, scanCampaign, `SELECT `+campaignCols+` FROM testing_campaigns c
		LEFT JOIN areas a ON a.code = c.area_code WHERE `+where+` ORDER BY c.id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, fmt.Errorf("masstest: campaigns: %w", err)
	}
	return out, nil
}

const roundCols = `r.id, r.campaign_id, c.name, r.number, r.starts_at, r.ends_at, r.mode, r.closed_at, r.created_at, r.created_by`

const roundFrom = ` FROM testing_rounds r JOIN testing_campaigns c ON c.id = r.campaign_id`

// scanRoundAt reads rounds whose Open is as of at.
func scanRoundAt(at time.Time) func(db.Scanner) (*Round, error) {
	return func(sc db.Scanner) (*Round, error) {
		var r Round
		var starts, ends, created int64
		var closed sql.NullInt64
		if err := sc.Scan(&r.ID, &r.CampaignID, &r.Campaign, &r.Number, &starts, &ends, &r.Mode, &closed, &created,
			&r.CreatedBy); err != nil {
			return nil, err
		}
		r.StartsAt, r.EndsAt, r.CreatedAt = clock.FromMillis(starts), clock.FromMillis(ends), clock.FromMillis(created)
		if closed.Valid {
			t := clock.FromMillis(closed.Int64)
			r.ClosedAt = &t
		}
		r.ModeName = ModeNames[r.Mode]
		r.Open = r.OpenAt(at)
		r.Areas = []AreaRef{}
		return &r, nil
	}
}

// queryRounds lists rounds matching where, by campaign and number, with
// their areas.
func queryRounds(ctx context.Context, tx *db.Tx, where string, args []any) ([]*Round, error) {
	out, err := db.Collect(ctx, tx, scanRoundAt(tx.Now), `SELECT `+roundCols+roundFrom+` WHERE `+where+
		` ORDER BY r.campaign_id DESC, r.number DESC LIMIT 1000`, args...)
	if err != nil {
		return nil, fmt.Errorf("masstest: rounds: %w", err)
	}
	return out, loadRoundAreas(ctx, tx, out)
}

func loadRound(ctx context.Context, tx *db.Tx, id int64, at time.Time) (*Round, error) {
	r, err := scanRoundAt(at)(tx.QueryRowContext(ctx, `SELECT `+roundCols+roundFrom+` WHERE r.id = $1`, id))
	if err != nil {
		return nil, db.NotFound("masstest.round", err, "round_not_found", "轮次不存在")
	}
	return r, loadRoundAreas(ctx, tx, []*Round{r})
}

func loadRoundAreas(ctx context.Context, tx *db.Tx, rounds []*Round) error {
	if len(rounds) == 0 {
		return nil
	}
	byID := map[int64]*Round{}
	ids := make([]int64, len(rounds))
	for i, r := range rounds {
		byID[r.ID], ids[i] = r, r.ID
	}
	var a db.Args
	q := `SELECT ra.round_id, ra.area_code, COALESCE(a.name, ra.area_code), ra.area_path FROM testing_round_areas ra
		LEFT JOIN areas a ON a.code = ra.area_code WHERE ra.round_id IN ` + db.In(&a, ids) + ` ORDER BY ra.area_path`
	return db.Each(ctx, tx, func(sc db.Scanner) error {
		var id int64
		var ar AreaRef
		if err := sc.Scan(&id, &ar.Code, &ar.Name, &ar.Path); err != nil {
			return err
		}
		byID[id].Areas = append(byID[id].Areas, ar)
		return nil
	}, q, a.List...)
}

// nextRoundNumber is one more than the campaign's last round.
func nextRoundNumber(ctx context.Context, tx *db.Tx, campaign int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM testing_rounds WHERE campaign_id = $1`, campaign).Scan(&n)
	return n, err
}

func insertRound(ctx context.Context, tx *db.Tx, campaign int64, in RoundInput, areas []AreaRef, actor string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO testing_rounds (campaign_id, number, starts_at, ends_at, mode, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (campaign_id, number) DO NOTHING RETURNING id`,
		campaign, in.Number, in.StartsAt.UnixMilli(), in.EndsAt.UnixMilli(), string(in.Mode), tx.NowMS(), actor).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("masstest: insert round: %w", err)
	}
	for _, a := range areas {
		if _, err := tx.ExecContext(ctx, `INSERT INTO testing_round_areas (round_id, area_code, area_path) VALUES ($1, $2, $3)`,
			id, a.Code, a.Path); err != nil {
			return 0, fmt.Errorf("masstest: insert round area: %w", err)
		}
	}
	return id, nil
}

func closeRound(ctx context.Context, tx *db.Tx, id int64, actor string) error {
	_, err := tx.ExecContext(ctx, `UPDATE testing_rounds SET closed_at = $1, closed_by = $2 WHERE id = $3 AND closed_at IS NULL`,
		tx.NowMS(), actor, id)
	if err != nil {
		return fmt.Errorf("masstest: close round: %w", err)
	}
	return nil
}

const siteCols = `s.id, s.campaign_id, s.name, s.place, s.area_code, COALESCE(a.name, s.area_code), s.hours`

func scanSite(sc db.Scanner) (Site, error) {
	var s Site
	err := sc.Scan(&s.ID, &s.CampaignID, &s.Name, &s.Place, &s.AreaCode, &s.AreaName, &s.Hours)
	return s, err
}

func insertSite(ctx context.Context, tx *db.Tx, campaign int64, in SiteInput, a AreaRef, actor string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO testing_sites (campaign_id, name, place, area_code, area_path, hours, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, campaign, in.Name, in.Place, a.Code, a.Path, in.Hours, tx.NowMS(),
		actor).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("masstest: insert site: %w", err)
	}
	return id, nil
}

func listSites(ctx context.Context, tx *db.Tx, campaign int64) ([]Site, error) {
	out, err := db.Collect(ctx, tx, scanSite, `SELECT `+siteCols+` FROM testing_sites s LEFT JOIN areas a ON a.code = s.area_code
		WHERE s.campaign_id = $1 ORDER BY s.area_path, s.id`, campaign)
	if err != nil {
		return nil, fmt.Errorf("masstest: sites: %w", err)
	}
	return out, nil
}

// loadSite reads a site of a campaign; ok false if it has none of that id.
func loadSite(ctx context.Context, tx *db.Tx, campaign, id int64) (Site, bool, error) {
	list, err := db.Collect(ctx, tx, scanSite, `SELECT `+siteCols+` FROM testing_sites s LEFT JOIN areas a ON a.code = s.area_code
		WHERE s.campaign_id = $1 AND s.id = $2`, campaign, id)
	if err != nil || len(list) == 0 {
		return Site{}, false, err
	}
	return list[0], true, nil
}

func insertTeam(ctx context.Context, tx *db.Tx, campaign int64, in TeamInput, a AreaRef, actor string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO testing_teams (campaign_id, name, area_code, area_path, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, campaign, in.Name, a.Code, a.Path, tx.NowMS(), actor).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("masstest: insert team: %w", err)
	}
	for _, m := range in.Members {
		if _, err := tx.ExecContext(ctx, `INSERT INTO testing_team_members (team_id, username, kind) VALUES ($1, $2, $3)`,
			id, m.Username, string(m.Kind)); err != nil {
			return 0, fmt.Errorf("masstest: insert team member: %w", err)
		}
	}
	return id, nil
}

func listTeams(ctx context.Context, tx *db.Tx, campaign int64) ([]*Team, error) {
	teams, err := db.Collect(ctx, tx, func(sc db.Scanner) (*Team, error) {
		t := Team{Members: []TeamMember{}}
		err := sc.Scan(&t.ID, &t.CampaignID, &t.Name, &t.AreaCode, &t.AreaName)
		return &t, err
	}, `SELECT t.id, t.campaign_id, t.name, t.area_code, COALESCE(a.name, t.area_code) FROM testing_teams t
		LEFT JOIN areas a ON a.code = t.area_code WHERE t.campaign_id = $1 ORDER BY t.area_path, t.id`, campaign)
	if err != nil {
		return nil, fmt.Errorf("masstest: teams: %w", err)
	}
	byID := map[int64]*Team{}
	for _, t := range teams {
		byID[t.ID] = t
	}
	err = db.Each(ctx, tx, func(sc db.Scanner) error {
		var id int64
		var m TeamMember
		if err := sc.Scan(&id, &m.Username, &m.DisplayName, &m.Kind); err != nil {
			return err
		}
		byID[id].Members = append(byID[id].Members, m)
		return nil
	}, `SELECT m.team_id, m.username, u.display_name, m.kind FROM testing_team_members m
		JOIN testing_teams t ON t.id = m.team_id JOIN users u ON u.username = m.username
		WHERE t.campaign_id = $1 ORDER BY m.team_id, m.username`, campaign)
	if err != nil {
		return nil, fmt.Errorf("masstest: team members: %w", err)
	}
	return teams, nil
}

// teamAreas lists the area paths of the campaign's teams username is a
// member of.
func teamAreas(ctx context.Context, tx *db.Tx, campaign int64, username string) ([]string, error) {
	out, err := db.Collect(ctx, tx, db.Value[string], `SELECT t.area_path FROM testing_team_members m
		JOIN testing_teams t ON t.id = m.team_id WHERE t.campaign_id = $1 AND m.username = $2`, campaign, username)
	if err != nil {
		return nil, fmt.Errorf("masstest: team areas: %w", err)
	}
	return out, nil
}

// userExists reports whether an active account is called username.
func userExists(ctx context.Context, tx *db.Tx, username string) (bool, error) {
	n, err := db.Collect(ctx, tx, db.Value[int64], `SELECT id FROM users WHERE username = $1 AND status = 'active'`, username)
	return len(n) == 1, err
}

// overlapWhere is the condition that col, an area path, lies inside or
// above one of the areas where p reads testing.
func overlapWhere(p *auth.Principal, col string) (string, []any) {
	paths, all := p.AreaPaths(auth.TestingRead)
	if all {
		return "1 = 1", nil
	}
	if len(paths) == 0 {
		return "1 = 0", nil
	}
	var a db.Args
	var parts []string
	for _, path := range paths {
		parts = append(parts, col+" LIKE "+a.Add(db.LikePrefix(path))+` ESCAPE '\'`, a.Add(path)+" LIKE "+col+" || '%'")
	}
	return "(" + strings.Join(parts, " OR ") + ")", a.List
}
