package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"

	"github.com/agentdesk/agentdesk/workspace"
)

// Group commit. SQLite has one writer: every write waits for the one before it to commit,
// and a commit (appending the changed pages to the WAL, moving its index) costs more than
// most of the statements it commits. So writes that arrive while another commits are not
// each given a transaction of their own: they queue, and the next transaction runs them all,
// each in a savepoint of its own (whose sub-journal the writer keeps in memory: Open), and
// commits once. A write that fails rolls back to its savepoint and fails alone; a commit
// that fails fails every write it carried, none of which is then stored. Nobody waits for
// company: a write that finds the writer idle commits at once, and a queue forms only while
// a commit runs, the moment batching pays.
//
// There is no writer goroutine. The caller whose write finds no commit under way leads: it
// runs the transaction on its own goroutine, then hands the lead to the first caller
// queued meanwhile. That caller takes its batch when it starts, not when it is handed the
// lead: whatever queued while it waited to be scheduled (on a busy machine, as long as a
// transaction takes) joins this transaction instead of waiting for the next. Each caller
// leads at most one transaction, so nobody's write waits behind more than the one
// transaction running and its own.
type committer struct {
	mu      sync.Mutex
	leading bool        // a transaction is under way, or its lead was handed on
	queue   []*writeJob // the writes waiting for the next one
}

// maxBatch bounds the writes one transaction carries; the rest wait for the next.
const maxBatch = 64

// writeJob is one caller's write: write, then the events, committed together or not at all.
type writeJob struct {
	ctx    context.Context
	events []*workspace.ChangeEvent
	write  func(execer) error
	// done, when set, runs once the write is committed, before the writer is handed on: in
	// commit order (liveCache).
	done func()
	err  error
	// leads is set when this job's caller is to lead the next transaction.
	leads bool
	// wake is closed once: when err is final, or when leads is set.
	wake chan struct{}
}

// inTx runs write and inserts the events in one transaction, which it may share with other
// writes (group commit, above). Once its turn has come the write runs to its end even if
// ctx is cancelled meanwhile: interrupting a statement would roll back the whole shared
// transaction.
func (s *Store) inTx(ctx context.Context, events []*workspace.ChangeEvent, write func(execer) error) error {
	return s.inTxThen(ctx, events, write, nil)
}

// inTxThen is inTx, and runs done once the write is committed (writeJob.done).
func (s *Store) inTxThen(ctx context.Context, events []*workspace.ChangeEvent, write func(execer) error, done func()) error {
	job := &writeJob{ctx: ctx, events: events, write: write, done: done}
	c := &s.commits
	var batch []*writeJob
	c.mu.Lock()
	if c.leading {
		job.wake = make(chan struct{})
		c.queue = append(c.queue, job)
		c.mu.Unlock()
		<-job.wake
		if !job.leads {
			return job.err
		}
		// This job heads the queue: the batch is what queued up to now.
		c.mu.Lock()
		batch = slices.Clone(c.queue[:min(len(c.queue), maxBatch)])
		c.queue = c.queue[len(batch):]
		c.mu.Unlock()
	} else {
		c.leading = true
		c.mu.Unlock()
		batch = []*writeJob{job}
	}
	s.commit(batch)
	c.mu.Lock()
	var next *writeJob
	if len(c.queue) > 0 {
		next = c.queue[0]
	} else {
		c.leading = false
		c.queue = nil
	}
	c.mu.Unlock()
	for _, j := range batch {
		if j != job {
			close(j.wake)
		}
	}
	if next != nil {
		next.leads = true
		close(next.wake)
	}
	return job.err
}

// commit runs the batch's writes in one transaction, each in a savepoint when there are
// several, and commits; it sets every job's err.
func (s *Store) commit(batch []*writeJob) {
	ctx := context.Background() // each write's own context is checked before it runs
	failAll := func(err error) {
		for _, j := range batch {
			if j.err == nil {
				j.err = err
			}
		}
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		failAll(err)
		return
	}
	x := &txStatements{tx: tx, p: s.write}
	defer x.prepareUnkept(ctx) // deferred calls run last first: after the rollback below
	defer tx.Rollback()
	if len(batch) == 1 {
		if batch[0].err = batch[0].run(x); batch[0].err == nil {
			s.finish(tx, batch)
		}
		return
	}
	for _, j := range batch {
		if _, err := x.ExecContext(ctx, `SAVEPOINT write`); err != nil {
			failAll(err)
			return
		}
		if j.err = j.run(x); j.err != nil {
			if _, err := x.ExecContext(ctx, `ROLLBACK TO write`); err != nil {
				failAll(err)
				return
			}
		}
		if _, err := x.ExecContext(ctx, `RELEASE write`); err != nil {
			failAll(err)
			return
		}
	}
	s.finish(tx, batch)
}

// finish commits tx, sets the error of every write in the batch that has none yet, and
// applies the committed ones (writeJob.done). From the commit until the last of them is
// applied, the table is ahead of the copies of live interactions: readers read the table
// meanwhile (liveCache.committing).
func (s *Store) finish(tx *sql.Tx, batch []*writeJob) {
	live := slices.ContainsFunc(batch, func(j *writeJob) bool { return j.done != nil })
	if live {
		s.live.committing()
	}
	err := tx.Commit()
	for _, j := range batch {
		if j.err == nil {
			j.err = err
		}
	}
	s.committed(batch)
	if live {
		s.live.settled()
	}
}

// run makes the job's write and inserts its events, numbering them. A write that panics
// fails alone, as an error: the transaction and the writes queued behind it go on.
func (j *writeJob) run(x *txStatements) (err error) {
	if err := j.ctx.Err(); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the write panicked: %v", r)
		}
	}()
	if err := j.write(x); err != nil {
		return err
	}
	for _, e := range j.events {
		res, err := x.ExecContext(j.ctx, `INSERT INTO events (id, kind, at, interaction_id, message_id) VALUES (?,?,?,?,?)`,
			e.ID, e.Kind, millis(e.At), e.InteractionID, e.MessageID)
		if err != nil {
			return mapErr(err, "event "+e.ID)
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return err
		}
		e.Seq = seq
	}
	return nil
}
