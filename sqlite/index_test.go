package sqlite

import (
	"strings"
	"testing"
)

// TestIndexedReads checks that the reads polled often are served by their partial indexes,
// without sorting: the outbox reads due messages every second, inbound webhooks look up
// threads and provider IDs, transcript pages read their messages' files and the sweeper
// the expired drafts.
func TestIndexedReads(t *testing.T) {
	s := openTemp(t)
	for _, c := range []struct {
		query, index string
		args         []any
	}{
		{dueQuery, "messages_due", []any{0, 10}},
		{pendingQuery, "messages_interaction", []any{"x", 10}},
		{externalQuery, "messages_external", []any{"x"}},
		{threadQuery, "interactions_thread", []any{"x"}},
		{messageAttachmentsQuery, "attachments_message", []any{`["m-1","m-2"]`}},
		{expiredDraftsQuery, "attachments_drafts", []any{0, 10}},
	} {
		got := queryPlan(t, s, c.query, c.args...)
		if !strings.Contains(got, "USING INDEX "+c.index) || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("%s\nplan: %s\nwant a search of %s without a sort", c.query, got, c.index)
		}
	}
}

// TestQueueFiguresIndexed checks that the live view's aggregates read the live interactions
// from a covering index and history only from completedSince on, so earlier days cost
// nothing; they group and sort only what they read.
func TestQueueFiguresIndexed(t *testing.T) {
	s := openTemp(t)
	for query, want := range map[string][]string{
		liveFiguresQuery: {"SCAN interactions USING COVERING INDEX interactions_queue"},
		completedFiguresQuery: {
			"SEARCH history USING COVERING INDEX history_completed (completed_at>?)",
			"SEARCH live USING INDEX interactions_queue (state=?)",
		},
	} {
		got := queryPlan(t, s, query, 0)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s\nplan: %s\nwant %s", query, got, w)
			}
		}
		if strings.Contains(got, "SCAN history") {
			t.Errorf("%s\nplan: %s\nreads all of history", query, got)
		}
	}
}

// queryPlan is SQLite's plan for query, its steps joined by "; ".
func queryPlan(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, err := s.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}
