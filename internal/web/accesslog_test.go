package web

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"
)

// An access line written by AppendJSON is byte for byte what slog's JSON
// handler writes for its record, whatever the strings hold.
func TestAccessLineIsSlogJSON(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	odd := []string{"", "kakou", "/api/v1/checkpoints/2/scans", `<script>&"quoted"\back</script>`, "tab\there\nline\rret",
		"\x00\x01\x1f\x7f", "bad \xff utf-8 \xe2\x80", "sep\u2028par\u2029", "株洲市应急指挥部", "emoji 😷", "\u2027\u202a\u2030"}
	var lines []AccessLine
	for i, s := range odd {
		lines = append(lines, AccessLine{At: time.Date(2022, 11, 21, 8, 30, 0, i*111111111, cst), ID: s, Method: "POST", Path: s,
			Status: 200 + i, Bytes: i * 1000, Duration: time.Duration(i) * 1234567, User: s})
	}
	lines = append(lines, AccessLine{At: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), Duration: -5, Status: 0})
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		lines = append(lines, AccessLine{At: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)), ID: string(b[:len(b)/2]), Method: "GET",
			Path: string(b), Status: rng.IntN(600), Bytes: rng.IntN(1 << 20), Duration: time.Duration(rng.Int64N(1e10)), User: string(b[len(b)/3:])})
	}
	for _, l := range lines {
		var want bytes.Buffer
		if err := slog.NewJSONHandler(&want, nil).Handle(context.Background(), l.Record()); err != nil {
			t.Fatal(err)
		}
		if got := l.AppendJSON([]byte("kept:")); string(got) != "kept:"+want.String() {
			t.Fatalf("access line for %+v:\n got %q\nwant %q", l, got, "kept:"+want.String())
		}
	}
}
