// Package apispec holds the OpenAPI 3.1 description of the JSON API
// (openapi.json, kept by hand beside the code) and serves it. The tests
// check it with a validator and hold every API call of the suite to it
// (package apitest); the binary only embeds and serves the file.
package apispec

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

//go:embed openapi.json
var document []byte

// etag is the strong entity tag of the document: its SHA-256, shortened.
var etag = func() string {
	sum := sha256.Sum256(document)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}()

// JSON returns the description (a copy, so callers cannot change it).
func JSON() []byte { return append([]byte(nil), document...) }

// ETag returns the entity tag the document is served with.
func ETag() string { return etag }

// Serve answers GET /api/v1/openapi.json: the description, public,
// revalidated by ETag (304 on a matching If-None-Match).
func Serve(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, no-cache")
	h.Set("Access-Control-Allow-Origin", "*")
	if inm := r.Header.Get("If-None-Match"); inm != "" && matches(inm) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(document)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(document)
	return err
}

// matches reports whether an If-None-Match header names the document
// (weak comparison, as RFC 9110 asks for If-None-Match).
func matches(header string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
