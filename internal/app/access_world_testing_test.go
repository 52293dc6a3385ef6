package app

import (
	"context"
	"strconv"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/masstest"
	"tongxin/internal/pii"
)

// testingWorld adds mass testing to the access world: a household with a
// resident in 大园社区 and in the canary community, a campaign and a
// round over each district, and an exemption in each round.
func testingWorld(ctx context.Context, sys *System, w *matrixWorld, must func(string, error)) {
	sp := auth.System()
	for _, s := range []struct{ k, community, name string }{{"in", inCommunity, "矩阵居民"}, {"out", outCommunity, canaryMarker + "居民"}} {
		a, err := sys.Areas.Lookup(ctx, s.community)
		must("testing area", err)
		name, _ := sys.Box.Seal(s.name)
		id := map[string]string{"in": "43020319800101001X", "out": "430204198001010029"}[s.k]
		idEnc, _ := sys.Box.Seal(id)
		must("household", sys.DB.Write(ctx, func(tx *db.Tx) error {
			var hh int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO testing_households (code, community_code, area_path, estate, building,
				unit, room, members, created_at, updated_at) VALUES ($1, $2, $3, '矩阵小区', '1栋', '1单元', '101', 1, $4, $4)
				RETURNING id`, "MHH-"+s.k, s.community, a.Path, tx.NowMS()).Scan(&hh); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO testing_residents (code, household_id, name_masked, name_enc, id_enc, id_idx,
				id4, birth_year, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1980, 'present', $8, $8)`,
				"MRES-"+s.k, hh, "矩*", name, idEnc, sys.Box.Index(pii.KindResidentID, id), id[14:], tx.NowMS())
			return err
		}))
		w.obj["resident."+s.k] = "MRES-" + s.k
	}
	for _, s := range []struct{ k, district, name string }{{"in", inDistrict, "芦淞区全员核酸"}, {"out", outDistrict, canaryMarker + "核酸"}} {
		c, err := sys.Testing.CreateCampaign(ctx, sp, masstest.CampaignInput{Name: s.name, AreaCode: s.district})
		must("campaign", err)
		w.obj["campaign."+s.k] = strconv.FormatInt(c.ID, 10)
		r, err := sys.Testing.CreateRound(ctx, sp, w.obj["campaign."+s.k], masstest.RoundInput{StartsAt: matrixNow.Add(-time.Hour),
			EndsAt: matrixNow.Add(12 * time.Hour), Mode: masstest.ModeBoth})
		must("round", err)
		w.obj["round."+s.k] = strconv.FormatInt(r.ID, 10)
		_, err = sys.Testing.Exempt(ctx, sp, w.obj["round."+s.k], masstest.ExemptionInput{Resident: w.obj["resident."+s.k],
			Reason: masstest.ExemptAway})
		must("exemption", err)
	}
}
