package checkpoint

import (
	"slices"
	"strconv"
	"strings"

	"tongxin/internal/auth"
)

// Reach: which checkpoints a caller may see, scan at or manage. The SQL
// condition of a reach is in store.go (reach.where).

// reach is how a caller reaches checkpoints: whole area subtrees (readers
// and managers) and single checkpoints (their officers, whose scope is the
// checkpoint, never its area).
type reach struct {
	all   bool
	paths []string
	ids   []int64
}

// reachFor returns what p reaches with any of perms. Checkpoint-scoped
// assignments count for the checkpoint alone, and only when officers
// is set.
func reachFor(p *auth.Principal, officers bool, perms ...auth.Permission) reach {
	if p == nil {
		return reach{}
	}
	if p.IsSystem() {
		return reach{all: true}
	}
	var r reach
	for _, a := range p.Assignments {
		if !slices.ContainsFunc(perms, func(perm auth.Permission) bool { return auth.RoleHas(a.Role, perm) }) &&
			!(officers && a.Scope.Kind == auth.ScopeCheckpoint) {
			continue
		}
		if a.Scope.Kind == auth.ScopeCheckpoint {
			if officers {
				if id, err := strconv.ParseInt(a.Scope.Ref, 10, 64); err == nil {
					r.ids = append(r.ids, id)
				}
			}
			continue
		}
		if a.Scope.Path != "" {
			r.paths = append(r.paths, a.Scope.Path)
		}
	}
	return r
}

// readReach is what p may read: area subtrees with CheckpointRead or
// CheckpointManage, and the checkpoints p stands at.
func readReach(p *auth.Principal) reach {
	return reachFor(p, true, auth.CheckpointRead, auth.CheckpointManage)
}

// none reports whether r reaches nothing.
func (r reach) none() bool { return !r.all && len(r.paths) == 0 && len(r.ids) == 0 }

// covers reports whether r reaches c.
func (r reach) covers(c *Checkpoint) bool {
	if r.all || slices.Contains(r.ids, c.ID) {
		return true
	}
	for _, p := range r.paths {
		if strings.HasPrefix(c.AreaPath, p) {
			return true
		}
	}
	return false
}
