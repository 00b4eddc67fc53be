// Package storetest is the contract every workspace.Store implementation passes. Adapters
// call Run from their own tests with a function that opens a store on a given data
// location; the suite reopens that location to check that data survives a restart.
package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// Factory prepares an empty data location for one subtest and returns a function that opens
// a store on it. Calling that function again after Close must reopen the same data. The
// factory closes whatever is still open when t ends.
type Factory func(t *testing.T) (open func() workspace.Store)

// Run runs the whole contract against stores made by factory.
func Run(t *testing.T, factory Factory) {
	fresh := func(t *testing.T) workspace.Store { return factory(t)() }
	t.Run("Agents", func(t *testing.T) { testAgents(t, fresh(t)) })
	t.Run("ReadyAgents", func(t *testing.T) { testReadyAgents(t, fresh(t)) })
	t.Run("ReadyAgentsOrder", func(t *testing.T) { testReadyAgentsOrder(t, fresh(t)) })
	t.Run("SweptAgents", func(t *testing.T) { testSweptAgents(t, fresh(t)) })
	t.Run("AgentVersionGuard", func(t *testing.T) { testAgentVersionGuard(t, fresh(t)) })
	t.Run("AgentRace", func(t *testing.T) { testAgentRace(t, fresh(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, fresh(t)) })
	t.Run("APIKeys", func(t *testing.T) { testAPIKeys(t, fresh(t)) })
	t.Run("SearchAgents", func(t *testing.T) { testSearchAgents(t, fresh(t)) })
	t.Run("APIKeyList", func(t *testing.T) { testAPIKeyList(t, fresh(t)) })
	t.Run("CannedResponses", func(t *testing.T) { testCannedResponses(t, fresh(t)) })
	t.Run("AuditLog", func(t *testing.T) { testAuditLog(t, fresh(t)) })
	t.Run("QueueFigures", func(t *testing.T) { testQueueFigures(t, fresh(t)) })
	t.Run("Plans", func(t *testing.T) { testPlans(t, fresh(t)) })
	t.Run("InteractionCreate", func(t *testing.T) { testInteractionCreate(t, fresh(t)) })
	t.Run("InteractionUpdate", func(t *testing.T) { testInteractionUpdate(t, fresh(t)) })
	t.Run("InteractionRace", func(t *testing.T) { testInteractionRace(t, fresh(t)) })
	t.Run("Archive", func(t *testing.T) { testArchive(t, fresh(t)) })
	t.Run("CompleteInteraction", func(t *testing.T) { testCompleteInteraction(t, fresh(t)) })
	t.Run("LiveInteractions", func(t *testing.T) { testLiveInteractions(t, fresh(t)) })
	t.Run("InteractionPages", func(t *testing.T) { testInteractionPages(t, fresh(t)) })
	t.Run("Messages", func(t *testing.T) { testMessages(t, fresh(t)) })
	t.Run("Threads", func(t *testing.T) { testThreads(t, fresh(t)) })
	t.Run("Identities", func(t *testing.T) { testIdentities(t, fresh(t)) })
	t.Run("Templates", func(t *testing.T) { testTemplates(t, fresh(t)) })
	t.Run("MessageDelivery", func(t *testing.T) { testMessageDelivery(t, fresh(t)) })
	t.Run("Email", func(t *testing.T) { testEmail(t, fresh(t)) })
	t.Run("DueMessages", func(t *testing.T) { testDueMessages(t, fresh(t)) })
	t.Run("PendingMessages", func(t *testing.T) { testPendingMessages(t, fresh(t)) })
	t.Run("MessageRace", func(t *testing.T) { testMessageRace(t, fresh(t)) })
	t.Run("Attachments", func(t *testing.T) { testAttachments(t, fresh(t)) })
	t.Run("MessageAttachments", func(t *testing.T) { testMessageAttachments(t, fresh(t)) })
	t.Run("ExpiredDrafts", func(t *testing.T) { testExpiredDrafts(t, fresh(t)) })
	t.Run("MessageAttachmentIDs", func(t *testing.T) { testMessageAttachmentIDs(t, fresh(t)) })
	t.Run("AssistExamples", func(t *testing.T) { testAssistExamples(t, fresh(t)) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, fresh(t)) })
	t.Run("Events", func(t *testing.T) { testEvents(t, fresh(t)) })
	t.Run("InteractionMessages", func(t *testing.T) { testInteractionMessages(t, fresh(t)) })
	t.Run("UpdatedOrder", func(t *testing.T) { testUpdatedOrder(t, fresh(t)) })
	t.Run("Webhooks", func(t *testing.T) { testWebhooks(t, fresh(t)) })
	t.Run("SigningKeys", func(t *testing.T) { testSigningKeys(t, factory(t)) })
	t.Run("Restart", func(t *testing.T) { testRestart(t, factory(t)) })
}

func ctx(t *testing.T) context.Context { return t.Context() }

// now is truncated to milliseconds, the finest precision both adapters keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func newAgent(username string) *workspace.Agent {
	return &workspace.Agent{
		ID: uuid.NewString(), Username: username, Name: "Name of " + username,
		PasswordHash: []byte("$2a$04$hash"), Role: workspace.RoleAgent,
		Presence: workspace.Offline, PresenceSince: now(), AutoAccept: true,
		Capacity: map[workspace.Channel]int{workspace.Webchat: 3, workspace.Voice: 1},
		PlanIDs:  []string{"p1", "p2"},
		Holds: []workspace.Hold{
			{InteractionID: uuid.NewString(), Channel: workspace.Webchat, Since: now().Add(-time.Minute)},
			{InteractionID: uuid.NewString(), Channel: workspace.Voice, Since: now().Add(-1500 * time.Millisecond)},
		},
		LastOfferAt: now().Add(-time.Second), MissedOffers: 2, CreatedAt: now(),
		Recent: []workspace.Peer{{AgentID: "a-2", At: now().Add(-time.Hour)}, {AgentID: "a-3", At: now().Add(-25 * time.Hour)}},
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := workspace.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sameAgent(t *testing.T, got, want *workspace.Agent) {
	t.Helper()
	g, w := *got, *want
	if !g.PresenceSince.Equal(w.PresenceSince) || !g.CreatedAt.Equal(w.CreatedAt) || !g.LastOfferAt.Equal(w.LastOfferAt) {
		t.Fatalf("times differ: got %v/%v/%v want %v/%v/%v", g.PresenceSince, g.CreatedAt, g.LastOfferAt, w.PresenceSince, w.CreatedAt, w.LastOfferAt)
	}
	g.PresenceSince, g.CreatedAt, w.PresenceSince, w.CreatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	g.LastOfferAt, w.LastOfferAt = time.Time{}, time.Time{}
	// Holds compare as instants: copies in UTC, so the caller's records stay as they are.
	utc := func(hs []workspace.Hold) []workspace.Hold {
		var out []workspace.Hold
		for _, h := range hs {
			h.Since = h.Since.UTC()
			out = append(out, h)
		}
		return out
	}
	g.Holds, w.Holds = utc(g.Holds), utc(w.Holds)
	peers := func(ps []workspace.Peer) []workspace.Peer {
		var out []workspace.Peer
		for _, p := range ps {
			p.At = p.At.UTC()
			out = append(out, p)
		}
		return out
	}
	g.Recent, w.Recent = peers(g.Recent), peers(w.Recent)
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Fatalf("agent differs:\n got %+v\nwant %+v", g, w)
	}
}

func testAgents(t *testing.T, s workspace.Store) {
	a := newAgent("alice")
	must(t, s.CreateAgent(ctx(t), a))
	got, err := s.Agent(ctx(t), a.ID)
	must(t, err)
	sameAgent(t, got, a)
	got, err = s.AgentByUsername(ctx(t), "alice")
	must(t, err)
	sameAgent(t, got, a)

	dup := newAgent("alice")
	wantCode(t, s.CreateAgent(ctx(t), dup), workspace.ECONFLICT)
	_, err = s.Agent(ctx(t), uuid.NewString())
	wantCode(t, err, workspace.ENOTFOUND)
	_, err = s.AgentByUsername(ctx(t), "nobody")
	wantCode(t, err, workspace.ENOTFOUND)

	must(t, s.CreateAgent(ctx(t), newAgent("bob")))
	must(t, s.CreateAgent(ctx(t), newAgent("aaron")))
	all, err := s.Agents(ctx(t))
	must(t, err)
	var names []string
	for _, a := range all {
		names = append(names, a.Username)
	}
	if fmt.Sprint(names) != "[aaron alice bob]" {
		t.Fatalf("Agents() usernames = %v, want ordered [aaron alice bob]", names)
	}
}

// testReadyAgents: routing's read selects READY, enabled members of the plans, and follows
// presence changes made through UpdateAgent.
func testReadyAgents(t *testing.T, s workspace.Store) {
	add := func(username string, presence workspace.Presence, disabled bool, plans ...string) *workspace.Agent {
		a := newAgent(username)
		a.Presence, a.Disabled, a.PlanIDs = presence, disabled, plans
		must(t, s.CreateAgent(ctx(t), a))
		return a
	}
	add("erin", workspace.Ready, false, "p1", "p3")
	add("bob", workspace.Ready, false, "p2")
	carol := add("carol", workspace.NotReady, false, "p1")
	add("dave", workspace.Ready, true, "p1", "p2")
	add("ann", workspace.Ready, false, "p1")
	add("olga", workspace.Offline, false, "p1", "p2")
	ready := func(plans ...string) string {
		t.Helper()
		got, err := s.ReadyAgents(ctx(t), plans, "", 0)
		must(t, err)
		return usernames(got)
	}
	for plans, want := range map[string]string{
		"p1": "[ann erin]", "p2": "[bob]", "p1,p2": "[ann bob erin]", "": "[ann bob erin]", "p9": "[]",
	} {
		var ids []string
		if plans != "" {
			ids = strings.Split(plans, ",")
		}
		if got := ready(ids...); got != want {
			t.Fatalf("ReadyAgents(%s) = %s, want %s", plans, got, want)
		}
	}
	carol.Presence = workspace.Ready
	must(t, s.UpdateAgent(ctx(t), carol))
	if got := ready("p1"); got != "[ann carol erin]" {
		t.Fatalf("after carol went READY: %s", got)
	}
	got, err := s.ReadyAgents(ctx(t), []string{"p1"}, "", 0)
	must(t, err)
	i := slices.IndexFunc(got, func(a *workspace.Agent) bool { return a.ID == carol.ID })
	sameAgent(t, got[i], carol)

	// With a channel, only those with room on it (Agent.RoomOn): everyone holds their one
	// VOICE slot (newAgent), and has room on WEBCHAT (one of three used) but none on SMS.
	onChannel := func(ch workspace.Channel) string {
		t.Helper()
		got, err := s.ReadyAgents(ctx(t), []string{"p1", "p2"}, ch, 0)
		must(t, err)
		return usernames(got)
	}
	if got := onChannel(workspace.Webchat); got != "[ann bob carol erin]" {
		t.Fatalf("room on WEBCHAT: %s", got)
	}
	for _, ch := range []workspace.Channel{workspace.Voice, workspace.SMS} {
		if got := onChannel(ch); got != "[]" {
			t.Fatalf("room on %s: %s, want nobody", ch, got)
		}
	}
	// Carol's call ends: she has room on VOICE again; then her WEBCHAT slots fill up.
	carol.Holds = carol.Holds[:1]
	must(t, s.UpdateAgent(ctx(t), carol))
	if got := onChannel(workspace.Voice); got != "[carol]" {
		t.Fatalf("room on VOICE after carol's call: %s", got)
	}
	for range 2 {
		carol.Holds = append(carol.Holds, workspace.Hold{InteractionID: uuid.NewString(), Channel: workspace.Webchat, Since: now()})
	}
	must(t, s.UpdateAgent(ctx(t), carol))
	if got := onChannel(workspace.Webchat); got != "[ann bob erin]" {
		t.Fatalf("room on WEBCHAT once carol's is full: %s", got)
	}
}

// usernames lists the agents' usernames in alphabetical order, to compare who was read.
func usernames(agents []*workspace.Agent) string {
	names := []string{}
	for _, a := range agents {
		names = append(names, a.Username)
	}
	slices.Sort(names)
	return fmt.Sprint(names)
}

// testSweptAgents: the sweep reads the READY agents who are not disabled, and the agents
// holding work reserved at or before its cutoff whatever their presence; not the agents who
// are neither READY nor holding anything, nor a disabled one. A store may list an agent whose
// holds are all younger (the sweep judges the ages), so that one is left out of the check.
// The lists follow the writes: a released hold or a presence change takes an agent out.
func testSweptAgents(t *testing.T, s workspace.Store) {
	cutoff := now().Add(-10 * time.Second)
	add := func(username string, presence workspace.Presence, disabled bool, reserved ...time.Time) *workspace.Agent {
		a := newAgent(username)
		a.Presence, a.Disabled, a.Holds = presence, disabled, nil
		for _, at := range reserved {
			a.Holds = append(a.Holds, workspace.Hold{InteractionID: uuid.NewString(), Channel: workspace.Webchat, Since: at})
		}
		must(t, s.CreateAgent(ctx(t), a))
		return a
	}
	young, old := cutoff.Add(8*time.Second), cutoff.Add(-time.Hour)
	ann := add("ann", workspace.Ready, false)
	add("bob", workspace.Ready, true)
	add("cid", workspace.NotReady, false)
	add("dot", workspace.Offline, false)
	eve := add("eve", workspace.NotReady, false, old)
	add("fay", workspace.Offline, false, young, old)
	add("gus", workspace.Offline, false, young) // may be listed
	add("hal", workspace.Ready, false, young)
	add("ivy", workspace.NotReady, true, cutoff) // disabled, and holding: the hold counts
	swept := func() ([]*workspace.Agent, string) {
		t.Helper()
		got, err := s.SweptAgents(ctx(t), cutoff)
		must(t, err)
		return got, usernames(slices.DeleteFunc(slices.Clone(got), func(a *workspace.Agent) bool { return a.Username == "gus" }))
	}
	got, names := swept()
	if names != "[ann eve fay hal ivy]" {
		t.Fatalf("SweptAgents = %s (gus aside), want [ann eve fay hal ivy]", names)
	}
	sameAgent(t, got[slices.IndexFunc(got, func(a *workspace.Agent) bool { return a.ID == eve.ID })], eve)

	eve.Holds = nil
	must(t, s.UpdateAgent(ctx(t), eve))
	ann.Presence = workspace.NotReady
	must(t, s.UpdateAgent(ctx(t), ann))
	if _, names := swept(); names != "[fay hal ivy]" {
		t.Fatalf("after eve's hold was released and ann went NOT_READY: %s, want [fay hal ivy]", names)
	}
}

// testReadyAgentsOrder: ReadyAgents returns the agents idle longest first (Agent.IdleSince:
// the later of the last offer and the last presence change, then the ID), and a limit keeps
// the first of them, so routing reads a few agents however many are READY. An offer sends
// its agent to the back.
func testReadyAgentsOrder(t *testing.T, s workspace.Store) {
	base := now().Add(-time.Hour)
	agents := map[string]*workspace.Agent{}
	// name: presence change and last offer, in minutes after base (-1: never offered).
	for name, at := range map[string][2]int{
		"ann": {10, -1}, "bob": {1, 30}, "cid": {5, 2}, "dot": {20, -1}, "eve": {3, 4}, "fay": {25, 26},
	} {
		a := newAgent(name)
		a.Presence, a.Holds = workspace.Ready, nil
		a.PresenceSince = base.Add(time.Duration(at[0]) * time.Minute)
		a.LastOfferAt = time.Time{}
		if at[1] >= 0 {
			a.LastOfferAt = base.Add(time.Duration(at[1]) * time.Minute)
		}
		must(t, s.CreateAgent(ctx(t), a))
		agents[name] = a
	}
	// Two agents idle since the same instant come in ID order.
	twin := newAgent("twin")
	twin.Presence, twin.Holds, twin.PresenceSince, twin.LastOfferAt = workspace.Ready, nil, agents["eve"].LastOfferAt, time.Time{}
	must(t, s.CreateAgent(ctx(t), twin))
	agents["twin"] = twin
	inOrder := func(limit int) string {
		t.Helper()
		got, err := s.ReadyAgents(ctx(t), []string{"p1"}, workspace.Webchat, limit)
		must(t, err)
		var names []string
		for _, a := range got {
			names = append(names, a.Username)
		}
		return fmt.Sprint(names)
	}
	eveTwin := "eve twin"
	if twin.ID < agents["eve"].ID {
		eveTwin = "twin eve"
	}
	if got, want := inOrder(0), "["+eveTwin+" cid ann dot fay bob]"; got != want {
		t.Fatalf("ReadyAgents in order %s, want %s", got, want)
	}
	if got, want := inOrder(3), "["+eveTwin+" cid]"; got != want {
		t.Fatalf("ReadyAgents limited to 3: %s, want %s", got, want)
	}
	// cid gets an offer: the longest idle is now the next one.
	cid := agents["cid"]
	cid.LastOfferAt = base.Add(40 * time.Minute)
	must(t, s.UpdateAgent(ctx(t), cid))
	if got, want := inOrder(2), "["+eveTwin+"]"; got != want {
		t.Fatalf("after an offer to cid: %s, want %s", got, want)
	}
	if got := inOrder(0); !strings.HasSuffix(got, " bob cid]") {
		t.Fatalf("cid is not last after the offer: %s", got)
	}
}

func testAgentVersionGuard(t *testing.T, s workspace.Store) {
	a := newAgent("carol")
	must(t, s.CreateAgent(ctx(t), a))
	stale := *a
	a.Presence, a.PresenceSince = workspace.Ready, now().Add(time.Second)
	a.Capacity = map[workspace.Channel]int{workspace.Email: 2}
	a.Holds = []workspace.Hold{a.Holds[1], {InteractionID: uuid.NewString(), Channel: workspace.Email, Since: now()}}
	a.LastOfferAt, a.MissedOffers = now(), 0
	a.Recent = []workspace.Peer{{AgentID: "a-9", At: now()}}
	a.Disabled = true
	must(t, s.UpdateAgent(ctx(t), a))
	if a.Version != stale.Version+1 {
		t.Fatalf("version after update = %d, want %d", a.Version, stale.Version+1)
	}
	got, err := s.Agent(ctx(t), a.ID)
	must(t, err)
	sameAgent(t, got, a)

	stale.Presence = workspace.NotReady
	wantCode(t, s.UpdateAgent(ctx(t), &stale), workspace.ECONFLICT)
	got, err = s.Agent(ctx(t), a.ID)
	must(t, err)
	if got.Presence != workspace.Ready {
		t.Fatalf("a stale write changed presence to %s", got.Presence)
	}
	missing := newAgent("ghost")
	wantCode(t, s.UpdateAgent(ctx(t), missing), workspace.ECONFLICT)

	other := newAgent("zoe")
	must(t, s.CreateAgent(ctx(t), other))
	other.Username = "carol"
	wantCode(t, s.UpdateAgent(ctx(t), other), workspace.ECONFLICT)
	if got, err := s.AgentByUsername(ctx(t), "carol"); err != nil || got.ID != a.ID {
		t.Fatalf("a colliding rename changed who carol is: %+v %v", got, err)
	}
	// Names are case-sensitive: Carol is not carol.
	must(t, s.CreateAgent(ctx(t), newAgent("Carol")))
}

// testAgentRace checks that exactly one of several writers holding the same version wins.
func testAgentRace(t *testing.T, s workspace.Store) {
	a := newAgent("dave")
	must(t, s.CreateAgent(ctx(t), a))
	for round := 0; round < 5; round++ {
		base, err := s.Agent(ctx(t), a.ID)
		must(t, err)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				mine := *base
				mine.Name = fmt.Sprintf("writer %d", i)
				err := s.UpdateAgent(context.Background(), &mine)
				mu.Lock()
				defer mu.Unlock()
				switch workspace.ErrorCode(err) {
				case "":
					wins++
				case workspace.ECONFLICT:
					conflicts++
				default:
					t.Errorf("writer %d: %v", i, err)
				}
			}(i)
		}
		wg.Wait()
		if wins != 1 || conflicts != 7 {
			t.Fatalf("round %d: %d winners and %d conflicts, want 1 and 7", round, wins, conflicts)
		}
	}
}

func testSessions(t *testing.T, s workspace.Store) {
	sess := &workspace.Session{TokenHash: "h1", AgentID: "a1", CreatedAt: now(), ExpiresAt: now().Add(time.Hour)}
	must(t, s.CreateSession(ctx(t), sess))
	wantCode(t, s.CreateSession(ctx(t), sess), workspace.ECONFLICT)
	got, err := s.Session(ctx(t), "h1")
	must(t, err)
	if got.AgentID != "a1" || !got.ExpiresAt.Equal(sess.ExpiresAt) || !got.CreatedAt.Equal(sess.CreatedAt) {
		t.Fatalf("session = %+v, want %+v", got, sess)
	}
	must(t, s.DeleteSession(ctx(t), "h1"))
	_, err = s.Session(ctx(t), "h1")
	wantCode(t, err, workspace.ENOTFOUND)
	wantCode(t, s.DeleteSession(ctx(t), "h1"), workspace.ENOTFOUND)

	// Revocation ends every session of one agent and no other's.
	for _, h := range []string{"a2-1", "a2-2", "a3-1"} {
		must(t, s.CreateSession(ctx(t), &workspace.Session{TokenHash: h, AgentID: h[:2], CreatedAt: now(), ExpiresAt: now().Add(time.Hour)}))
	}
	n, err := s.DeleteAgentSessions(ctx(t), "a2")
	must(t, err)
	if n != 2 {
		t.Fatalf("DeleteAgentSessions removed %d sessions, want 2", n)
	}
	for h, want := range map[string]string{"a2-1": workspace.ENOTFOUND, "a2-2": workspace.ENOTFOUND, "a3-1": ""} {
		_, err := s.Session(ctx(t), h)
		if workspace.ErrorCode(err) != want && !(want == "" && err == nil) {
			t.Fatalf("session %s after revoking a2: %v, want %q", h, err, want)
		}
	}
	if n, err := s.DeleteAgentSessions(ctx(t), "a2"); err != nil || n != 0 {
		t.Fatalf("second DeleteAgentSessions = %d, %v; want 0, nil", n, err)
	}
}

func testAPIKeys(t *testing.T, s workspace.Store) {
	k := &workspace.APIKey{KeyHash: "k1", Name: "CRM", Scopes: []workspace.Scope{workspace.ScopeRead}, CreatedAt: now()}
	must(t, s.CreateAPIKey(ctx(t), k))
	wantCode(t, s.CreateAPIKey(ctx(t), k), workspace.ECONFLICT)
	got, err := s.APIKey(ctx(t), "k1")
	must(t, err)
	if got.Name != "CRM" || fmt.Sprint(got.Scopes) != "[read]" || !got.CreatedAt.Equal(k.CreatedAt) {
		t.Fatalf("key = %+v, want %+v", got, k)
	}
	if !got.RevokedAt.IsZero() {
		t.Fatalf("a new key reads as revoked at %v", got.RevokedAt)
	}
	_, err = s.APIKey(ctx(t), "nope")
	wantCode(t, err, workspace.ENOTFOUND)

	revoked := now()
	must(t, s.RevokeAPIKey(ctx(t), "k1", revoked))
	must(t, s.RevokeAPIKey(ctx(t), "k1", revoked.Add(time.Hour))) // the first revocation stays
	got, err = s.APIKey(ctx(t), "k1")
	must(t, err)
	if !got.RevokedAt.Equal(revoked) {
		t.Fatalf("revokedAt = %v, want %v", got.RevokedAt, revoked)
	}
	wantCode(t, s.RevokeAPIKey(ctx(t), "nope", now()), workspace.ENOTFOUND)
}

func testPlans(t *testing.T, s workspace.Store) {
	p := &workspace.Plan{
		ID: uuid.NewString(), Name: "Support", Channels: []workspace.Channel{workspace.Webchat, workspace.Email},
		DispositionCodes:    []workspace.DispositionCode{{Code: "OK", Label: "Resolved"}},
		DispositionRequired: true, OfferTimeoutSeconds: 30, AutoAccept: true, CreatedAt: now(),
		AutoParkSeconds: 300, ParkedTimeoutSeconds: 1800, PostParkingPlanID: uuid.NewString(),
	}
	must(t, s.CreatePlan(ctx(t), p))
	wantCode(t, s.CreatePlan(ctx(t), &workspace.Plan{ID: uuid.NewString(), Name: "Support"}), workspace.ECONFLICT)
	got, err := s.Plan(ctx(t), p.ID)
	must(t, err)
	if !got.CreatedAt.Equal(p.CreatedAt) {
		t.Fatalf("createdAt = %v, want %v", got.CreatedAt, p.CreatedAt)
	}
	got.CreatedAt = p.CreatedAt
	if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", *p) {
		t.Fatalf("plan = %+v, want %+v", got, p)
	}
	_, err = s.Plan(ctx(t), uuid.NewString())
	wantCode(t, err, workspace.ENOTFOUND)

	must(t, s.CreatePlan(ctx(t), &workspace.Plan{ID: uuid.NewString(), Name: "Billing", CreatedAt: now()}))
	all, err := s.Plans(ctx(t))
	must(t, err)
	if len(all) != 2 || all[0].Name != "Billing" || all[1].Name != "Support" {
		t.Fatalf("Plans() = %+v, want Billing then Support", all)
	}

	wantCode(t, s.UpdatePlan(ctx(t), &workspace.Plan{ID: uuid.NewString(), Name: "Ghost"}), workspace.ECONFLICT)

	stale := *p
	p.WrapSeconds, p.DispositionRequired = 90, false
	p.AutoParkSeconds, p.ParkedTimeoutSeconds, p.PostParkingPlanID = 0, 60, ""
	must(t, s.UpdatePlan(ctx(t), p))
	wantCode(t, s.UpdatePlan(ctx(t), &stale), workspace.ECONFLICT)
	got, err = s.Plan(ctx(t), p.ID)
	must(t, err)
	if got.AutoParkSeconds != 0 || got.ParkedTimeoutSeconds != 60 || got.PostParkingPlanID != "" {
		t.Fatalf("parking settings after update: %+v", got)
	}
	if got.WrapSeconds != 90 || got.DispositionRequired || got.Version != p.Version {
		t.Fatalf("plan after update = %+v", got)
	}
}

// testRestart closes the store, reopens the same data and finds everything again.
func testRestart(t *testing.T, open func() workspace.Store) {
	s := open()
	a := newAgent("erin")
	must(t, s.CreateAgent(ctx(t), a))
	sess := &workspace.Session{TokenHash: "restart", AgentID: a.ID, CreatedAt: now(), ExpiresAt: now().Add(time.Hour)}
	must(t, s.CreateSession(ctx(t), sess))
	ix := fullInteraction()
	must(t, s.CreateInteraction(ctx(t), ix))
	m := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartyContact, Text: "hi", SentAt: now()}
	must(t, s.AppendMessage(ctx(t), m))
	ex := &workspace.AssistExample{ID: "0000000000001.restart.CODE", PlanID: "p", Code: "CODE", Text: "my card", At: now()}
	must(t, s.AddAssistExample(ctx(t), ex))
	ix.UpdatedAt = m.SentAt // the message moved it
	must(t, s.Close())
	must(t, s.Close()) // a second Close is harmless

	s = open()
	got, err := s.Agent(ctx(t), a.ID)
	must(t, err)
	sameAgent(t, got, a)
	if _, err := s.Session(ctx(t), "restart"); err != nil {
		t.Fatalf("session lost across restart: %v", err)
	}
	gotIx, err := s.Interaction(ctx(t), ix.ID)
	must(t, err)
	sameInteraction(t, gotIx, ix)
	msgs, err := s.Messages(ctx(t), ix.ID, "", 10)
	must(t, err)
	sameMessages(t, "transcript after restart", msgs, []*workspace.Message{m})
	examples, err := s.AssistExamples(ctx(t), "p", "", 10)
	sameFields(t, "AssistExamples after restart", one(t, "AssistExamples", examples, err), ex)
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
}
