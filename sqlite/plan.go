package sqlite

import (
	"context"
	"encoding/json"

	"github.com/agentdesk/agentdesk/workspace"
)

const planColumns = `id, name, channels, disposition_codes, disposition_required, wrap_seconds, offer_timeout_seconds, auto_accept, created_at, version, auto_park_seconds, parked_timeout_seconds, post_parking_plan_id, disposition_assist, summary_assist`

// CreatePlan inserts a new plan.
func (s *Store) CreatePlan(ctx context.Context, p *workspace.Plan) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO plans (`+planColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		p.ID, p.Name, jsonText(p.Channels), codesOf(p), p.DispositionRequired, p.WrapSeconds,
		p.OfferTimeoutSeconds, p.AutoAccept, millis(p.CreatedAt), p.Version,
		p.AutoParkSeconds, p.ParkedTimeoutSeconds, p.PostParkingPlanID, p.DispositionAssist, p.SummaryAssist)
	return mapErr(err, "plan "+p.Name)
}

// Plan returns the plan with the ID.
func (s *Store) Plan(ctx context.Context, id string) (*workspace.Plan, error) {
	p, err := scanPlan(s.read.QueryRowContext(ctx, `SELECT `+planColumns+` FROM plans WHERE id = ?`, id))
	return p, mapErr(err, "plan")
}

// Plans returns every plan ordered by name.
func (s *Store) Plans(ctx context.Context) ([]*workspace.Plan, error) {
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

// UpdatePlan writes p if the stored version is still p.Version.
func (s *Store) UpdatePlan(ctx context.Context, p *workspace.Plan) error {
	err := s.execGuarded(ctx, "plan "+p.Name, `UPDATE plans SET name=?, channels=?, disposition_codes=?, disposition_required=?,
		wrap_seconds=?, offer_timeout_seconds=?, auto_accept=?, auto_park_seconds=?, parked_timeout_seconds=?,
		post_parking_plan_id=?, disposition_assist=?, summary_assist=?, created_at=?, version=version+1 WHERE id=? AND version=?`,
		p.Name, jsonText(p.Channels), codesOf(p), p.DispositionRequired, p.WrapSeconds, p.OfferTimeoutSeconds,
		p.AutoAccept, p.AutoParkSeconds, p.ParkedTimeoutSeconds, p.PostParkingPlanID, p.DispositionAssist, p.SummaryAssist,
		millis(p.CreatedAt), p.ID, p.Version)
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
