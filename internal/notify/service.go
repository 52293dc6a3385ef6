package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// AreaPaths resolves area codes to their paths; area.Service satisfies it.
type AreaPaths interface {
	PathOf(ctx context.Context, code string) (string, error)
}

// Deps are what the service needs besides the database.
type Deps struct {
	// Box seals webhook URLs and secrets at rest.
	Box *pii.Box
	// Log receives the delivery worker's lines; nil discards them.
	Log *slog.Logger
	// Areas resolves the area codes of webhooks (area.Service); webhook
	// management needs it.
	Areas AreaPaths
	// BaseURL is the address users reach Tongxin at
	// ("https://tongxin.example.gov.cn", serve --base-url), which makes the
	// links of webhook payloads absolute; empty leaves them relative.
	BaseURL string
	// AllowPrivate lets webhooks reach private, loopback and link-local
	// addresses (serve --webhook-allow-private); otherwise such addresses
	// are refused when saved (IP literals, localhost) and when dialed.
	AllowPrivate bool
	// HTTPClient posts deliveries (tests); nil is the default client.
	// Its own timeout, if any, applies besides RequestTimeout. A client
	// without a Transport gets the one that checks addresses when dialing.
	HTTPClient *http.Client
}

// Service is the notification use cases: sending, the inbox, webhook
// management and the delivery worker.
type Service struct {
	baseURL      string // Deps.BaseURL
	allowPrivate bool   // Deps.AllowPrivate

	db     *db.DB
	box    *pii.Box
	log    *slog.Logger
	areas  AreaPaths
	client *http.Client
	// wake is signalled after a transaction that queued deliveries has
	// committed; RunDeliveries delivers at once instead of at its next tick.
	wake chan struct{}
}

// NewService builds the service over d.
func NewService(d *db.DB, deps Deps) *Service {
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: d, box: deps.Box, log: log, areas: deps.Areas, baseURL: deps.BaseURL, allowPrivate: deps.AllowPrivate,
		wake: make(chan struct{}, 1)}
	s.client = deps.HTTPClient
	if s.client == nil {
		s.client = s.newClient()
	} else if s.client.Transport == nil {
		s.client.Transport = s.transport()
	}
	return s
}

// newClient posts with a timeout, through the transport that checks
// addresses, and never follows a redirect: a hook that moved answers 3xx,
// which counts as a failed attempt.
func (s *Service) newClient() *http.Client {
	return &http.Client{
		Transport:     s.transport(),
		Timeout:       RequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Wake makes a running delivery worker look for due deliveries now.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ---------------------------------------------------------------------
// Sending

// Send notifies, inside the caller's write transaction: one inbox row per
// distinct user id (ids ≤ 0 are ignored), and one pending delivery for every
// active webhook subscribed to m.Event (by name, by its module's wildcard
// or to "*") whose area covers m.AreaPath. Once tx commits the delivery
// worker is woken. Send does no network I/O.
func (s *Service) Send(ctx context.Context, tx *db.Tx, userIDs []int64, m Message) error {
	const op = "notify.Send"
	m, err := m.normalize()
	if err != nil {
		return errs.Wrap(op, err)
	}
	seen := make(map[int64]bool, len(userIDs))
	for _, id := range userIDs {
		if id <= 0 || seen[id] {
			continue
		}
		seen[id] = true
		if err := insertNotification(ctx, tx, id, m); err != nil {
			if tx.Dialect.IsForeignKeyViolation(err) {
				return &errs.Error{Kind: errs.Internal, Op: op, Err: fmt.Errorf("no user with id %d", id)}
			}
			return errs.Wrap(op, err)
		}
	}
	ids, paths, err := subscribedHooks(ctx, tx, m.Event)
	if err != nil {
		return errs.Wrap(op, err)
	}
	queued := 0
	for i, id := range ids {
		if !covers(paths[i], m.AreaPath) {
			continue
		}
		if _, err := insertDelivery(ctx, tx, id, m); err != nil {
			return errs.Wrap(op, err)
		}
		queued++
	}
	if queued > 0 {
		tx.AfterCommit(s.Wake)
	}
	return nil
}
