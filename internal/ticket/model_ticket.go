package ticket

import (
	"math"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/errs"
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

func errNotFound() *errs.Error { return errs.E(errs.NotFound, "ticket_not_found", "工单不存在") }

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
