package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// staticFiles is the static directory. vendor/ holds the front-end
// libraries that `make assets` copies in; it may be absent, and the pages
// then work without them.
//
//go:embed static
var staticFiles embed.FS

// StaticPrefix is where static files are served.
const StaticPrefix = "/static/"

// asset is one static file held in memory with its fingerprint and, for
// text that compresses, a gzip and a brotli copy, each made at its first
// request.
type asset struct {
	name   string // "css/app.css"
	url    string // "/static/css/app.3f2a9c1d.css"
	ctype  string
	hash   string // first 8 hex digits of SHA-256
	body   []byte
	zip    bool // worth compressing
	gzOnce sync.Once
	gz     []byte // nil when compression does not pay
	brOnce sync.Once
	br     []byte // nil when compression does not pay
}

// brotlied returns the brotli-compressed body, or nil. Quality 9: made
// once per file and process, at its first request, it costs about a
// quarter of a second for the largest (ECharts, 1 MB: 297 KB against
// gzip's best 334 KB); quality 11 would take three seconds for 8 % less.
func (x *asset) brotlied() []byte {
	x.brOnce.Do(func() {
		if b := compressBrotli(x.body, 9); b != nil && len(b) < len(x.body) {
			x.br = b
		}
	})
	return x.br
}

// gzipped returns the compressed body, or nil.
func (x *asset) gzipped() []byte {
	x.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(x.body)
		if zw.Close() == nil && buf.Len() < len(x.body) {
			x.gz = buf.Bytes()
		}
	})
	return x.gz
}

// assets indexes static files by logical name and by fingerprinted name.
type assets struct {
	byName map[string]*asset
	byURL  map[string]*asset // fingerprinted path below StaticPrefix
}

func loadAssets(fsys fs.FS) (*assets, error) {
	a := &assets{byName: map[string]*asset{}, byURL: map[string]*asset{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		x := &asset{name: p, body: body, hash: hex.EncodeToString(sum[:])[:8]}
		ext := path.Ext(p)
		x.ctype = mime.TypeByExtension(ext)
		if x.ctype == "" {
			x.ctype = "application/octet-stream"
		}
		fp := strings.TrimSuffix(p, ext) + "." + x.hash + ext
		x.url = StaticPrefix + fp
		x.zip = compressible(x.ctype) && len(body) > 1024
		a.byName[p] = x
		a.byURL[fp] = x
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: load static files: %w", err)
	}
	return a, nil
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

// URL returns the fingerprinted URL of a static file, or "" when it is
// absent.
func (a *assets) URL(name string) string {
	if x, ok := a.byName[strings.TrimPrefix(name, "/")]; ok {
		return x.url
	}
	return ""
}

// StaticHandler serves the static files under /static/. A fingerprinted
// name ("app.3f2a9c1d.css") is cached forever, since a change of content
// changes the name; a plain name ("app.css") must be revalidated.
func (r *Renderer) StaticHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		p := strings.TrimPrefix(req.URL.Path, StaticPrefix)
		x, fingerprinted := r.assets.byURL[p]
		if !fingerprinted {
			x = r.assets.byName[p]
		}
		if x == nil {
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		if fingerprinted {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		h.Set("Content-Type", x.ctype)
		body, etag := x.body, `"`+x.hash+`"`
		if x.zip {
			h.Add("Vary", "Accept-Encoding")
			switch acceptedCoding(req) {
			case codingBrotli:
				if br := x.brotlied(); br != nil {
					body, etag = br, `"`+x.hash+`-br"`
					h.Set("Content-Encoding", codingBrotli)
				}
			case codingGzip:
				if gz := x.gzipped(); gz != nil {
					body, etag = gz, `"`+x.hash+`-gz"`
					h.Set("Content-Encoding", codingGzip)
				}
			}
		}
		h.Set("ETag", etag)
		http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(body))
	})
}

// Content codings the server sends.
const (
	codingBrotli = "br"
	codingGzip   = "gzip"
)

// acceptedCoding is the coding to answer req with: brotli where the
// client accepts it (its answers are smaller at the same cost), else
// gzip where accepted, else none (""). An explicit q=0 refuses a coding;
// any other q accepts it (the server does not weigh them further).
func acceptedCoding(req *http.Request) string {
	var br, gz bool
	for _, part := range strings.Split(req.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		ok := true
		if q, has := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); has {
			v, err := strconv.ParseFloat(q, 64)
			ok = err == nil && v > 0
		}
		switch enc = strings.TrimSpace(enc); {
		case strings.EqualFold(enc, codingBrotli):
			br = ok
		case strings.EqualFold(enc, codingGzip):
			gz = ok
		}
	}
	switch {
	case br:
		return codingBrotli
	case gz:
		return codingGzip
	}
	return ""
}
