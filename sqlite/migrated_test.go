package sqlite

import (
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// MigratedTo creates agentdesk.db in dir with the migrations up to and including version
// last applied, as a store of that time left it, and returns it open, with exec, which runs
// a statement and fails the test on error. A test writes old rows with it, closes it, and
// opens the store, which applies the rest.
func MigratedTo(t *testing.T, dir string, last int) (*sql.DB, func(q string, args ...any)) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "agentdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)`)
	names, err := filepath.Glob("migration/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		version, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
		if err != nil {
			t.Fatal(err)
		}
		if version > last {
			break
		}
		body, err := migrations.ReadFile("migration/" + filepath.Base(name))
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
		exec(`INSERT INTO schema_migrations (version) VALUES (?)`, version)
	}
	return db, exec
}
