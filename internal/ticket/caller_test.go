package ticket

import (
	"testing"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/errs"
)

// TestPublicRepeat: the same phone filing the same category again within
// 30 minutes is asked to confirm (409, nothing stored); another category,
// a confirmation or half an hour later files; enterprise categories are
// not for residents.
func TestPublicRepeat(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		if _, err := f.svc.FilePublic(f.Ctx, "203.0.113.7", resident("家里没有菜了")); err != nil {
			t.Fatal(err)
		}
		// Another category of the same phone is no repeat.
		medicine := resident("需要降压药")
		medicine.Category = "medical"
		if _, err := f.svc.FilePublic(f.Ctx, "203.0.113.8", medicine); err != nil {
			t.Errorf("another category: %v", err)
		}
		before := f.Count(`SELECT COUNT(*) FROM tickets`)
		f.at(testBase.Add(29 * time.Minute))
		// The same number typed otherwise is the same phone.
		again := resident("还是没有菜")
		again.Phone = "139-0733-2468"
		_, err := f.svc.FilePublic(f.Ctx, "203.0.113.8", again)
		e := mustErr(t, err, errs.Conflict, "possible_duplicate")
		if len(e.Fields) != 1 || e.Fields[0].Field != "confirm_duplicate" || f.Count(`SELECT COUNT(*) FROM tickets`) != before {
			t.Errorf("repeat: %+v, %d tickets", e, f.Count(`SELECT COUNT(*) FROM tickets`))
		}
		// An hour later (a new window of the throttle) the first is no
		// longer recent; a repeat of the new one asks again, and a
		// confirmation files.
		f.at(testBase.Add(61 * time.Minute))
		if _, err := f.svc.FilePublic(f.Ctx, "203.0.113.9", again); err != nil {
			t.Errorf("an hour later: %v", err)
		}
		_, err = f.svc.FilePublic(f.Ctx, "203.0.113.9", again)
		mustErr(t, err, errs.Conflict, "possible_duplicate")
		again.ConfirmDuplicate = true
		if _, err := f.svc.FilePublic(f.Ctx, "203.0.113.9", again); err != nil {
			t.Errorf("confirmed repeat: %v", err)
		}
		// Raw materials are an enterprise's problem.
		ent := resident("缺原材料")
		ent.Phone, ent.Category = "13500001111", "materials"
		_, err = f.svc.FilePublic(f.Ctx, "203.0.113.10", ent)
		e = mustErr(t, err, errs.Invalid, "invalid_ticket")
		if len(e.Fields) != 1 || e.Fields[0].Field != "category" {
			t.Errorf("enterprise category on the help form: %+v", e)
		}
		var travel Category
		cats, err := f.svc.Categories(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cats {
			if c.Code == "travel_home" {
				travel = c
			}
		}
		if travel.Name != "返乡/出行" || travel.Audience != AudienceResident || !travel.Active {
			t.Errorf("travel category: %+v", travel)
		}
	})
}

// TestCallerTickets: the hotline operator sees the caller's tickets within
// reach and the count of repeats of a category; an enterprise contact may
// not look phones up.
func TestCallerTickets(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		if _, err := f.Areas.CreateDepartment(f.Ctx, f.Sys, area.Department{Code: "rx12345", Name: "市12345热线", AreaCode: "430200"}); err != nil {
			t.Fatal(err)
		}
		op := f.user("hotline", auth.DepartmentOfficer, "department:rx12345")
		mine := f.file(op, help("缺菜"))
		// Filed on /help by the same phone: not in the operator's reach.
		pub := resident("缺药")
		pub.Phone, pub.Category = "13807330001", "medical"
		if _, err := f.svc.FilePublic(f.Ctx, "203.0.113.7", pub); err != nil {
			t.Fatal(err)
		}
		f.at(testBase.Add(10 * time.Minute))
		h, err := f.svc.CallerTickets(f.Ctx, op, "138 0733 0001", "food")
		if err != nil {
			t.Fatal(err)
		}
		if h.Phone != "138****0001" || h.Repeats != 1 || len(h.Tickets) != 1 || h.Tickets[0].Tracking != mine.Tracking {
			t.Errorf("history: %+v", h)
		}
		// The public request counts as a repeat of its category, unseen.
		if h, _ = f.svc.CallerTickets(f.Ctx, op, "13807330001", "medical"); h.Repeats != 1 || len(h.Tickets) != 1 {
			t.Errorf("medical: %+v", h)
		}
		if h, _ = f.svc.CallerTickets(f.Ctx, op, "1380733", "food"); h.Phone != "" || len(h.Tickets) != 0 {
			t.Errorf("half a number: %+v", h)
		}
		f.at(testBase.Add(31 * time.Minute))
		if h, _ = f.svc.CallerTickets(f.Ctx, op, "13807330001", "food"); h.Repeats != 0 || len(h.Tickets) != 1 {
			t.Errorf("after 30 minutes: %+v", h)
		}
		contact := newPagesEnv(t, f).contact()
		_, err = f.svc.CallerTickets(f.Ctx, contact, "13807330001", "food")
		mustErr(t, err, errs.Forbidden, "forbidden")
	})
}
