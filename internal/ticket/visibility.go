package ticket

import (
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/db"
)

// visibility is how a caller reaches tickets: area subtrees (officers and
// readers), departments (department officers: the tickets routed to them),
// enterprises (their contacts) and their own user id (tickets they filed
// or watch).
type visibility struct {
	all    bool
	paths  []string
	depts  []string
	keys   []string
	userID int64
}

// visibilityFor returns what p reaches with perm (TicketRead or
// TicketHandle). Department-bound assignments reach the department's
// tickets, never the department's area; the caller's own and watched
// tickets are readable with TicketRead only.
func visibilityFor(p *auth.Principal, perm auth.Permission) visibility {
	if p == nil {
		return visibility{}
	}
	if p.IsSystem() {
		return visibility{all: true}
	}
	var v visibility
	for _, a := range p.Assignments {
		if !auth.RoleHas(a.Role, perm) {
			continue
		}
		switch a.Scope.Kind {
		case auth.ScopeArea:
			if a.Scope.Path != "" {
				v.paths = append(v.paths, a.Scope.Path)
			}
		case auth.ScopeDepartment:
			v.depts = append(v.depts, a.Scope.Ref)
		}
	}
	if perm == auth.TicketRead {
		// Department officers read what they handle.
		for _, a := range p.Assignments {
			if a.Scope.Kind == auth.ScopeDepartment && auth.RoleHas(a.Role, auth.TicketHandle) {
				v.depts = append(v.depts, a.Scope.Ref)
			}
		}
		v.keys = p.Refs(auth.EnterpriseContact)
		v.userID = p.UserID
	}
	return v
}

// where is the SQL condition selecting the tickets v reaches, for tickets
// aliased t.
func (v visibility) where(args *db.Args) string {
	if v.all {
		return "1 = 1"
	}
	var ors []string
	for _, p := range v.paths {
		ors = append(ors, "t.area_path LIKE "+args.Add(db.LikePrefix(p))+` ESCAPE '\'`)
	}
	for _, d := range v.depts {
		ors = append(ors, "t.department_code = "+args.Add(d))
	}
	for _, k := range v.keys {
		ors = append(ors, "t.enterprise_key = "+args.Add(k))
	}
	if v.userID != 0 {
		u := args.Add(v.userID)
		ors = append(ors, "t.reporter_id = "+u,
			"t.id IN (SELECT w.ticket_id FROM ticket_watchers w WHERE w.user_id = "+u+")")
	}
	if len(ors) == 0 {
		return "1 = 0"
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// covers reports whether v reaches t, without the watcher relation (which
// needs the database; see canRead).
func (v visibility) covers(t *Ticket) bool {
	if v.all {
		return true
	}
	for _, p := range v.paths {
		if strings.HasPrefix(t.AreaPath, p) {
			return true
		}
	}
	for _, d := range v.depts {
		if t.Department != "" && d == t.Department {
			return true
		}
	}
	for _, k := range v.keys {
		if t.Subject.EnterpriseKey != "" && k == t.Subject.EnterpriseKey {
			return true
		}
	}
	return v.userID != 0 && t.reporterID == v.userID
}
