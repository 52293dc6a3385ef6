package web

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// jsonStrings are strings encoding/json treats specially.
var jsonStrings = []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\t nl\n cr\r bs\b ff\f",
	"\x00\x01\x1f\x7f", "王警官·通行证", "line\u2028para\u2029end", "bad \xff\xfe utf8 \xe4\xb8", "emoji 🚧 ok", "\xed\xa0\x80 surrogate"}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSONString([]byte("x"), s); string(got[1:]) != string(want) {
			t.Fatalf("AppendJSONString(%q) = %s, encoding/json writes %s", s, got[1:], want)
		}
	})
}

// Random bytes, many of them outside ASCII and UTF-8, come out as
// encoding/json writes them.
func TestAppendJSONStringRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("a<>&\"\\\x00\x1f\n\xe2\x80\xa8\xa9\xff\xe4\xb8\xad")
	for range 20000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		want, _ := json.Marshal(string(b))
		if got := AppendJSONString(nil, string(b)); string(got) != string(want) {
			t.Fatalf("AppendJSONString(%q) = %s, encoding/json writes %s", b, got, want)
		}
	}
}

func TestAppendJSONTime(t *testing.T) {
	for _, tm := range []time.Time{time.Unix(0, 0).UTC(), time.Date(2022, 11, 21, 9, 30, 0, 123456789, time.UTC),
		time.Date(2022, 11, 21, 9, 30, 0, 120000000, time.FixedZone("CST", 8*3600)), time.UnixMilli(1669000000123).UTC()} {
		want, _ := json.Marshal(tm)
		if got := AppendJSONTime(nil, tm); string(got) != string(want) {
			t.Errorf("AppendJSONTime(%v) = %s, encoding/json writes %s", tm, got, want)
		}
	}
}

// bigAnswer appends n copies of a member: an answer past the pooled
// buffer's size.
type bigAnswer int

func (n bigAnswer) AppendJSON(b []byte) []byte {
	b = append(b, `{"items":[`...)
	for i := range int(n) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `"0123456789"`...)
	}
	return append(b, "]}"...)
}

// JSON writes an answer that writes itself whole, with its length (not
// chunked), small or larger than the pooled buffer and than what
// net/http holds back to measure itself, as a client receives it.
func TestJSONWritesAppendedAnswers(t *testing.T) {
	for _, n := range []int{0, 3, 180, 20000} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := JSON(w, 200, bigAnswer(n)); err != nil {
				t.Error(err)
			}
		}))
		res, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := string(bigAnswer(n).AppendJSON(nil)) + "\n"
		if string(body) != want || res.ContentLength != int64(len(want)) || len(res.TransferEncoding) > 0 {
			t.Errorf("%d members: %d bytes, Content-Length %d, Transfer-Encoding %q; want %d bytes with their length", n, len(body),
				res.ContentLength, res.TransferEncoding, len(want))
		}
	}
}
