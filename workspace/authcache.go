package workspace

import (
	"context"
	"strings"
	"sync"
	"time"
)

// The session cache (issue 14 §3): every request authenticates, and a signed-in agent's
// request read the session and the agent from the store each time. A node now keeps what it
// read, per session, for at most sessionCacheTTL, and drops it the moment an event says it
// changed: a revocation of the session or of all the agent's sessions (RevokedEvent), or a
// change of the agent that the desk or the admin screens show (AgentEvent: presence, load,
// plans, role, disabled). An agent's change carries the record as written, which replaces the
// kept one (follow), unless it disables the agent, which drops their sessions. Both kinds of event reach every node over the bus, so a change on
// one node empties the others' caches as soon as the bus delivers it; the TTL bounds what a
// missed event could leave behind. A read that an event overtook is not kept: each entry is
// kept only if no event about it arrived while it was being read.

// sessionCacheTTL bounds how long a session and its agent are served from memory.
const sessionCacheTTL = 2 * time.Second

// sessionCacheMax bounds the sessions one node keeps.
const sessionCacheMax = 20_000

type sessionCache struct {
	once sync.Once

	mu      sync.Mutex
	entries map[string]*cachedSession      // by token hash
	byTopic map[string]string              // SessionTopic → token hash
	byAgent map[string]map[string]struct{} // agent ID → token hashes
	// revoked counts revocations seen; agents counts, per agent, the changes seen. A read
	// keeps its result only if neither moved while it ran.
	revoked uint64
	agents  map[string]uint64
	// now is the service's clock; sweeping, that a sweep is due (see sweep).
	now      func() time.Time
	sweeping bool
}

type cachedSession struct {
	sess  *Session
	agent Agent
	at    time.Time
}

// sessionCacheReady starts watching the hub for what empties the cache; false when there is no hub to watch.
func (s *Service) sessionCacheReady() bool {
	if s.Hub == nil {
		return false
	}
	c := &s.sessions
	c.once.Do(func() {
		c.entries, c.byTopic, c.agents = map[string]*cachedSession{}, map[string]string{}, map[string]uint64{}
		c.byAgent = map[string]map[string]struct{}{}
		c.now = s.Clock.Now
		s.Hub.WatchAll(context.Background(), c.observe)
	})
	return true
}

// observe drops what an event says has changed.
func (c *sessionCache) observe(e Event) {
	switch p := e.Payload.(type) {
	case *RevokedEvent:
		c.mu.Lock()
		defer c.mu.Unlock()
		c.revoked++
		if hash, ok := c.byTopic[e.Topic]; ok {
			c.drop(hash)
		} else if agentID, ok := strings.CutPrefix(e.Topic, accessTopicPrefix); ok {
			c.dropAgent(agentID)
		}
	case *AgentEvent:
		if p.Agent == nil {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.agents[p.Agent.ID]++
		if p.Agent.Disabled {
			c.dropAgent(p.Agent.ID)
			return
		}
		c.follow(p.Agent)
	}
}

// drop forgets one session; c.mu is held.
func (c *sessionCache) drop(hash string) {
	if x := c.entries[hash]; x != nil {
		if set := c.byAgent[x.agent.ID]; set != nil {
			delete(set, hash)
			if len(set) == 0 {
				delete(c.byAgent, x.agent.ID)
			}
		}
	}
	delete(c.entries, hash)
	delete(c.byTopic, SessionTopic(hash))
}

// follow keeps the agent as an event carries it, written, for the agent's sessions that hold
// an older version: an agent's every offer and completion moves their holds, and dropping the
// sessions each time made the next request read the session and the agent again (issue 14).
// The event's record is the store's, without the password hash, which no principal needs;
// one older than the kept version (events of two nodes cross on the bus) changes nothing.
// c.mu is held.
func (c *sessionCache) follow(a *Agent) {
	var written *Agent
	for hash := range c.byAgent[a.ID] {
		if x := c.entries[hash]; x != nil && x.agent.Version < a.Version {
			if written == nil {
				written = a.Clone()
				written.PasswordHash = nil
			}
			x.agent = *written.Clone()
		}
	}
}

// dropAgent forgets every session of an agent; c.mu is held.
func (c *sessionCache) dropAgent(agentID string) {
	for hash := range c.byAgent[agentID] {
		c.drop(hash)
	}
}

// get returns the session and a copy of its agent as kept, if fresh; the copy shares nothing
// with the kept one.
func (c *sessionCache) get(hash string, now time.Time) (*Session, *Agent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	x := c.entries[hash]
	if x == nil || now.Sub(x.at) >= sessionCacheTTL || now.Before(x.at) {
		return nil, nil, false
	}
	return x.sess, x.agent.Clone(), true
}

// marks are the counters a read starts from.
func (c *sessionCache) revocations() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.revoked
}

func (c *sessionCache) agentChanges(agentID string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.agents[agentID]
}

// put keeps a read unless an event about it arrived since the counters were taken.
func (c *sessionCache) put(hash string, sess *Session, a *Agent, revoked, changes uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.revoked != revoked || c.agents[a.ID] != changes {
		return
	}
	if len(c.entries) >= sessionCacheMax {
		for h, x := range c.entries { // make room: drop what has expired, else anything
			if now.Sub(x.at) >= sessionCacheTTL || len(c.entries) >= sessionCacheMax {
				c.drop(h)
			}
		}
	}
	c.entries[hash] = &cachedSession{sess: sess, agent: *a.Clone(), at: now}
	c.byTopic[SessionTopic(hash)] = hash
	if c.byAgent[a.ID] == nil {
		c.byAgent[a.ID] = map[string]struct{}{}
	}
	c.byAgent[a.ID][hash] = struct{}{}
	if !c.sweeping {
		c.sweeping = true
		time.AfterFunc(sessionCacheTTL, c.sweep)
	}
}

// sweep drops the entries that have expired, every sessionCacheTTL while any is kept: an
// entry serves requests for sessionCacheTTL only, and every connected agent's session
// would otherwise stay in memory as long as the node runs (issue 14 §4).
func (c *sessionCache) sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for hash, x := range c.entries {
		if now.Sub(x.at) >= sessionCacheTTL || now.Before(x.at) {
			c.drop(hash)
		}
	}
	if len(c.entries) == 0 {
		c.sweeping = false
		return
	}
	time.AfterFunc(sessionCacheTTL, c.sweep)
}
