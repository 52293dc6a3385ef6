package resumption

import (
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/db"
)

// visibility is how a caller reaches enterprises: whole area subtrees
// (officers), their own enterprises (enterprise contacts) and the
// enterprises they are assigned to (liaisons).
type visibility struct {
	all       bool
	paths     []string
	keys      []string // enterprise contacts' own enterprises
	liaisonID int64    // a liaison's user id: their assigned enterprises
}

// visibilityFor returns what p reaches with perm. Contacts and liaisons
// reach their enterprises for reading and reporting, never for managing.
func visibilityFor(p *auth.Principal, perm auth.Permission) visibility {
	paths, all := p.AreaPaths(perm)
	v := visibility{all: all, paths: paths}
	if perm == auth.ResumptionRead || perm == auth.ResumptionReport {
		v.keys = p.Refs(auth.EnterpriseContact)
		if p.HasRole(auth.Liaison) {
			v.liaisonID = p.UserID
		}
	}
	return v
}

// none reports whether the caller reaches no enterprise at all.
func (v visibility) none() bool {
	return !v.all && len(v.paths) == 0 && len(v.keys) == 0 && v.liaisonID == 0
}

// where is the SQL condition selecting the enterprises v reaches, for an
// enterprises table aliased e joined with its area aliased a.
func (v visibility) where(args *db.Args) string {
	if v.all {
		return "1 = 1"
	}
	var ors []string
	for _, p := range v.paths {
		ors = append(ors, "a.path LIKE "+args.Add(db.LikePrefix(p))+` ESCAPE '\'`)
	}
	for _, k := range v.keys {
		ors = append(ors, "e.ekey = "+args.Add(k))
	}
	if v.liaisonID != 0 {
		ors = append(ors, "e.id IN (SELECT la.enterprise_id FROM liaison_assignments la WHERE la.user_id = "+args.Add(v.liaisonID)+")")
	}
	if len(ors) == 0 {
		return "1 = 0"
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}
