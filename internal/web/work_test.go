package web

import (
	"context"
	"errors"
	"slices"
	"testing"

	"tongxin/internal/auth"
)

// A menu entry is shown to the roles that can use its page: one with Roles
// alone only to those roles (the scan page is for checkpoint officers, not
// for everyone), one with Allow only to whom Allow admits.
func TestNavForFollowsRolesAndAllow(t *testing.T) {
	r := newTestRenderer(t)
	r.AddNav(
		NavItem{Key: "nav.home", Path: "/scan", Roles: []auth.Role{auth.CheckpointOfficer}},
		NavItem{Key: "nav.home", Path: "/hotline", Perm: auth.TicketFile,
			Allow: func(p *auth.Principal) bool { return p.HasRole(auth.StreetOfficer) }},
		NavItem{Key: "nav.home", Path: "/inbox"},
	)
	paths := func(p *auth.Principal) []string {
		var out []string
		for _, it := range r.NavFor(p) {
			out = append(out, it.Path)
		}
		return out
	}
	kakou := &auth.Principal{Username: "k", Assignments: []auth.Assignment{{Role: auth.CheckpointOfficer}}}
	contact := &auth.Principal{Username: "c", Assignments: []auth.Assignment{{Role: auth.EnterpriseContact}}}
	street := &auth.Principal{Username: "s", Assignments: []auth.Assignment{{Role: auth.StreetOfficer}}}
	for _, c := range []struct {
		p          *auth.Principal
		want, deny []string
	}{
		{kakou, []string{"/scan", "/inbox"}, []string{"/hotline"}},
		{contact, []string{"/inbox"}, []string{"/scan", "/hotline"}}, // TicketFile alone does not pass Allow
		{street, []string{"/hotline", "/inbox"}, []string{"/scan"}},
	} {
		got := paths(c.p)
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s's menu %v lacks %s", c.p.Username, got, w)
			}
		}
		for _, d := range c.deny {
			if slices.Contains(got, d) {
				t.Errorf("%s's menu %v shows %s", c.p.Username, got, d)
			}
		}
	}
}

// WorkFor runs the work shown to the principal, in order, and reports a
// failing one without losing the others' figures.
func TestWorkFor(t *testing.T) {
	r := newTestRenderer(t)
	ran := 0
	r.AddWork(
		Work{Show: func(p *auth.Principal) bool { return p.HasRole(auth.StreetOfficer) },
			Figures: func(ctx context.Context, p *auth.Principal) ([]Figure, error) {
				ran++
				return []Figure{{Key: "a", Value: 3, Alert: true}}, nil
			}},
		Work{Figures: func(ctx context.Context, p *auth.Principal) ([]Figure, error) {
			return nil, errors.New("database gone")
		}},
		Work{Figures: func(ctx context.Context, p *auth.Principal) ([]Figure, error) {
			return []Figure{{Key: "b"}}, nil
		}},
	)
	street := &auth.Principal{Username: "s", Assignments: []auth.Assignment{{Role: auth.StreetOfficer}}}
	figs, err := r.WorkFor(context.Background(), street)
	if err == nil || len(figs) != 2 || figs[0].Key != "a" || figs[1].Key != "b" || !figs[0].Urgent() || figs[1].Urgent() {
		t.Fatalf("WorkFor = %+v, %v; want a (urgent), b and the error", figs, err)
	}
	vol := &auth.Principal{Username: "v", Assignments: []auth.Assignment{{Role: auth.Volunteer}}}
	figs, _ = r.WorkFor(context.Background(), vol)
	if ran != 1 || len(figs) != 1 || figs[0].Key != "b" {
		t.Fatalf("a volunteer got %+v (street work ran %d times), want b alone", figs, ran)
	}
	if figs, err := r.WorkFor(context.Background(), nil); figs != nil || err != nil {
		t.Fatal("no work for an anonymous visitor")
	}
}
