package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/masstest"
	"tongxin/internal/passtoken"
	"tongxin/internal/pii"
)

// CollectWorld is what the collector's page tests work on: households of
// 大园社区 (430203001001) registered by SQL, a campaign over 芦淞区 with an
// open round, a site and a team, and the residents' codes signed through
// the real wiring (sys.Verifier.SignResidents, the pass keys).
type CollectWorld struct {
	Round     string   // the round's id
	Site      int64    // the campaign's site
	Codes     []string // resident codes of the members, in order
	Names     []string // their masked names
	Household string   // a household code (rid == hh)
	IDNumbers []string // the members' ID numbers, in order
	Forged    string   // a resident code signed by a key the server does not know
}

// collectCommunity is where the world's households are: 大园社区.
const collectCommunity = "430203001001"

// OpenCollectSystem opens a System on an installation (a database URL and
// a data directory), closed when the test ends.
func OpenCollectSystem(t testing.TB, dbURL, dataDir string) *System {
	t.Helper()
	env := &Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}
	f := newFlags(env, "test", "test")
	if err := f.parse([]string{"--db", dbURL, "--data-dir", dataDir}); err != nil {
		t.Fatal(err)
	}
	sys, err := f.open(context.Background(), true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.Close() })
	return sys
}

// collectIDNumber completes 17 digits with the GB 11643 check character.
func collectIDNumber(base string) string {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range w {
		sum += int(base[i]-'0') * w[i]
	}
	return base + string("10X98765432"[sum%11])
}

// SeedCollect builds the world: households households of members
// residents each, then the campaign, its round (open from an hour ago for
// a day), a site and a team whose members are teamMembers (volunteers).
func SeedCollect(t testing.TB, sys *System, households, members int, teamMembers ...string) CollectWorld {
	t.Helper()
	ctx := context.Background()
	a, err := sys.Areas.Lookup(ctx, collectCommunity)
	if err != nil {
		t.Fatal(err)
	}
	var w CollectWorld
	var claims []passtoken.ResidentClaims
	now := sys.DB.Clock.Now()
	err = sys.DB.Write(ctx, func(tx *db.Tx) error {
		for h := range households {
			code := fmt.Sprintf("CHH%04d", h)
			var hh int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO testing_households (code, community_code, area_path, estate, building,
				unit, room, members, created_at, updated_at) VALUES ($1, $2, $3, '采样小区', '1栋', '1单元', $4, $5, $6, $6)
				RETURNING id`, code, collectCommunity, a.Path, strconv.Itoa(101+h), members, tx.NowMS()).Scan(&hh); err != nil {
				return err
			}
			if h == 0 {
				claims = append(claims, passtoken.ResidentClaims{RID: code, HH: code, Name: "户*", Area: collectCommunity, Building: "B1", IAT: now.Unix()})
			}
			for m := range members {
				rid := fmt.Sprintf("CRS%04d%02d", h, m)
				name := fmt.Sprintf("居民%d%d", h, m)
				id := collectIDNumber(fmt.Sprintf("43020319800101%01d%02d", m%10, h%100))
				masked := "居*"
				nameEnc, err := sys.Box.Seal(name)
				if err != nil {
					return err
				}
				idEnc, err := sys.Box.Seal(id)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO testing_residents (code, household_id, name_masked, name_enc, id_enc, id_idx,
					id4, birth_year, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1980, 'present', $8, $8)`,
					rid, hh, masked, nameEnc, idEnc, sys.Box.Index(pii.KindResidentID, id), id[14:], tx.NowMS()); err != nil {
					return err
				}
				claims = append(claims, passtoken.ResidentClaims{RID: rid, HH: code, Name: masked, Area: collectCommunity, Building: "B1", IAT: now.Unix()})
				w.Names = append(w.Names, masked)
				w.IDNumbers = append(w.IDNumbers, id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	codes, err := sys.Verifier.SignResidents(ctx, claims)
	if err != nil {
		t.Fatal(err)
	}
	w.Household, w.Codes = codes[0], codes[1:]
	sp := auth.System()
	c, err := sys.Testing.CreateCampaign(ctx, sp, masstest.CampaignInput{Name: "芦淞区全员核酸", AreaCode: "430203"})
	if err != nil {
		t.Fatal(err)
	}
	ref := strconv.FormatInt(c.ID, 10)
	r, err := sys.Testing.CreateRound(ctx, sp, ref, masstest.RoundInput{StartsAt: now.Add(-time.Hour), EndsAt: now.Add(24 * time.Hour),
		Mode: masstest.ModeBoth})
	if err != nil {
		t.Fatal(err)
	}
	w.Round = strconv.FormatInt(r.ID, 10)
	site, err := sys.Testing.CreateSite(ctx, sp, ref, masstest.SiteInput{Name: "大园社区广场", Place: "社区服务中心前", AreaCode: collectCommunity, Hours: "8:00-18:00"})
	if err != nil {
		t.Fatal(err)
	}
	w.Site = site.ID
	if len(teamMembers) > 0 {
		in := masstest.TeamInput{Name: "大园采样一队", AreaCode: collectCommunity}
		for _, u := range teamMembers {
			in.Members = append(in.Members, masstest.TeamMember{Username: u, Kind: masstest.MemberVolunteer})
		}
		if _, err := sys.Testing.CreateTeam(ctx, sp, ref, in); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// CountSamples counts the stored samples of round.
func CountSamples(t testing.TB, sys *System, round string) int {
	t.Helper()
	id, err := strconv.ParseInt(round, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	err = sys.DB.Read(context.Background(), func(tx *db.Tx) error {
		return tx.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM testing_samples WHERE round_id = $1`, id).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
