package app

import (
	"context"
	"strconv"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/masstest"
	"tongxin/internal/zone"
	"tongxin/internal/zonerule"
)

// zoneWorld adds zones to the access world (after testingWorld, whose
// households it seals): in 大园社区 and in the canary community, the
// estate 矩阵小区 sealed, a pending proposal to seal its building 1栋 (the
// tube marked on the canary's side), and an exit permit of its resident
// (the reason marked).
func zoneWorld(ctx context.Context, sys *System, w *matrixWorld, must func(string, error)) {
	sp := auth.System()
	for _, s := range []struct{ k, community, mark string }{{"in", inCommunity, ""}, {"out", outCommunity, canaryMarker}} {
		z, err := sys.Zones.Create(ctx, sp, zone.ZoneInput{Level: zonerule.Sealed, AreaCode: s.community, Estate: "矩阵小区",
			EffectiveFrom: matrixNow.Add(-time.Hour), Reason: s.mark + "发现阳性", DecisionNo: "矩阵决定" + s.k})
		must("zone", err)
		w.obj["zone."+s.k] = strconv.FormatInt(z.ID, 10)
		must("proposal", sys.DB.Write(ctx, func(tx *db.Tx) error {
			return sys.Zones.ProposeSeal(ctx, tx, zone.SealProposal{Community: s.community, Estate: "矩阵小区", Building: "1栋",
				BuildingKey: masstest.BuildingKey(s.community, "矩阵小区", "1栋"), Tube: s.mark + "T-ZONE", Round: 1})
		}))
		list, err := sys.Zones.Proposals(ctx, sp, "pending", s.community)
		must("proposals", err)
		w.obj["proposal."+s.k] = strconv.FormatInt(list[0].ID, 10)
		p, err := sys.Zones.IssuePermit(ctx, sp, zone.PermitInput{Resident: w.obj["resident."+s.k], Reason: s.mark + "就医",
			ValidFrom: matrixNow, ValidTo: matrixNow.Add(4 * time.Hour)})
		must("permit", err)
		w.obj["permit."+s.k] = strconv.FormatInt(p.ID, 10)
	}
}
