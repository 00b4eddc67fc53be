package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// Checkpoints off the write path. In WAL mode a commit appends the pages it changed to the
// WAL, and a checkpoint copies them back into the database file and syncs both. SQLite's
// automatic checkpoint runs on the committing connection once the WAL passes 1,000 pages,
// inside the commit that crossed the mark: that write, and every write queued behind it on
// the one writer, waited for the copy and both fsyncs. With webchats cycling, that was every
// ninth cycle or so, and the commits' time on the writer fell by a third once it moved (issue
// 14's profile).
//
// So a goroutine of the store checkpoints on a connection of its own, PASSIVE: it blocks
// neither the writer nor the readers, and copies what no reader still needs. It runs after
// commits, at most every checkpointEvery, and sleeps while nothing is written. The writer
// keeps SQLite's automatic checkpoint at walLimit pages as a backstop: should the
// checkpointer fall behind, the WAL grows no further than that before the writer checkpoints
// as it did before.
type checkpointer struct {
	db    *sql.DB
	wake  chan struct{} // a commit happened; buffered, one signal pending at most
	stop  chan struct{}
	once  sync.Once // closes stop
	done  sync.WaitGroup
	every time.Duration

	mu sync.Mutex
	// passes counts the checkpoints made, last is what the latest reported; idle is set
	// while the checkpointer waits for a commit.
	passes int
	last   checkpointResult
	idle   bool
}

// checkpointResult is PRAGMA wal_checkpoint's answer: whether it was blocked, the WAL's
// frames, and how many of them are in the database file now.
type checkpointResult struct {
	busy, log, copied int
}

// checkpointEvery is the least time between two checkpoints; walLimit is the writer's own
// automatic checkpoint, in pages.
const (
	checkpointEvery = 100 * time.Millisecond
	walLimit        = 8192
)

func newCheckpointer(db *sql.DB, every time.Duration) *checkpointer {
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, wake: make(chan struct{}, 1), stop: make(chan struct{}), every: every}
	c.done.Add(1)
	go c.run()
	return c
}

// committed tells the checkpointer that the WAL grew.
func (c *checkpointer) committed() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer c.done.Done()
	pause := time.NewTimer(0)
	<-pause.C
	for {
		c.setIdle(true)
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
		c.setIdle(false)
		// Commits that arrive during the pause are copied by this pass.
		pause.Reset(c.every)
		select {
		case <-c.stop:
			pause.Stop()
			return
		case <-pause.C:
		}
		var r checkpointResult
		err := c.db.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&r.busy, &r.log, &r.copied)
		if err != nil {
			slog.Warn("sqlite: checkpointing the WAL", "err", err) // the writer's backstop checkpoints
			continue
		}
		c.mu.Lock()
		c.passes++
		c.last = r
		c.mu.Unlock()
	}
}

func (c *checkpointer) setIdle(idle bool) {
	c.mu.Lock()
	c.idle = idle
	c.mu.Unlock()
}

// Close stops the checkpointer and closes its connection; closing again does nothing more.
func (c *checkpointer) Close() error {
	c.once.Do(func() { close(c.stop) })
	c.done.Wait()
	return c.db.Close()
}

// committed runs the done of each write the batch committed (writeJob.done), then wakes the
// checkpointer.
func (s *Store) committed(batch []*writeJob) {
	for _, j := range batch {
		if j.err == nil && j.done != nil {
			j.done()
		}
	}
	if s.checkpoints != nil {
		s.checkpoints.committed()
	}
}
