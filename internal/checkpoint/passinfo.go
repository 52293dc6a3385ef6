package checkpoint

import (
	"context"
	"slices"
	"sync"
	"time"

	"tongxin/internal/passtoken"
)

// A pass is scanned many times in its life — a worker's, at the same
// bridge morning and evening; a supply truck's, at every checkpoint of
// its route — and what a scan logs of it (PassInfo) is the same each
// time. So the pass info of a token that verified, with its JSON for the
// journal, the log and the answer, is made once per token and kept for
// passInfoTTL (the enterprise name it may have looked up can change), in
// two generations of passInfoMax tokens. It is found by the token's
// claims as the verifier answered them: the verifier remembers a token's
// claims and answers the same pointer for each of its scans, so the
// token (some 400 bytes) is neither hashed again nor compared here. A
// token the verifier does not remember has new claims each time and is
// made anew each time.
const (
	passInfoTTL = time.Minute
	passInfoMax = 4096
)

type passInfos struct {
	mu       sync.Mutex
	cur, old map[*passtoken.Claims]passInfoEntry
}

type passInfoEntry struct {
	info *PassInfo
	at   time.Time
}

// passInfoOf is the pass info a scan of token keeps, its claims and
// verdict reason r as the verifier answered them; nil when the token did
// not verify. Shared between scans: read only.
func (s *Service) passInfoOf(ctx context.Context, token string, claims *passtoken.Claims, r passtoken.Reason) *PassInfo {
	if !trusted(claims, r) {
		return nil
	}
	now := s.clock.Now()
	m := &s.infos
	m.mu.Lock()
	e, ok := m.cur[claims]
	if !ok {
		e, ok = m.old[claims]
	}
	m.mu.Unlock()
	if ok && now.Sub(e.at) < passInfoTTL && !now.Before(e.at) {
		return e.info
	}
	info := passInfo(claims, r)
	if info.EntName == "" {
		info.EntName = s.entName(ctx, info.Ent)
	}
	info.json = slices.Clip(info.AppendJSON(nil)) // an append to it copies
	info.pidArg = info.PID
	if len(token) > passtoken.MaxTokenLen {
		return info // not kept: the verifier does not keep such a token either
	}
	m.mu.Lock()
	if m.cur == nil || len(m.cur) >= passInfoMax {
		m.old, m.cur = m.cur, make(map[*passtoken.Claims]passInfoEntry)
	}
	m.cur[claims] = passInfoEntry{info: info, at: now}
	m.mu.Unlock()
	return info
}
