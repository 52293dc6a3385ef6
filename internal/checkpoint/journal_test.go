package checkpoint

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/passtoken"
)

// journaled opens a scan journal in a new directory for f's service.
func (f *fixture) journaled(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := f.svc.OpenJournal(f.Ctx, dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.svc.CloseJournal(f.Ctx) })
	return dir
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "scans-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// Scans answered through the journal reach the database by themselves
// within moments, are there at once for whoever reads them, and a client
// id is logged once however often and however concurrently it comes.
func TestJournalScans(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		dir := f.journaled(t)
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		tok := f.ver.sign(t, claims("P1"), "")
		const n = 200
		out := f.scanPairs(t, officer, bridge, tok, "journal", n)
		if out == nil {
			return
		}
		for i := 0; i < n; i += 2 {
			a, b := out[i], out[i+1]
			if a.ClientID != b.ClientID || a.Replayed == b.Replayed || a.Reason != passtoken.OK || a.Verdict != Allow ||
				!a.ReceivedAt.Equal(b.ReceivedAt) {
				t.Fatalf("pair %d: %+v / %+v", i/2, a, b)
			}
			// The replay is the first answer again, word for word.
			first, again := *a, *b
			first.Replayed, again.Replayed = false, false
			if x, y := first.AppendJSON(nil), again.AppendJSON(nil); string(x) != string(y) {
				t.Fatalf("pair %d: replayed\n%s\nanswered\n%s", i/2, y, x)
			}
		}
		// Nobody reads: the loader moves them within journalLoadDelay.
		deadline := time.Now().Add(5 * time.Second)
		for f.Count(`SELECT COUNT(*) FROM checkpoint_scans`) != n/2 {
			if time.Now().After(deadline) {
				t.Fatalf("%d rows after 5 s, want %d", f.Count(`SELECT COUNT(*) FROM checkpoint_scans`), n/2)
			}
			time.Sleep(20 * time.Millisecond)
		}
		// A scan just answered is in the list at once, with its id.
		s, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: tok, ClientID: "journal-last"})
		if err != nil || s.ID != 0 {
			t.Fatalf("journaled answer %+v %v (no id until loaded)", s, err)
		}
		_, list, err := f.svc.Scans(f.Ctx, f.Sys, ref(bridge), ScanQuery{Limit: 1000})
		if err != nil || len(list) != n/2+1 {
			t.Fatalf("list %d %v, want %d", len(list), err, n/2+1)
		}
		var found *Scan
		for _, l := range list {
			if l.ClientID == "journal-last" {
				found = l
			}
		}
		if found == nil || found.ID == 0 || !found.ReceivedAt.Equal(s.ReceivedAt) || found.Pass == nil || found.Pass.PID != "P1" {
			t.Fatalf("stored %+v, answered %+v", found, s)
		}
		// Loaded or not, the same client id answers the same scan.
		again, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: "garbage", ClientID: "journal-last"})
		if err != nil || !again.Replayed || again.Reason != passtoken.OK {
			t.Fatalf("again %+v %v", again, err)
		}
		if c := f.Count(`SELECT COUNT(*) FROM checkpoint_scans`); c != n/2+1 {
			t.Fatalf("%d rows", c)
		}
		// Closing loads the rest and leaves no journal behind.
		if _, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: tok, ClientID: "journal-at-close"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.CloseJournal(f.Ctx); err != nil {
			t.Fatal(err)
		}
		if c := f.Count(`SELECT COUNT(*) FROM checkpoint_scans`); c != n/2+2 {
			t.Fatalf("%d rows after close", c)
		}
		if left := segments(t, dir); len(left) != 0 {
			t.Fatalf("journal files left: %v", left)
		}
		// Without a journal, scans go to the database before the answer.
		if s, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: tok, ClientID: "no-journal"}); err != nil || s.ID == 0 {
			t.Fatalf("direct %+v %v", s, err)
		}
	})
}

// A server that died with scans in its journal loads them when it starts
// again, once each; a line torn by the crash is skipped.
func TestJournalRecovery(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		dir := t.TempDir()
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		tok := f.ver.sign(t, claims("P1"), "")
		if err := f.svc.OpenJournal(f.Ctx, dir); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: tok, ClientID: fmt.Sprintf("crash-scan-%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		// The crash: the loader stops, nothing more is loaded, the lock
		// goes with the process.
		j := f.svc.scans.journal.Swap(nil)
		close(j.stop)
		<-j.done
		j.mu.Lock()
		w := j.w
		if w.m != nil { // a mapped file stays as long as its mapping: a crash does not cut it
			unmapSegment(w.m)
		}
		w.f.Close()
		j.mu.Unlock()
		j.unlock()
		loaded := f.Count(`SELECT COUNT(*) FROM checkpoint_scans`)
		// A line whose checksum fails and a torn last line, where the
		// next lines would have gone (before the zero bytes a mapped file
		// ends in).
		fh, err := os.OpenFile(w.f.Name(), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		line := appendJournalLine(nil, &scanRow{checkpoint: bridge.ID, clientID: "torn", reason: passtoken.OK, scannedAt: testBase,
			receivedAt: testBase, officer: "kakou"}, 0, false)
		bad := append([]byte{}, line...)
		bad[20] ^= 1
		fh.WriteAt(append(bad, line[:len(line)/2]...), w.size)
		fh.Close()

		// The server starts again.
		next := NewService(f.DB, Deps{Areas: f.Areas, Users: f.Users, Enterprises: f.res, Verifier: f.ver})
		if err := next.OpenJournal(f.Ctx, dir); err != nil {
			t.Fatal(err)
		}
		defer next.CloseJournal(f.Ctx)
		if c := f.Count(`SELECT COUNT(*) FROM checkpoint_scans`); c != 5 {
			t.Fatalf("%d rows after restart (%d before), want 5", c, loaded)
		}
		if c := f.Count(`SELECT COUNT(*) FROM checkpoint_scans WHERE client_id = 'torn'`); c != 0 {
			t.Fatal("a torn line was loaded")
		}
		if left := segments(t, dir); len(left) != 1 { // the new, empty segment
			t.Fatalf("journal files after restart: %v", left)
		}
	})
}

// A second process on the same journal directory (a command run beside
// serve) writes its scans to the database directly.
func TestJournalBusy(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		dir := f.journaled(t)
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		other := NewService(f.DB, Deps{Areas: f.Areas, Users: f.Users, Enterprises: f.res, Verifier: f.ver})
		if err := other.OpenJournal(f.Ctx, dir); err != nil {
			t.Fatal(err)
		}
		if other.scans.journal.Load() != nil {
			t.Fatal("two journals on one directory")
		}
		s, err := other.Scan(f.Ctx, f.Sys, ref(bridge), ScanInput{Token: f.ver.sign(t, claims("P1"), ""), ClientID: "direct-1"})
		if err != nil || s.ID == 0 || f.Count(`SELECT COUNT(*) FROM checkpoint_scans`) != 1 {
			t.Fatalf("direct scan %+v %v", s, err)
		}
	})
}

// A journal line reads back as the scan it was written from, whatever
// its strings hold, with what the code showed on the line itself (ref 0)
// or numbered on a line before it.
func TestJournalLineRoundTrip(t *testing.T) {
	cl := claims("P1", "430211")
	for _, r := range []*scanRow{
		{checkpoint: 7, clientID: "3f6c2d1e-aaaa-4bbb-8ccc-000000000001", claims: passInfo(&cl, passtoken.OK), reason: passtoken.OK,
			scannedAt: testBase, receivedAt: testBase.Add(time.Second), officer: "kakou"},
		{checkpoint: 8, clientID: `odd"\` + "\x01\n", reason: passtoken.Malformed, scannedAt: testBase, receivedAt: testBase,
			officer: "王警官\t\"引号\"\\"},
	} {
		for _, ref := range []uint32{0, 3} {
			data := appendJournalLine([]byte("prefix"), r, ref, true)[len("prefix"):]
			lines := journalLines(data)
			if want := 1 + b2i(ref != 0 && r.claims != nil); len(lines) != want || data[len(data)-1] != '\n' {
				t.Fatalf("%d lines, want %d: %q", len(lines), want, data)
			}
			defs := journalDefs{}
			var got *scanRow
			for _, line := range lines {
				if !json.Valid(line[9:]) {
					t.Fatalf("line %q", line)
				}
				s, ok := decodeJournalLine(line, defs)
				if !ok {
					t.Fatalf("line does not read back: %q", line)
				}
				if s != nil {
					got = s
				}
			}
			if got == nil || got.checkpoint != r.checkpoint || got.clientID != r.clientID || got.officer != r.officer ||
				got.reason != r.reason || !got.scannedAt.Equal(r.scannedAt) || !got.receivedAt.Equal(r.receivedAt) ||
				(got.claims == nil) != (r.claims == nil) {
				t.Fatalf("read back %+v, wrote %+v", got, r)
			}
			if r.claims != nil && (got.claims.PID != r.claims.PID || got.claims.Name != r.claims.Name) {
				t.Fatalf("pass %+v, wrote %+v", got.claims, r.claims)
			}
			last := lines[len(lines)-1]
			if ref != 0 && r.claims != nil {
				// The scan's line alone names a content no line numbered.
				if _, ok := decodeJournalLine(last, journalDefs{}); ok {
					t.Fatal("a line naming an unknown content reads back")
				}
			}
			last[12] ^= 0x20 // one bit of the body
			if _, ok := decodeJournalLine(last, defs); ok {
				t.Fatal("a changed line still checks")
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A journal file holds what a pass showed once, on the line before its
// first scan in the file, however often it is scanned; the next file
// holds it again, and a restarted server reads every scan back with it.
func TestJournalWritesWhatCodesShowedOncePerFile(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		dir := t.TempDir()
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		toks := []string{f.ver.sign(t, claims("P1"), ""), f.ver.sign(t, claims("P2"), "")}
		if err := f.svc.OpenJournal(f.Ctx, dir); err != nil {
			t.Fatal(err)
		}
		j := f.svc.scans.journal.Load()
		close(j.stop) // no load: both files stay for the restart to read
		<-j.done
		scan := func(i int) {
			t.Helper()
			if _, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: toks[i%2], ClientID: fmt.Sprintf("once-scan-%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 40 {
			scan(i)
		}
		j.mu.Lock()
		old, err := j.next()
		j.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		j.closeEnded(old)
		for i := 40; i < 44; i++ {
			scan(i)
		}
		// The crash, as in TestJournalRecovery.
		f.svc.scans.journal.Swap(nil)
		j.mu.Lock()
		if j.w.m != nil {
			unmapSegment(j.w.m)
		}
		j.w.f.Close()
		j.mu.Unlock()
		j.unlock()

		files := segments(t, dir)
		if len(files) != 2 {
			t.Fatalf("journal files %v", files)
		}
		for k, want := range []int{40, 4} {
			data, err := os.ReadFile(files[k])
			if err != nil {
				t.Fatal(err)
			}
			var defsN, scans int
			for _, line := range journalLines(data) {
				switch {
				case strings.Contains(string(line), `{"d":`):
					defsN++
				case strings.Contains(string(line), `"p":`):
					t.Fatalf("a scan's line holds what its pass showed: %s", line)
				default:
					scans++
				}
			}
			if defsN != 2 || scans != want {
				t.Fatalf("file %d: %d contents and %d scans, want 2 and %d", k, defsN, scans, want)
			}
		}
		if loaded := f.Count(`SELECT COUNT(*) FROM checkpoint_scans`); loaded != 0 {
			t.Fatalf("%d rows loaded before the crash; the test wants none", loaded)
		}
		next := NewService(f.DB, Deps{Areas: f.Areas, Users: f.Users, Enterprises: f.res, Verifier: f.ver})
		if err := next.OpenJournal(f.Ctx, dir); err != nil {
			t.Fatal(err)
		}
		defer next.CloseJournal(f.Ctx)
		_, list, err := next.Scans(f.Ctx, f.Sys, ref(bridge), ScanQuery{Limit: 100})
		if err != nil || len(list) != 44 {
			t.Fatalf("%d scans after restart, %v", len(list), err)
		}
		for _, s := range list {
			var i int
			fmt.Sscanf(s.ClientID, "once-scan-%d", &i)
			if want := []string{"P1", "P2"}[i%2]; s.Pass == nil || s.Pass.PID != want {
				t.Fatalf("scan %s shows %+v, want %s", s.ClientID, s.Pass, want)
			}
		}
	})
}

// Journal files that fill up give way to new ones, mapped or written, and
// every scan answered reaches the log once; a file left by a crash is read
// up to the zero bytes its mapping ends in.
func TestJournalFilesFillUp(t *testing.T) {
	for _, mode := range []struct {
		name    string
		mapSize int
	}{{"mapped", 4096}, {"written", 0}} {
		t.Run(mode.name, func(t *testing.T) {
			each(t, func(t *testing.T, f *fixture) {
				dir := f.journaled(t)
				bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
				officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
				tok := f.ver.sign(t, claims("P1"), "")
				j := f.svc.scans.journal.Load()
				j.mu.Lock()
				j.mapSize = mode.mapSize
				old, err := j.next()
				if err != nil {
					t.Fatal(err)
				}
				j.closeEnded(old)
				if mapped := j.w.m != nil; mapped != (mode.mapSize > 0 && runtime.GOOS == "linux") {
					t.Fatalf("file mapped: %v", mapped)
				}
				first := j.seg
				j.mu.Unlock()
				const n = 200 // some forty lines fill 4 KiB
				for i := range n {
					if _, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: tok, ClientID: fmt.Sprintf("fill-scan-%d", i)}); err != nil {
						t.Fatal(err)
					}
				}
				j.mu.Lock()
				files := j.seg - first + 1
				j.mu.Unlock()
				if mode.mapSize > 0 && runtime.GOOS == "linux" && files < 5 {
					t.Fatalf("%d journal files for %d scans in files of 4 KiB", files, n)
				}
				_, list, err := f.svc.Scans(f.Ctx, f.Sys, ref(bridge), ScanQuery{Limit: 1000})
				if err != nil || len(list) != n || f.Count(`SELECT COUNT(*) FROM checkpoint_scans`) != n {
					t.Fatalf("list %d %v, want %d", len(list), err, n)
				}
				// A loaded file is gone; a closed one holds its lines only.
				if left := segments(t, dir); len(left) != 1 {
					t.Fatalf("journal files after a load: %v", left)
				}
			})
		})
	}
}

// A mapped file's content is its lines, whatever zero bytes follow them.
func TestJournalLines(t *testing.T) {
	a := appendJournalLine(nil, &scanRow{checkpoint: 1, clientID: "a", reason: passtoken.OK, scannedAt: testBase, receivedAt: testBase,
		officer: "kakou"}, 0, false)
	b := appendJournalLine(nil, &scanRow{checkpoint: 1, clientID: "b", reason: passtoken.OK, scannedAt: testBase, receivedAt: testBase,
		officer: "kakou"}, 0, false)
	data := append(append(append([]byte{}, a...), b...), make([]byte, 100)...)
	lines := journalLines(data)
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, want := range []string{"a", "b"} {
		r, ok := decodeJournalLine(lines[i], nil)
		if !ok || r.clientID != want {
			t.Fatalf("line %d: %+v %v", i, r, ok)
		}
	}
	if len(journalLines(make([]byte, 4096))) != 0 || len(journalLines(nil)) != 0 {
		t.Fatal("lines in zero bytes")
	}
}

// A journal file that fills up while rows of it a load took have not
// committed (the database refusing them, here) stays on disk until they
// have: answered scans are never only in memory.
func TestJournalKeepsAFileUntilItsRowsCommit(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		if f.DB.Dialect != db.SQLite {
			t.Skip("the refusal is a SQLite trigger")
		}
		f.journaled(t)
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		tok := f.ver.sign(t, claims("P1"), "")
		j := f.svc.scans.journal.Load()
		j.mu.Lock()
		j.mapSize = 4096
		old, err := j.next()
		if err != nil {
			t.Fatal(err)
		}
		j.closeEnded(old)
		first := j.path
		j.mu.Unlock()
		scan := func(i int) {
			t.Helper()
			if _, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: tok, ClientID: fmt.Sprintf("kept-scan-%03d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		exec := func(q string) {
			t.Helper()
			if err := f.DB.Write(f.Ctx, func(tx *db.Tx) error { _, err := tx.ExecContext(f.Ctx, q); return err }); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 3 {
			scan(i)
		}
		exec(`CREATE TRIGGER refuse_scans BEFORE INSERT ON checkpoint_scans BEGIN SELECT RAISE(ABORT, 'refused'); END`)
		if err := j.load(f.Ctx); err == nil {
			t.Fatal("the load went through a database that refuses every scan")
		}
		// Each scan is taken by a load at once, so that the file fills up
		// with every row of it taken and none committed.
		const n = 60 // the first file fills up: some forty lines fill 4 KiB
		for i := 3; i < n; i++ {
			scan(i)
			if err := j.load(f.Ctx); err == nil {
				t.Fatal("the load went through a database that refuses every scan")
			}
		}
		j.mu.Lock()
		filled := j.path != first
		j.mu.Unlock()
		if !filled {
			t.Fatal("the first journal file did not fill up")
		}
		if _, err := os.Stat(first); err != nil {
			t.Fatalf("a file whose rows have not committed is gone: %v", err)
		}
		exec(`DROP TRIGGER refuse_scans`)
		if err := j.load(f.Ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(first); !os.IsNotExist(err) {
			t.Fatalf("a loaded file stays: %v", err)
		}
		if got := f.Count(`SELECT COUNT(*) FROM checkpoint_scans WHERE client_id LIKE 'kept-%'`); got != n {
			t.Fatalf("%d scans logged, want %d", got, n)
		}
	})
}
