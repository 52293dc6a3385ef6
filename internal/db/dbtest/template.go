package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"tongxin/internal/clock"
	"tongxin/internal/db"
)

// An installation is a database and its data directory (keys, uploads),
// which belong together: the database's sealed fields open only with the
// directory's keys.
type Installation struct {
	URL     string
	DataDir string
}

// template is one installation built once per test process.
type template struct {
	once   sync.Once
	schema string // PostgreSQL: the schema holding it
	dir    string // the folder holding its data directory (and SQLite file)
	err    error
}

var (
	templatesMu sync.Mutex
	templates   = map[string]*template{}
)

// Copy gives the test its own copy of an installation built once per test
// process by build under name for the kind of database: the first call
// builds it (into a folder and, on PostgreSQL, a schema of its own), every
// call copies it — the SQLite file and the data directory copied, or a new
// PostgreSQL schema migrated and filled from the built one. A demo city
// takes seconds to build (a minute under the race detector) and
// milliseconds to copy. The copies are the test's and go with it;
// DropTemplates removes the originals when the tests end.
func Copy(t testing.TB, kind, name string, build func(Installation) error) Installation {
	t.Helper()
	if kind == "postgres" && os.Getenv(EnvPostgres) == "" {
		t.Skip("PostgreSQL runs skipped: " + EnvPostgres + " is not set")
	}
	templatesMu.Lock()
	tp := templates[kind+"\x00"+name]
	if tp == nil {
		tp = &template{}
		templates[kind+"\x00"+name] = tp
	}
	templatesMu.Unlock()
	tp.once.Do(func() { tp.err = tp.build(kind, build) })
	if tp.err != nil {
		t.Fatalf("dbtest: build %s on %s: %v", name, kind, tp.err)
	}
	out := Installation{DataDir: filepath.Join(t.TempDir(), "data")}
	if err := copyDir(filepath.Join(tp.dir, "data"), out.DataDir); err != nil {
		t.Fatalf("dbtest: copy %s: %v", name, err)
	}
	if kind == "sqlite" {
		file := filepath.Join(t.TempDir(), "tongxin.db")
		if err := copyFile(filepath.Join(tp.dir, "tongxin.db"), file); err != nil {
			t.Fatalf("dbtest: copy %s: %v", name, err)
		}
		out.URL = "sqlite:" + file
		return out
	}
	out.URL = URL(t, kind)
	if err := copySchema(out.URL, tp.schema); err != nil {
		t.Fatalf("dbtest: copy %s: %v", name, err)
	}
	return out
}

func (tp *template) build(kind string, build func(Installation) error) error {
	dir, err := os.MkdirTemp("", "tongxin-template-")
	if err != nil {
		return err
	}
	tp.dir = dir
	inst := Installation{DataDir: filepath.Join(dir, "data")}
	if kind == "sqlite" {
		inst.URL = "sqlite:" + filepath.Join(dir, "tongxin.db")
	} else {
		b := make([]byte, 6)
		rand.Read(b)
		tp.schema = "tpl_" + hex.EncodeToString(b)
		if inst.URL, err = schemaURL(tp.schema, true); err != nil {
			return err
		}
	}
	if err := build(inst); err != nil {
		return err
	}
	if kind == "sqlite" {
		// A copy must not need the write-ahead log of the original.
		if _, err := os.Stat(filepath.Join(dir, "tongxin.db-wal")); err == nil {
			return fmt.Errorf("the build left %s open", inst.URL)
		}
	}
	return nil
}

// schemaURL is the test DSN with search_path set to schema, which create
// makes first.
func schemaURL(schema string, create bool) (string, error) {
	dsn := os.Getenv(EnvPostgres)
	if create {
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			return "", err
		}
		defer admin.Close()
		if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
			return "", err
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// copySchema migrates the schema of to and fills its tables with the rows
// of the schema from, whose tables the same migrations made: tables are
// emptied of what the migrations seeded, filled in an order that meets
// their foreign keys, and identity columns continue after the largest
// copied value.
func copySchema(to, from string) error {
	ctx := context.Background()
	d, err := db.Open(ctx, to, clock.Real{})
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		return err
	}
	conn, err := sql.Open("pgx", to)
	if err != nil {
		return err
	}
	defer conn.Close()
	var into string
	if err := conn.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&into); err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`, into)
	if err != nil {
		return err
	}
	tables, err := db.CollectRows(rows, db.Value[string])
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := copyTables(ctx, tx, into, from, tables); err != nil {
		return err
	}
	if err := continueIdentities(ctx, tx, into); err != nil {
		return err
	}
	return tx.Commit()
}

// copyTables empties the tables of schema into and fills them with the
// rows of the same tables of schema from. A table whose parents are not
// filled yet fails its foreign keys and is tried again after the others.
func copyTables(ctx context.Context, tx *sql.Tx, into, from string, tables []string) error {
	quoted := make([]string, len(tables))
	for i, tb := range tables {
		quoted[i] = into + "." + tb
	}
	if _, err := tx.ExecContext(ctx, `TRUNCATE `+strings.Join(quoted, ", ")+` CASCADE`); err != nil {
		return err
	}
	for todo := tables; len(todo) > 0; {
		var later []string
		for _, tb := range todo {
			copied, err := copyTable(ctx, tx, into+"."+tb, from+"."+tb)
			if err != nil {
				return err
			}
			if !copied {
				later = append(later, tb)
			}
		}
		if len(later) == len(todo) {
			return fmt.Errorf("copy tables %v: foreign keys never met", later)
		}
		todo = later
	}
	return nil
}

// copyTable copies the rows of table from into table to under a
// savepoint; copied is false (and nothing is copied) when the insert
// fails, as it does while a parent table is still empty.
func copyTable(ctx context.Context, tx *sql.Tx, to, from string) (copied bool, err error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT copy_table`); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+to+` SELECT * FROM `+from); err != nil {
		_, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT copy_table`)
		return false, rerr
	}
	_, err = tx.ExecContext(ctx, `RELEASE SAVEPOINT copy_table`)
	return err == nil, err
}

// continueIdentities sets the sequence of every identity column of schema
// into past the largest value its table holds.
func continueIdentities(ctx context.Context, tx *sql.Tx, into string) error {
	rows, err := tx.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = $1 AND is_identity = 'YES'`, into)
	if err != nil {
		return err
	}
	ids, err := db.CollectRows(rows, func(s db.Scanner) (c [2]string, err error) {
		err = s.Scan(&c[0], &c[1])
		return c, err
	})
	if err != nil {
		return err
	}
	for _, c := range ids {
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s.%s', '%s'), COALESCE(MAX(%s), 0) + 1, false) FROM %s.%s`,
			into, c[0], c[1], c[1], into, c[0])
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// DropTemplates removes the installations Copy built: their folders and
// PostgreSQL schemas. Call it from TestMain after the tests ran.
func DropTemplates() {
	templatesMu.Lock()
	defer templatesMu.Unlock()
	for key, tp := range templates {
		if tp.dir != "" {
			os.RemoveAll(tp.dir)
		}
		if tp.schema != "" {
			if admin, err := sql.Open("pgx", os.Getenv(EnvPostgres)); err == nil {
				admin.Exec(`DROP SCHEMA ` + tp.schema + ` CASCADE`)
				admin.Close()
			}
		}
		delete(templates, key)
	}
}

func copyDir(from, to string) error {
	return filepath.WalkDir(from, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		target := filepath.Join(to, rel)
		if e.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		return copyFile(path, target)
	})
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return err
	}
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
