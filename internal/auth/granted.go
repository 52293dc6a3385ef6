package auth

import (
	"context"
	"slices"
	"strings"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Granted lists the active users one of whose assignments of the given
// roles grants perm over the area at path: the assignment's scope lies on
// path (its area, a department's or a work group's area, is path or one of
// its ancestors) and its role, or its department's capabilities, grant
// perm. Modules use it to notify who may act on an object (the reviewers
// of a pass batch), as Holders does for one scope.
func (s *Service) Granted(ctx context.Context, tx *db.Tx, perm Permission, path string, roles ...Role) ([]int64, error) {
	const op = "auth.Granted"
	ancestors := ancestorPaths(path)
	if len(roles) == 0 || len(ancestors) == 0 {
		return nil, nil
	}
	var args db.Args
	q := assignmentsSQL + ` JOIN users u ON u.id = ra.user_id
		WHERE u.status = 'active' AND ra.role IN ` + db.In(&args, roleNames(roles)) + `
		AND COALESCE(a.path, da.path, wa.path, ra.scope_path) IN ` + db.In(&args, ancestors) + `
		ORDER BY ra.user_id`
	var ids []int64
	err := db.Each(ctx, tx, func(r db.Scanner) error {
		uid, a, err := scanAssignment(r)
		if err != nil {
			return err
		}
		if a.Grants(perm) && !slices.Contains(ids, uid) {
			ids = append(ids, uid)
		}
		return nil
	}, q, args.List...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return ids, nil
}

// roleNames gives roles as plain strings, the values the drivers take.
func roleNames(roles []Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// ancestorPaths lists the area paths from the root down to path
// ("/430200/", "/430200/430203/", …); nil for a malformed path.
func ancestorPaths(path string) []string {
	codes := strings.Split(strings.Trim(path, "/"), "/")
	if path == "" || slices.Contains(codes, "") {
		return nil
	}
	out := make([]string, len(codes))
	p := "/"
	for i, c := range codes {
		p += c + "/"
		out[i] = p
	}
	return out
}
