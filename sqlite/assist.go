package sqlite

import (
	"context"

	"github.com/agentdesk/agentdesk/workspace"
)

// AddAssistExample stores one of Agent Assist's examples; a taken ID is CONFLICT.
// Every completion with a disposition stores one: it joins the group commit (commit.go)
// rather than taking the writer's connection for a commit of its own.
func (s *Store) AddAssistExample(ctx context.Context, e *workspace.AssistExample) error {
	return s.inTx(ctx, nil, func(x execer) error { return insertAssistExample(ctx, x, e, false) })
}

// insertAssistExample inserts e; a taken ID is CONFLICT, or, when repeat is set, leaves the
// stored example as it was (Interaction.Learnt).
func insertAssistExample(ctx context.Context, x execer, e *workspace.AssistExample, repeat bool) error {
	verb := `INSERT`
	if repeat {
		verb = `INSERT OR IGNORE`
	}
	_, err := x.ExecContext(ctx, verb+` INTO assist_examples (id, plan_id, code, text, at) VALUES (?,?,?,?,?)`,
		e.ID, e.PlanID, e.Code, e.Text, millis(e.At))
	return mapErr(err, "assist example "+e.ID)
}

// AssistExamples returns up to limit of a plan's examples after the given ID, in ID order.
func (s *Store) AssistExamples(ctx context.Context, planID, after string, limit int) ([]*workspace.AssistExample, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, plan_id, code, text, at FROM assist_examples
		WHERE plan_id = ? AND id > ? ORDER BY id LIMIT CAST(? AS INTEGER)`, planID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.AssistExample
	for rows.Next() {
		var e workspace.AssistExample
		var at int64
		if err := rows.Scan(&e.ID, &e.PlanID, &e.Code, &e.Text, &at); err != nil {
			return nil, err
		}
		e.At = fromMillis(at)
		out = append(out, &e)
	}
	return out, rows.Err()
}
