package ticket

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// Ticket is a problem or a call for help, as the API answers it. Personal
// data (the reporter's name and phone) is masked; the address is shown to
// those who may read the ticket, who need it to help.
type Ticket struct {
	ID              int64        `json:"id"`
	Tracking        string       `json:"tracking"`
	Kind            Kind         `json:"kind"`
	Category        string       `json:"category"`
	CategoryName    string       `json:"category_name"`
	Urgency         Urgency      `json:"urgency"`
	Channel         Channel      `json:"channel"`
	Status          Status       `json:"status"`
	StatusName      string       `json:"status_name"`
	Subject         Subject      `json:"subject"`
	AreaCode        string       `json:"area_code"`
	AreaName        string       `json:"area_name"`
	AreaPath        string       `json:"-"`
	Description     string       `json:"description"`
	Reporter        Reporter     `json:"reporter"`
	Department      string       `json:"department,omitempty"`
	DepartmentName  string       `json:"department_name,omitempty"`
	HolderArea      string       `json:"holder_area"`
	HolderLevel     string       `json:"holder_level"`
	HolderDepth     int          `json:"-"`
	EscalationLevel int          `json:"escalation_level"`
	Escalations     []Escalation `json:"escalations"`
	RespondBy       time.Time    `json:"respond_by"`
	ResolveBy       time.Time    `json:"resolve_by"`
	DueAt           *time.Time   `json:"due_at,omitempty"`
	Overdue         bool         `json:"overdue"`
	// DueFrom is when the running deadline (DueAt) started; DeadlineState
	// and TimeLeftShare say how urgent it is at the time of the answer.
	DueFrom       *time.Time    `json:"due_from,omitempty"`
	DeadlineState DeadlineState `json:"deadline_state,omitempty"`
	TimeLeftShare *float64      `json:"time_left_share,omitempty"`
	// RespondFrom and ResolveFrom are when the two deadlines started.
	RespondFrom   time.Time  `json:"respond_from"`
	ResolveFrom   time.Time  `json:"resolve_from"`
	RespondedAt   *time.Time `json:"responded_at,omitempty"`
	ResolvedAt    *time.Time `json:"resolved_at,omitempty"`
	ClosedAt      *time.Time `json:"closed_at,omitempty"`
	AutoConfirmAt *time.Time `json:"auto_confirm_at,omitempty"`
	MergedInto    string     `json:"merged_into,omitempty"`
	Version       int        `json:"version"`
	CreatedAt     time.Time  `json:"created_at"`
	CreatedBy     string     `json:"created_by"`
	UpdatedAt     time.Time  `json:"updated_at"`

	// Detail only (Get).
	Events     []Event `json:"events,omitempty"`
	Photos     []Photo `json:"photos,omitempty"`
	Duplicates []Brief `json:"possible_duplicates,omitempty"`

	reporterID int64
	mergedID   int64
	phone      string // in clear, for the public status check; never serialised
}

// Subject is what the ticket is about.
type Subject struct {
	Kind           SubjectKind `json:"kind"`
	EnterpriseKey  string      `json:"enterprise_key,omitempty"`
	EnterpriseName string      `json:"enterprise_name,omitempty"`
	Address        string      `json:"address,omitempty"`
}

// Reporter is who raised the ticket, masked.
type Reporter struct {
	User  string `json:"user,omitempty"`
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Escalation is one hop up the ladder.
type Escalation struct {
	Hop       int       `json:"hop"`
	At        time.Time `json:"at"`
	Reason    string    `json:"reason"` // respond, resolve or both
	FromArea  string    `json:"from_area"`
	FromLevel string    `json:"from_level"`
	ToArea    string    `json:"to_area"`
	ToLevel   string    `json:"to_level"`
}

// Event is one entry of a ticket's timeline.
type Event struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	ActorName  string    `json:"actor_name,omitempty"` // the account's display name, when the actor is one
	Kind       string    `json:"kind"`
	FromStatus Status    `json:"from_status,omitempty"`
	ToStatus   Status    `json:"to_status,omitempty"`
	Department string    `json:"department,omitempty"`
	Note       string    `json:"note,omitempty"`
}

// Photo is a picture attached to a ticket.
type Photo struct {
	ID         int64     `json:"id"`
	MediaType  string    `json:"media_type"`
	Size       int       `json:"size"`
	UploadedBy string    `json:"uploaded_by"`
	CreatedAt  time.Time `json:"created_at"`
	URL        string    `json:"url"`
	sha        string
}

// Brief is a ticket in a list of possible duplicates.
type Brief struct {
	ID        int64     `json:"id"`
	Tracking  string    `json:"tracking"`
	Status    Status    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	Summary   string    `json:"summary"`
}

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

type scanner interface{ Scan(...any) error }

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := clock.FromMillis(v.Int64)
	return &t
}

// scanTicket reads one row of ticketCols, opening sealed fields with box.
func scanTicket(sc scanner, box *pii.Box, now time.Time) (*Ticket, error) {
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

func errNotFound() *errs.Error { return errs.E(errs.NotFound, "ticket_not_found", "工单不存在") }

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

// loadEscalations fills the escalation hops of list.
func loadEscalations(ctx context.Context, tx *db.Tx, list []*Ticket) error {
	var ids []string
	byID := map[int64]*Ticket{}
	for _, t := range list {
		if t.EscalationLevel > 0 {
			ids = append(ids, strconv.FormatInt(t.ID, 10))
			byID[t.ID] = t
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT ticket_id, hop, at, reason, from_code, from_depth, to_code, to_depth
		FROM ticket_escalations WHERE ticket_id IN (`+strings.Join(ids, ",")+`) ORDER BY ticket_id, hop`)
	if err != nil {
		return fmt.Errorf("ticket: escalations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, at int64
		var e Escalation
		var fromDepth, toDepth int
		if err := rows.Scan(&id, &e.Hop, &at, &e.Reason, &e.FromArea, &fromDepth, &e.ToArea, &toDepth); err != nil {
			return fmt.Errorf("ticket: escalations: %w", err)
		}
		e.At, e.FromLevel, e.ToLevel = clock.FromMillis(at), LevelCode(fromDepth), LevelCode(toDepth)
		byID[id].Escalations = append(byID[id].Escalations, e)
	}
	return rows.Err()
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

// addEvent appends to a ticket's timeline.
func addEvent(ctx context.Context, tx *db.Tx, id int64, actor, kind string, from, to Status, dept, note string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ticket_events (ticket_id, at, actor, kind, from_status, to_status, department, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, tx.NowMS(), actor, kind, string(from), string(to), dept, note)
	if err != nil {
		return fmt.Errorf("ticket: event: %w", err)
	}
	return nil
}

// loadEvents reads a ticket's timeline, oldest first, with the display
// names of the accounts that acted.
func loadEvents(ctx context.Context, tx *db.Tx, id int64) ([]Event, error) {
	rows, err := tx.QueryContext(ctx, `SELECT e.id, e.at, e.actor, COALESCE(u.display_name, ''), e.kind, e.from_status,
		e.to_status, e.department, e.note
		FROM ticket_events e LEFT JOIN users u ON u.username = e.actor WHERE e.ticket_id = $1 ORDER BY e.id`, id)
	if err != nil {
		return nil, fmt.Errorf("ticket: events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		var from, to string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.ActorName, &e.Kind, &from, &to, &e.Department, &e.Note); err != nil {
			return nil, fmt.Errorf("ticket: events: %w", err)
		}
		e.At, e.FromStatus, e.ToStatus = clock.FromMillis(at), Status(from), Status(to)
		out = append(out, e)
	}
	return out, rows.Err()
}

// windowStart is a deadline's start as stored, the filing time for rows
// written before it was.
func windowStart(ms, created int64) time.Time {
	if ms <= 0 {
		ms = created
	}
	return clock.FromMillis(ms)
}

// setDeadline fills DueFrom, DeadlineState and TimeLeftShare of the
// running deadline at now.
func (t *Ticket) setDeadline(now time.Time) {
	if t.DueAt == nil {
		return
	}
	from := t.ResolveFrom
	if t.DueAt.Equal(t.RespondBy) && !t.DueAt.Equal(t.ResolveBy) {
		from = t.RespondFrom
	}
	share := math.Round(ShareLeft(from, *t.DueAt, now)*1000) / 1000
	t.DueFrom, t.DeadlineState, t.TimeLeftShare = &from, StateOf(from, *t.DueAt, now), &share
}

// dueAt is the earliest deadline still running for a ticket in status:
// none once it is resolved or closed; respond-by only until someone has
// answered (responded_at set, or a status past the answer).
func dueAt(status Status, responded bool, respondBy, resolveBy int64) any {
	if !status.Open() {
		return nil
	}
	if !responded && !status.Responded() && respondBy < resolveBy {
		return respondBy
	}
	return resolveBy
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
