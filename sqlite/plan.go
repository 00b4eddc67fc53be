package sqlite

import (
	"context"
	"encoding/json"
	"slices"
	"sync"

	"github.com/agentdesk/agentdesk/workspace"
)

const planColumns = `id, name, channels, disposition_codes, disposition_required, wrap_seconds, offer_timeout_seconds, auto_accept, created_at, version, auto_park_seconds, parked_timeout_seconds, post_parking_plan_id, disposition_assist, summary_assist`

// CreatePlan inserts a new plan.
func (s *Store) CreatePlan(ctx context.Context, p *workspace.Plan) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO plans (`+planColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		p.ID, p.Name, jsonText(p.Channels), codesOf(p), p.DispositionRequired, p.WrapSeconds,
		p.OfferTimeoutSeconds, p.AutoAccept, millis(p.CreatedAt), p.Version,
		p.AutoParkSeconds, p.ParkedTimeoutSeconds, p.PostParkingPlanID, p.DispositionAssist, p.SummaryAssist)
	s.plans.changed()
	return mapErr(err, "plan "+p.Name)
}

// Plan returns the plan with the ID.
func (s *Store) Plan(ctx context.Context, id string) (*workspace.Plan, error) {
	all, err := s.plans.get(ctx, s.readPlans)
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		if p.ID == id {
			return clonePlan(p), nil
		}
	}
	return nil, workspace.Errorf(workspace.ENOTFOUND, "plan not found")
}

// Plans returns every plan ordered by name.
func (s *Store) Plans(ctx context.Context) ([]*workspace.Plan, error) {
	all, err := s.plans.get(ctx, s.readPlans)
	if err != nil {
		return nil, err
	}
	out := make([]*workspace.Plan, len(all))
	for i, p := range all {
		out[i] = clonePlan(p)
	}
	return out, nil
}

// readPlans reads every plan, ordered by name.
func (s *Store) readPlans(ctx context.Context) ([]*workspace.Plan, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+planColumns+` FROM plans ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.Plan
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// planCache keeps every plan in memory. Plans are read on every arrival, offer and
// completion (twice for a webchat start) and change a few times a day, and this store is
// the only writer of its file (one process: the embedded store does not scale out), so its
// own writes are all that can make the cache stale: each one empties it once it has
// committed. A read that began before such a write does not refill the cache with what it
// read (gen).
type planCache struct {
	mu  sync.Mutex
	gen uint64
	all []*workspace.Plan // nil: not read since the last change
}

// get returns the cached plans, reading them with read when the cache is empty. The plans
// returned are shared: callers copy them.
func (c *planCache) get(ctx context.Context, read func(context.Context) ([]*workspace.Plan, error)) ([]*workspace.Plan, error) {
	c.mu.Lock()
	all, gen := c.all, c.gen
	c.mu.Unlock()
	if all != nil {
		return all, nil
	}
	all, err := read(ctx)
	if err != nil {
		return nil, err
	}
	if all == nil {
		all = []*workspace.Plan{}
	}
	c.mu.Lock()
	if c.gen == gen {
		c.all = all
	}
	c.mu.Unlock()
	return all, nil
}

// changed empties the cache after a write of a plan (whether or not it succeeded).
func (c *planCache) changed() {
	c.mu.Lock()
	c.gen++
	c.all = nil
	c.mu.Unlock()
}

// clonePlan is a copy of p that shares nothing with it.
func clonePlan(p *workspace.Plan) *workspace.Plan {
	q := *p
	q.Channels = slices.Clone(p.Channels)
	q.DispositionCodes = slices.Clone(p.DispositionCodes)
	return &q
}

// UpdatePlan writes p if the stored version is still p.Version.
func (s *Store) UpdatePlan(ctx context.Context, p *workspace.Plan) error {
	err := s.execGuarded(ctx, "plan "+p.Name, `UPDATE plans SET name=?, channels=?, disposition_codes=?, disposition_required=?,
		wrap_seconds=?, offer_timeout_seconds=?, auto_accept=?, auto_park_seconds=?, parked_timeout_seconds=?,
		post_parking_plan_id=?, disposition_assist=?, summary_assist=?, created_at=?, version=version+1 WHERE id=? AND version=?`,
		p.Name, jsonText(p.Channels), codesOf(p), p.DispositionRequired, p.WrapSeconds, p.OfferTimeoutSeconds,
		p.AutoAccept, p.AutoParkSeconds, p.ParkedTimeoutSeconds, p.PostParkingPlanID, p.DispositionAssist, p.SummaryAssist,
		millis(p.CreatedAt), p.ID, p.Version)
	s.plans.changed()
	if err == nil {
		p.Version++
	}
	return err
}

func scanPlan(row scanner) (*workspace.Plan, error) {
	var p workspace.Plan
	var channels, codes string
	var created int64
	if err := row.Scan(&p.ID, &p.Name, &channels, &codes, &p.DispositionRequired, &p.WrapSeconds,
		&p.OfferTimeoutSeconds, &p.AutoAccept, &created, &p.Version,
		&p.AutoParkSeconds, &p.ParkedTimeoutSeconds, &p.PostParkingPlanID, &p.DispositionAssist, &p.SummaryAssist); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMillis(created)
	if err := json.Unmarshal([]byte(channels), &p.Channels); err != nil {
		return nil, err
	}
	var cs []dispositionJSON
	if err := json.Unmarshal([]byte(codes), &cs); err != nil {
		return nil, err
	}
	for _, c := range cs {
		p.DispositionCodes = append(p.DispositionCodes, workspace.DispositionCode{Code: c.Code, Label: c.Label})
	}
	return &p, nil
}

// dispositionJSON is one code in the disposition_codes column. Its JSON names are those the
// domain's DispositionCode had when the column was introduced, so rows written from it read
// the same.
type dispositionJSON struct {
	Code  string `json:"Code"`
	Label string `json:"Label"`
}

// codesOf is the plan's disposition codes as JSON, never null.
func codesOf(p *workspace.Plan) string {
	cs := []dispositionJSON{}
	for _, c := range p.DispositionCodes {
		cs = append(cs, dispositionJSON{Code: c.Code, Label: c.Label})
	}
	return jsonText(cs)
}
