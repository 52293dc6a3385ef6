package loadgen

import (
	"bytes"
	"io"
	"net/http"
)

// BareHandler is the limit Tongxin is measured against: net/http with
// nothing else. GET answers getBody; any other method reads the request's
// body to its end and answers postBody. It sets the headers Tongxin's
// answers carry (type, security headers, a request id), with fixed
// values, so that both answers are about the same size on the wire.
func BareHandler(getBody, postBody []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := getBody
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = postBody
		}
		h := w.Header()
		h["Content-Type"] = jsonType
		h["Cache-Control"] = noStore
		h["Content-Security-Policy"] = csp
		h["Referrer-Policy"] = sameOrigin
		h["X-Content-Type-Options"] = nosniff
		h["X-Frame-Options"] = deny
		h["X-Request-Id"] = requestID
		w.Write(body)
	})
}

var (
	jsonType   = []string{"application/json; charset=utf-8"}
	noStore    = []string{"no-store"}
	csp        = []string{"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"}
	sameOrigin = []string{"same-origin"}
	nosniff    = []string{"nosniff"}
	deny       = []string{"DENY"}
	requestID  = []string{"00000000-0"}
)

// JSONBody is a JSON object of exactly n bytes (at least 13), ending in
// a newline as Tongxin's answers do.
func JSONBody(n int) []byte {
	const head, tail = `{"pad":"`, "\"}\n"
	pad := max(n-len(head)-len(tail), 0)
	var b bytes.Buffer
	b.WriteString(head)
	b.Write(bytes.Repeat([]byte("x"), pad))
	b.WriteString(tail)
	return b.Bytes()
}
