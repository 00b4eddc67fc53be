package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/email/emailtest"
	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emersion/go-smtp"
	"github.com/jhillyerd/enmime/v2"
)

// emailNode is a node with the SMTP listener on loopback, a fast outbox and an EMAIL
// identity support@acme.test that sends to a go-smtp sink; alice is READY.
type emailNode struct {
	m        *server.Main
	sink     *emailtest.Sink
	admin    string
	alice    string
	identity string
}

func startEmail(t *testing.T, change ...func(*server.Config)) *emailNode {
	t.Helper()
	m := start(t, func(c *server.Config) {
		for _, f := range change {
			f(c)
		}
		c.SMTPAddr = "127.0.0.1:0"
		c.OutboxPoll = 20 * time.Millisecond
		c.Outbox = workspace.OutboxPolicy{Lease: 5 * time.Second, MaxAttempts: 2, FirstBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Batch: 100}
	})
	e := &emailNode{m: m, sink: emailtest.Start(t), admin: login(t, m, "admin"), alice: login(t, m, "alice")}
	plans := post(t, m, e.admin, `query { interactionPlans { id name } }`, nil)
	var plan string
	for _, p := range asList(dig(plans.Data, "interactionPlans")) {
		if p.(map[string]any)["name"] == "Support" {
			plan = p.(map[string]any)["id"].(string)
		}
	}
	settings, _ := json.Marshal(map[string]any{"host": e.sink.Host(), "port": e.sink.Port(), "tls": "none"})
	r := post(t, m, e.admin, `mutation($p: ID!, $s: String!) { saveChannelIdentity(input: {channel: EMAIL, address: "support@acme.test",
		name: "Acme Support", outbound: true, planId: $p, provider: "smtp", settings: $s}) { identity { id address } userErrors { code field message } } }`,
		map[string]any{"p": plan, "s": string(settings)})
	id, _ := dig(r.Data, "saveChannelIdentity.identity.id").(string)
	if id == "" {
		t.Fatalf("saving the identity: %+v", r)
	}
	e.identity = id
	if r := post(t, m, e.alice, `mutation { setPresence(input: {presence: READY}) { agent { presence } } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("presence: %+v", r)
	}
	return e
}

// smtpSend delivers raw to the listener as a mail server would.
func smtpSend(addr, from string, to []string, raw string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SendMail(from, to, strings.NewReader(raw))
}

func mail(from, msgID, subject, body string, headers ...string) string {
	h := "From: " + from + "\r\nTo: support@acme.test\r\nSubject: " + subject + "\r\n"
	if msgID != "" {
		h += "Message-ID: <" + msgID + ">\r\n"
	}
	for _, x := range headers {
		h += x + "\r\n"
	}
	return h + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
}

// offered waits for the interaction offered to the agent and accepts it.
func (e *emailNode) acceptNext(t *testing.T) string {
	t.Helper()
	var ixID, offer string
	waitLong(t, "an offer", func() bool {
		r := post(t, e.m, e.alice, `query { myInteractions { id state offer { id } } }`, nil)
		for _, x := range asList(dig(r.Data, "myInteractions")) {
			if o, _ := dig(x, "offer.id").(string); o != "" {
				ixID, offer = dig(x, "id").(string), o
				return true
			}
		}
		return false
	})
	r := post(t, e.m, e.alice, `mutation($o: ID!) { acceptOffer(input: {offerId: $o}) { interaction { id state } userErrors { code } } }`, map[string]any{"o": offer})
	if dig(r.Data, "acceptOffer.interaction.state") != "ACTIVE" {
		t.Fatalf("accept: %+v", r)
	}
	return ixID
}

func (e *emailNode) transcript(t *testing.T, ix string) []any {
	t.Helper()
	r := post(t, e.m, e.alice, `query($i: ID!) { interaction(id: $i) { transcript(first: 100) { edges { node { id from text
		delivery deliveryError { kind providerCode } email { subject messageId inReplyTo references from to html } } } } } }`, map[string]any{"i": ix})
	var out []any
	for _, edge := range asList(dig(r.Data, "interaction.transcript.edges")) {
		out = append(out, dig(edge, "node"))
	}
	return out
}

func (e *emailNode) reply(t *testing.T, ix, html string) string {
	t.Helper()
	r := post(t, e.m, e.alice, `mutation($i: ID!, $h: String) { sendMessage(input: {interactionId: $i, text: "", html: $h}) { message { id email { messageId subject } } userErrors { code field message } } }`,
		map[string]any{"i": ix, "h": html})
	id, _ := dig(r.Data, "sendMessage.message.id").(string)
	if id == "" {
		t.Fatalf("reply: %+v", r)
	}
	return id
}

func (e *emailNode) delivery(t *testing.T, ix, msg string) (string, string) {
	t.Helper()
	for _, m := range e.transcript(t, ix) {
		if dig(m, "id") == msg {
			d, _ := dig(m, "delivery").(string)
			k, _ := dig(m, "deliveryError.kind").(string)
			return d, k
		}
	}
	return "", ""
}

// TestEmailServerSeedFlow: over real SMTP on loopback, an email to the identity is refused for
// unknown addresses at RCPT, offered to alice, answered from the composer (E1: replyTo is the
// latest email) and reaches the sink threaded; the customer's answer joins the same
// interaction (E6), a redelivery is stored once; a 5xx fails the reply as CONTENT (Edit), a
// 4xx as TEMPORARY after the retries (Retry), and retryMessage sends it (E5).
func TestEmailServerSeedFlow(t *testing.T) {
	e := startEmail(t)
	addr := e.m.SMTPAddr()
	var se *smtp.SMTPError
	if err := smtpSend(addr, "pat@example.com", []string{"nobody@acme.test"}, mail("pat@example.com", "x@example.com", "Hi", "Hello")); !errors.As(err, &se) || se.Code != 550 {
		t.Fatalf("mail for an unknown address: %v, want 550 at RCPT", err)
	}
	if err := smtpSend(addr, "pat@example.com", []string{"support@acme.test"}, mail("Pat <pat@example.com>", "m1@example.com", "Order 17", "Where is my order?")); err != nil {
		t.Fatal(err)
	}
	ix := e.acceptNext(t)
	r := post(t, e.m, e.alice, `query($i: ID!) { interaction(id: $i) { channel replyTo { email { messageId subject from } } } }`, map[string]any{"i": ix})
	if dig(r.Data, "interaction.replyTo.email.messageId") != "m1@example.com" || dig(r.Data, "interaction.channel") != "EMAIL" {
		t.Fatalf("replyTo: %+v", r)
	}
	e.reply(t, ix, "<p>Hello <b>Pat</b>, it ships today.</p>")
	waitLong(t, "the reply at the sink", func() bool { return len(e.sink.Mails()) == 1 })
	env, err := enmime.ReadEnvelope(bytes.NewReader(e.sink.Mails()[0].Raw))
	if err != nil {
		t.Fatal(err)
	}
	sentID := strings.Trim(env.GetHeader("Message-ID"), "<>")
	if env.GetHeader("In-Reply-To") != "<m1@example.com>" || env.GetHeader("Subject") != "Re: Order 17" || !strings.Contains(env.HTML, "<b>Pat</b>") || !strings.Contains(env.Text, "Hello Pat") {
		t.Fatalf("sent: %v html %q text %q", env.Root.Header, env.HTML, env.Text)
	}
	answer := mail("pat@example.com", "m2@example.com", "Re: Re: Order 17", "Thanks!", "In-Reply-To: <"+sentID+">", "References: <m1@example.com> <"+sentID+">")
	for range 2 { // an SMTP retry delivers it twice
		if err := smtpSend(addr, "pat@example.com", []string{"support@acme.test"}, answer); err != nil {
			t.Fatal(err)
		}
	}
	waitLong(t, "the answer in the transcript", func() bool { return len(e.transcript(t, ix)) >= 4 })
	contact := 0
	for _, m := range e.transcript(t, ix) {
		if dig(m, "from") == "CONTACT" {
			contact++
		}
	}
	if contact != 2 {
		t.Fatalf("%d contact emails in the thread, want 2 (the answer once): %v", contact, e.transcript(t, ix))
	}
	r = post(t, e.m, e.alice, `query($i: ID!) { interaction(id: $i) { replyTo { email { messageId } } } }`, map[string]any{"i": ix})
	if dig(r.Data, "interaction.replyTo.email.messageId") != "m2@example.com" {
		t.Fatalf("replyTo after the answer: %+v", r)
	}

	// E5: a 5xx is CONTENT at once; a 4xx is TEMPORARY after the outbox's attempts.
	e.sink.Fail(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"})
	bad := e.reply(t, ix, "<p>content failure</p>")
	waitLong(t, "FAILED CONTENT", func() bool { d, k := e.delivery(t, ix, bad); return d == "FAILED" && k == "CONTENT" })
	e.sink.Fail(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "later"})
	later := e.reply(t, ix, "<p>temporary failure</p>")
	waitLong(t, "FAILED TEMPORARY", func() bool { d, k := e.delivery(t, ix, later); return d == "FAILED" && k == "TEMPORARY" })
	e.sink.Fail(nil)
	if r := post(t, e.m, e.alice, `mutation($m: ID!) { retryMessage(input: {messageId: $m}) { message { delivery } userErrors { code } } }`, map[string]any{"m": later}); dig(r.Data, "retryMessage.message.delivery") != "PENDING" {
		t.Fatalf("retry: %+v", r)
	}
	waitLong(t, "the retried reply SENT", func() bool { d, _ := e.delivery(t, ix, later); return d == "SENT" })
	if n := len(e.sink.Mails()); n != 2 {
		t.Fatalf("the sink has %d mails, want 2 (the first reply and the retried one)", n)
	}
}

// TestEmailServerListenerLimits: a message over -smtp-max-bytes is refused with SMTP's size
// error (552) and nothing is stored; a message without a Message-ID gets one and is stored
// once when delivered twice; a malformed MIME message is stored with the original attached.
func TestEmailServerListenerLimits(t *testing.T) {
	e := startEmail(t)
	addr := e.m.SMTPAddr()
	big := mail("pat@example.com", "big@example.com", "Big", strings.Repeat("0123456789abcdef\r\n", 30<<20/18))
	var se *smtp.SMTPError
	if err := smtpSend(addr, "pat@example.com", []string{"support@acme.test"}, big); !errors.As(err, &se) || se.Code != 552 {
		t.Fatalf("30 MB: %v, want 552", err)
	}
	noID := mail("pat@example.com", "", "No id", "hello")
	for range 2 {
		if err := smtpSend(addr, "pat@example.com", []string{"support@acme.test"}, noID); err != nil {
			t.Fatal(err)
		}
	}
	ix := e.acceptNext(t)
	msgs := e.transcript(t, ix)
	contact := 0
	for _, m := range msgs {
		if dig(m, "from") == "CONTACT" {
			contact++
			if id, _ := dig(m, "email.messageId").(string); !strings.HasSuffix(id, "@agentdesk.invalid") {
				t.Fatalf("made Message-ID %q", id)
			}
		}
	}
	if contact != 1 {
		t.Fatalf("%d contact messages, want the message without Message-ID once", contact)
	}
	broken := "From: sam@example.com\r\nMessage-ID: <broken@example.com>\r\nSubject: broken\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\nContent-Type: text/plain; charset=x-unknown\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n"
	if err := smtpSend(addr, "sam@example.com", []string{"support@acme.test"}, broken); err != nil {
		t.Fatalf("malformed MIME: %v", err)
	}
	waitLong(t, "the malformed email stored", func() bool {
		r := post(t, e.m, e.admin, `query { interactions(filter: {channels: [EMAIL]}, first: 10) { edges { node { contact { address } } } } }`, nil)
		return strings.Contains(fmt.Sprint(r.Data), "sam@example.com")
	})
}

// TestEmailServerSwaks: the listener receives from a real SMTP client (Debian's swaks).
func TestEmailServerSwaks(t *testing.T) {
	swaks, err := exec.LookPath("swaks")
	if err != nil {
		t.Skip("swaks is not installed (make mailtools installs it)")
	}
	e := startEmail(t)
	out, err := exec.Command(swaks, "--server", e.m.SMTPAddr(), "--from", "pat@example.com", "--to", "support@acme.test",
		"--header", "Subject: swaks test", "--body", "Hello from swaks").CombinedOutput()
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	ix := e.acceptNext(t)
	if msgs := e.transcript(t, ix); !strings.Contains(fmt.Sprint(msgs), "Hello from swaks") {
		t.Fatalf("transcript %v", msgs)
	}
	out, _ = exec.Command(swaks, "--server", e.m.SMTPAddr(), "--from", "pat@example.com", "--to", "stranger@acme.test").CombinedOutput()
	if !strings.Contains(string(out), "550") {
		t.Fatalf("swaks to an unknown address:\n%s", out)
	}
}

// TestEmailOutboxSurvivesKill9: 50 email replies wait in the outbox (the mail server answers
// 451 to each, so none is in flight) when the process is killed with SIGKILL; after the
// restart the mail server has each exactly once, by its Message-ID (E5, the outbox's model).
func TestEmailOutboxSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const n = 50
	bin := buildAgentdesk(t)
	data := t.TempDir()
	sink := emailtest.Start(t)
	sink.Fail(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "later"})

	first := startAgentdesk(t, bin, data)
	admin := loginAt(t, first.url, "admin")
	r := gqlAt(t, first.url, admin, `{ interactionPlans(search:"Support") { id } }`, nil)
	plan, _ := dig(r.Data, "interactionPlans.0.id").(string)
	settings, _ := json.Marshal(map[string]any{"host": sink.Host(), "port": sink.Port(), "tls": "none"})
	p := mutateAt(t, first.url, admin, "saveChannelIdentity", `mutation($p:ID!, $s:String!) {
		saveChannelIdentity(input:{channel:EMAIL, address:"support@acme.test", name:"Acme", outbound:true, planId:$p, provider:"smtp", settings:$s}) {
			identity { id } userErrors { code field message } } }`, map[string]any{"p": plan, "s": string(settings)})
	identity, _ := dig(p, "identity.id").(string)
	alice := loginAt(t, first.url, "alice")
	p = mutateAt(t, first.url, alice, "startOutbound", `mutation($w:ID!) { startOutbound(input:{channel:EMAIL, identityId:$w, to:"pat@example.com",
		subject:"Your order", text:"first"}) { interaction { id } userErrors { code field message } } }`, map[string]any{"w": identity})
	ix, _ := dig(p, "interaction.id").(string)
	if ix == "" {
		t.Fatalf("startOutbound: %v", p)
	}
	ids := append([]string{}, sendMessages(t, first.url, alice, ix, n-1)...)
	waitLong(t, "failed send attempts", func() bool { return sink.Attempts() >= 5 })
	if len(sink.Mails()) != 0 {
		t.Fatal("the sink accepted mail while refusing it")
	}
	first.kill(t)

	sink.Fail(nil)
	second := startAgentdesk(t, bin, data)
	waitLong(t, "every email SENT", func() bool {
		got := deliveries(t, second.url, alice, ix)
		return countDelivery(got, ids, "SENT") == len(ids) && len(got) == n
	})
	seen := map[string]int{}
	for _, m := range sink.Mails() {
		env, err := enmime.ReadEnvelope(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		seen[env.GetHeader("Message-ID")]++
	}
	if len(seen) != n {
		t.Fatalf("the sink has %d distinct emails, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("%s arrived %d times", id, c)
		}
	}
	for _, id := range ids {
		if seen["<"+id+"@acme.test>"] != 1 {
			t.Fatalf("reply %s did not arrive once: %v", id, seen)
		}
	}
}

// TestEmailE4AttachmentOverLimitRefused: an inbound attachment over the attachment limit
// (E4's 25 MB; 4 KB here) is refused as TOO_LARGE: the email is stored without it, the
// inline image that fits is kept, and a SYSTEM note says which file was not kept and why.
func TestEmailE4AttachmentOverLimitRefused(t *testing.T) {
	e := startEmail(t, func(c *server.Config) { c.MaxUploadBytes = 4096 })
	png := "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAcCBlCwAAAABJRU5ErkJggg=="
	var big string // "%PDF-1.4\n" over and over, base64 in lines of 72: 9 KB once decoded
	for range 150 {
		big += strings.Repeat("JVBERi0xLjQK", 6) + "\r\n"
	}
	raw := "From: pat@example.com\r\nTo: support@acme.test\r\nSubject: files\r\nMessage-ID: <files@example.com>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>see <img src=\"cid:dot@x\"></p>\r\n" +
		"--B\r\nContent-Type: image/png\r\nContent-ID: <dot@x>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n" + png + "\r\n" +
		"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=big.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + big + "\r\n--B--\r\n"
	if err := smtpSend(e.m.SMTPAddr(), "pat@example.com", []string{"support@acme.test"}, raw); err != nil {
		t.Fatal(err)
	}
	ix := e.acceptNext(t)
	r := post(t, e.m, e.alice, `query($i: ID!) { interaction(id: $i) { transcript(first: 20) { edges { node { from text email { html } attachments { id fileName } } } } } }`, map[string]any{"i": ix})
	var html, notes string
	files := 0
	for _, edge := range asList(dig(r.Data, "interaction.transcript.edges")) {
		switch dig(edge, "node.from") {
		case "CONTACT":
			html, _ = dig(edge, "node.email.html").(string)
			files = len(asList(dig(edge, "node.attachments")))
		case "SYSTEM":
			notes += dig(edge, "node.text").(string)
		}
	}
	if files != 1 || !strings.Contains(html, "/attachments/") || strings.Contains(html, "cid:") || !strings.Contains(notes, "big.pdf") || !strings.Contains(notes, "E4") {
		t.Fatalf("files %d html %q notes %q", files, html, notes)
	}
}

// TestEmailDemoIdentity: -demo sets up an email identity a newcomer mails through the SMTP
// listener; the agent's reply goes to the demo's mail catcher.
func TestEmailDemoIdentity(t *testing.T) {
	m := start(t, func(c *server.Config) { c.SMTPAddr, c.OutboxPoll = "127.0.0.1:0", 20*time.Millisecond })
	e := &emailNode{m: m, alice: login(t, m, "alice")}
	post(t, m, e.alice, `mutation { setPresence(input: {presence: READY}) { agent { presence } } }`, nil)
	if err := smtpSend(m.SMTPAddr(), "you@example.com", []string{server.DemoEmailAddress}, mail("you@example.com", "demo1@example.com", "Hello", "Where is my order?")); err != nil {
		t.Fatal(err)
	}
	ix := e.acceptNext(t)
	e.reply(t, ix, "<p>On its way!</p>")
	waitLong(t, "the reply SENT to the demo catcher", func() bool {
		for _, msg := range e.transcript(t, ix) {
			if dig(msg, "from") == "AGENT" && dig(msg, "delivery") == "SENT" {
				return true
			}
		}
		return false
	})
}
