package pii

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func testKeys() (encKey, macKey []byte) {
	return bytes.Repeat([]byte{0x11}, 32), bytes.Repeat([]byte{0x22}, 32)
}

func newTestBox(t testing.TB) *Box {
	t.Helper()
	enc, mac := testKeys()
	b, err := NewBox(enc, mac)
	if err != nil {
		t.Fatalf("NewBox: %v", err)
	}
	return b
}

func TestNewBoxKeySizes(t *testing.T) {
	tests := []struct {
		name     string
		enc, mac int
		wantErr  bool
	}{
		{"ok", 32, 32, false},
		{"short enc", 16, 32, true},
		{"short mac", 32, 31, true},
		{"long enc", 33, 32, true},
		{"empty", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewBox(make([]byte, tt.enc), make([]byte, tt.mac))
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewBox(%d, %d) error = %v, want error %v", tt.enc, tt.mac, err, tt.wantErr)
			}
		})
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	b := newTestBox(t)
	tests := []struct{ name, plain string }{
		{"phone", "13800138000"},
		{"id", "11010519491231002X"},
		{"name", "欧阳娜娜"},
		{"one byte", "a"},
		{"long", strings.Repeat("同心抗疫", 1000)},
		{"binary-ish", "\x00\xff\x01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := b.Seal(tt.plain)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if want := 1 + 12 + len(tt.plain) + 16; len(sealed) != want {
				t.Errorf("len(sealed) = %d, want %d", len(sealed), want)
			}
			if sealed[0] != 1 {
				t.Errorf("version byte = %d, want 1", sealed[0])
			}
			if bytes.Contains(sealed, []byte(tt.plain)) && len(tt.plain) > 3 {
				t.Errorf("sealed value contains the plaintext")
			}
			got, err := b.Open(sealed)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got != tt.plain {
				t.Errorf("Open = %q, want %q", got, tt.plain)
			}
		})
	}
}

func TestSealOpenEmpty(t *testing.T) {
	b := newTestBox(t)
	sealed, err := b.Seal("")
	if sealed != nil || err != nil {
		t.Errorf("Seal(\"\") = %v, %v; want nil, nil", sealed, err)
	}
	for _, in := range [][]byte{nil, {}} {
		got, err := b.Open(in)
		if got != "" || err != nil {
			t.Errorf("Open(%#v) = %q, %v; want \"\", nil", in, got, err)
		}
	}
}

func TestSealDistinctNonces(t *testing.T) {
	b := newTestBox(t)
	seen := map[string]bool{}
	nonces := map[string]bool{}
	for range 100 {
		sealed, err := b.Seal("13800138000")
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(sealed)] {
			t.Fatalf("two Seals of the same value produced identical output")
		}
		seen[string(sealed)] = true
		nonce := string(sealed[1:13])
		if nonces[nonce] {
			t.Fatalf("nonce repeated")
		}
		nonces[nonce] = true
	}
}

func TestOpenTampered(t *testing.T) {
	b := newTestBox(t)
	sealed, err := b.Seal("11010519491231002X")
	if err != nil {
		t.Fatal(err)
	}
	// Every single-bit change, anywhere, must be detected.
	for i := range sealed {
		t.Run(fmt.Sprintf("flip byte %d", i), func(t *testing.T) {
			bad := bytes.Clone(sealed)
			bad[i] ^= 0x01
			if got, err := b.Open(bad); err == nil {
				t.Fatalf("Open of tampered data = %q, want error", got)
			}
		})
	}
	other, err := NewBox(bytes.Repeat([]byte{0x33}, 32), bytes.Repeat([]byte{0x22}, 32))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		box  *Box
		data []byte
	}{
		{"truncated tag", b, sealed[:len(sealed)-1]},
		{"only header", b, sealed[:13]},
		{"only version", b, sealed[:1]},
		{"appended byte", b, append(bytes.Clone(sealed), 0)},
		{"wrong key", other, sealed},
		{"unknown version", b, append([]byte{2}, sealed[1:]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.box.Open(tt.data); err == nil {
				t.Fatalf("Open = %q, want error", got)
			}
		})
	}
}

func TestIndex(t *testing.T) {
	b := newTestBox(t)
	enc, _ := testKeys()
	otherMac, err := NewBox(enc, bytes.Repeat([]byte{0x44}, 32))
	if err != nil {
		t.Fatal(err)
	}

	x := b.Index("phone", "13800138000")
	if len(x) != 64 {
		t.Fatalf("len(Index) = %d, want 64", len(x))
	}
	if _, err := hex.DecodeString(x); err != nil || strings.ToLower(x) != x {
		t.Fatalf("Index = %q, want lower-case hex", x)
	}

	tests := []struct {
		name      string
		a, b      string
		wantEqual bool
	}{
		{"deterministic", x, b.Index("phone", "13800138000"), true},
		{"deterministic across boxes with same keys", x, newTestBox(t).Index("phone", "13800138000"), true},
		{"domain separated", x, b.Index("id", "13800138000"), false},
		{"different values", x, b.Index("phone", "13800138001"), false},
		{"different mac key", x, otherMac.Index("phone", "13800138000"), false},
		{"kind/value boundary", b.Index("ab", "c"), b.Index("a", "bc"), false},
		{"empty kind is a kind", b.Index("", "phone13800138000"), x, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.a == tt.b) != tt.wantEqual {
				t.Errorf("%q == %q is %v, want %v", tt.a, tt.b, tt.a == tt.b, tt.wantEqual)
			}
		})
	}
	if got := b.Index("phone", ""); got != "" {
		t.Errorf("Index of empty value = %q, want \"\"", got)
	}
}

func TestBoxDoesNotPrintKeys(t *testing.T) {
	enc, mac := testKeys()
	b := newTestBox(t)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, b)
		for _, k := range [][]byte{enc, mac} {
			if strings.Contains(out, fmt.Sprint(k)) || strings.Contains(out, hex.EncodeToString(k)) ||
				strings.Contains(out, base64.StdEncoding.EncodeToString(k)) || strings.Contains(out, "17 17 17") {
				t.Errorf("fmt %s of Box reveals a key: %s", format, out)
			}
		}
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets", "keys") // does not exist yet
	b1, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatalf("LoadOrCreate (create): %v", err)
	}
	path := filepath.Join(dir, "pii.key")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file not created: %v", err)
	}
	if runtime.GOOS != "windows" {
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("key file mode = %o, want 600", perm)
		}
		dinfo, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if perm := dinfo.Mode().Perm(); perm != 0o700 {
			t.Errorf("key dir mode = %o, want 700", perm)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "tongxin-pii-v1 ") || !strings.HasSuffix(string(data), "\n") ||
		strings.Count(string(data), "\n") != 1 {
		t.Errorf("key file format: %q", data)
	}
	fields := strings.Fields(string(data))
	if len(fields) != 3 || fields[1] == fields[2] {
		t.Errorf("key file fields: %q", fields)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("key dir holds %d entries, want only pii.key", len(entries))
	}

	sealed, err := b1.Seal("13800138000")
	if err != nil {
		t.Fatal(err)
	}
	idx := b1.Index("phone", "13800138000")

	b2, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatalf("LoadOrCreate (reload): %v", err)
	}
	got, err := b2.Open(sealed)
	if err != nil || got != "13800138000" {
		t.Errorf("after reload Open = %q, %v; want the sealed value", got, err)
	}
	if b2.Index("phone", "13800138000") != idx {
		t.Errorf("after reload Index differs")
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, data) {
		t.Errorf("reload changed the key file")
	}

	// A second directory gets different keys.
	b3, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b3.Open(sealed); err == nil {
		t.Errorf("a fresh key file opened data sealed under another key")
	}
}

func TestLoadOrCreateExistingFile(t *testing.T) {
	dir := t.TempDir()
	enc, mac := testKeys()
	content := "tongxin-pii-v1 " + base64.StdEncoding.EncodeToString(enc) + " " +
		base64.StdEncoding.EncodeToString(mac) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "pii.key"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	if got, want := b.Index("id", "11010519491231002X"), newTestBox(t).Index("id", "11010519491231002X"); got != want {
		t.Errorf("keys read from file differ from the written ones")
	}
}

func TestLoadOrCreateRefusesCorruptFile(t *testing.T) {
	k := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
	tests := []struct{ name, content string }{
		{"empty", ""},
		{"garbage", "not a key file\n"},
		{"wrong version", "tongxin-pii-v2 " + k + " " + k + "\n"},
		{"missing key", "tongxin-pii-v1 " + k + "\n"},
		{"extra field", "tongxin-pii-v1 " + k + " " + k + " " + k + "\n"},
		{"short key", "tongxin-pii-v1 " + k + " " + short + "\n"},
		{"bad base64", "tongxin-pii-v1 " + k + " " + strings.Repeat("!", 44) + "\n"},
		{"no newline", "tongxin-pii-v1 " + k + " " + k},
		{"double space", "tongxin-pii-v1  " + k + " " + k + "\n"},
		{"huge", strings.Repeat("x", 1<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "pii.key")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadOrCreate(dir); err == nil {
				t.Fatalf("LoadOrCreate accepted a corrupt key file")
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(after) != tt.content {
				t.Errorf("corrupt key file was modified")
			}
		})
	}
}

func TestLoadOrCreateKeyFileIsDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "pii.key"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir); err == nil {
		t.Fatal("LoadOrCreate accepted a directory as key file")
	}
}

func TestLoadOrCreateConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	const n = 8
	boxes := make([]*Box, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { boxes[i], errs[i] = LoadOrCreate(dir) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("LoadOrCreate #%d: %v", i, err)
		}
	}
	want := boxes[0].Index("phone", "13800138000")
	for i, b := range boxes[1:] {
		if got := b.Index("phone", "13800138000"); got != want {
			t.Errorf("box #%d has different keys", i+1)
		}
	}
}

func FuzzOpen(f *testing.F) {
	b := newTestBox(f)
	sealed, err := b.Seal("13800138000")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(nil))
	f.Add(sealed)
	f.Add(sealed[:13])
	f.Add([]byte{1})
	f.Add([]byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		plain, err := b.Open(data)
		if err != nil {
			return
		}
		// Whatever opens must seal and open back to itself.
		again, err := b.Seal(plain)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := b.Open(again); err != nil || got != plain {
			t.Fatalf("round trip of %q = %q, %v", plain, got, err)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	box := newTestBox(b)
	for b.Loop() {
		if _, err := box.Seal("11010519491231002X"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	box := newTestBox(b)
	sealed, err := box.Seal("11010519491231002X")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := box.Open(sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIndex(b *testing.B) {
	box := newTestBox(b)
	for b.Loop() {
		box.Index("id", "11010519491231002X")
	}
}
