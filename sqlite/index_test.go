package sqlite

import (
	"strings"
	"testing"
)

// TestIndexedReads checks that the reads polled often are served by their partial indexes,
// without sorting: the outbox reads due messages every second, inbound webhooks look up
// threads and provider IDs.
func TestIndexedReads(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		query, index string
		args         []any
	}{
		{dueQuery, "messages_due", []any{0, 10}},
		{externalQuery, "messages_external", []any{"x"}},
		{threadQuery, "interactions_thread", []any{"x"}},
	} {
		rows, err := s.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, "USING INDEX "+c.index) || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("%s\nplan: %s\nwant a search of %s without a sort", c.query, got, c.index)
		}
	}
}
