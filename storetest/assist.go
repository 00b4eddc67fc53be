package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// testAssistExamples: Agent Assist's examples are kept once per ID and read per plan, in ID
// order, page by page after a cursor.
func testAssistExamples(t *testing.T, s workspace.Store) {
	add := func(id, plan string) *workspace.AssistExample {
		e := &workspace.AssistExample{ID: id, PlanID: plan, Code: "C_" + id, Text: "text of " + id, At: now().Truncate(time.Millisecond)}
		must(t, s.AddAssistExample(ctx(t), e))
		return e
	}
	for _, id := range []string{"03", "01", "05", "02", "04"} {
		add(id, "P1")
	}
	add("00", "P2")
	add("06", "P2")
	e := &workspace.AssistExample{ID: "01", PlanID: "P1", Code: "OTHER", Text: "again", At: now()}
	if err := s.AddAssistExample(ctx(t), e); workspace.ErrorCode(err) != workspace.ECONFLICT {
		t.Fatalf("repeated example: %v, want CONFLICT", err)
	}
	ids := func(plan, after string, limit int) string {
		t.Helper()
		page, err := s.AssistExamples(ctx(t), plan, after, limit)
		must(t, err)
		var out []string
		for _, e := range page {
			out = append(out, e.ID)
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		plan, after string
		limit       int
		want        string
	}{
		{"P1", "", 10, "01 02 03 04 05"},
		{"P1", "", 2, "01 02"},
		{"P1", "02", 2, "03 04"},
		{"P1", "05", 2, ""},
		{"P2", "", 10, "00 06"},
		{"P3", "", 10, ""},
	} {
		if got := ids(c.plan, c.after, c.limit); got != c.want {
			t.Errorf("AssistExamples(%s, %q, %d) = [%s], want [%s]", c.plan, c.after, c.limit, got, c.want)
		}
	}
	page, err := s.AssistExamples(ctx(t), "P1", "", 1)
	must(t, err)
	if got := fmt.Sprint(page[0].Code, page[0].Text); got != "C_01text of 01" {
		t.Errorf("first example = %s", got)
	}
}
