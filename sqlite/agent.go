package sqlite

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"modernc.org/sqlite"
)

const agentColumns = `id, username, name, password_hash, role, presence, presence_since, auto_accept, capacity, plan_ids, created_at, version, holds, last_offer_at, missed_offers, recent, disabled, signature, call_endpoint`

// CreateAgent inserts a new agent.
func (s *Store) CreateAgent(ctx context.Context, a *workspace.Agent) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO agents (`+agentColumns+`, room, idle_since) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		a.ID, a.Username, a.Name, a.PasswordHash, a.Role, a.Presence, millis(a.PresenceSince),
		a.AutoAccept, jsonText(a.Capacity), jsonText(a.PlanIDs), millis(a.CreatedAt), a.Version,
		holdsOf(a), optMillis(a.LastOfferAt), a.MissedOffers, recentOf(a), a.Disabled, a.Signature, a.CallEndpoint, roomOf(a), idleOf(a))
	return mapErr(err, "agent "+a.Username)
}

// roomOf is the room column: the channels with a free slot, each between commas.
func roomOf(a *workspace.Agent) string {
	var b strings.Builder
	b.WriteByte(',')
	for _, ch := range a.RoomOn() {
		b.WriteString(string(ch))
		b.WriteByte(',')
	}
	return b.String()
}

// idleOf is the idle_since column: Agent.IdleSince in Unix milliseconds, as the times it is
// the later of are stored.
func idleOf(a *workspace.Agent) int64 {
	return max(millis(a.PresenceSince), optMillis(a.LastOfferAt))
}

// Agent returns the agent with the ID.
func (s *Store) Agent(ctx context.Context, id string) (*workspace.Agent, error) {
	return s.agentWhere(ctx, "id = ?", id)
}

// AgentByUsername returns the agent who signs in as username.
func (s *Store) AgentByUsername(ctx context.Context, username string) (*workspace.Agent, error) {
	return s.agentWhere(ctx, "username = ?", username)
}

func (s *Store) agentWhere(ctx context.Context, where string, arg any) (*workspace.Agent, error) {
	a, err := scanAgent(s.read.QueryRowContext(ctx, `SELECT `+agentColumns+` FROM agents WHERE `+where, arg))
	if err != nil {
		return nil, mapErr(err, "agent")
	}
	s.agents.put(a)
	return a, nil
}

// Agents returns every agent ordered by username.
func (s *Store) Agents(ctx context.Context) ([]*workspace.Agent, error) {
	return s.agentsListed(ctx, `SELECT id, version FROM agents ORDER BY username`)
}

// agentsWhere runs a query of agentColumns, scans every row and keeps what it decoded
// (agentCache).
func (s *Store) agentsWhere(ctx context.Context, query string, args ...any) ([]*workspace.Agent, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, err
		}
		s.agents.put(a)
		out = append(out, a)
	}
	return out, rows.Err()
}

// ReadyAgents returns the READY, enabled agents serving any of the plans, idle longest first
// (at most limit of them when limit > 0). The agents_ready index walks them in that order,
// and holds the columns the read tests and lists (readyQuery), so the read stops after
// limit entries that match and touches no row of the table; only the agents whose kept
// copy is older are then read (agentsListed).
func (s *Store) ReadyAgents(ctx context.Context, planIDs []string, ch workspace.Channel, limit int) ([]*workspace.Agent, error) {
	query, args := readyQuery(planIDs, ch, limit)
	return s.agentsListed(ctx, query, args...)
}

// SweptAgents lists the READY agents from the agents_ready index and the agents holding
// anything (the holds column is '[]' when empty, never null) from a scan of the table that
// decodes no row; then it decodes only the agents whose kept copy is older (agentsListed).
// The sweep judges the holds' ages itself: heldBefore is not needed here.
func (s *Store) SweptAgents(ctx context.Context, _ time.Time) ([]*workspace.Agent, error) {
	return s.agentsListed(ctx, sweptQuery)
}

// sweptQuery lists the IDs and versions of SweptAgents.
const sweptQuery = `SELECT id, version FROM agents WHERE presence = 'READY' AND disabled = 0
	UNION SELECT id, version FROM agents WHERE holds <> '[]'`

// readyQuery lists the IDs and versions of ReadyAgents.
func readyQuery(planIDs []string, ch workspace.Channel, limit int) (string, []any) {
	query := `SELECT id, version FROM agents WHERE presence = 'READY' AND disabled = 0`
	args := make([]any, 0, len(planIDs)+2)
	if ch != "" {
		query += ` AND (room = '' OR instr(room, ?) > 0)`
		args = append(args, ","+string(ch)+",")
	}
	if len(planIDs) > 0 {
		// plan_ids is a JSON array written by jsonText: an ID is in it exactly when its own
		// JSON text, quotes included, is (a string's text holds no bare quote). Matching
		// the text spares the index walk a json_each per row, which cost most of the read.
		query += ` AND (instr(plan_ids, ?) > 0` + strings.Repeat(` OR instr(plan_ids, ?) > 0`, len(planIDs)-1) + `)`
		for _, id := range planIDs {
			args = append(args, jsonText(id))
		}
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	return query + ` ORDER BY idle_since, id LIMIT CAST(? AS INTEGER)`, append(args, limit)
}

// UpdateAgent writes a if the stored version is still a.Version.
func (s *Store) UpdateAgent(ctx context.Context, a *workspace.Agent) error {
	err := s.execGuarded(ctx, "agent "+a.Username, `UPDATE agents SET username=?, name=?, password_hash=?, role=?, presence=?,
		presence_since=?, auto_accept=?, capacity=?, plan_ids=?, holds=?, last_offer_at=?, missed_offers=?,
		recent=?, disabled=?, signature=?, call_endpoint=?, created_at=?, room=?, idle_since=?, version=version+1 WHERE id=? AND version=?`,
		a.Username, a.Name, a.PasswordHash, a.Role, a.Presence, millis(a.PresenceSince), a.AutoAccept,
		jsonText(a.Capacity), jsonText(a.PlanIDs), holdsOf(a), optMillis(a.LastOfferAt), a.MissedOffers, recentOf(a), a.Disabled, a.Signature, a.CallEndpoint,
		millis(a.CreatedAt), roomOf(a), idleOf(a), a.ID, a.Version)
	if err == nil {
		a.Version++
	}
	return err
}

// SearchAgents returns up to limit agents (limit <= 0: all) whose username or name contains
// search ignoring case and whose username sorts after `after`, by username, and how many
// match the search in all.
func (s *Store) SearchAgents(ctx context.Context, search, after string, limit int) ([]*workspace.Agent, int, error) {
	const match = ` FROM agents WHERE (contains_fold(username, ?1) OR contains_fold(name, ?1))`
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*)`+match, search).Scan(&total); err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	page, err := s.agentsListed(ctx, `SELECT id, version`+match+` AND username > ?2 ORDER BY username LIMIT CAST(?3 AS INTEGER)`, search, after, limit)
	return page, total, err
}

func init() {
	// contains_fold(s, sub) reports whether s contains sub ignoring case, for every script
	// as MongoDB's case-insensitive regular expressions do; SQLite's lower() folds ASCII only.
	sqlite.MustRegisterDeterministicScalarFunction("contains_fold", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		s, _ := args[0].(string)
		sub, _ := args[1].(string)
		return strings.Contains(strings.ToLower(s), strings.ToLower(sub)), nil
	})
}

type scanner interface{ Scan(dest ...any) error }

func scanAgent(row scanner) (*workspace.Agent, error) {
	var a workspace.Agent
	var presenceSince, created, lastOffer int64
	var capacity, plans, holds, recent string
	if err := row.Scan(&a.ID, &a.Username, &a.Name, &a.PasswordHash, &a.Role, &a.Presence, &presenceSince,
		&a.AutoAccept, &capacity, &plans, &created, &a.Version, &holds, &lastOffer, &a.MissedOffers, &recent, &a.Disabled, &a.Signature, &a.CallEndpoint); err != nil {
		return nil, err
	}
	a.PresenceSince, a.CreatedAt = fromMillis(presenceSince), fromMillis(created)
	a.LastOfferAt = fromOptMillis(lastOffer)
	if err := json.Unmarshal([]byte(capacity), &a.Capacity); err != nil {
		return nil, err
	}
	var hs []holdJSON
	if err := json.Unmarshal([]byte(holds), &hs); err != nil {
		return nil, err
	}
	for _, h := range hs {
		a.Holds = append(a.Holds, workspace.Hold{InteractionID: h.InteractionID, Channel: h.Channel, Since: msTime(h.Since)})
	}
	var ps []peerJSON
	if err := json.Unmarshal([]byte(recent), &ps); err != nil {
		return nil, err
	}
	for _, p := range ps {
		a.Recent = append(a.Recent, workspace.Peer{AgentID: p.AgentID, At: msTime(p.At)})
	}
	return &a, json.Unmarshal([]byte(plans), &a.PlanIDs)
}

// holdJSON is one hold in the holds column. Its JSON names are those the domain's Hold had
// when the column was introduced, so rows written from it read the same.
type holdJSON struct {
	InteractionID string            `json:"InteractionID"`
	Channel       workspace.Channel `json:"Channel"`
	Since         time.Time         `json:"Since"`
}

// peerJSON is one recently contacted agent in the recent column, named as holdJSON is.
type peerJSON struct {
	AgentID string    `json:"AgentID"`
	At      time.Time `json:"At"`
}

// holdsOf is the agent's holds as JSON, never null.
func holdsOf(a *workspace.Agent) string {
	hs := []holdJSON{}
	for _, h := range a.Holds {
		hs = append(hs, holdJSON{InteractionID: h.InteractionID, Channel: h.Channel, Since: h.Since})
	}
	return jsonText(hs)
}

// recentOf is the agent's recent peers as JSON, never null.
func recentOf(a *workspace.Agent) string {
	ps := []peerJSON{}
	for _, p := range a.Recent {
		ps = append(ps, peerJSON{AgentID: p.AgentID, At: p.At})
	}
	return jsonText(ps)
}
