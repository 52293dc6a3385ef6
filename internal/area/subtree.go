package area

import (
	"context"
	"strings"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Subtree returns the area with code and every area below it, top down
// (by path), for other modules, which authorise their callers themselves
// (the areas an enterprise's passes may name). NotFound if there is no
// such area.
func (s *Service) Subtree(ctx context.Context, code string) ([]Area, error) {
	const op = "area.Subtree"
	var out []Area
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		top, err := getArea(ctx, tx, strings.TrimSpace(code), scope{all: true})
		if err != nil {
			return err
		}
		var a db.Args
		out, err = queryAreas(ctx, tx, op, scope{paths: []string{top.Path}}.where("a.path", &a), "a.path", &a)
		return err
	})
	return out, errs.Wrap(op, err)
}
