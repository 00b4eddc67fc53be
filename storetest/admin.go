package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// testSearchAgents pages through a case-insensitive search of usernames and names.
func testSearchAgents(t *testing.T, s workspace.Store) {
	for username, name := range map[string]string{
		"amy": "Amy Ó Súilleabháin", "bob": "Robert Smith", "bobby": "Bobby Tables",
		"carol": "Carol Bobson", "Bert": "Bert BOBO", "dot": "Mr. X",
	} {
		a := newAgent(username)
		a.Name = name
		must(t, s.CreateAgent(ctx(t), a))
	}
	search := func(search, after string, limit int) string {
		t.Helper()
		page, total, err := s.SearchAgents(ctx(t), search, after, limit)
		must(t, err)
		var names []string
		for _, a := range page {
			names = append(names, a.Username)
		}
		return fmt.Sprintf("%v of %d", names, total)
	}
	for _, c := range []struct {
		search, after string
		limit         int
		want          string
	}{
		// Usernames sort bytewise, so Bert comes first; "bob" is in usernames and names.
		{"bob", "", 2, "[Bert bob] of 4"},
		{"BoB", "bob", 2, "[bobby carol] of 4"},
		{"bob", "carol", 2, "[] of 4"},
		{"bob", "bobby", 1, "[carol] of 4"},
		{"bob", "Bert", 10, "[bob bobby carol] of 4"},
		{"", "", 10, "[Bert amy bob bobby carol dot] of 6"},
		{"", "bobby", 2, "[carol dot] of 6"},
		// Case is ignored beyond ASCII; the search is a substring, not a pattern.
		{"ó SÚIL", "", 10, "[amy] of 1"},
		{"r.", "", 10, "[dot] of 1"},
		{"nobody", "", 10, "[] of 0"},
	} {
		if got := search(c.search, c.after, c.limit); got != c.want {
			t.Errorf("SearchAgents(%q, after %q, %d) = %s, want %s", c.search, c.after, c.limit, got, c.want)
		}
	}
	page, _, err := s.SearchAgents(ctx(t), "carol", "", 1)
	must(t, err)
	want, err := s.AgentByUsername(ctx(t), "carol")
	must(t, err)
	sameAgent(t, one(t, "SearchAgents", page, err), want)
}

// testAPIKeyList lists keys newest first and moves their last use forward only.
func testAPIKeyList(t *testing.T, s workspace.Store) {
	base := now()
	key := func(id string, age time.Duration) *workspace.APIKey {
		k := &workspace.APIKey{ID: id, KeyHash: "hash-" + id, Name: "Key " + id,
			Scopes: []workspace.Scope{workspace.ScopeRead}, CreatedAt: base.Add(-age)}
		must(t, s.CreateAPIKey(ctx(t), k))
		return k
	}
	key("id-b", 2*time.Hour)
	key("id-c", time.Hour)
	key("id-a", time.Hour) // same age as id-c: ID order
	key("id-d", 3*time.Hour)
	list := func() string {
		t.Helper()
		keys, err := s.APIKeys(ctx(t))
		must(t, err)
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		return fmt.Sprint(ids)
	}
	if got := list(); got != "[id-a id-c id-b id-d]" {
		t.Fatalf("APIKeys = %s, want newest first, then by ID: [id-a id-c id-b id-d]", got)
	}
	// The ID is a unique key, as the hash is.
	dup := &workspace.APIKey{ID: "id-a", KeyHash: "another hash", CreatedAt: base}
	wantCode(t, s.CreateAPIKey(ctx(t), dup), workspace.ECONFLICT)
	if got := list(); got != "[id-a id-c id-b id-d]" {
		t.Fatalf("APIKeys after a colliding create = %s", got)
	}

	lastUsed := func() time.Time {
		t.Helper()
		k, err := s.APIKey(ctx(t), "hash-id-b")
		must(t, err)
		if k.ID != "id-b" {
			t.Fatalf("key ID = %q, want id-b", k.ID)
		}
		return k.LastUsedAt
	}
	if got := lastUsed(); !got.IsZero() {
		t.Fatalf("a new key was last used at %v", got)
	}
	used := base.Add(-time.Minute)
	must(t, s.TouchAPIKey(ctx(t), "hash-id-b", used))
	if got := lastUsed(); !got.Equal(used) {
		t.Fatalf("LastUsedAt = %v, want %v", got, used)
	}
	must(t, s.TouchAPIKey(ctx(t), "hash-id-b", used.Add(-time.Hour))) // never back
	if got := lastUsed(); !got.Equal(used) {
		t.Fatalf("an earlier touch moved LastUsedAt to %v, want %v", got, used)
	}
	must(t, s.TouchAPIKey(ctx(t), "hash-id-b", used))
	must(t, s.TouchAPIKey(ctx(t), "hash-id-b", base))
	if got := lastUsed(); !got.Equal(base) {
		t.Fatalf("LastUsedAt = %v, want %v", got, base)
	}
	wantCode(t, s.TouchAPIKey(ctx(t), "nope", base), workspace.ENOTFOUND)
	keys, err := s.APIKeys(ctx(t))
	must(t, err)
	for _, k := range keys {
		if k.ID != "id-b" && !k.LastUsedAt.IsZero() {
			t.Fatalf("touching id-b touched %s too: %v", k.ID, k.LastUsedAt)
		}
	}
}

// testCannedResponses covers create, reads, the version guard and delete.
func testCannedResponses(t *testing.T, s workspace.Store) {
	base := now()
	add := func(id, title string) *workspace.CannedResponse {
		c := &workspace.CannedResponse{ID: id, Title: title, Text: "Text of " + title, PlanID: "plan-1",
			CreatedAt: base, UpdatedAt: base}
		must(t, s.CreateCannedResponse(ctx(t), c))
		return c
	}
	refund := add("cr-1", "Refund timeline")
	add("cr-3", "Greeting")
	add("cr-2", "Greeting")
	wantCode(t, s.CreateCannedResponse(ctx(t), &workspace.CannedResponse{ID: "cr-1", Title: "Other"}), workspace.ECONFLICT)
	titles := func() string {
		t.Helper()
		all, err := s.CannedResponses(ctx(t))
		must(t, err)
		var out []string
		for _, c := range all {
			out = append(out, c.Title+"/"+c.ID)
		}
		return strings.Join(out, ", ")
	}
	if got, want := titles(), "Greeting/cr-2, Greeting/cr-3, Refund timeline/cr-1"; got != want {
		t.Fatalf("CannedResponses = %s, want %s", got, want)
	}
	got, err := s.CannedResponse(ctx(t), "cr-1")
	must(t, err)
	sameFields(t, "CannedResponse", got, refund)
	_, err = s.CannedResponse(ctx(t), "cr-9")
	wantCode(t, err, workspace.ENOTFOUND)

	stale := *refund
	refund.Title, refund.Text, refund.PlanID, refund.UpdatedAt = "Alpha", "New text", "", base.Add(time.Minute)
	must(t, s.UpdateCannedResponse(ctx(t), refund))
	if refund.Version != stale.Version+1 {
		t.Fatalf("version after update = %d, want %d", refund.Version, stale.Version+1)
	}
	got, err = s.CannedResponse(ctx(t), "cr-1")
	must(t, err)
	sameFields(t, "CannedResponse after update", got, refund)
	stale.Title = "Stale"
	wantCode(t, s.UpdateCannedResponse(ctx(t), &stale), workspace.ECONFLICT)
	if stale.Version != refund.Version-1 {
		t.Fatalf("a refused update changed the caller's version to %d", stale.Version)
	}
	wantCode(t, s.UpdateCannedResponse(ctx(t), &workspace.CannedResponse{ID: "cr-9", Title: "Ghost"}), workspace.ECONFLICT)
	if got, want := titles(), "Alpha/cr-1, Greeting/cr-2, Greeting/cr-3"; got != want {
		t.Fatalf("CannedResponses after update = %s, want %s", got, want)
	}

	must(t, s.DeleteCannedResponse(ctx(t), "cr-2"))
	wantCode(t, s.DeleteCannedResponse(ctx(t), "cr-2"), workspace.ENOTFOUND)
	_, err = s.CannedResponse(ctx(t), "cr-2")
	wantCode(t, err, workspace.ENOTFOUND)
	wantCode(t, s.UpdateCannedResponse(ctx(t), &workspace.CannedResponse{ID: "cr-2", Title: "Greeting"}), workspace.ECONFLICT)
	if got, want := titles(), "Alpha/cr-1, Greeting/cr-3"; got != want {
		t.Fatalf("CannedResponses after delete = %s, want %s", got, want)
	}
}

// testAuditLog pages through the log newest first, whole and filtered, across ties in At.
func testAuditLog(t *testing.T, s workspace.Store) {
	base := now().Add(-time.Hour)
	entries := map[string]*workspace.AuditEntry{}
	add := func(id string, at time.Duration, object workspace.AuditObject, objectID string) {
		e := &workspace.AuditEntry{ID: id, At: base.Add(at), ActorID: "agent-1", Action: "x.update",
			ObjectType: object, ObjectID: objectID, ObjectName: "Name of " + objectID,
			Before: `{"name":"old"}`, After: `{"name":"new"}`}
		must(t, s.AppendAudit(ctx(t), e))
		entries[id] = e
	}
	add("e1", 0, workspace.AuditAgent, "ag-1")
	add("e3", time.Second, workspace.AuditAgent, "ag-1")
	add("e2", time.Second, workspace.AuditPlan, "pl-1") // same At as e3: ID descending
	add("e4", 2*time.Second, workspace.AuditAgent, "ag-2")
	add("e5", 3*time.Second, workspace.AuditAPIKey, "k-1")
	wantCode(t, s.AppendAudit(ctx(t), &workspace.AuditEntry{ID: "e1", At: base}), workspace.ECONFLICT)

	page := func(f workspace.AuditFilter, after string, limit int) string {
		t.Helper()
		var cursor *workspace.AuditCursor
		if after != "" {
			cursor = &workspace.AuditCursor{At: entries[after].At, ID: after}
		}
		list, err := s.AuditLog(ctx(t), f, cursor, limit)
		must(t, err)
		var ids []string
		for _, e := range list {
			sameFields(t, "AuditEntry "+e.ID, e, entries[e.ID])
			ids = append(ids, e.ID)
		}
		return fmt.Sprint(ids)
	}
	all := workspace.AuditFilter{}
	agents := workspace.AuditFilter{ObjectType: workspace.AuditAgent}
	for _, c := range []struct {
		f     workspace.AuditFilter
		after string
		limit int
		want  string
	}{
		{all, "", 10, "[e5 e4 e3 e2 e1]"},
		{all, "", 2, "[e5 e4]"},
		{all, "e4", 2, "[e3 e2]"},
		{all, "e2", 2, "[e1]"},
		{all, "e1", 2, "[]"},
		{all, "e3", 10, "[e2 e1]"}, // a cursor inside a tie of At
		{all, "e5", 3, "[e4 e3 e2]"},
		{agents, "", 10, "[e4 e3 e1]"},
		{agents, "e4", 1, "[e3]"},
		{agents, "e3", 10, "[e1]"},
		{workspace.AuditFilter{ObjectID: "ag-1"}, "", 10, "[e3 e1]"},
		{workspace.AuditFilter{ObjectType: workspace.AuditAgent, ObjectID: "ag-2"}, "", 10, "[e4]"},
		{workspace.AuditFilter{ObjectType: workspace.AuditPlan, ObjectID: "ag-2"}, "", 10, "[]"},
		{workspace.AuditFilter{ObjectType: workspace.AuditCannedResponse}, "", 10, "[]"},
	} {
		if got := page(c.f, c.after, c.limit); got != c.want {
			t.Errorf("AuditLog(%+v, after %q, %d) = %s, want %s", c.f, c.after, c.limit, got, c.want)
		}
	}
}

// testQueueFigures counts two plans' live interactions, member agents and completions.
func testQueueFigures(t *testing.T, s workspace.Store) {
	base := now()
	since := base.Add(-time.Hour)
	got, err := s.QueueFigures(ctx(t), since)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("QueueFigures of an empty store = %v", got)
	}

	live := func(plan string, state workspace.InteractionState, created time.Duration, queued *time.Duration) {
		ix := newInteraction(base.Add(-created))
		ix.PlanID, ix.State = plan, state
		if queued != nil {
			ix.QueuedAt = ptr(base.Add(-*queued))
		}
		must(t, s.CreateInteraction(ctx(t), ix))
	}
	minutes := func(n int) *time.Duration { d := time.Duration(n) * time.Minute; return &d }
	// pa's oldest wait is q2's creation: it has no QueuedAt, and q1 and q3, created
	// earlier, were requeued later.
	live("pa", workspace.Queued, 50*time.Minute, minutes(10))
	live("pa", workspace.Queued, 30*time.Minute, nil)
	live("pa", workspace.Queued, 40*time.Minute, minutes(20))
	live("pa", workspace.Offered, 45*time.Minute, minutes(45))
	live("pa", workspace.Active, 55*time.Minute, nil)
	live("pa", workspace.Active, 5*time.Minute, nil)
	live("pa", workspace.Parked, 5*time.Minute, nil)
	live("pa", workspace.Wrap, 5*time.Minute, nil)
	live("pb", workspace.Queued, 6*time.Minute, minutes(5))
	live("pb", workspace.Active, 60*time.Minute, nil)
	live("pc", workspace.Active, 60*time.Minute, nil)

	// done stores an interaction of plan completed at completed (relative to since), accepted
	// handle before (never when handle is 0): in history when archived, else as a COMPLETED
	// live record an archive has not moved yet.
	done := func(plan string, completed, handle time.Duration, archived bool) *workspace.Interaction {
		ix := newInteraction(since.Add(-2 * time.Hour))
		ix.PlanID, ix.State, ix.CompletedAt = plan, workspace.Completed, ptr(since.Add(completed))
		if handle > 0 {
			ix.AcceptedAt = ptr(since.Add(completed - handle))
		}
		must(t, s.CreateInteraction(ctx(t), ix))
		if archived {
			must(t, s.ArchiveInteraction(ctx(t), ix))
		}
		return ix
	}
	done("pa", time.Minute, 10900*time.Millisecond, true) // 10 whole seconds
	done("pa", 2*time.Minute, 30*time.Second, true)
	done("pa", 3*time.Minute, 20*time.Second, true)
	done("pa", 4*time.Minute, 0, true)                          // never accepted: counted, no handling time
	done("pa", -time.Millisecond, time.Second, true)            // before since: not counted
	done("pa", 0, 5*time.Second, true)                          // at since: counted
	pending := done("pa", 5*time.Minute, 40*time.Second, false) // not archived yet
	// One caught between an archive's two writes is in history and live: it counts once.
	twice := done("pa", 6*time.Minute, 2*time.Second, true)
	must(t, s.CreateInteraction(ctx(t), twice))
	done("pb", time.Minute, 7*time.Second, true)
	done("pb", 2*time.Minute, 100*time.Second, true)
	done("pb", 3*time.Minute, 3*time.Second, false)
	done("pb", -time.Hour, 4*time.Second, false) // live, but completed before since

	agent := func(name string, presence workspace.Presence, disabled bool, plans ...string) {
		a := newAgent(name)
		a.Presence, a.Disabled, a.PlanIDs = presence, disabled, plans
		must(t, s.CreateAgent(ctx(t), a))
	}
	agent("a1", workspace.Ready, false, "pa", "pb") // counted in both plans
	agent("a2", workspace.NotReady, false, "pa")
	agent("a3", workspace.Ready, true, "pa")          // disabled: not counted
	agent("a4", workspace.Offline, false, "pb", "pb") // a repeated plan counts once
	agent("a5", workspace.Ready, false, "pa")
	agent("a6", workspace.NotReady, true, "pb")
	agent("a7", workspace.Ready, false) // in no plan (PlanIDs nil): counted nowhere
	agent("a8", workspace.Ready, false, []string{}...)

	render := func(figures map[string]*workspace.PlanFigures) string {
		var lines []string
		for plan, f := range figures {
			oldest, median := "-", "-"
			if f.OldestQueuedAt != nil {
				oldest = f.OldestQueuedAt.UTC().Format(time.RFC3339Nano)
			}
			if f.MedianHandleSeconds != nil {
				median = fmt.Sprint(*f.MedianHandleSeconds)
			}
			lines = append(lines, fmt.Sprintf("%s: states %v oldest %s presence %v completed %d median %s",
				plan, f.States, oldest, f.Presence, f.Completed, median))
		}
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	at := func(d time.Duration) string { return base.Add(-d).UTC().Format(time.RFC3339Nano) }
	want := strings.Join([]string{
		// Handling seconds [2 5 10 20 30 40]: the lower middle of an even count.
		"pa: states map[ACTIVE:2 OFFERED:1 PARKED:1 QUEUED:3 WRAP:1] oldest " + at(30*time.Minute) +
			" presence map[NOT_READY:1 READY:2] completed 7 median 10",
		// [3 7 100]: the middle of an odd count.
		"pb: states map[ACTIVE:1 QUEUED:1] oldest " + at(5*time.Minute) +
			" presence map[OFFLINE:1 READY:1] completed 3 median 7",
		"pc: states map[ACTIVE:1] oldest - presence map[] completed 0 median -",
	}, "\n")
	figures := func(what string) {
		t.Helper()
		got, err := s.QueueFigures(ctx(t), since)
		must(t, err)
		if g := render(got); g != want {
			t.Fatalf("QueueFigures %s:\n got %s\nwant %s", what, g, want)
		}
	}
	figures("")

	// Archiving the pending ones changes nothing; nor does finishing the interrupted move.
	must(t, s.ArchiveInteraction(ctx(t), pending))
	must(t, s.ArchiveInteraction(ctx(t), twice))
	figures("after archiving")

	// Completed interactions with no handling time have no median.
	done("pd", time.Minute, 0, true)
	done("pd", 2*time.Minute, 0, false)
	got, err = s.QueueFigures(ctx(t), since)
	must(t, err)
	if f := got["pd"]; f == nil || f.Completed != 2 || f.MedianHandleSeconds != nil || f.OldestQueuedAt != nil {
		t.Fatalf("QueueFigures of a plan with unaccepted completions only: %+v", f)
	}
	// A later since leaves the earlier completions out.
	got, err = s.QueueFigures(ctx(t), since.Add(150*time.Second))
	must(t, err)
	if f := got["pa"]; f == nil || f.Completed != 4 || f.MedianHandleSeconds == nil || *f.MedianHandleSeconds != 20 {
		t.Fatalf("QueueFigures since +150s for pa: %+v, want 4 completed, median 20 of [2 20 40]", f)
	}
}
