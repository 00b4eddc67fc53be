package sqlite

import "sync"

// liveCache keeps the stored doc of live interactions, so that the steps of a conversation
// do not each read its record back (issue 14: an agent's steps and a contact's messages read
// the interaction about ten times per webchat, a tenth of the server's CPU per cycle).
//
// It is correct because this store is the only writer of its interactions table (the
// embedded store is one process) and every write of a live row goes through a transaction
// (inTx) whose outcome the caller that committed it applies here, in commit order and before
// the writer is handed on (writeJob.done): once a write has returned, every read sees it.
// Between a commit and its application the table is ahead of the copies, and a reader that
// listed the table (LiveInteractions) must not then read an older record by ID: meanwhile
// the copies are not served, and reads go to the table (the generation is odd). A read that
// a commit overtook does not keep what it read (the generation moved), and a write that
// failed or rolled back applies nothing.
type liveCache struct {
	mu sync.Mutex
	// gen counts commits: odd while one is being applied, and it moves with each write applied.
	gen  uint64
	docs map[string]string
	// transcripts are their messages (liveTranscripts).
	transcripts liveTranscripts
}

// liveCacheMax bounds the interactions kept; past it, a new one displaces an arbitrary one.
const liveCacheMax = 20000

// get returns the kept doc of a live interaction.
func (c *liveCache) get(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen%2 == 1 {
		return "", false
	}
	doc, ok := c.docs[id]
	return doc, ok
}

// generation is the count of commits applied, taken before a read of the table.
func (c *liveCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// keep stores what a read found, unless a commit was applied since the read began.
func (c *liveCache) keep(id, doc string, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen && gen%2 == 0 {
		c.put(id, doc)
	}
}

// committed applies a committed write of a live interaction: its new doc, or "" when the
// live row is gone (completed, archived) or changed in a way only the table knows (a
// message moved its updatedAt).
func (c *liveCache) committed(id, doc string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen += 2
	if doc == "" {
		delete(c.docs, id)
		c.transcripts.drop(id)
		return
	}
	c.put(id, doc)
}

// committing opens the window between a commit and its application: the copies are not
// served, and nothing read is kept.
func (c *liveCache) committing() {
	c.mu.Lock()
	c.gen++
	c.mu.Unlock()
}

// settled closes it, once the commit's writes are applied.
func (c *liveCache) settled() {
	c.mu.Lock()
	c.gen++
	c.mu.Unlock()
}

// put keeps doc; c.mu is held.
func (c *liveCache) put(id, doc string) {
	if c.docs == nil {
		c.docs = map[string]string{}
	}
	putBounded(c.docs, id, doc)
}

// putBounded sets m[id], first displacing an arbitrary entry when a new id would take m past
// liveCacheMax.
func putBounded[V any](m map[string]V, id string, v V) {
	if _, ok := m[id]; !ok && len(m) >= liveCacheMax {
		for other := range m {
			delete(m, other)
			break
		}
	}
	m[id] = v
}
