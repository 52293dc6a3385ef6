package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/notify"
	"tongxin/internal/pass"
	"tongxin/internal/resumption"
	"tongxin/internal/ticket"
)

// walkPages reads a cursor-paged list to its end with ?limit=limit and
// returns the items' ids (the JSON field idField), failing on an item seen
// twice, a page larger than limit, or a full page without next_cursor
// followed by more rows. The last page has no next_cursor by construction.
func walkPages(t *testing.T, ts *testSystem, token, path, idField string, limit int) []string {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	seen := map[string]bool{}
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("%s: no end after 1000 pages", path)
		}
		u := fmt.Sprintf("%s%slimit=%d", path, sep, limit)
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		r := ts.do(t, "GET", u, token, "", nil)
		var page struct {
			Items      []map[string]any `json:"items"`
			NextCursor *string          `json:"next_cursor"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &page) != nil {
			t.Fatalf("GET %s: %d %.300s", u, r.status, r.body)
		}
		if len(page.Items) > limit {
			t.Fatalf("GET %s: %d items, more than the limit", u, len(page.Items))
		}
		for _, it := range page.Items {
			id := fmt.Sprint(it[idField])
			if it[idField] == nil || seen[id] {
				t.Fatalf("GET %s: item %s=%s missing or seen twice", u, idField, id)
			}
			seen[id] = true
			ids = append(ids, id)
		}
		if page.NextCursor == nil {
			return ids
		}
		if *page.NextCursor == "" || len(page.Items) < limit {
			t.Fatalf("GET %s: next_cursor %q after %d items", u, *page.NextCursor, len(page.Items))
		}
		cursor = *page.NextCursor
	}
}

func countRows(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.ReadPool().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Every list that pages by cursor is read to its end with the largest
// limit it takes, over more rows than one page where that is cheap to
// build, and sees each row exactly once; a limit over the maximum is 400.
func TestPagingToTheEnd(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			ctx := context.Background()
			sys := auth.System()
			d := ts.sys.DB
			tok := map[string]string{}
			for _, u := range []string{"admin", "commander", "hqstaff", "minzheng", "gxj", "qianjin"} {
				tok[u] = ts.tokenFor(t, u)
			}

			// Users: max 200 (rows written directly: 200 argon2 hashes
			// would be the whole test's time).
			err := d.Write(ctx, func(tx *db.Tx) error {
				for i := range auth.MaxUsersLimit + 3 {
					if _, err := tx.ExecContext(ctx, `INSERT INTO users (username, display_name, password_hash, status, created_at, updated_at)
						SELECT $1, '测试', password_hash, 'active', $2, $2 FROM users WHERE username = 'admin'`, fmt.Sprintf("pg%03d", i), tx.NowMS()); err != nil {
						return err
					}
					// The roles of admin, so that admin's scope covers them.
					if _, err := tx.ExecContext(ctx, `INSERT INTO role_assignments (user_id, role, scope_kind, scope_ref, scope_name, scope_path, created_at)
						SELECT (SELECT id FROM users WHERE username = $1), role, scope_kind, scope_ref, scope_name, scope_path, created_at
						FROM role_assignments WHERE user_id = (SELECT id FROM users WHERE username = 'admin')`, fmt.Sprintf("pg%03d", i)); err != nil {
						return err
					}
				}
				// Audit: max 500.
				for i := range audit.MaxLimit + 3 {
					if err := audit.Record(ctx, tx, audit.Entry{Actor: "system", Action: "test.page", ObjectType: "test",
						ObjectID: fmt.Sprint(i), Summary: "翻页"}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Enterprises (projects): max 200.
			for i := range resumption.MaxListLimit + 3 {
				if _, _, err := ts.sys.Resumption.Save(ctx, sys, resumption.EnterpriseInput{Key: fmt.Sprintf("PG-%03d", i), Kind: resumption.KindProject,
					Name: fmt.Sprintf("翻页项目%d", i), AreaCode: "430203001", Categories: []string{"规上服务业"}, Employees: 10}); err != nil {
					t.Fatalf("project %d: %v", i, err)
				}
			}
			// A webhook for every event of the city, then tickets: max 500;
			// each queues a delivery (max 100) and notifies the bureau's
			// officer (inbox max 200).
			r := ts.do(t, "POST", "/api/v1/webhooks", tok["admin"], "application/json", strings.NewReader(
				`{"name":"翻页","url":"https://hooks.example.invalid/x","format":"json","events":["*"],"area_code":"430200","active":true}`))
			var hook struct{ ID int64 }
			if r.status != 201 || json.Unmarshal(r.body, &hook) != nil {
				t.Fatalf("webhook: %d %s", r.status, r.body)
			}
			for i := range ticket.MaxListLimit + 3 {
				if _, err := ts.sys.Tickets.Create(ctx, sys, ticket.Input{Category: "elderly_care", AreaCode: "430203001001",
					Address: fmt.Sprintf("大园社区 %d 栋", i), Channel: "hotline_12345", ReporterName: "孙奶奶",
					ReporterPhone: fmt.Sprintf("1380733%04d", i), Description: "老人独居需要每日送餐"}); err != nil {
					t.Fatalf("ticket %d: %v", i, err)
				}
			}

			type list struct {
				name, token, path, id string
				max                   int
				want                  int // rows the caller reaches
				full                  bool
			}
			lists := []list{
				{"users", tok["admin"], "/api/v1/users", "username", auth.MaxUsersLimit,
					countRows(t, d, `SELECT count(*) FROM users`), true},
				{"audit", tok["commander"], "/api/v1/audit", "seq", audit.MaxLimit,
					countRows(t, d, `SELECT count(*) FROM audit_log`), true},
				{"enterprises", tok["commander"], "/api/v1/enterprises", "key", resumption.MaxListLimit,
					countRows(t, d, `SELECT count(*) FROM enterprises`), true},
				{"tickets", tok["commander"], "/api/v1/tickets", "id", ticket.MaxListLimit,
					countRows(t, d, `SELECT count(*) FROM tickets`), true},
				{"inbox", tok["minzheng"], "/api/v1/inbox", "id", notify.MaxInboxLimit,
					countRows(t, d, `SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.username = 'minzheng'`), true},
				{"deliveries", tok["admin"], fmt.Sprintf("/api/v1/webhooks/%d/deliveries", hook.ID), "id", notify.MaxDeliveriesLimit,
					countRows(t, d, `SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1`, hook.ID), true},
				// Passes and their batches take 1,000 a page: more than one
				// page would be a thousand uploads, so these are read whole
				// at the maximum and in pages of 2.
				{"pass batches", tok["gxj"], "/api/v1/pass-batches", "id", pass.MaxListLimit,
					countRows(t, d, `SELECT count(*) FROM pass_batches`), false},
				{"passes", tok["gxj"], "/api/v1/passes", "pid", pass.MaxListLimit,
					countRows(t, d, `SELECT count(*) FROM passes`), false},
			}
			for _, l := range lists {
				if l.full && l.want <= l.max {
					t.Fatalf("%s: %d rows, not more than a page of %d", l.name, l.want, l.max)
				}
				if l.want == 0 {
					t.Fatalf("%s: no rows to page", l.name)
				}
				ids := walkPages(t, ts, l.token, l.path, l.id, l.max)
				if len(ids) != l.want {
					t.Errorf("%s: paging with limit=%d saw %d rows, want %d", l.name, l.max, len(ids), l.want)
				}
				if !l.full {
					if small := walkPages(t, ts, l.token, l.path, l.id, 2); len(small) != l.want {
						t.Errorf("%s: paging with limit=2 saw %d rows, want %d", l.name, len(small), l.want)
					}
				}
				r := ts.do(t, "GET", fmt.Sprintf("%s?limit=%d", l.path, l.max+1), l.token, "", nil)
				if r.status != 400 || r.problemCode(t) != "bad_limit" {
					t.Errorf("%s: limit=%d answered %d %s, want 400 bad_limit", l.name, l.max+1, r.status, r.body)
				}
			}

			// Scans page by ?before= (the id of the last scan seen), up to
			// 1,000 a page: the busiest demo checkpoint, whole and by 3.
			// 1,003 scans uploaded offline at 建宁大桥 by its officer.
			cpRef := demoCheckpointID(t, ts, "建宁大桥")
			kakou := ts.tokenFor(t, "kakou")
			at := ts.sys.DB.Clock.Now().Add(-time.Hour).Format(time.RFC3339)
			for first := 0; first < 1003; first += 600 {
				var b strings.Builder
				b.WriteString(`{"scans":[`)
				for i := first; i < min(first+600, 1003); i++ {
					if i > first {
						b.WriteString(",")
					}
					fmt.Fprintf(&b, `{"token":"not-a-pass-%d","client_id":"paging-%06d","scanned_at":"%s"}`, i, i, at)
				}
				b.WriteString(`]}`)
				if r := ts.do(t, "POST", "/api/v1/checkpoints/"+cpRef+"/scans/batch", kakou, "application/json", strings.NewReader(b.String())); r.status != 200 {
					t.Fatalf("offline scans: %d %.300s", r.status, r.body)
				}
			}
			var cpID int64
			var nScans int
			if err := d.ReadPool().QueryRowContext(ctx, `SELECT checkpoint_id, count(*) FROM checkpoint_scans
				GROUP BY checkpoint_id ORDER BY count(*) DESC, checkpoint_id LIMIT 1`).Scan(&cpID, &nScans); err != nil || nScans <= 1000 {
				t.Fatalf("scans: %d, %v", nScans, err)
			}
			for _, limit := range []int{1000, 3} {
				seen, before := map[float64]bool{}, ""
				for {
					r := ts.do(t, "GET", fmt.Sprintf("/api/v1/checkpoints/%d/scans?limit=%d%s", cpID, limit, before), tok["commander"], "", nil)
					var page struct{ Items []struct{ ID float64 } }
					if r.status != 200 || json.Unmarshal(r.body, &page) != nil {
						t.Fatalf("scans: %d %.300s", r.status, r.body)
					}
					for _, it := range page.Items {
						if seen[it.ID] {
							t.Fatalf("scan %v seen twice", it.ID)
						}
						seen[it.ID] = true
					}
					if len(page.Items) < limit {
						break
					}
					before = fmt.Sprintf("&before=%d", int64(page.Items[len(page.Items)-1].ID))
				}
				if len(seen) != nScans {
					t.Errorf("scans by %d: saw %d, want %d", limit, len(seen), nScans)
				}
			}
			if r := ts.do(t, "GET", fmt.Sprintf("/api/v1/checkpoints/%d/scans?limit=1001", cpID), tok["commander"], "", nil); r.status != 400 || r.problemCode(t) != "bad_limit" {
				t.Errorf("scans limit=1001: %d %s", r.status, r.body)
			}

			// The revocation list pages by ?since= and "more", up to 10,000.
			revoked := 0
			for _, ps := range demoPassTokens(t, ts) {
				if revoked == 5 {
					break
				}
				if r := ts.do(t, "POST", "/api/v1/passes/"+ps.PID+"/revoke", tok["gxj"], "application/json", strings.NewReader(`{"reason":"翻页测试"}`)); r.status != 200 {
					t.Fatalf("revoke: %d %s", r.status, r.body)
				}
				revoked++
			}
			nRev := countRows(t, d, `SELECT count(*) FROM pass_revocations`)
			if nRev < 5 {
				t.Fatalf("%d revocations to page", nRev)
			}
			for _, limit := range []int{pass.MaxRevocationPage, 2} {
				seen, since := map[float64]bool{}, int64(0)
				for {
					r := ts.do(t, "GET", fmt.Sprintf("/api/v1/passes/revocations?since=%d&limit=%d", since, limit), "", "", nil)
					var page struct {
						Items []struct{ Seq float64 }
						Next  int64
						More  bool
					}
					if r.status != 200 || json.Unmarshal(r.body, &page) != nil {
						t.Fatalf("revocations: %d %.300s", r.status, r.body)
					}
					for _, it := range page.Items {
						if seen[it.Seq] {
							t.Fatalf("revocation %v seen twice", it.Seq)
						}
						seen[it.Seq] = true
					}
					if !page.More {
						break
					}
					since = page.Next
				}
				if len(seen) != nRev {
					t.Errorf("revocations by %d: saw %d, want %d", limit, len(seen), nRev)
				}
			}
		})
	}
}
