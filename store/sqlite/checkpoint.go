package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// checkpointer copies the WAL into the database file on its own
// connection, so that a writer's commit does not wait for it (SQLite's
// automatic checkpoint runs inside the commit that crosses the WAL limit,
// which puts it on the chain of writes). A passive checkpoint runs
// alongside readers and writers and never blocks them. Durability is
// unchanged: a commit is in the WAL before the checkpoint reads it, and the
// checkpoint syncs the WAL before copying.
type checkpointer struct {
	db   *sql.DB
	dir  string
	wake chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex // guards closed and sends on wake
	closed bool
	once   sync.Once
	err    error // of closing db
}

func startCheckpointer(db *sql.DB, dir string) *checkpointer {
	c := &checkpointer{db: db, dir: dir, wake: make(chan struct{}, 1)}
	c.wg.Add(1)
	go c.run()
	return c
}

// committed tells the checkpointer that a write transaction committed.
// Wakes that arrive while a checkpoint runs fold into one.
func (c *checkpointer) committed() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer c.wg.Done()
	for range c.wake {
		var busy, log, done int64
		err := c.db.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done)
		if err != nil {
			slog.Warn("WAL checkpoint failed; the next commit tries again", "collection", c.dir, "err", err)
		}
		// Commits that arrive meanwhile fold into the next checkpoint: a
		// checkpoint syncs the WAL, and one per small document was a tenth
		// of the CPU of ingesting a folder of abstracts.
		time.Sleep(checkpointPause)
	}
}

// checkpointPause is the least time between two checkpoints.
const checkpointPause = 20 * time.Millisecond

// close runs the checkpoint a commit asked for, if any, and stops the
// checkpointer. Later calls return the first one's result.
func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		close(c.wake)
		c.mu.Unlock()
		c.wg.Wait()
		c.err = c.db.Close()
	})
	return c.err
}
