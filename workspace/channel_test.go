package workspace_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// providerStub stands for the server's catalog in domain tests: one provider, "test",
// carrying every phone channel, whose only setting is an optional "apiUrl".
type providerStub struct{}

func (providerStub) CheckSettings(provider string, ch workspace.Channel, s map[string]string) (map[string]string, error) {
	if provider != "test" {
		return nil, errors.New("unknown provider")
	}
	out := maps.Clone(s)
	if out["apiUrl"] == "" {
		out["apiUrl"] = "http://provider.invalid"
	}
	return out, nil
}

// outbox is a Sender that records sends and fails as told: the provider side of the port,
// which the provider packages implement for real (tested in channel/ and server/).
type outbox struct {
	mu    sync.Mutex
	sent  []workspace.Outgoing
	fail  []error // returned by the next sends, in turn
	count atomic.Int64
}

func (o *outbox) Send(_ context.Context, out workspace.Outgoing) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.fail) > 0 {
		err := o.fail[0]
		o.fail = o.fail[1:]
		if err != nil {
			return "", err
		}
	}
	o.sent = append(o.sent, out)
	return "prov-" + strconv.FormatInt(o.count.Add(1), 10), nil
}

func (o *outbox) texts() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var ts []string
	for _, s := range o.sent {
		ts = append(ts, s.To+": "+s.Message.Text)
	}
	return ts
}

// channels sets up an SMS and a WhatsApp identity on plan Support (a reply wakes a parked
// interaction to its agent), both for outbound use, with
// the WhatsApp template "order_update" ({{1}} and {{2}}).
func (e *env) channels() (sms, wa *workspace.Identity, tpl *workspace.Template, o *outbox) {
	e.t.Helper()
	o = &outbox{}
	e.s.Providers = providerStub{}
	e.s.Senders = map[string]workspace.Sender{"test": o}
	admin := e.as("admin")
	save := func(ch workspace.Channel, addr string) *workspace.Identity {
		yes, plan, prov, name := true, e.plan("Support").ID, "test", "Acme "+string(ch)
		id, err := e.s.SaveIdentity(admin, workspace.IdentityInput{Channel: &ch, Address: &addr, Name: &name,
			Outbound: &yes, PlanID: &plan, Provider: &prov})
		if err != nil {
			e.t.Fatal(err)
		}
		return id
	}
	sms, wa = save(workspace.SMS, "+44 7700 900100"), save(workspace.WhatsApp, "+447700900200")
	tpl, err := e.s.SaveTemplate(admin, workspace.TemplateInput{IdentityID: wa.ID, Name: "order_update", Language: "en_GB",
		Body: "Hello {{1}}, your order {{2}} has shipped."})
	if err != nil {
		e.t.Fatal(err)
	}
	return sms, wa, tpl, o
}

// inbound delivers a contact's message as a provider webhook would.
func (e *env) inbound(id *workspace.Identity, from, providerID, text string) *workspace.Message {
	e.t.Helper()
	r, err := e.s.Receive(e.t.Context(), workspace.InboundMessage{IdentityID: id.ID, From: from, ProviderMessageID: providerID, Text: text})
	if err != nil {
		e.t.Fatal(err)
	}
	return r.Message
}

func (e *env) deliver() {
	e.t.Helper()
	if _, err := e.s.DeliverDue(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) message(id string) *workspace.Message {
	e.t.Helper()
	m, err := e.s.Store.Message(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// TestInboundSMSRoutedOnceAndThreaded: a contact's SMS opens an interaction on the
// identity's plan, routed like webchat (C3, P6); the provider retrying the webhook stores
// nothing twice; further messages join the open interaction; after the agent ends it (C4), the
// contact's next message opens a new one.
func TestInboundSMSRoutedOnceAndThreaded(t *testing.T) {
	e := newEnv(t)
	sms, _, _, _ := e.channels()
	e.ready("alice")
	first := e.inbound(sms, "+447700900001", "p-1", "My card was declined")
	for range 2 {
		again, err := e.s.Receive(t.Context(), workspace.InboundMessage{IdentityID: sms.ID, From: "+447700900001", ProviderMessageID: "p-1", Text: "My card was declined"})
		if err != nil || !again.Duplicate || again.Message.ID != first.ID {
			t.Fatalf("redelivery: %v dup=%v, want the first message %s", err, again.Duplicate, first.ID)
		}
	}
	ix := e.get(first.InteractionID)
	if ix.State != workspace.Offered || ix.AgentID != e.agent("alice").ID || ix.Channel != workspace.SMS || ix.IdentityID != sms.ID {
		t.Fatalf("interaction %s to %s on %s, want OFFERED to alice on SMS", ix.State, ix.AgentID, ix.Channel)
	}
	e.accept(ix)
	second := e.inbound(sms, "+447700900001", "p-2", "Still declined")
	if second.InteractionID != ix.ID {
		t.Fatalf("second message opened %s, want it joined to %s", second.InteractionID, ix.ID)
	}
	if got := e.transcriptTexts(ix.ID); len(got) != 3 { // two contact messages and "alice joined"
		t.Fatalf("transcript %q", got)
	}
	if _, err := e.s.EndInteraction(e.as("alice"), ix.ID); err != nil {
		t.Fatal(err)
	}
	third := e.inbound(sms, "+447700900001", "p-3", "Hello again")
	if third.InteractionID == ix.ID {
		t.Fatal("a message after the end joined the ended interaction")
	}
	if got := e.get(third.InteractionID); got.State != workspace.Queued && got.State != workspace.Offered {
		t.Fatalf("new interaction is %s", got.State)
	}
}

// TestInboundConcurrentDeliveries: the same webhook delivered 3 times at once is stored once,
// and two messages of a new contact arriving at once open one interaction.
func TestInboundConcurrentDeliveries(t *testing.T) {
	e := newEnv(t)
	sms, _, _, _ := e.channels()
	var wg sync.WaitGroup
	ids := make([]string, 6)
	for i := range 6 {
		wg.Go(func() {
			r, err := e.s.Receive(t.Context(), workspace.InboundMessage{IdentityID: sms.ID, From: "+447700900002",
				ProviderMessageID: "dup-" + strconv.Itoa(i%2), Text: "hi " + strconv.Itoa(i%2)})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = r.Message.InteractionID
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("messages went to interactions %v, want one", ids)
		}
	}
	if got := e.transcriptTexts(ids[0]); len(got) != 2 {
		t.Fatalf("transcript %q, want the 2 distinct messages once each", got)
	}
}

// TestOutboxSendsRetriesAndReports: an agent's SMS is stored PENDING, then sent; temporary
// failures are retried with backoff and then FAILED; content failures fail at once; status
// reports move it forward only; retryMessage sends a FAILED message again, unchanged.
func TestOutboxSendsRetriesAndReports(t *testing.T) {
	e := newEnv(t)
	sms, _, _, o := e.channels()
	e.ready("alice")
	ix := e.accept(e.get(e.inbound(sms, "+447700900003", "p-1", "Hi").InteractionID))
	alice := e.as("alice")
	updates := e.hub.Subscribe(t.Context(), workspace.DeliveryTopic(e.agent("alice").ID))

	m, err := e.s.SendReply(alice, workspace.Reply{InteractionID: ix.ID, Text: "Let me check"})
	if err != nil || m.Delivery != workspace.DeliveryPending {
		t.Fatalf("reply: %v %+v", err, m)
	}
	e.deliver()
	if got := e.message(m.ID); got.Delivery != workspace.DeliverySent || got.ExternalID == "" {
		t.Fatalf("after a send: %s %q", got.Delivery, got.ExternalID)
	}
	if ev, ok := workspace.As[*workspace.MessageEvent](next(t, updates)); !ok || ev.Message.ID != m.ID || ev.Message.Delivery != workspace.DeliverySent {
		t.Fatalf("update %+v", ev)
	}
	report := func(status workspace.DeliveryStatus, pid string) {
		t.Helper()
		if _, err := e.s.ReportDelivery(t.Context(), workspace.DeliveryReport{IdentityID: sms.ID, ProviderMessageID: pid, Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	report(workspace.DeliveryRead, "prov-1")
	report(workspace.DeliveryDelivered, "prov-1") // late: changes nothing
	if got := e.message(m.ID); got.Delivery != workspace.DeliveryRead {
		t.Fatalf("after read then delivered: %s", got.Delivery)
	}
	if _, err := e.s.ReportDelivery(t.Context(), workspace.DeliveryReport{IdentityID: sms.ID, ProviderMessageID: "unknown", Status: workspace.DeliveryRead}); workspace.ErrorCode(err) != workspace.ENOTFOUND {
		t.Fatalf("report of an unknown message: %v", err)
	}

	// Temporary failures: retried after backoff, FAILED after the last attempt.
	o.fail = []error{errors.New("connection reset"), errors.New("timeout"), errors.New("503"), errors.New("503"), errors.New("503")}
	m2, err := e.s.SendReply(alice, workspace.Reply{InteractionID: ix.ID, Text: "Found it"})
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 5; attempt++ {
		e.deliver()
		got := e.message(m2.ID)
		if attempt < 5 && (got.Delivery != workspace.DeliveryPending || got.Attempts != attempt) {
			t.Fatalf("attempt %d: %s after %d attempts", attempt, got.Delivery, got.Attempts)
		}
		e.deliver() // not due yet: nothing happens
		if again := e.message(m2.ID); again.Attempts != got.Attempts {
			t.Fatalf("sent again before the backoff passed")
		}
		e.clock.Advance(time.Minute)
	}
	failed := e.message(m2.ID)
	if failed.Delivery != workspace.DeliveryFailed || failed.DeliveryError.Kind != workspace.DeliveryTemporary {
		t.Fatalf("after 5 temporary failures: %s %+v", failed.Delivery, failed.DeliveryError)
	}
	retried, err := e.s.RetryMessage(alice, m2.ID)
	if err != nil || retried.Delivery != workspace.DeliveryPending || retried.Text != "Found it" {
		t.Fatalf("retry: %v %+v", err, retried)
	}
	e.deliver()
	if got := e.message(m2.ID); got.Delivery != workspace.DeliverySent {
		t.Fatalf("retried message is %s", got.Delivery)
	}
	if _, err := e.s.RetryMessage(alice, m2.ID); workspace.ErrorCode(err) != workspace.EWRONGSTATE {
		t.Fatalf("retrying a SENT message: %v", err)
	}
	if _, err := e.s.RetryMessage(e.as("bob"), m2.ID); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
		t.Fatalf("bob retrying alice's message: %v", err)
	}

	// A content failure (invalid number) fails at once, with the provider's code.
	o.fail = []error{&workspace.DeliveryError{Kind: workspace.DeliveryContent, Message: "invalid number", ProviderCode: "21211"}}
	m3, _ := e.s.SendReply(alice, workspace.Reply{InteractionID: ix.ID, Text: "One more thing"})
	e.deliver()
	if got := e.message(m3.ID); got.Delivery != workspace.DeliveryFailed || got.DeliveryError.ProviderCode != "21211" || got.Attempts != 1 {
		t.Fatalf("content failure: %s %+v after %d", got.Delivery, got.DeliveryError, got.Attempts)
	}
	if got := o.texts(); len(got) != 2 || got[0] != "+447700900003: Let me check" || got[1] != "+447700900003: Found it" {
		t.Fatalf("provider received %q", got)
	}
}

// TestOutboxClaimsAcrossNodes: two nodes delivering the same outbox at once send each
// message exactly once.
func TestOutboxClaimsAcrossNodes(t *testing.T) {
	e := newEnv(t)
	sms, _, _, o := e.channels()
	e.ready("alice")
	ix := e.accept(e.get(e.inbound(sms, "+447700900004", "p-1", "Hi").InteractionID))
	other := workspace.NewService(e.s.Store, workspace.NewHub(16), e.clock)
	other.Providers, other.Senders = e.s.Providers, e.s.Senders
	for i := range 40 {
		if _, err := e.s.SendReply(e.as("alice"), workspace.Reply{InteractionID: ix.ID, Text: fmt.Sprint("m", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, node := range []*workspace.Service{e.s, other} {
		wg.Go(func() {
			for range 5 {
				if _, err := node.DeliverDue(t.Context()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got := o.texts()
	if len(got) != 40 {
		t.Fatalf("provider received %d messages, want 40", len(got))
	}
	for i, text := range got { // one interaction's messages go out in order
		if text != fmt.Sprint("+447700900004: m", i) {
			t.Fatalf("message %d is %q", i, text)
		}
	}
}

// TestOutboxOrderAcrossRetriesAndClaims: one interaction's messages reach the provider in the
// order the agent sent them, also when the first one waits for a retry (the later ones, due
// at once, wait for it) or another node holds its claim (this node sends none of the later
// ones meanwhile).
func TestOutboxOrderAcrossRetriesAndClaims(t *testing.T) {
	e := newEnv(t)
	sms, _, _, o := e.channels()
	e.ready("alice")
	ix := e.accept(e.get(e.inbound(sms, "+447700900006", "p-1", "Hi").InteractionID))
	send := func(text string) *workspace.Message {
		t.Helper()
		m, err := e.s.SendReply(e.as("alice"), workspace.Reply{InteractionID: ix.ID, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	want := func(texts ...string) {
		t.Helper()
		got := o.texts()
		if len(got) != len(texts) {
			t.Fatalf("provider received %q, want %q", got, texts)
		}
		for i, text := range texts {
			if got[i] != "+447700900006: "+text {
				t.Fatalf("provider received %q, want %q", got, texts)
			}
		}
	}
	o.fail = []error{errors.New("503")}
	send("m0")
	e.deliver() // m0 fails: it waits a second
	send("m1")
	send("m2")
	e.deliver()
	e.clock.Advance(500 * time.Millisecond)
	e.deliver()
	want() // m1 and m2 are due, but m0 is not yet
	e.clock.Advance(time.Second)
	e.deliver()
	want("m0", "m1", "m2")

	// Another node claims m3 (and dies, or is slow): m4 waits for m3's claim to expire.
	m3, m4 := send("m3"), send("m4")
	claimed := e.message(m3.ID)
	claimed.Attempts, claimed.NextAttemptAt = 1, e.clock.Now().Add(e.s.Outbox.Lease)
	if err := e.s.Store.UpdateMessage(t.Context(), claimed); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	want("m0", "m1", "m2")
	if got := e.message(m4.ID); got.Delivery != workspace.DeliveryPending || got.Attempts != 0 {
		t.Fatalf("m4 behind a claimed m3: %s after %d attempts", got.Delivery, got.Attempts)
	}
	e.clock.Advance(e.s.Outbox.Lease)
	e.deliver()
	want("m0", "m1", "m2", "m3", "m4")
}

// TestWhatsAppWindow: an outbound WhatsApp starts with an approved template (O2); free text
// is refused until the contact replies; their reply opens the window for 24 hours, each
// further message restarts it; outside it only a template can be sent.
func TestWhatsAppWindow(t *testing.T) {
	e := newEnv(t)
	_, wa, tpl, o := e.channels()
	alice := e.as("alice")
	start := workspace.OutboundStart{Channel: workspace.WhatsApp, IdentityID: wa.ID, To: "+447700900005"}
	withText := start
	withText.Text = "Hi there"
	if _, err := e.s.StartOutbound(alice, withText); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("WhatsApp start with free text: %v", err)
	}
	withTemplate := start
	withTemplate.TemplateID, withTemplate.TemplateParameters = tpl.ID, []string{"Ana"}
	if _, err := e.s.StartOutbound(alice, withTemplate); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("template with too few parameters: %v", err)
	}
	withTemplate.TemplateParameters = []string{"Ana", "A-17"}
	ix, err := e.s.StartOutbound(alice, withTemplate)
	if err != nil {
		t.Fatal(err)
	}
	if ix.State != workspace.Active || ix.AgentID != e.agent("alice").ID || ix.Direction != workspace.Outbound || e.agent("alice").Used(workspace.WhatsApp) != 1 {
		t.Fatalf("outbound interaction %s with %s, alice uses %d", ix.State, ix.AgentID, e.agent("alice").Used(workspace.WhatsApp))
	}
	if ix.FreeTextUntil(e.clock.Now()) != nil {
		t.Fatal("the window is open before the contact wrote")
	}
	e.deliver()
	if got := o.texts(); len(got) != 1 || got[0] != "+447700900005: Hello Ana, your order A-17 has shipped." || o.sent[0].Message.Template.Name != "order_update" {
		t.Fatalf("provider received %q", got)
	}
	if _, err := e.s.SendReply(alice, workspace.Reply{InteractionID: ix.ID, Text: "Anything else?"}); workspace.ErrorCode(err) != EOutsideWindow {
		t.Fatalf("free text before the contact replied: %v", err)
	}
	if _, err := e.s.StartOutbound(alice, withTemplate); workspace.ErrorCode(err) != workspace.EALREADYOPEN {
		t.Fatalf("second start to the same contact: %v", err)
	}
	reply := e.inbound(wa, "+447700900005", "wamid.1", "Thanks!")
	if reply.InteractionID != ix.ID {
		t.Fatal("the contact's reply did not join the outbound interaction")
	}
	until := e.get(ix.ID).FreeTextUntil(e.clock.Now())
	if until == nil || !until.Equal(reply.SentAt.Add(24*time.Hour)) {
		t.Fatalf("window until %v, want 24 h after %v", until, reply.SentAt)
	}
	if _, err := e.s.SendReply(alice, workspace.Reply{InteractionID: ix.ID, Text: "Anything else?"}); err != nil {
		t.Fatalf("free text inside the window: %v", err)
	}
	e.clock.Advance(23 * time.Hour)
	e.inbound(wa, "+447700900005", "wamid.2", "One more question")
	e.clock.Advance(23 * time.Hour)
	if _, err := e.s.SendReply(alice, workspace.Reply{InteractionID: ix.ID, Text: "Sure"}); err != nil {
		t.Fatalf("46 h after the first reply, 23 h after the last: %v", err)
	}
	e.clock.Advance(2 * time.Hour)
	if _, err := e.s.SendReply(alice, workspace.Reply{InteractionID: ix.ID, Text: "Hello?"}); workspace.ErrorCode(err) != EOutsideWindow {
		t.Fatalf("25 h after the last contact message: %v", err)
	}
	if _, err := e.s.SendReply(alice, workspace.Reply{InteractionID: ix.ID, TemplateID: tpl.ID, TemplateParameters: []string{"Ana", "A-18"}}); err != nil {
		t.Fatalf("a template outside the window: %v", err)
	}
}

// EOutsideWindow is the domain's code, spelled as the API shows it.
const EOutsideWindow = "OUTSIDE_WINDOW"

// TestOutboundRules: webchat cannot be started (O3); only identities for outbound (O1); the
// agent's capacity bounds starts (P2); the recipient must be a number.
func TestOutboundRules(t *testing.T) {
	e := newEnv(t)
	sms, _, _, _ := e.channels()
	alice := e.as("alice")
	start := func(ch workspace.Channel, to, text string) error {
		_, err := e.s.StartOutbound(alice, workspace.OutboundStart{Channel: ch, IdentityID: sms.ID, To: to, Text: text})
		return err
	}
	wantCode(t, start(workspace.Webchat, "+447700900006", "hi"), workspace.EINVALID)
	wantCode(t, start(workspace.WhatsApp, "+447700900006", "hi"), workspace.EINVALID) // an SMS identity
	wantCode(t, start(workspace.SMS, "not a number", "hi"), workspace.EINVALID)
	wantCode(t, start(workspace.SMS, "+447700900006", "   "), workspace.EINVALID)
	if _, err := e.s.StartOutbound(context.Background(), workspace.OutboundStart{Channel: workspace.SMS, IdentityID: sms.ID, To: "+447700900006", Text: "hi"}); workspace.ErrorCode(err) != workspace.EUNAUTHENTICATED {
		t.Fatalf("anonymous start: %v", err)
	}
	no := false
	if _, err := e.s.SaveIdentity(e.as("admin"), workspace.IdentityInput{ID: sms.ID, Outbound: &no}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, start(workspace.SMS, "+447700900006", "hi"), workspace.EINVALID)
	yes := true
	if _, err := e.s.SaveIdentity(e.as("admin"), workspace.IdentityInput{ID: sms.ID, Outbound: &yes}); err != nil {
		t.Fatal(err)
	}
	capacity := e.agent("alice").Capacity[workspace.SMS]
	for i := range capacity {
		if err := start(workspace.SMS, fmt.Sprint("+4477009001", 10+i), "hi"); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, start(workspace.SMS, "+447700900199", "hi"), workspace.ENOCAPACITY)
}

// TestIdentityAdministration: supervisors alone save identities and templates; bad input is
// refused with the field at fault; settings given later merge with the stored ones.
func TestIdentityAdministration(t *testing.T) {
	e := newEnv(t)
	sms, wa, _, _ := e.channels()
	ch, addr, name, plan, prov := workspace.SMS, "+447700900300", "X", e.plan("Sales").ID, "test"
	in := workspace.IdentityInput{Channel: &ch, Address: &addr, Name: &name, PlanID: &plan, Provider: &prov}
	if _, err := e.s.SaveIdentity(e.as("alice"), in); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
		t.Fatalf("agent saving an identity: %v", err)
	}
	bad := func(change func(*workspace.IdentityInput), field string) {
		t.Helper()
		x := in
		change(&x)
		_, err := e.s.SaveIdentity(e.as("admin"), x)
		var de *workspace.Error
		if !errors.As(err, &de) || de.Code != workspace.EINVALID || de.Field[0] != field {
			t.Fatalf("want INVALID on %s, got %v", field, err)
		}
	}
	webchat, unknown, garbage, taken := workspace.Webchat, "nope", "{not json", sms.Address
	bad(func(x *workspace.IdentityInput) { x.Channel = &webchat }, "channel")
	bad(func(x *workspace.IdentityInput) { x.Provider = &unknown }, "settings")
	bad(func(x *workspace.IdentityInput) { x.Settings = &garbage }, "settings")
	bad(func(x *workspace.IdentityInput) { x.Address = &taken }, "address")
	bad(func(x *workspace.IdentityInput) { x.Channel = nil }, "identityId")
	settings := `{"apiUrl":"http://a.example","secret":"s1"}`
	in.Settings = &settings
	id, err := e.s.SaveIdentity(e.as("admin"), in)
	if err != nil {
		t.Fatal(err)
	}
	more := `{"apiUrl":"http://b.example"}`
	id, err = e.s.SaveIdentity(e.as("admin"), workspace.IdentityInput{ID: id.ID, Settings: &more})
	if err != nil || id.Settings["apiUrl"] != "http://b.example" || id.Settings["secret"] != "s1" {
		t.Fatalf("merged settings: %v %v", err, id.Settings)
	}
	tpl := workspace.TemplateInput{IdentityID: wa.ID, Name: "hello", Language: "en", Body: "Hi {{1}} and {{3}}"}
	if _, err := e.s.SaveTemplate(e.as("admin"), tpl); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("a body skipping {{2}}: %v", err)
	}
	tpl.Body = "Hi {{1}}"
	if _, err := e.s.SaveTemplate(e.as("alice"), tpl); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
		t.Fatalf("agent saving a template: %v", err)
	}
	tpl.IdentityID = sms.ID
	if _, err := e.s.SaveTemplate(e.as("admin"), tpl); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("a template on an SMS identity: %v", err)
	}
	list, err := e.s.Identities(e.as("alice"), &ch, true)
	if err != nil || len(list) != 1 || list[0].ID != sms.ID {
		t.Fatalf("outbound SMS identities: %v %v", err, list)
	}
}

// TestSMSParkedTransferredEnded: an inbound SMS interaction is parked (K1) and woken by the
// contact's next SMS (K4), transferred to another agent (C3, T1) who accepts it, and ended by
// that agent; the contact's next SMS then opens a new interaction, since only agents end SMS
// conversations (C4).
func TestSMSParkedTransferredEnded(t *testing.T) {
	e := newEnv(t)
	sms, _, _, _ := e.channels()
	e.ready("alice", "bob")
	first := e.inbound(sms, "+447700900010", "p-1", "Hello")
	ix := e.get(first.InteractionID)
	if ix.AgentID != e.agent("alice").ID {
		t.Fatalf("offered to %s, want alice (idle longest)", ix.AgentID)
	}
	ix = e.accept(ix)
	parked := e.park(ix)
	if parked.State != workspace.Parked || parked.ParkedBy != e.agent("alice").ID || e.agent("alice").Used(workspace.SMS) != 0 {
		t.Fatalf("parked: %s by %q, alice uses %d", parked.State, parked.ParkedBy, e.agent("alice").Used(workspace.SMS))
	}
	e.inbound(sms, "+447700900010", "p-2", "I'm back")
	if got := e.get(ix.ID); got.State != workspace.Active || got.AgentID != e.agent("alice").ID {
		t.Fatalf("after the contact's reply: %s with %s, want ACTIVE with alice", got.State, got.AgentID)
	}
	if _, err := e.transfer(ix, e.toAgent("bob")); err != nil {
		t.Fatal(err)
	}
	got := e.get(ix.ID)
	if _, err := e.s.AcceptOffer(e.as("bob"), got.Transfer.OfferID); err != nil {
		t.Fatal(err)
	}
	if got := e.get(ix.ID); got.AgentID != e.agent("bob").ID || got.State != workspace.Active {
		t.Fatalf("after the transfer: %s with %s", got.State, got.AgentID)
	}
	if _, err := e.s.SendReply(e.as("alice"), workspace.Reply{InteractionID: ix.ID, Text: "still mine?"}); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
		t.Fatalf("alice replying after the transfer: %v", err)
	}
	if _, err := e.s.EndInteraction(e.as("bob"), ix.ID); err != nil {
		t.Fatal(err)
	}
	next := e.inbound(sms, "+447700900010", "p-3", "One more thing")
	if next.InteractionID == ix.ID {
		t.Fatal("the contact's message after the end joined the ended interaction")
	}
}

// TestChannelInputLimits: oversized and malformed input to identities, templates and
// replies is refused with the field at fault.
func TestChannelInputLimits(t *testing.T) {
	e := newEnv(t)
	sms, wa, tpl, _ := e.channels()
	admin := e.as("admin")
	long := strings.Repeat("x", 101)
	if _, err := e.s.SaveIdentity(admin, workspace.IdentityInput{ID: sms.ID, Name: &long}); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("a 101-character name: %v", err)
	}
	for _, in := range []workspace.TemplateInput{
		{IdentityID: wa.ID, Name: "big", Language: "en", Body: strings.Repeat("y", 1025)},
		{IdentityID: wa.ID, Name: "Bad Name", Language: "en", Body: "hi"},
		{IdentityID: wa.ID, Name: "ok", Language: "english", Body: "hi"},
		{IdentityID: "not-an-id", Name: "ok", Language: "en", Body: "hi"},
		{IdentityID: wa.ID, Name: tpl.Name, Language: tpl.Language, Body: "a duplicate"},
	} {
		if _, err := e.s.SaveTemplate(admin, in); workspace.ErrorCode(err) != workspace.EINVALID {
			t.Fatalf("template %+v: %v", in, err)
		}
	}
	e.ready("alice")
	ix := e.accept(e.get(e.inbound(sms, "+447700900011", "p-1", "Hi").InteractionID))
	if _, err := e.s.SendReply(e.as("alice"), workspace.Reply{InteractionID: ix.ID, Text: strings.Repeat("z", 4097)}); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("a 4,097-character SMS: %v", err)
	}
	if _, err := e.s.SendReply(e.as("alice"), workspace.Reply{InteractionID: ix.ID, TemplateID: tpl.ID, TemplateParameters: []string{"a", "b"}}); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("a WhatsApp template on SMS: %v", err)
	}
	if _, err := e.s.Receive(t.Context(), workspace.InboundMessage{IdentityID: sms.ID, From: "+447700900011"}); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("an inbound message without the provider's ID: %v", err)
	}
}
