package ticket

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/clock"
	"tongxin/internal/db"
)

// noRows reports a missing row.
func noRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

const categoryCols = `code, name, name_en, position, active, confirm_after_ms, audience`

func scanCategory(sc db.Scanner) (Category, error) {
	var c Category
	var ms int64
	err := sc.Scan(&c.Code, &c.Name, &c.NameEn, &c.Position, &c.Active, &ms, &c.Audience)
	c.ConfirmAfter = Duration(time.Duration(ms) * time.Millisecond)
	return c, err
}

// getCategory reads the category with code.
func getCategory(ctx context.Context, tx *db.Tx, code string) (Category, error) {
	c, err := scanCategory(tx.QueryRowContext(ctx, `SELECT `+categoryCols+` FROM ticket_categories WHERE code = $1`, code))
	if noRows(err) {
		return c, errCategoryNotFound()
	}
	if err != nil {
		return c, fmt.Errorf("ticket: category: %w", err)
	}
	return c, nil
}

// listCategories reads every category in display order.
func listCategories(ctx context.Context, tx *db.Tx) ([]Category, error) {
	out, err := db.Collect(ctx, tx, scanCategory, `SELECT `+categoryCols+` FROM ticket_categories ORDER BY position, code`)
	if err != nil {
		return nil, fmt.Errorf("ticket: categories: %w", err)
	}
	return out, nil
}

// saveCategory creates or updates a category.
func saveCategory(ctx context.Context, tx *db.Tx, c *Category) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ticket_categories (code, name, name_en, position, active, confirm_after_ms, created_at, updated_at, audience)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
		ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, position = excluded.position,
		active = excluded.active, confirm_after_ms = excluded.confirm_after_ms, updated_at = excluded.updated_at,
		audience = excluded.audience`,
		c.Code, c.Name, c.NameEn, c.Position, c.Active, time.Duration(c.ConfirmAfter).Milliseconds(), tx.NowMS(), string(c.Audience))
	if err != nil {
		return fmt.Errorf("ticket: save category: %w", err)
	}
	return nil
}

// setConfirmAfter changes how long a resolved ticket of category code
// waits for its reporter.
func setConfirmAfter(ctx context.Context, tx *db.Tx, code string, d time.Duration) error {
	if _, err := tx.ExecContext(ctx, `UPDATE ticket_categories SET confirm_after_ms = $1, updated_at = $2 WHERE code = $3`,
		d.Milliseconds(), tx.NowMS(), code); err != nil {
		return fmt.Errorf("ticket: set policy: %w", err)
	}
	return nil
}

// policyOf is the policy of a category and urgency: its own row, or the
// default.
func policyOf(ctx context.Context, tx *db.Tx, category string, u Urgency) (Policy, error) {
	var respond, resolve string
	err := tx.QueryRowContext(ctx, `SELECT respond_rule, resolve_rule FROM ticket_policies WHERE category = $1 AND urgency = $2`,
		category, string(u)).Scan(&respond, &resolve)
	if noRows(err) {
		return DefaultPolicy(u), nil
	}
	if err != nil {
		return Policy{}, fmt.Errorf("ticket: policy: %w", err)
	}
	p := Policy{Urgency: u}
	if p.RespondBy, err = ParseRule(respond); err != nil {
		return Policy{}, fmt.Errorf("ticket: stored respond rule %q: %w", respond, err)
	}
	if p.ResolveBy, err = ParseRule(resolve); err != nil {
		return Policy{}, fmt.Errorf("ticket: stored resolve rule %q: %w", resolve, err)
	}
	return p, nil
}

// storedPolicies reads which (category, urgency) pairs have a policy row
// of their own, keyed "category/urgency".
func storedPolicies(ctx context.Context, tx *db.Tx) (map[string]bool, error) {
	stored := map[string]bool{}
	err := db.Each(ctx, tx, func(sc db.Scanner) error {
		var c, u string
		if err := sc.Scan(&c, &u); err != nil {
			return err
		}
		stored[c+"/"+u] = true
		return nil
	}, `SELECT category, urgency FROM ticket_policies`)
	if err != nil {
		return nil, fmt.Errorf("ticket: policies: %w", err)
	}
	return stored, nil
}

// savePolicy writes the deadlines of one urgency of category.
func savePolicy(ctx context.Context, tx *db.Tx, category string, r parsedRule, actor string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ticket_policies (category, urgency, respond_rule, resolve_rule, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (category, urgency) DO UPDATE SET respond_rule = excluded.respond_rule,
		resolve_rule = excluded.resolve_rule, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		category, string(r.u), r.respond.String(), r.resolve.String(), tx.NowMS(), actor)
	if err != nil {
		return fmt.Errorf("ticket: set policy: %w", err)
	}
	return nil
}

// route finds the department of the most specific rule for category whose
// area contains path; none means the area's own office.
func route(ctx context.Context, tx *db.Tx, category, path string) (routedDept, error) {
	var d routedDept
	err := tx.QueryRowContext(ctx, `SELECT r.department_code, d.name FROM ticket_routes r
		JOIN departments d ON d.code = r.department_code
		WHERE r.category = $1 AND $2 LIKE r.area_path || '%'
		ORDER BY length(r.area_path) DESC LIMIT 1`, category, path).Scan(&d.Code, &d.Name)
	if noRows(err) {
		return routedDept{}, nil
	}
	if err != nil {
		return d, fmt.Errorf("ticket: route: %w", err)
	}
	return d, nil
}

// routeRow is a routing rule and the path of its area.
type routeRow struct {
	Route
	path string
}

func scanRoute(sc db.Scanner) (routeRow, error) {
	var r routeRow
	var at int64
	err := sc.Scan(&r.ID, &r.Category, &r.CategoryName, &r.AreaCode, &r.AreaName, &r.path, &r.Department,
		&r.DepartmentName, &at)
	r.UpdatedAt = clock.FromMillis(at)
	return r, err
}

// listRoutes reads every routing rule, by category and area.
func listRoutes(ctx context.Context, tx *db.Tx) ([]routeRow, error) {
	out, err := db.Collect(ctx, tx, scanRoute, `SELECT r.id, r.category, COALESCE(c.name, r.category), r.area_code, a.name, a.path,
		r.department_code, d.name, r.updated_at FROM ticket_routes r
		JOIN areas a ON a.code = r.area_code JOIN departments d ON d.code = r.department_code
		LEFT JOIN ticket_categories c ON c.code = r.category ORDER BY c.position, r.category, a.path`)
	if err != nil {
		return nil, fmt.Errorf("ticket: routes: %w", err)
	}
	return out, nil
}

// saveRoute creates or replaces the rule of (category, area) and returns
// its id.
func saveRoute(ctx context.Context, tx *db.Tx, category string, ar *area.Area, dept *area.Department) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO ticket_routes (category, area_code, area_path, department_code, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (category, area_code) DO UPDATE SET department_code = excluded.department_code,
		updated_at = excluded.updated_at RETURNING id`, category, ar.Code, ar.Path, dept.Code, tx.NowMS()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("ticket: save route: %w", err)
	}
	return id, nil
}

// storedRoute is a routing rule as deleteRoute's caller checks it.
type storedRoute struct {
	areaCode, areaPath, category, dept string
}

// getRoute reads the rule with id; sql.ErrNoRows when there is none.
func getRoute(ctx context.Context, tx *db.Tx, id int64) (storedRoute, error) {
	var r storedRoute
	err := tx.QueryRowContext(ctx, `SELECT area_code, area_path, category, department_code FROM ticket_routes WHERE id = $1`, id).
		Scan(&r.areaCode, &r.areaPath, &r.category, &r.dept)
	return r, err
}

// deleteRoute removes the rule with id.
func deleteRoute(ctx context.Context, tx *db.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM ticket_routes WHERE id = $1`, id); err != nil {
		return fmt.Errorf("ticket: delete route: %w", err)
	}
	return nil
}
