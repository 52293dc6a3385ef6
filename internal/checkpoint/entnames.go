package checkpoint

import (
	"context"
	"sync"
	"time"
)

// Enterprise names for the verdicts of passes whose token carries only
// the credit code (issued before tokens carried the name, claim "en").
// Online the server looks the name up in the registry, so that the
// officer reads a name; offline the browser has only the token and shows
// the code. Only keys of tokens whose signature verified reach here, so
// the cache holds at most one entry per enterprise that has passes.

// entNameTTL is how long a name (or its absence) is reused.
const entNameTTL = 10 * time.Minute

type entName struct {
	name string
	at   time.Time
}

type entNames struct {
	mu sync.RWMutex
	m  map[string]entName
}

// entName is the registered name of the enterprise with credit code key,
// "" when there is none or the registry cannot be read (the verdict then
// shows the code, as before).
func (s *Service) entName(ctx context.Context, key string) string {
	if s.enterprises == nil || key == "" {
		return ""
	}
	now := s.clock.Now()
	s.names.mu.RLock()
	e, ok := s.names.m[key]
	s.names.mu.RUnlock()
	if ok && now.Sub(e.at) < entNameTTL && !now.Before(e.at) {
		return e.name
	}
	name, _, _, err := s.enterprises.EnterpriseSubject(ctx, key)
	if err != nil {
		name = ""
	}
	s.names.mu.Lock()
	if s.names.m == nil {
		s.names.m = map[string]entName{}
	}
	s.names.m[key] = entName{name: name, at: now}
	s.names.mu.Unlock()
	return name
}
