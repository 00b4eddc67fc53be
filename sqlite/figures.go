package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// liveFiguresQuery counts live interactions by state and plan with the earliest queued_at
// of each group (the caller keeps the QUEUED group's), from the covering index
// interactions_queue.
const liveFiguresQuery = `SELECT plan_id, state, COUNT(*), MIN(queued_at) FROM interactions
	WHERE state <> 'COMPLETED' GROUP BY state, plan_id`

// presenceFiguresQuery counts the enabled agents of each plan by presence.
const presenceFiguresQuery = `SELECT plans.value, agents.presence, COUNT(DISTINCT agents.id)
	FROM agents, json_each(agents.plan_ids) AS plans WHERE agents.disabled = 0 AND plans.value IS NOT NULL
	GROUP BY plans.value, agents.presence`

// completedFiguresQuery counts, per plan, the interactions completed at or after ?1 and
// picks the lower middle of their whole handling seconds. They are in history (read by
// completed_at through history_completed) or, until an archive moves them, COMPLETED live
// records; one caught between an archive's two writes is in both and counts once.
const completedFiguresQuery = `WITH done AS MATERIALIZED (
		SELECT plan_id, accepted_at, completed_at FROM history WHERE completed_at >= ?1
		UNION ALL
		SELECT plan_id, accepted_at, completed_at FROM interactions AS live
		WHERE state = 'COMPLETED' AND completed_at >= ?1
			AND NOT EXISTS (SELECT 1 FROM history WHERE history.id = live.id)
	),
	handled AS (
		SELECT plan_id, (completed_at - accepted_at) / 1000 AS seconds,
			ROW_NUMBER() OVER (PARTITION BY plan_id ORDER BY (completed_at - accepted_at) / 1000) AS n,
			COUNT(*) OVER (PARTITION BY plan_id) AS accepted
		FROM done WHERE accepted_at > 0
	)
	SELECT counts.plan_id, counts.total, middle.seconds
	FROM (SELECT plan_id, COUNT(*) AS total FROM done GROUP BY plan_id) AS counts
	LEFT JOIN (SELECT plan_id, seconds FROM handled WHERE n = (accepted + 1) / 2) AS middle
		ON middle.plan_id = counts.plan_id`

// QueueFigures counts each plan's live interactions, agents and today's completions with
// three aggregate queries; none reads a completion from before completedSince.
func (s *Store) QueueFigures(ctx context.Context, completedSince time.Time) (map[string]*workspace.PlanFigures, error) {
	figures := map[string]*workspace.PlanFigures{}
	plan := func(id string) *workspace.PlanFigures {
		f := figures[id]
		if f == nil {
			f = &workspace.PlanFigures{States: map[workspace.InteractionState]int{}, Presence: map[workspace.Presence]int{}}
			figures[id] = f
		}
		return f
	}
	err := s.eachRow(ctx, liveFiguresQuery, nil, func(rows *sql.Rows) error {
		var id string
		var state workspace.InteractionState
		var n int
		var oldest int64
		if err := rows.Scan(&id, &state, &n, &oldest); err != nil {
			return err
		}
		f := plan(id)
		f.States[state] = n
		if state == workspace.Queued {
			at := fromMillis(oldest)
			f.OldestQueuedAt = &at
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.eachRow(ctx, presenceFiguresQuery, nil, func(rows *sql.Rows) error {
		var id string
		var presence workspace.Presence
		var n int
		if err := rows.Scan(&id, &presence, &n); err != nil {
			return err
		}
		plan(id).Presence[presence] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.eachRow(ctx, completedFiguresQuery, []any{millis(completedSince)}, func(rows *sql.Rows) error {
		var id string
		var n int
		var median sql.NullInt64
		if err := rows.Scan(&id, &n, &median); err != nil {
			return err
		}
		f := plan(id)
		f.Completed = n
		if median.Valid {
			m := int(median.Int64)
			f.MedianHandleSeconds = &m
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return figures, nil
}

// eachRow runs a read and calls scan for each row.
func (s *Store) eachRow(ctx context.Context, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
