package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// Idempotency makes POST requests carrying an Idempotency-Key safe to
// retry: the first answer is stored per principal and key; the same key
// with the same request replays it; the same key with another request is
// 422; a retry while the first is still running is 409.
//
// Only an authenticated caller's requests to a route that exists are kept,
// and only answers a retry should not repeat: 401, 429 and 5xx are dropped.
// Stored answers are sealed with the pii key (the table holds no readable
// answer), and the answer of a route that returns a secret (a revealed
// phone number, a new API token; see NoStore) is not kept at all: its key
// answers 409 idempotency_secret_not_replayed. Entries live 24 hours.
type Idempotency struct {
	DB      *db.DB
	Adapter *Adapter
	// Box seals the stored answers and keys the request fingerprints.
	Box *pii.Box
	// Routes tells whether a route claims a request (the ServeMux): a
	// request no pattern (or only the catch-all "/") matches is not kept.
	Routes interface {
		Handler(r *http.Request) (http.Handler, string)
	}
}

const maxKeyLen = 200

// IdempotencyTTL is how long a key is remembered: an older entry is not
// replayed (the key runs the request again) and the sweeper deletes it.
const IdempotencyTTL = 24 * time.Hour

// Envelope of a stored body (sealed): a tag byte, then the answer.
const (
	storedAnswer = 'a'
	storedSecret = 's'
)

type noStoreKey struct{}

// NoStore marks the answer to r as holding a secret (a revealed phone
// number, a token shown once): the idempotency store keeps only that its
// key was used, never the answer, and a repeat of the key answers 409.
// Handlers call it before they answer.
func NoStore(r *http.Request) {
	if flag, ok := r.Context().Value(noStoreKey{}).(*bool); ok {
		*flag = true
	}
}

// Wrap applies idempotency to POST requests that carry the header.
func (i *Idempotency) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if r.Method != http.MethodPost || key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > maxKeyLen {
			i.Adapter.Error(w, r, errs.E(errs.Invalid, "bad_idempotency_key", "Idempotency-Key 过长（最多 200 个字符）"))
			return
		}
		if !i.keeps(r) {
			next.ServeHTTP(w, r)
			return
		}
		i.serve(w, r, next, key)
	})
}

// keeps reports whether the answer to r may be kept: r comes from a
// signed-in caller and a route claims it.
func (i *Idempotency) keeps(r *http.Request) bool {
	if PrincipalOf(r) == nil {
		// Anonymous requests are not kept: a table any client could
		// fill is a table nobody bounds.
		return false
	}
	if i.Routes != nil {
		if _, pattern := i.Routes.Handler(r); pattern == "" || pattern == "/" {
			return false // 404 or 405: nothing to keep
		}
	}
	return true
}

// serve claims the key for the request, or replays what the key already
// answered; a claimed request runs next and its answer is stored.
func (i *Idempotency) serve(w http.ResponseWriter, r *http.Request, next http.Handler, key string) {
	principal := "user:" + PrincipalOf(r).Username
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxUploadBody))
	if err != nil {
		i.Adapter.Error(w, r, err)
		return
	}
	reqHash := i.requestHash(r, body)
	ctx := r.Context()
	stored, claimed, err := i.claim(ctx, principal, key, reqHash)
	if err != nil {
		i.Adapter.Error(w, r, errs.Wrap("web.Idempotency", err))
		return
	}
	if !claimed {
		i.replay(w, r, stored.hash == reqHash, stored.status, stored.ctype, stored.body)
		return
	}
	secret := false
	r = r.WithContext(context.WithValue(ctx, noStoreKey{}, &secret))
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &recorder{ResponseWriter: w}
	next.ServeHTTP(rec, r)
	if err := i.store(context.WithoutCancel(ctx), principal, key, rec, secret); err != nil {
		i.Adapter.Log.ErrorContext(ctx, "idempotency: store answer", "err", err.Error())
	}
}

// requestHash is the keyed fingerprint of a request: method, URI, content
// type and body. Keyed, so that a stored fingerprint does not confirm a
// guess of the request (a phone number in a body).
func (i *Idempotency) requestHash(r *http.Request, body []byte) string {
	h := sha256.New()
	io.WriteString(h, r.Method+" "+r.URL.RequestURI()+"\n"+r.Header.Get("Content-Type")+"\n")
	h.Write(body)
	return i.Box.Index("idempotency-request", hex.EncodeToString(h.Sum(nil)))
}

// keyEntry is a stored key: the fingerprint of its request and, once the
// request has been answered (status not 0), the sealed answer.
type keyEntry struct {
	hash, ctype string
	status      int
	body        []byte
}

// claim records the key for a new request, or for an entry past its
// lifetime (the key starts over); claimed is false when the key is in use,
// and then entry is what it holds.
func (i *Idempotency) claim(ctx context.Context, principal, key, reqHash string) (entry keyEntry, claimed bool, err error) {
	err = i.DB.Write(ctx, func(tx *db.Tx) error {
		now := tx.NowMS()
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (principal, key, request_hash, status, content_type, body, created_at)
			VALUES ($1, $2, $3, 0, '', $4, $5) ON CONFLICT (principal, key) DO NOTHING`, principal, key, reqHash, []byte{}, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			claimed = true
			return nil
		}
		// An entry past its lifetime is forgotten: the key starts over.
		res, err = tx.ExecContext(ctx, `UPDATE idempotency_keys SET request_hash = $1, status = 0, content_type = '', body = $2, created_at = $3
			WHERE principal = $4 AND key = $5 AND created_at <= $6`,
			reqHash, []byte{}, now, principal, key, now-IdempotencyTTL.Milliseconds())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			claimed = true
			return nil
		}
		return tx.QueryRowContext(ctx, `SELECT request_hash, status, content_type, body FROM idempotency_keys WHERE principal = $1 AND key = $2`,
			principal, key).Scan(&entry.hash, &entry.status, &entry.ctype, &entry.body)
	})
	return entry, claimed, err
}

// store keeps the recorded answer of a claimed key, sealed; of an answer
// holding a secret only that the key was used. A server failure, a refused
// login and a throttled request did nothing a retry must not repeat: their
// key is forgotten.
func (i *Idempotency) store(ctx context.Context, principal, key string, rec *recorder, secret bool) error {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	return i.DB.Write(ctx, func(tx *db.Tx) error {
		if status >= 500 || status == http.StatusUnauthorized || status == http.StatusTooManyRequests {
			_, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2`, principal, key)
			return err
		}
		ctype, plain := "", string(storedSecret)
		if !secret {
			ctype, plain = rec.Header().Get("Content-Type"), string(storedAnswer)+rec.buf.String()
		}
		sealed, err := i.Box.Seal(plain)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE idempotency_keys SET status = $1, content_type = $2, body = $3 WHERE principal = $4 AND key = $5`,
			status, ctype, sealed, principal, key)
		return err
	})
}

// replay answers a key already used.
func (i *Idempotency) replay(w http.ResponseWriter, r *http.Request, sameRequest bool, status int, ctype string, sealed []byte) {
	if !sameRequest {
		p := Problem{Type: "about:blank", Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
			Code: "idempotency_key_reused", Detail: "此 Idempotency-Key 已用于另一个不同的请求", Instance: r.URL.Path}
		WriteProblem(w, p)
		return
	}
	if status == 0 {
		i.Adapter.Error(w, r, errs.E(errs.Conflict, "idempotency_in_progress", "相同 Idempotency-Key 的请求正在处理中"))
		return
	}
	plain, err := i.Box.Open(sealed)
	if err != nil || plain == "" {
		// Written before answers were sealed, or under another key.
		i.Adapter.Error(w, r, errs.E(errs.Conflict, "idempotency_answer_unavailable",
			"此 Idempotency-Key 的请求已执行，但其应答无法重放；如需重新执行，请换一个新的 Idempotency-Key"))
		return
	}
	if plain[0] == storedSecret {
		i.Adapter.Error(w, r, errs.E(errs.Conflict, "idempotency_secret_not_replayed",
			"此 Idempotency-Key 的请求已执行，其应答含有保密信息（如完整手机号、令牌），服务器不保存，因此无法重放；如需再次获取，请换一个新的 Idempotency-Key 重新请求"))
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Idempotency-Replayed", "true")
	w.WriteHeader(status)
	io.WriteString(w, plain[1:])
}

// SweepIdempotency deletes the entries older than IdempotencyTTL, in
// batches of batch rows (one transaction each), and returns how many.
func SweepIdempotency(ctx context.Context, d *db.DB, batch int) (int, error) {
	total := 0
	for {
		var n int64
		err := d.Write(ctx, func(tx *db.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE (principal, key) IN
				(SELECT principal, key FROM idempotency_keys WHERE created_at <= $1 LIMIT $2)`,
				tx.NowMS()-IdempotencyTTL.Milliseconds(), batch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, errs.Wrap("web.SweepIdempotency", err)
		}
		total += int(n)
		if n < int64(batch) || ctx.Err() != nil {
			return total, nil
		}
	}
}

// RunIdempotencySweeper sweeps expired idempotency keys now and every
// interval until ctx ends.
func RunIdempotencySweeper(ctx context.Context, d *db.DB, every time.Duration, log func(err error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := SweepIdempotency(ctx, d, 1000); err != nil && ctx.Err() == nil {
			log(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// recorder passes a response through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}
