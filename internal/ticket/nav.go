package ticket

import (
	"tongxin/internal/auth"
	"tongxin/internal/web"
)

// NavItems are the menu entries (and home cards) of tickets, for
// Renderer.AddNav: the queue for whoever files, reads or handles tickets;
// the hotline's quick form for those who may file about anyone (not
// enterprise contacts, whose hotline tickets would be refused); the overdue board and the
// statistics for readers; the settings for managers.
func NavItems() []web.NavItem {
	// Readers without TicketFile (inspectors) reach the queue too.
	var readers []auth.Role
	for _, r := range auth.Roles {
		if auth.RoleHas(r, auth.TicketRead) || auth.RoleHas(r, auth.TicketHandle) {
			readers = append(readers, r)
		}
	}
	return []web.NavItem{
		{Key: "ticket.nav.queue", DescKey: "ticket.card.queue", Path: "/tickets", Perm: auth.TicketFile, Roles: readers},
		{Key: "ticket.nav.hotline", DescKey: "ticket.card.hotline", Path: "/tickets/new?channel=hotline_12345", Allow: FilesForAnyone},
		{Key: "ticket.nav.overdue", DescKey: "ticket.card.overdue", Path: "/tickets/overdue", Perm: auth.TicketRead},
		{Key: "ticket.nav.stats", DescKey: "ticket.card.stats", Path: "/tickets/stats", Perm: auth.TicketRead},
		{Key: "ticket.nav.settings", DescKey: "ticket.card.settings", Path: "/ticket-settings", Perm: auth.TicketManage},
	}
}
