package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Idempotency makes POST requests carrying an Idempotency-Key safe to
// retry: the first answer (below 500) is stored per principal and key; the
// same key with the same request replays it; the same key with another
// request is 422; a retry while the first is still running is 409.
type Idempotency struct {
	DB      *db.DB
	Adapter *Adapter
}

const maxKeyLen = 200

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
		principal := "anonymous:" + ClientAddr(r)
		if p := PrincipalOf(r); p != nil {
			principal = "user:" + p.Username
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxUploadBody))
		if err != nil {
			i.Adapter.Error(w, r, err)
			return
		}
		h := sha256.New()
		io.WriteString(h, r.Method+" "+r.URL.RequestURI()+"\n"+r.Header.Get("Content-Type")+"\n")
		h.Write(body)
		reqHash := hex.EncodeToString(h.Sum(nil))
		ctx := r.Context()

		var stored struct {
			hash, ctype string
			status      int
			body        []byte
		}
		var inserted bool
		err = i.DB.Write(ctx, func(tx *db.Tx) error {
			res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (principal, key, request_hash, status, content_type, body, created_at)
				VALUES ($1, $2, $3, 0, '', $4, $5) ON CONFLICT (principal, key) DO NOTHING`, principal, key, reqHash, []byte{}, tx.NowMS())
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			if n == 1 {
				inserted = true
				return nil
			}
			return tx.QueryRowContext(ctx, `SELECT request_hash, status, content_type, body FROM idempotency_keys WHERE principal = $1 AND key = $2`,
				principal, key).Scan(&stored.hash, &stored.status, &stored.ctype, &stored.body)
		})
		if err != nil {
			i.Adapter.Error(w, r, errs.Wrap("web.Idempotency", err))
			return
		}
		if !inserted {
			switch {
			case stored.hash != reqHash:
				p := Problem{Type: "about:blank", Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
					Code: "idempotency_key_reused", Detail: "此 Idempotency-Key 已用于另一个不同的请求", Instance: r.URL.Path}
				WriteProblem(w, p)
			case stored.status == 0:
				i.Adapter.Error(w, r, errs.E(errs.Conflict, "idempotency_in_progress", "相同 Idempotency-Key 的请求正在处理中"))
			default:
				w.Header().Set("Content-Type", stored.ctype)
				w.Header().Set("Idempotency-Replayed", "true")
				w.WriteHeader(stored.status)
				w.Write(stored.body)
			}
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		// Keep the answer unless it was a server failure, which a retry
		// should be free to try again.
		bg := context.WithoutCancel(r.Context())
		err = i.DB.Write(bg, func(tx *db.Tx) error {
			if status >= 500 {
				_, err := tx.ExecContext(bg, `DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2`, principal, key)
				return err
			}
			_, err := tx.ExecContext(bg, `UPDATE idempotency_keys SET status = $1, content_type = $2, body = $3 WHERE principal = $4 AND key = $5`,
				status, rec.Header().Get("Content-Type"), rec.buf.Bytes(), principal, key)
			return err
		})
		if err != nil {
			i.Adapter.Log.ErrorContext(r.Context(), "idempotency: store answer", "err", err.Error())
		}
	})
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
