// Package sqlite is the embedded default workspace.Store: modernc.org/sqlite (pure Go) in
// WAL mode, one file in the data folder, one writer connection, a small reader pool and a
// connection that checkpoints the WAL off the write path.
// It serves one node; several nodes share a MongoDB instead (package mongo).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migration/*.sql
var migrations embed.FS

// Store is a workspace.Store on one SQLite database.
type Store struct {
	// write has one connection: SQLite allows one writer, and queueing writers in Go is
	// cheaper than letting them spin on SQLITE_BUSY.
	write *pool
	read  *pool
	// plans caches every plan (planCache).
	plans planCache
	// live caches live interactions' docs (liveCache).
	live liveCache
	// agents keeps agents decoded, by version (agentCache).
	agents agentCache
	// rows keeps live interactions' column values for their next update (liveRows).
	rows liveRows
	// commits batches the writes made while another commits (group commit, commit.go).
	commits committer
	// checkpoints copies the WAL into the database file off the write path (checkpoint.go).
	checkpoints *checkpointer
}

var _ workspace.Store = (*Store)(nil)

// Open opens (creating if needed) agentdesk.db in dir and applies pending migrations.
func Open(ctx context.Context, dir string) (*Store, error) {
	path := filepath.Join(dir, "agentdesk.db")
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)" +
		"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	// The writer keeps its savepoints' sub-journals in memory (temp_store): a batch of the
	// group commit runs each write in a savepoint, and SQLite would otherwise spill a
	// sub-journal past 64 KiB to a temp file, a syscall per page (commit.go).
	write, err := sql.Open("sqlite", dsn+"&_pragma=wal_autocheckpoint("+strconv.Itoa(walLimit)+")&_pragma=temp_store(memory)")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	s := &Store{write: newPool(write)}
	if err := s.migrate(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, err
	}
	// As many kept as may be open: a connection closed for being idle costs its reopening,
	// which parses the schema again and prepares every kept statement anew.
	read.SetMaxOpenConns(4)
	read.SetMaxIdleConns(4)
	s.read = newPool(read)
	checkpoints, err := sql.Open("sqlite", dsn)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.checkpoints = newCheckpointer(checkpoints, checkpointEvery)
	s.write.written = s.checkpoints.committed
	return s, nil
}

// Close stops the checkpointer and closes the pools; the last connection closed checkpoints
// what is left in the WAL.
func (s *Store) Close() error {
	var errs []error
	if s.checkpoints != nil {
		errs = append(errs, s.checkpoints.Close())
	}
	return errors.Join(append(errs, s.read.Close(), s.write.Close())...)
}

// Ping makes one round trip through the reader pool.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// migrate applies the embedded migrations in order, each in its own transaction.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", name)
		}
		if err := s.applyMigration(ctx, name, version); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, name string, version int) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil || n > 0 {
		return err
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, version); err != nil {
		return err
	}
	return tx.Commit()
}

// mapErr turns driver errors into domain errors: unique violations are CONFLICT and a
// missing row is NOT_FOUND.
func mapErr(err error, what string) error {
	var se *sqlite.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return workspace.Errorf(workspace.ENOTFOUND, "%s not found", what)
	case errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		return workspace.Errorf(workspace.ECONFLICT, "%s already exists", what)
	default:
		return err
	}
}

// execGuarded runs a version-guarded update and checks that it touched exactly one row.
func (s *Store) execGuarded(ctx context.Context, what, query string, args ...any) error {
	return s.inTx(ctx, nil, func(x execer) error { return guarded(ctx, x, what, query, args...) })
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// optMillis stores an optional time: 0 for the zero time.
func optMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromOptMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMillis(ms)
}

// ptrMillis stores an optional time given as a pointer: 0 for nil.
func ptrMillis(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return t.UnixMilli()
}

// msTime is t at the millisecond precision both adapters keep, in UTC; the zero time stays zero.
func msTime(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }

// msPtr is msTime of an optional time.
func msPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := msTime(*t)
	return &u
}
