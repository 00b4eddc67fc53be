package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// testThreads checks that a non-empty ThreadKey is unique among live interactions only, and
// is freed as soon as an update clears it.
func testThreads(t *testing.T, s workspace.Store) {
	byThread := func(key string) string {
		t.Helper()
		ix, err := s.LiveInteractionByThread(ctx(t), key)
		if workspace.ErrorCode(err) == workspace.ENOTFOUND {
			return ""
		}
		must(t, err)
		return ix.ID
	}
	_, err := s.LiveInteractionByThread(ctx(t), "idn|+447700900001")
	wantCode(t, err, workspace.ENOTFOUND)

	a := newInteraction(now())
	a.ThreadKey, a.IdentityID = "idn|+447700900001", "idn"
	must(t, s.CreateInteraction(ctx(t), a))
	got, err := s.LiveInteractionByThread(ctx(t), a.ThreadKey)
	must(t, err)
	sameInteraction(t, got, a)

	// Interactions without a thread never collide, and "" names none of them.
	for range 3 {
		must(t, s.CreateInteraction(ctx(t), newInteraction(now())))
	}
	_, err = s.LiveInteractionByThread(ctx(t), "")
	wantCode(t, err, workspace.ENOTFOUND)

	// A second live interaction cannot take the key, by create or by update.
	b := newInteraction(now())
	b.ThreadKey = a.ThreadKey
	wantCode(t, s.CreateInteraction(ctx(t), b), workspace.ECONFLICT)
	b.ThreadKey = ""
	must(t, s.CreateInteraction(ctx(t), b))
	b.ThreadKey = a.ThreadKey
	wantCode(t, s.UpdateInteraction(ctx(t), b, b.State), workspace.ECONFLICT)
	b.ThreadKey = "idn|+447700900002"
	must(t, s.UpdateInteraction(ctx(t), b, b.State))
	if id := byThread(a.ThreadKey); id != a.ID {
		t.Fatalf("thread %s is held by %s, want %s", a.ThreadKey, id, a.ID)
	}

	// Clearing the key frees it: another live interaction takes it.
	key := a.ThreadKey
	a.ThreadKey = ""
	a.State = workspace.Offered
	must(t, s.UpdateInteraction(ctx(t), a, workspace.Queued))
	if id := byThread(key); id != "" {
		t.Fatalf("a cleared thread key still finds %s", id)
	}
	b.ThreadKey = key
	must(t, s.UpdateInteraction(ctx(t), b, b.State))
	if id := byThread(key); id != b.ID {
		t.Fatalf("thread %s is held by %s, want %s", key, id, b.ID)
	}

	// History does not hold threads: an archived interaction keeps its key, and a new live
	// one may take it, and be archived with it in turn.
	for range 2 {
		done := completed(b)
		must(t, s.UpdateInteraction(ctx(t), done, b.State))
		must(t, s.ArchiveInteraction(ctx(t), done))
		got, err := s.Interaction(ctx(t), b.ID)
		must(t, err)
		if got.ThreadKey != key {
			t.Fatalf("an archived interaction's thread key = %q, want %q", got.ThreadKey, key)
		}
		if id := byThread(key); id != "" {
			t.Fatalf("thread %s finds the archived %s", key, id)
		}
		b = newInteraction(now())
		b.ThreadKey = key
		must(t, s.CreateInteraction(ctx(t), b))
		if id := byThread(key); id != b.ID {
			t.Fatalf("thread %s is held by %s, want %s", key, id, b.ID)
		}
	}
}

func newIdentity(ch workspace.Channel, address, name string) *workspace.Identity {
	return &workspace.Identity{
		ID: uuid.NewString(), Channel: ch, Address: address, Name: name, Outbound: true,
		PlanID: uuid.NewString(), Provider: "simulator",
		Settings:  map[string]string{"baseURL": "https://api.example.com", "secret": "s3cr3t"},
		CreatedAt: now(),
	}
}

func sameIdentity(t *testing.T, got, want *workspace.Identity) {
	t.Helper()
	if g, w := fmt.Sprintf("%+v", normalise(*got)), fmt.Sprintf("%+v", normalise(*want)); g != w {
		t.Fatalf("identity differs:\n got %s\nwant %s", g, w)
	}
}

func testIdentities(t *testing.T, s workspace.Store) {
	sms := newIdentity(workspace.SMS, "+447700900123", "Acme Support")
	must(t, s.CreateIdentity(ctx(t), sms))
	got, err := s.Identity(ctx(t), sms.ID)
	must(t, err)
	sameIdentity(t, got, sms)
	_, err = s.Identity(ctx(t), uuid.NewString())
	wantCode(t, err, workspace.ENOTFOUND)

	sameID := newIdentity(workspace.Email, "help@example.com", "Help")
	sameID.ID = sms.ID
	wantCode(t, s.CreateIdentity(ctx(t), sameID), workspace.ECONFLICT)
	wantCode(t, s.CreateIdentity(ctx(t), newIdentity(workspace.SMS, sms.Address, "Twin")), workspace.ECONFLICT)

	// The same number on another channel is another identity.
	wa := newIdentity(workspace.WhatsApp, sms.Address, "Acme Support")
	wa.Settings = nil
	must(t, s.CreateIdentity(ctx(t), wa))
	email := newIdentity(workspace.Email, "help@example.com", "Acme Help")
	must(t, s.CreateIdentity(ctx(t), email))
	all, err := s.Identities(ctx(t))
	must(t, err)
	twins := []*workspace.Identity{sms, wa}
	if wa.ID < sms.ID {
		twins = []*workspace.Identity{wa, sms}
	}
	want := append([]*workspace.Identity{email}, twins...)
	if fmt.Sprint(identityIDs(all)) != fmt.Sprint(identityIDs(want)) {
		t.Fatalf("Identities() = %v, want %v (by name, then ID)", identityIDs(all), identityIDs(want))
	}
	for i := range all {
		sameIdentity(t, all[i], want[i])
	}

	// Updates are version-guarded, and may not take another identity's channel and address.
	stale := *sms
	sms.Name, sms.Outbound, sms.Settings = "Acme Sales", false, map[string]string{"secret": "rotated"}
	must(t, s.UpdateIdentity(ctx(t), sms))
	if sms.Version != stale.Version+1 {
		t.Fatalf("version after update = %d, want %d", sms.Version, stale.Version+1)
	}
	got, err = s.Identity(ctx(t), sms.ID)
	must(t, err)
	sameIdentity(t, got, sms)
	wantCode(t, s.UpdateIdentity(ctx(t), &stale), workspace.ECONFLICT)
	wantCode(t, s.UpdateIdentity(ctx(t), newIdentity(workspace.RCS, "+15550100", "Ghost")), workspace.ECONFLICT)
	email.Channel, email.Address = workspace.SMS, sms.Address
	wantCode(t, s.UpdateIdentity(ctx(t), email), workspace.ECONFLICT)
	got, err = s.Identity(ctx(t), email.ID)
	must(t, err)
	if got.Channel != workspace.Email || got.Version != 0 {
		t.Fatalf("a colliding update changed the identity: %+v", got)
	}
}

func identityIDs(list []*workspace.Identity) []string {
	ids := make([]string, len(list))
	for i, id := range list {
		ids[i] = id.ID
	}
	return ids
}

func newTemplate(identityID, name, language string) *workspace.Template {
	return &workspace.Template{
		ID: uuid.NewString(), IdentityID: identityID, Name: name, Language: language,
		Body: "Hello {{1}}, your order {{2}} is on its way.", ParameterCount: 2, CreatedAt: now(),
	}
}

func testTemplates(t *testing.T, s workspace.Store) {
	idn, other := uuid.NewString(), uuid.NewString()
	shipped := newTemplate(idn, "order_shipped", "en_GB")
	must(t, s.CreateTemplate(ctx(t), shipped))
	got, err := s.Template(ctx(t), shipped.ID)
	must(t, err)
	if fmt.Sprintf("%+v", normalise(*got)) != fmt.Sprintf("%+v", normalise(*shipped)) {
		t.Fatalf("template = %+v, want %+v", got, shipped)
	}
	_, err = s.Template(ctx(t), uuid.NewString())
	wantCode(t, err, workspace.ENOTFOUND)

	sameID := newTemplate(idn, "welcome", "en_GB")
	sameID.ID = shipped.ID
	wantCode(t, s.CreateTemplate(ctx(t), sameID), workspace.ECONFLICT)
	wantCode(t, s.CreateTemplate(ctx(t), newTemplate(idn, "order_shipped", "en_GB")), workspace.ECONFLICT)

	// Another language, or another identity, makes another template.
	de := newTemplate(idn, "order_shipped", "de")
	welcome := newTemplate(idn, "welcome", "en_GB")
	theirs := newTemplate(other, "order_shipped", "en_GB")
	for _, tp := range []*workspace.Template{welcome, theirs, de} {
		must(t, s.CreateTemplate(ctx(t), tp))
	}
	list, err := s.Templates(ctx(t), idn)
	must(t, err)
	var names []string
	for _, tp := range list {
		names = append(names, tp.Name+"/"+tp.Language)
	}
	if fmt.Sprint(names) != "[order_shipped/de order_shipped/en_GB welcome/en_GB]" {
		t.Fatalf("Templates() = %v, want by name then language", names)
	}
	if list, err := s.Templates(ctx(t), uuid.NewString()); err != nil || len(list) != 0 {
		t.Fatalf("Templates of an identity without any = %v, %v", list, err)
	}
}

// newOutbound returns a PENDING agent message of ix, due at next.
func newOutbound(ixID string, next time.Time) *workspace.Message {
	return &workspace.Message{
		ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ixID, From: workspace.PartyAgent,
		AgentID: "agent-1", Text: "Your order has shipped.", SentAt: now(),
		Delivery: workspace.DeliveryPending, NextAttemptAt: next,
	}
}

// testMessageDelivery checks reads by ID and by ExternalID, ExternalID's uniqueness and
// UpdateMessage's guard.
func testMessageDelivery(t *testing.T, s workspace.Store) {
	ixID := uuid.NewString()
	m := newOutbound(ixID, now())
	m.Template = &workspace.TemplateUse{TemplateID: uuid.NewString(), Name: "order_shipped", Language: "en_GB", Parameters: []string{"Pat", "A-17"}}
	must(t, s.AppendMessage(ctx(t), m))
	got, err := s.Message(ctx(t), m.ID)
	must(t, err)
	sameMessage(t, got, m)
	_, err = s.Message(ctx(t), uuid.NewString())
	wantCode(t, err, workspace.ENOTFOUND)

	// Inbound messages carry the provider's ID; a repeated webhook collides.
	in := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ixID, From: workspace.PartyContact,
		Text: "Thanks!", SentAt: now(), ExternalID: "idn|wamid.1"}
	must(t, s.AppendMessage(ctx(t), in))
	again := *in
	again.ID = uuid.Must(uuid.NewV7()).String()
	wantCode(t, s.AppendMessage(ctx(t), &again), workspace.ECONFLICT)
	got, err = s.MessageByExternalID(ctx(t), "idn|wamid.1")
	must(t, err)
	sameMessage(t, got, in)
	_, err = s.MessageByExternalID(ctx(t), "idn|wamid.2")
	wantCode(t, err, workspace.ENOTFOUND)
	_, err = s.MessageByExternalID(ctx(t), "")
	wantCode(t, err, workspace.ENOTFOUND) // m has none

	// Sent: the provider's ID and the delivery state are written under the version guard.
	stale := *m
	m.Delivery, m.Attempts, m.ExternalID = workspace.DeliverySent, 1, "idn|wamid.3"
	must(t, s.UpdateMessage(ctx(t), m))
	if m.Version != stale.Version+1 {
		t.Fatalf("version after update = %d, want %d", m.Version, stale.Version+1)
	}
	got, err = s.MessageByExternalID(ctx(t), "idn|wamid.3")
	must(t, err)
	sameMessage(t, got, m)
	wantCode(t, s.UpdateMessage(ctx(t), &stale), workspace.ECONFLICT)
	wantCode(t, s.UpdateMessage(ctx(t), newOutbound(ixID, now())), workspace.ECONFLICT)

	// Failed: the error is stored; taking another message's provider ID is CONFLICT.
	m.Delivery = workspace.DeliveryFailed
	m.DeliveryError = &workspace.DeliveryError{Kind: workspace.DeliveryContent, Message: "Re-engagement message", ProviderCode: "131047"}
	must(t, s.UpdateMessage(ctx(t), m))
	got, err = s.Message(ctx(t), m.ID)
	must(t, err)
	sameMessage(t, got, m)
	taker := *m
	taker.ExternalID = in.ExternalID
	wantCode(t, s.UpdateMessage(ctx(t), &taker), workspace.ECONFLICT)
	got, err = s.Message(ctx(t), m.ID)
	must(t, err)
	sameMessage(t, got, m)

	// Clearing an ExternalID frees it.
	in.ExternalID = ""
	must(t, s.UpdateMessage(ctx(t), in))
	taker.ExternalID = "idn|wamid.1"
	must(t, s.UpdateMessage(ctx(t), &taker))
	got, err = s.MessageByExternalID(ctx(t), "idn|wamid.1")
	must(t, err)
	sameMessage(t, got, &taker)
}

// testDueMessages checks the outbox's read: PENDING messages due by a time, in due order.
func testDueMessages(t *testing.T, s workspace.Store) {
	base := now().Add(-time.Hour)
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	ixID := uuid.NewString()
	ids := sortedIDs(8)
	mk := func(id string, d workspace.DeliveryStatus, next int) *workspace.Message {
		m := newOutbound(ixID, at(next))
		m.ID, m.Delivery = id, d
		must(t, s.AppendMessage(ctx(t), m))
		return m
	}
	// p2 and p3 are due at once: the lower ID (p3) comes first.
	p1 := mk(ids[4], workspace.DeliveryPending, 1)
	p3 := mk(ids[1], workspace.DeliveryPending, 2)
	p2 := mk(ids[3], workspace.DeliveryPending, 2)
	p4 := mk(ids[0], workspace.DeliveryPending, 10)
	mk(ids[2], workspace.DeliverySent, 0)
	mk(ids[5], workspace.DeliveryFailed, 0)
	mk(ids[6], "", 0)
	mk(ids[7], workspace.DeliveryDelivered, 1)
	name := map[string]string{p1.ID: "p1", p2.ID: "p2", p3.ID: "p3", p4.ID: "p4"}
	due := func(by time.Time, limit int) string {
		t.Helper()
		list, err := s.DueMessages(ctx(t), by, limit)
		must(t, err)
		var names []string
		for _, m := range list {
			n, ok := name[m.ID]
			if !ok {
				n = string(m.Delivery)
			}
			names = append(names, n)
		}
		return fmt.Sprint(names)
	}
	for _, c := range []struct {
		by    time.Time
		limit int
		want  string
	}{
		{at(0), 10, "[]"},
		{at(1), 10, "[p1]"},
		{at(2).Add(-time.Millisecond), 10, "[p1]"},
		{at(2), 10, "[p1 p3 p2]"},
		{at(100), 10, "[p1 p3 p2 p4]"},
		{at(100), 2, "[p1 p3]"},
		{at(100), 1, "[p1]"},
	} {
		if got := due(c.by, c.limit); got != c.want {
			t.Errorf("DueMessages(at %v, %d) = %s, want %s", c.by.Sub(base), c.limit, got, c.want)
		}
	}
	list, err := s.DueMessages(ctx(t), at(1), 10)
	must(t, err)
	sameMessages(t, "due at 1s", list, []*workspace.Message{p1})

	// A node claims p1 by moving it into the future; p3 is sent.
	p1.NextAttemptAt, p1.Attempts = at(50), 1
	must(t, s.UpdateMessage(ctx(t), p1))
	p3.Delivery = workspace.DeliverySent
	must(t, s.UpdateMessage(ctx(t), p3))
	if got := due(at(10), 10); got != "[p2 p4]" {
		t.Fatalf("after a claim and a send: %s, want [p2 p4]", got)
	}
	if got := due(at(100), 10); got != "[p2 p4 p1]" {
		t.Fatalf("later: %s, want [p2 p4 p1]", got)
	}
}

// testMessageRace checks that exactly one of several outbox nodes claiming the same message
// at the same version wins.
func testMessageRace(t *testing.T, s workspace.Store) {
	m := newOutbound(uuid.NewString(), now())
	must(t, s.AppendMessage(ctx(t), m))
	for round := 0; round < 5; round++ {
		base, err := s.Message(ctx(t), m.ID)
		must(t, err)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				mine := *base
				mine.Attempts, mine.NextAttemptAt = base.Attempts+1, now().Add(time.Duration(i+1)*time.Minute)
				err := s.UpdateMessage(context.Background(), &mine)
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
		got, err := s.Message(ctx(t), m.ID)
		must(t, err)
		if got.Attempts != base.Attempts+1 || got.Version != base.Version+1 {
			t.Fatalf("round %d: stored attempts %d v%d, want %d v%d", round, got.Attempts, got.Version, base.Attempts+1, base.Version+1)
		}
	}
}
