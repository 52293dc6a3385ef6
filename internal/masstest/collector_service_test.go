package masstest

import (
	"fmt"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
)

// The collector's page answers whoever may sample in the round — a
// community worker of its area, a member of one of the campaign's teams —
// with the round, its sites, the modes it plans and the names of the
// areas a resident code may name; it is forbidden to who only reads the
// round and not found elsewhere. CollectRounds lists the open rounds each
// may sample in, and not a closed or ended one.
func TestCollectPageAndRounds(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		r := f.round(street)
		ref := fmt.Sprint(r.ID)
		if _, err := f.svc.CreateSite(f.Ctx, f.Sys, fmt.Sprint(r.CampaignID), SiteInput{Name: "大园广场", Place: "服务中心", AreaCode: dayuan}); err != nil {
			t.Fatal(err)
		}
		closed := f.round(street)
		if _, err := f.svc.CloseRound(f.Ctx, f.Sys, fmt.Sprint(closed.ID)); err != nil {
			t.Fatal(err)
		}
		ended, err := f.svc.CreateRound(f.Ctx, f.Sys, fmt.Sprint(r.CampaignID), RoundInput{StartsAt: f.Clock.Now().Add(-48 * time.Hour),
			EndsAt: f.Clock.Now().Add(-24 * time.Hour), Mode: ModeDoor})
		if err != nil {
			t.Fatal(err)
		}
		worker := f.User("c_worker", auth.CommunityWorker, dayuan)
		v, err := f.svc.CollectPage(f.Ctx, worker, ref)
		if err != nil {
			t.Fatal(err)
		}
		if v.Round.ID != r.ID || !v.Round.Open || len(v.Sites) != 1 || v.Sites[0].Name != "大园广场" || len(v.Modes) != 2 ||
			v.Areas[dayuan] == "" || v.Areas[street] == "" {
			t.Fatalf("view %+v", v)
		}
		if v, err := f.svc.CollectPage(f.Ctx, worker, fmt.Sprint(ended.ID)); err != nil || v.Round.Open || len(v.Modes) != 1 || v.Modes[0] != AtDoor {
			t.Fatalf("an ended door-to-door round: %+v %v", v, err)
		}
		rounds, err := f.svc.CollectRounds(f.Ctx, worker)
		if err != nil || len(rounds) != 1 || rounds[0].ID != r.ID {
			t.Fatalf("worker's rounds: %+v %v", rounds, err)
		}

		vol := f.User("c_vol", auth.Volunteer, hejiatu) // another street
		if _, err := f.svc.CollectPage(f.Ctx, vol, ref); !errs.Is(err, errs.NotFound) {
			t.Fatalf("a volunteer outside any team: %v", err)
		}
		if rounds, err := f.svc.CollectRounds(f.Ctx, vol); err != nil || len(rounds) != 0 {
			t.Fatalf("a volunteer outside any team: %+v %v", rounds, err)
		}
		if _, err := f.svc.CreateTeam(f.Ctx, f.Sys, fmt.Sprint(r.CampaignID), TeamInput{Name: "古大桥采样一队", AreaCode: gudaqiao,
			Members: []TeamMember{{Username: "c_vol", Kind: MemberVolunteer}}}); err != nil {
			t.Fatal(err)
		}
		if v, err := f.svc.CollectPage(f.Ctx, vol, ref); err != nil || v.Areas[gudaqiao] == "" {
			t.Fatalf("a team member: %+v %v", v, err)
		}
		if rounds, err := f.svc.CollectRounds(f.Ctx, vol); err != nil || len(rounds) != 1 {
			t.Fatalf("a team member's rounds: %+v %v", rounds, err)
		}

		reader := f.User("c_district", auth.DistrictOfficer, "430203")
		if _, err := f.svc.CollectPage(f.Ctx, reader, ref); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a district officer: %v", err)
		}
		if _, err := f.svc.CollectPage(f.Ctx, worker, "nope"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("a bad ref: %v", err)
		}
	})
}
