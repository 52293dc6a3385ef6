package web

import (
	"context"
	"slices"

	"tongxin/internal/auth"
)

// NavItem is an entry of the menu, and a card on the home page when it has
// a description.
type NavItem struct {
	Key     string          // catalog key of the label
	DescKey string          // catalog key of the home card's text; "" keeps it off the home page
	Path    string          // "/areas"
	Perm    auth.Permission // needed to see it
	// Roles, if any, also show the item to holders of these roles without
	// Perm: enterprise contacts and liaisons reach their own enterprises.
	// An item with neither Perm nor Roles is shown to every signed-in
	// user; one with Roles alone only to holders of those roles.
	Roles []auth.Role
	// Allow, if set, alone decides who sees the item: the same check the
	// page's handler makes, where a permission is not enough (the hotline
	// form is refused to enterprise contacts, who may file only about
	// their own enterprise). It must not do I/O.
	Allow func(p *auth.Principal) bool
	// Count, if set, is a number shown beside the link on full pages (the
	// unread messages of the inbox); 0 shows nothing. It must be cheap.
	Count func(ctx context.Context, p *auth.Principal) int
}

// NavLink is a NavItem as shown to one request.
type NavLink struct {
	NavItem
	Active bool
	Count  int
}

// DefaultNav is the menu of the kernel pages. Modules add theirs with
// AddNav while the program is wired.
func DefaultNav() []NavItem {
	return []NavItem{
		{Key: "nav.home", Path: "/"},
		{Key: "nav.areas", DescKey: "card.areas", Path: "/areas", Perm: auth.AreaRead},
		{Key: "nav.users", DescKey: "card.users", Path: "/users", Perm: auth.UserRead},
		{Key: "nav.audit", DescKey: "card.audit", Path: "/audit", Perm: auth.AuditRead},
	}
}

// AddNav adds menu entries (and home cards). Call it while wiring, before
// serving.
func (r *Renderer) AddNav(items ...NavItem) { r.nav = append(r.nav, items...) }

// NavFor returns the menu entries p may see, in order.
func (r *Renderer) NavFor(p *auth.Principal) []NavItem {
	if p == nil {
		return nil
	}
	var out []NavItem
	for _, it := range r.nav {
		if it.allows(p) {
			out = append(out, it)
		}
	}
	return out
}

// allows reports whether p may see the item (p is not nil).
func (it NavItem) allows(p *auth.Principal) bool {
	switch {
	case it.Allow != nil:
		return it.Allow(p)
	case it.Perm == "" && len(it.Roles) == 0:
		return true
	}
	return (it.Perm != "" && p.Can(it.Perm)) || slices.ContainsFunc(it.Roles, p.HasRole)
}
