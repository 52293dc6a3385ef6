package ticket

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/pii"
)

// ticketCols are the columns scanTicket reads, for tickets aliased t.
const ticketCols = `t.id, t.tracking, t.kind, t.category, COALESCE(c.name, t.category), t.urgency, t.channel, t.status,
	t.subject_kind, t.enterprise_key, t.enterprise_name, t.address_enc, t.area_code, t.area_name, t.area_path,
	t.description, COALESCE(t.reporter_id, 0), COALESCE(u.username, ''), t.reporter_name_enc, t.reporter_phone_enc,
	COALESCE(t.department_code, ''), t.department_name, t.holder_code, t.holder_depth, t.escalation_level,
	t.respond_by, t.resolve_by, t.respond_from, t.resolve_from, t.due_at, t.responded_at, t.resolved_at, t.closed_at, t.auto_confirm_at,
	COALESCE(t.merged_into, 0), COALESCE(m.tracking, ''), t.version, t.created_at, t.created_by, t.updated_at`

// ticketFrom joins what ticketCols reads.
const ticketFrom = ` FROM tickets t
	LEFT JOIN ticket_categories c ON c.code = t.category
	LEFT JOIN users u ON u.id = t.reporter_id
	LEFT JOIN tickets m ON m.id = t.merged_into`

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := clock.FromMillis(v.Int64)
	return &t
}

// scanTicket reads one row of ticketCols, opening sealed fields with box.
func scanTicket(sc db.Scanner, box *pii.Box, now time.Time) (*Ticket, error) {
	var t Ticket
	var addr, name, phone []byte
	var respondBy, resolveBy, respondFrom, resolveFrom, created, updated int64
	var due, responded, resolved, closed, autoConfirm sql.NullInt64
	err := sc.Scan(&t.ID, &t.Tracking, &t.Kind, &t.Category, &t.CategoryName, &t.Urgency, &t.Channel, &t.Status,
		&t.Subject.Kind, &t.Subject.EnterpriseKey, &t.Subject.EnterpriseName, &addr, &t.AreaCode, &t.AreaName, &t.AreaPath,
		&t.Description, &t.reporterID, &t.Reporter.User, &name, &phone,
		&t.Department, &t.DepartmentName, &t.HolderArea, &t.HolderDepth, &t.EscalationLevel,
		&respondBy, &resolveBy, &respondFrom, &resolveFrom, &due, &responded, &resolved, &closed, &autoConfirm,
		&t.mergedID, &t.MergedInto, &t.Version, &created, &t.CreatedBy, &updated)
	if err != nil {
		return nil, err
	}
	if len(addr) > 0 {
		if t.Subject.Address, err = box.Open(addr); err != nil {
			return nil, fmt.Errorf("open address: %w", err)
		}
	}
	if len(name) > 0 {
		n, err := box.Open(name)
		if err != nil {
			return nil, fmt.Errorf("open reporter name: %w", err)
		}
		t.Reporter.Name = pii.MaskName(n)
	}
	if len(phone) > 0 {
		if t.phone, err = box.Open(phone); err != nil {
			return nil, fmt.Errorf("open reporter phone: %w", err)
		}
		t.Reporter.Phone = pii.MaskPhone(t.phone)
	}
	t.StatusName = StatusNames[t.Status]
	t.HolderLevel = LevelCode(t.HolderDepth)
	t.RespondBy, t.ResolveBy = clock.FromMillis(respondBy), clock.FromMillis(resolveBy)
	t.DueAt = msPtr(due)
	t.Overdue = t.DueAt != nil && !t.DueAt.After(now)
	t.RespondFrom, t.ResolveFrom = windowStart(respondFrom, created), windowStart(resolveFrom, created)
	t.setDeadline(now)
	t.RespondedAt, t.ResolvedAt, t.ClosedAt, t.AutoConfirmAt = msPtr(responded), msPtr(resolved), msPtr(closed), msPtr(autoConfirm)
	t.CreatedAt, t.UpdatedAt = clock.FromMillis(created), clock.FromMillis(updated)
	t.Escalations = []Escalation{}
	return &t, nil
}

// ticketScanner is scanTicket for db.Collect.
func ticketScanner(box *pii.Box, now time.Time) func(db.Scanner) (*Ticket, error) {
	return func(sc db.Scanner) (*Ticket, error) { return scanTicket(sc, box, now) }
}

// loadTicket reads the ticket with id or tracking number ref, without
// authorization.
func loadTicket(ctx context.Context, tx *db.Tx, box *pii.Box, ref string) (*Ticket, error) {
	ref = strings.ToUpper(strings.TrimSpace(ref))
	var where string
	var arg any
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		where, arg = "t.id = $1", id
	} else if strings.HasPrefix(ref, "WT") {
		where, arg = "t.tracking = $1", ref
	} else {
		return nil, errNotFound()
	}
	t, err := scanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+ticketFrom+` WHERE `+where, arg), box, tx.Now)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("ticket: load: %w", err)
	}
	if err := loadEscalations(ctx, tx, []*Ticket{t}); err != nil {
		return nil, err
	}
	return t, nil
}

// escalationChunk bounds the ids of one escalations query.
const escalationChunk = 64

// loadEscalations fills the escalation hops of list.
func loadEscalations(ctx context.Context, tx *db.Tx, list []*Ticket) error {
	var ids []int64
	byID := map[int64]*Ticket{}
	for _, t := range list {
		if t.EscalationLevel > 0 {
			ids = append(ids, t.ID)
			byID[t.ID] = t
		}
	}
	fill := func(sc db.Scanner) error {
		var id, at int64
		var e Escalation
		var fromDepth, toDepth int
		if err := sc.Scan(&id, &e.Hop, &at, &e.Reason, &e.FromArea, &fromDepth, &e.ToArea, &toDepth); err != nil {
			return err
		}
		e.At, e.FromLevel, e.ToLevel = clock.FromMillis(at), LevelCode(fromDepth), LevelCode(toDepth)
		byID[id].Escalations = append(byID[id].Escalations, e)
		return nil
	}
	return db.Chunks(len(ids), escalationChunk, func(lo, hi int) error {
		var a db.Args
		q := `SELECT ticket_id, hop, at, reason, from_code, from_depth, to_code, to_depth
			FROM ticket_escalations WHERE ticket_id IN ` + db.In(&a, ids[lo:hi]) + ` ORDER BY ticket_id, hop`
		err := db.Each(ctx, tx, fill, q, a.List...)
		if err != nil {
			return fmt.Errorf("ticket: escalations: %w", err)
		}
		return nil
	})
}

// isWatcher reports whether user watches ticket id.
func isWatcher(ctx context.Context, tx *db.Tx, id, user int64) (bool, error) {
	if user == 0 {
		return false, nil
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ticket_watchers WHERE ticket_id = $1 AND user_id = $2`, id, user).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("ticket: watcher: %w", err)
	}
	return n > 0, nil
}

// watchers lists the users watching ticket id.
func watchers(ctx context.Context, tx *db.Tx, id int64) ([]int64, error) {
	out, err := db.Collect(ctx, tx, db.Value[int64], `SELECT user_id FROM ticket_watchers WHERE ticket_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("ticket: watchers: %w", err)
	}
	return out, nil
}

// addWatcher makes user a watcher of ticket id (once).
func addWatcher(ctx context.Context, tx *db.Tx, id, user int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ticket_watchers (ticket_id, user_id) VALUES ($1, $2)
		ON CONFLICT (ticket_id, user_id) DO NOTHING`, id, user)
	return err
}

// copyWatchers makes the watchers of ticket from watchers of ticket to.
func copyWatchers(ctx context.Context, tx *db.Tx, from, to int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ticket_watchers (ticket_id, user_id)
		SELECT $1, w.user_id FROM ticket_watchers w WHERE w.ticket_id = $2
		ON CONFLICT (ticket_id, user_id) DO NOTHING`, to, from)
	return err
}

// addEvent appends to a ticket's timeline.
func addEvent(ctx context.Context, tx *db.Tx, id int64, actor, kind string, from, to Status, dept, note string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ticket_events (ticket_id, at, actor, kind, from_status, to_status, department, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, tx.NowMS(), actor, kind, string(from), string(to), dept, note)
	if err != nil {
		return fmt.Errorf("ticket: event: %w", err)
	}
	return nil
}

func scanEvent(sc db.Scanner) (Event, error) {
	var e Event
	var at int64
	var from, to string
	err := sc.Scan(&e.ID, &at, &e.Actor, &e.ActorName, &e.Kind, &from, &to, &e.Department, &e.Note)
	e.At, e.FromStatus, e.ToStatus = clock.FromMillis(at), Status(from), Status(to)
	return e, err
}

// loadEvents reads a ticket's timeline, oldest first, with the display
// names of the accounts that acted.
func loadEvents(ctx context.Context, tx *db.Tx, id int64) ([]Event, error) {
	out, err := db.Collect(ctx, tx, scanEvent, `SELECT e.id, e.at, e.actor, COALESCE(u.display_name, ''), e.kind, e.from_status,
		e.to_status, e.department, e.note
		FROM ticket_events e LEFT JOIN users u ON u.username = e.actor WHERE e.ticket_id = $1 ORDER BY e.id`, id)
	if err != nil {
		return nil, fmt.Errorf("ticket: events: %w", err)
	}
	return out, nil
}

// nextTracking takes the next tracking number of the day of now.
func nextTracking(ctx context.Context, tx *db.Tx) (string, error) {
	day := tx.Now.In(clock.Shanghai).Format("20060102")
	var n int
	err := tx.QueryRowContext(ctx, `INSERT INTO ticket_day_counters (day, last) VALUES ($1, 1)
		ON CONFLICT (day) DO UPDATE SET last = ticket_day_counters.last + 1 RETURNING last`, day).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("ticket: tracking number: %w", err)
	}
	return fmt.Sprintf("WT%s-%04d", day, n), nil
}

// newTicket is a ticket's row as filed: the validated filing and what
// filing it computed (number, routing, sealed fields, deadlines).
type newTicket struct {
	f                          *filing
	tracking                   string
	status                     Status
	dept                       routedDept
	addrEnc, nameEnc, phoneEnc []byte
	phoneIdx                   any
	respondBy, resolveBy       int64
}

// insertTicket writes a new ticket and returns its id.
func insertTicket(ctx context.Context, tx *db.Tx, n *newTicket) (int64, error) {
	f := n.f
	var deptCode, reporter any
	if n.dept.Code != "" {
		deptCode = n.dept.Code
	}
	if f.reporterID != 0 {
		reporter = f.reporterID
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO tickets (tracking, kind, category, urgency, channel, status, subject_kind,
		enterprise_key, enterprise_name, address_enc, subject_key, area_code, area_name, area_path, description,
		reporter_id, reporter_name_enc, reporter_phone_enc, reporter_phone_idx, department_code, department_name,
		holder_code, holder_depth, respond_by, resolve_by, due_at, created_at, created_by, updated_at, respond_from, resolve_from)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
		$22, $23, $24, $25, $26, $27, $28, $27, $27, $27) RETURNING id`,
		n.tracking, string(f.in.Kind), f.category.Code, string(f.in.Urgency), string(f.in.Channel), string(n.status),
		string(f.in.SubjectKind), f.in.Enterprise, f.entName, n.addrEnc, f.subjectKey, f.area.Code, f.area.Name, f.area.Path,
		f.in.Description, reporter, n.nameEnc, n.phoneEnc, n.phoneIdx, deptCode, n.dept.Name,
		f.area.Code, f.area.Depth, n.respondBy, n.resolveBy, dueAt(n.status, false, n.respondBy, n.resolveBy), tx.NowMS(), f.createdBy,
	).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("ticket: insert: %w", err)
	}
	return id, nil
}

// moved is a ticket's row after a transition.
type moved struct {
	status                                         Status
	deptCode                                       any
	deptName                                       string
	respondBy, resolveBy, respondFrom, resolveFrom int64
	responded, resolved, closed, autoConfirm       any
}

// updateTransition writes m over t if t is still at the version read; ok
// is false when someone changed it meanwhile.
func updateTransition(ctx context.Context, tx *db.Tx, t *Ticket, m *moved) (ok bool, err error) {
	due := dueAt(m.status, m.responded != nil, m.respondBy, m.resolveBy)
	res, err := tx.ExecContext(ctx, `UPDATE tickets SET status = $1, department_code = $2, department_name = $3,
		respond_by = $4, resolve_by = $5, due_at = $6, responded_at = $7, resolved_at = $8, closed_at = $9,
		auto_confirm_at = $10, version = version + 1, updated_at = $11, respond_from = $14, resolve_from = $15
		WHERE id = $12 AND version = $13`,
		string(m.status), m.deptCode, m.deptName, m.respondBy, m.resolveBy, due, m.responded, m.resolved, m.closed, m.autoConfirm,
		tx.NowMS(), t.ID, t.Version, m.respondFrom, m.resolveFrom)
	if err != nil {
		return false, fmt.Errorf("ticket: transition: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// markMerged closes dup into ticket keep if dup is still at the version
// read; ok is false when someone changed it meanwhile.
func markMerged(ctx context.Context, tx *db.Tx, dup *Ticket, keep int64) (ok bool, err error) {
	res, err := tx.ExecContext(ctx, `UPDATE tickets SET status = 'merged', merged_into = $1, closed_at = $2, due_at = NULL,
		version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4`, keep, tx.NowMS(), dup.ID, dup.Version)
	if err != nil {
		return false, fmt.Errorf("ticket: merge: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// touchTicket marks ticket id updated now.
func touchTicket(ctx context.Context, tx *db.Tx, id int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE tickets SET updated_at = $1 WHERE id = $2`, tx.NowMS(), id)
	return err
}
