package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// pool is a database/sql pool whose statements are prepared once per query text and kept:
// SQLite spends most of a small query's time parsing it (issue 14's profile: two thirds of
// an agent read), and a kept statement is parsed once per connection, when first used there.
// Query texts are the adapter's own constants, and the few built from a list (IN (?,?,…))
// vary with the list's length only; past maxStatements texts, queries run unprepared.
type pool struct {
	*sql.DB

	mu    sync.RWMutex
	stmts map[string]*sql.Stmt

	// written, when set, is called after each statement the pool ran outside a transaction
	// (the writer's: it wakes the checkpointer).
	written func()
}

// A kept statement stays parsed only if nothing expires it, and SQLite expires one whose
// LIMIT is a plain bound parameter each time that parameter is bound: the planner reads the
// LIMIT's value to plan the query, so it marks the parameter as one whose every new binding
// calls for a new plan. Every run of `... LIMIT ?` was parsed and planned again inside
// sqlite3_step (issue 14's cycle profile: 5.5 % of all CPU, in routing's READY-agents read and
// Agent Assist's transcript read among others). So the adapter's queries write
// `LIMIT CAST(? AS INTEGER)`, a bound value the planner does not read, and the statement keeps
// its plan (TestKeptStatementsStayPlanned).

// maxStatements bounds the statements one pool keeps.
const maxStatements = 512

func newPool(db *sql.DB) *pool { return &pool{DB: db, stmts: map[string]*sql.Stmt{}} }

// prepared returns the kept statement of query, preparing it the first time; nil when it
// cannot be kept, and the caller runs the query as it is (whose error then says why).
func (p *pool) prepared(ctx context.Context, query string) *sql.Stmt {
	p.mu.RLock()
	st := p.stmts[query]
	full := len(p.stmts) >= maxStatements
	p.mu.RUnlock()
	if st != nil || full {
		return st
	}
	st, err := p.DB.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if kept := p.stmts[query]; kept != nil { // another caller prepared it meanwhile
		_ = st.Close()
		return kept
	}
	if len(p.stmts) >= maxStatements {
		_ = st.Close()
		return nil
	}
	p.stmts[query] = st
	return st
}

func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, query, args...)
}

func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, query, args...)
}

func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if p.written != nil {
		defer p.written()
	}
	if st := p.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.DB.ExecContext(ctx, query, args...)
}

// Close closes the kept statements and the pool.
func (p *pool) Close() error {
	p.mu.Lock()
	var errs []error
	for q, st := range p.stmts {
		errs = append(errs, st.Close())
		delete(p.stmts, q)
	}
	p.mu.Unlock()
	return errors.Join(append(errs, p.DB.Close())...)
}

// txStatements runs a transaction's statements through the pool's kept statements, so a
// write in a transaction is not parsed again each time either. A text not kept yet runs as
// it is: preparing it would need a second connection of the write pool, whose one
// connection the transaction holds; prepareUnkept keeps it once the transaction has ended.
type txStatements struct {
	tx     *sql.Tx
	p      *pool
	unkept []string
}

func (t *txStatements) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	// Not interrupted once begun: an interrupted write rolls back the whole transaction,
	// which may carry other callers' writes (inTx).
	ctx = context.WithoutCancel(ctx)
	t.p.mu.RLock()
	st := t.p.stmts[query]
	t.p.mu.RUnlock()
	if st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	t.unkept = append(t.unkept, query)
	return t.tx.ExecContext(ctx, query, args...)
}

// QueryRowContext reads within the transaction, through a kept statement when there is one.
func (t *txStatements) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	t.p.mu.RLock()
	st := t.p.stmts[query]
	t.p.mu.RUnlock()
	if st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	t.unkept = append(t.unkept, query)
	return t.tx.QueryRowContext(ctx, query, args...)
}

// prepareUnkept keeps the statements the transaction ran as they were; call it after the
// transaction has ended.
func (t *txStatements) prepareUnkept(ctx context.Context) {
	for _, q := range t.unkept {
		t.p.prepared(ctx, q)
	}
}
