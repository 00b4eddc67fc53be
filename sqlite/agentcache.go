package sqlite

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/agentdesk/agentdesk/workspace"
)

// agentCache keeps agents as they were decoded, each at its version. Routing reads the few
// READY agents idle longest for every arrival, and the sweep every agent every two seconds:
// decoding their JSON columns cost most of those reads (issue 14's offer trace: 70 µs of
// an 8-agent read). A list now reads only IDs and versions, and decodes only the agents
// whose kept copy is older.
//
// Nothing invalidates it, and nothing needs to: every write of an agent moves its version
// (guarded, version = version+1), so a version names one content for good, whichever
// process wrote it. A read that finds a newer version than the kept one reads the row.
type agentCache struct {
	mu sync.Mutex
	by map[string]*workspace.Agent
}

// agentCacheMax bounds the agents kept; past it, a new one displaces an arbitrary one.
const agentCacheMax = 20000

// get returns a copy of the agent kept at version, or nil.
func (c *agentCache) get(id string, version int64) *workspace.Agent {
	c.mu.Lock()
	a := c.by[id]
	c.mu.Unlock()
	if a == nil || a.Version != version {
		return nil
	}
	return a.Clone()
}

// put keeps a copy of a, unless a later version is kept.
func (c *agentCache) put(a *workspace.Agent) {
	kept := a.Clone()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.by == nil {
		c.by = map[string]*workspace.Agent{}
	}
	old, ok := c.by[a.ID]
	if ok && old.Version > a.Version {
		return
	}
	if !ok && len(c.by) >= agentCacheMax {
		for other := range c.by {
			delete(c.by, other)
			break
		}
	}
	c.by[a.ID] = kept
}

// agentsListed returns the agents a query of `id, version` lists, in its order: the kept
// copies of those at the listed version, and the others read and decoded in one more query
// (at the version they have by then; one deleted meanwhile is left out).
func (s *Store) agentsListed(ctx context.Context, query string, args ...any) ([]*workspace.Agent, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []*workspace.Agent
	var missing []any
	at := map[string]int{} // a missing agent's place in out
	for rows.Next() {
		var id string
		var version int64
		if err := rows.Scan(&id, &version); err != nil {
			rows.Close()
			return nil, err
		}
		a := s.agents.get(id, version)
		if a == nil {
			at[id] = len(out)
			missing = append(missing, id)
		}
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(missing) == 0 {
		return out, err
	}
	for chunk := range slices.Chunk(missing, 500) {
		read, err := s.agentsWhere(ctx, `SELECT `+agentColumns+` FROM agents WHERE id IN (?`+strings.Repeat(`,?`, len(chunk)-1)+`)`, chunk...)
		if err != nil {
			return nil, err
		}
		for _, a := range read {
			out[at[a.ID]] = a
		}
	}
	return slices.DeleteFunc(out, func(a *workspace.Agent) bool { return a == nil }), nil
}
