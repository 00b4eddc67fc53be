package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/sqlite"
	"github.com/agentdesk/agentdesk/workspace"
)

// TestOldRowsReadable writes rows as the adapter wrote them at migration 004, when the doc,
// holds, recent and disposition_codes columns held the JSON of the domain's own structs, API
// keys had no IDs and messages no attachments, and reads them back through the current
// adapter and its row types.
func TestOldRowsReadable(t *testing.T) {
	dir := t.TempDir()
	db, exec := sqlite.MigratedTo(t, dir, 4)

	const (
		ixID        = "0b6d4a53-5d1c-4a56-9d0e-6f1b1c9f0a01"
		oldIx       = `{"ID":"0b6d4a53-5d1c-4a56-9d0e-6f1b1c9f0a01","Channel":"WEBCHAT","Direction":"INBOUND","State":"PARKED","Contact":{"Address":"+15550100","Name":"Pat"},"AgentID":"agent-1","FormerAgentIDs":["agent-0"],"PlanID":"plan-1","CreatedAt":"2026-11-30T10:00:00.123456789Z","AcceptedAt":"2026-11-30T10:00:01.123456789Z","Notes":"note","Dispositions":["OK"],"OfferSeq":2,"OfferedAt":"2026-11-30T10:00:00.623456789Z","AutoAccepted":true,"RejectedBy":["agent-2"],"DueAt":"2026-11-30T11:00:00.123456789Z","LastContactAt":"2026-11-30T10:00:02.123456789Z","AutoParkAt":"2026-11-30T10:00:03.123456789Z","ParkedAt":"2026-11-30T10:00:04.123456789Z","ParkedUntil":"2026-11-30T10:00:05.123456789Z","Transfer":{"FromAgentID":"agent-1","ToAgentID":"agent-3","OfferID":"x.3","ExpiresAt":"2026-11-30T10:00:06.123456789Z"},"ContactTokenHash":"tokenhash","Version":4}`
		oldQueued   = `{"ID":"0b6d4a53-5d1c-4a56-9d0e-6f1b1c9f0a03","Channel":"WEBCHAT","Direction":"INBOUND","State":"QUEUED","Contact":{"Address":"+15550101","Name":"Sam"},"PlanID":"plan-1","CreatedAt":"2026-11-30T10:00:01.123456789Z","Version":0}`
		oldAccepted = `{"ID":"0b6d4a53-5d1c-4a56-9d0e-6f1b1c9f0a04","Channel":"WEBCHAT","Direction":"INBOUND","State":"COMPLETED","Contact":{"Address":"+15550102","Name":"Kim"},"AgentID":"agent-1","PlanID":"plan-1","CreatedAt":"2026-11-30T10:00:00.123456789Z","AcceptedAt":"2026-11-30T12:00:01.5+02:00","CompletedAt":"2026-11-30T10:00:09.123456789Z","Version":5}`
		oldDone     = `{"ID":"0b6d4a53-5d1c-4a56-9d0e-6f1b1c9f0a02","Channel":"EMAIL","Direction":"OUTBOUND","State":"COMPLETED","Contact":{"Address":"pat@example.com","Name":"Pat"},"PlanID":"plan-1","CreatedAt":"2026-11-30T10:00:00.123456789Z","CompletedAt":"2026-11-30T10:00:09.123456789Z","ContactTokenHash":"","Version":7}`
	)
	at := time.Date(2026, 11, 30, 10, 0, 0, 123000000, time.UTC)
	ms := at.UnixMilli()
	exec(`INSERT INTO agents (id, username, name, password_hash, role, presence, presence_since, auto_accept, capacity,
		plan_ids, created_at, version, holds, last_offer_at, missed_offers, recent, disabled)
		VALUES ('agent-1','alice','Alice',x'00','AGENT','READY',?,1,'{"WEBCHAT":3}','["plan-1"]',?,2,
		'[{"InteractionID":"ix-1","Channel":"WEBCHAT","Since":"2026-11-30T10:00:00.123456789Z"}]',?,1,
		'[{"AgentID":"a-2","At":"2026-11-30T10:00:00.123456789Z"}]',0)`, ms, ms, ms)
	exec(`INSERT INTO plans (id, name, channels, disposition_codes, disposition_required, wrap_seconds,
		offer_timeout_seconds, auto_accept, created_at, version, auto_park_seconds, parked_timeout_seconds, post_parking_plan_id)
		VALUES ('plan-1','Support','["WEBCHAT"]','[{"Code":"OK","Label":"Resolved"}]',1,30,20,0,?,3,600,3600,'')`, ms)
	exec(`INSERT INTO interactions (id, state, channel, agent_id, plan_id, contact_address, created_at, due_at, version, doc)
		VALUES (?,'PARKED','WEBCHAT','agent-1','plan-1','+15550100',?,?,4,?)`, ixID, ms, ms+3600000, oldIx)
	exec(`INSERT INTO history (id, state, channel, agent_id, plan_id, contact_address, created_at, doc)
		VALUES ('0b6d4a53-5d1c-4a56-9d0e-6f1b1c9f0a02','COMPLETED','EMAIL','','plan-1','pat@example.com',?,?)`, ms, oldDone)
	exec(`INSERT INTO messages (id, interaction_id, from_party, agent_id, text, sent_at)
		VALUES ('m-1',?,'CONTACT','','hello',?)`, ixID, ms)
	// Before migration 006: a key without an ID, a queued interaction without QueuedAt and an
	// accepted one in history, whose handling time the migration reads from doc.
	exec(`INSERT INTO api_keys (key_hash, name, scopes, created_at, revoked_at) VALUES ('oldhash','CRM','["read"]',?,0)`, ms)
	exec(`INSERT INTO interactions (id, state, channel, agent_id, plan_id, contact_address, created_at, due_at, version, doc)
		VALUES ('0b6d4a53-5d1c-4a56-9d0e-6f1b1c9f0a03','QUEUED','WEBCHAT','','plan-1','+15550101',?,0,0,?)`, ms+1000, oldQueued)
	exec(`INSERT INTO history (id, state, channel, agent_id, plan_id, contact_address, created_at, doc)
		VALUES ('0b6d4a53-5d1c-4a56-9d0e-6f1b1c9f0a04','COMPLETED','WEBCHAT','agent-1','plan-1','+15550102',?,?)`, ms, oldAccepted)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := sqlite.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := func(d time.Duration) *time.Time { x := at.Add(d); return &x }
	check := func(what string, got, want any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
		}
	}

	ix, err := s.Interaction(t.Context(), ixID)
	check("live interaction", ix, &workspace.Interaction{
		ID: ixID, Channel: workspace.Webchat, Direction: workspace.Inbound, State: workspace.Parked,
		Contact: workspace.Contact{Address: "+15550100", Name: "Pat"}, AgentID: "agent-1",
		FormerAgentIDs: []string{"agent-0"}, PlanID: "plan-1", CreatedAt: at, AcceptedAt: p(time.Second),
		Notes: "note", Dispositions: []string{"OK"}, OfferSeq: 2, OfferedAt: p(500 * time.Millisecond), AutoAccepted: true,
		RejectedBy: []string{"agent-2"}, DueAt: at.Add(time.Hour), LastContactAt: p(2 * time.Second), AutoParkAt: p(3 * time.Second),
		ParkedAt: p(4 * time.Second), ParkedUntil: p(5 * time.Second),
		Transfer:         &workspace.Transfer{FromAgentID: "agent-1", ToAgentID: "agent-3", OfferID: "x.3", ExpiresAt: at.Add(6 * time.Second)},
		ContactTokenHash: "tokenhash", Version: 4,
	}, err)
	done, err := s.Interaction(t.Context(), "0b6d4a53-5d1c-4a56-9d0e-6f1b1c9f0a02")
	check("archived interaction", done, &workspace.Interaction{
		ID: "0b6d4a53-5d1c-4a56-9d0e-6f1b1c9f0a02", Channel: workspace.Email, Direction: workspace.Outbound,
		State: workspace.Completed, Contact: workspace.Contact{Address: "pat@example.com", Name: "Pat"},
		PlanID: "plan-1", CreatedAt: at, CompletedAt: p(9 * time.Second), Version: 7,
	}, err)
	a, err := s.Agent(t.Context(), "agent-1")
	check("agent", a, &workspace.Agent{
		ID: "agent-1", Username: "alice", Name: "Alice", PasswordHash: []byte{0}, Role: workspace.RoleAgent,
		Presence: workspace.Ready, PresenceSince: at, AutoAccept: true, Capacity: map[workspace.Channel]int{workspace.Webchat: 3},
		PlanIDs: []string{"plan-1"}, Holds: []workspace.Hold{{InteractionID: "ix-1", Channel: workspace.Webchat, Since: at}},
		LastOfferAt: at, MissedOffers: 1, Recent: []workspace.Peer{{AgentID: "a-2", At: at}}, CreatedAt: at, Version: 2,
	}, err)
	// Her room was not kept before migration 011: routing reads her whatever the channel,
	// until her next write fills it in.
	readyOn := func(ch workspace.Channel) int {
		t.Helper()
		got, err := s.ReadyAgents(t.Context(), []string{"plan-1"}, ch, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if readyOn(workspace.Voice) != 1 {
		t.Fatal("an agent whose room is not known yet is not read")
	}
	// Migration 014 kept when she became idle, the order routing reads agents in.
	db, err = sql.Open("sqlite", "file:"+filepath.Join(dir, "agentdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	var idle int64
	if err := db.QueryRow(`SELECT idle_since FROM agents WHERE id = 'agent-1'`).Scan(&idle); err != nil || idle != at.UnixMilli() {
		t.Fatalf("idle_since after the migrations: %d (%v), want %d", idle, err, at.UnixMilli())
	}
	db.Close()
	if err := s.UpdateAgent(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if readyOn(workspace.Voice) != 0 || readyOn(workspace.Webchat) != 1 {
		t.Fatal("after a write, the agent is read on the channels she has room on only")
	}
	plan, err := s.Plan(t.Context(), "plan-1")
	check("plan", plan, &workspace.Plan{
		ID: "plan-1", Name: "Support", Channels: []workspace.Channel{workspace.Webchat},
		DispositionCodes: []workspace.DispositionCode{{Code: "OK", Label: "Resolved"}}, DispositionRequired: true,
		WrapSeconds: 30, OfferTimeoutSeconds: 20, CreatedAt: at, Version: 3,
		AutoParkSeconds: 600, ParkedTimeoutSeconds: 3600,
	}, err)
	m, err := s.Message(t.Context(), "m-1")
	check("message", m, &workspace.Message{ID: "m-1", InteractionID: ixID, From: workspace.PartyContact, Text: "hello", SentAt: at}, err)

	// The message, stored before attachments, has none (nil, not empty), and takes some.
	if m.AttachmentIDs != nil {
		t.Fatalf("message stored before attachments has AttachmentIDs %#v", m.AttachmentIDs)
	}
	files, err := s.MessageAttachments(t.Context(), []string{"m-1"})
	if err != nil || len(files) != 0 {
		t.Fatalf("MessageAttachments of a message stored before attachments = %v, %v; want none", files, err)
	}
	m.AttachmentIDs = []string{"att-2", "att-1"}
	if err := s.UpdateMessage(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	got, err := s.Message(t.Context(), "m-1")
	check("message after attaching", got, m, err)

	queued, err := s.Interaction(t.Context(), "0b6d4a53-5d1c-4a56-9d0e-6f1b1c9f0a03")
	if err != nil {
		t.Fatal(err)
	}
	if queued.QueuedAt != nil || !queued.CreatedAt.Equal(at.Add(time.Second)) {
		t.Fatalf("queued interaction stored before QueuedAt: %+v", queued)
	}

	// A key stored without an ID reads with the one derived from its hash, everywhere.
	legacy := &workspace.APIKey{ID: workspace.LegacyAPIKeyID("oldhash"), KeyHash: "oldhash", Name: "CRM",
		Scopes: []workspace.Scope{workspace.ScopeRead}, CreatedAt: at}
	k, err := s.APIKey(t.Context(), "oldhash")
	check("legacy API key", k, legacy, err)
	keys, err := s.APIKeys(t.Context())
	check("legacy API keys", keys, []*workspace.APIKey{legacy}, err)
	if err := s.TouchAPIKey(t.Context(), "oldhash", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	legacy.LastUsedAt = at.Add(time.Minute)
	k, err = s.APIKey(t.Context(), "oldhash")
	check("legacy API key after a touch", k, legacy, err)

	// The live view counts old rows: the queued one waits since its creation, and the
	// archived ones completed at 10:00:09.123, one of them accepted 7.623 s earlier.
	seven := 7
	figures, err := s.QueueFigures(t.Context(), at.Add(9*time.Second))
	check("queue figures", figures, map[string]*workspace.PlanFigures{"plan-1": {
		States:         map[workspace.InteractionState]int{workspace.Parked: 1, workspace.Queued: 1},
		OldestQueuedAt: p(time.Second), Presence: map[workspace.Presence]int{workspace.Ready: 1},
		Completed: 2, MedianHandleSeconds: &seven,
	}}, err)
	figures, err = s.QueueFigures(t.Context(), at.Add(9*time.Second+time.Millisecond))
	if err != nil || figures["plan-1"].Completed != 0 || figures["plan-1"].MedianHandleSeconds != nil {
		t.Fatalf("queue figures after the completions: %+v, %v", figures["plan-1"], err)
	}

	// The old live interaction takes a thread and is found by it.
	ix.ThreadKey = "idn|+15550100"
	if err := s.UpdateInteraction(t.Context(), ix, workspace.Parked); err != nil {
		t.Fatal(err)
	}
	byThread, err := s.LiveInteractionByThread(t.Context(), ix.ThreadKey)
	check("by thread", byThread, ix, err)
}
