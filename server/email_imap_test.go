package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/email/emailtest"
	"github.com/agentdesk/agentdesk/server"
)

// TestEmailIMAPPollerNeverSkips: an identity's mailbox on Debian's dovecot (started by the
// test on loopback) is polled with IDLE: a message in the mailbox is offered; the poller's
// place (UIDVALIDITY and UID) is stored; a message that arrives while dovecot is down (the
// poller reconnecting) is fetched once it is back, and one that arrives while it idles too;
// each is stored once.
func TestEmailIMAPPollerNeverSkips(t *testing.T) {
	d := emailtest.StartDovecot(t)
	e := startEmail(t, func(c *server.Config) { c.IMAPRescan, c.IMAPBackoff = 100*time.Millisecond, 100*time.Millisecond })
	d.Deliver(mail("pat@example.com", "i1@example.com", "By IMAP", "First, in the mailbox before polling starts"))
	settings, _ := json.Marshal(map[string]any{"imap": map[string]any{"host": d.Host(), "port": d.Port(), "username": d.User, "password": d.Password, "tls": "none"}})
	r := post(t, e.m, e.admin, `mutation($i: ID!, $s: String!) { saveChannelIdentity(input: {identityId: $i, settings: $s}) { identity { id } userErrors { code field message } } }`,
		map[string]any{"i": e.identity, "s": string(settings)})
	if dig(r.Data, "saveChannelIdentity.identity.id") != e.identity {
		t.Fatalf("imap settings: %+v", r)
	}
	ix := e.acceptNext(t)
	texts := func() string {
		var b strings.Builder
		for _, m := range e.transcript(t, ix) {
			if dig(m, "from") == "CONTACT" {
				fmt.Fprintln(&b, dig(m, "text"))
			}
		}
		return b.String()
	}
	if !strings.Contains(texts(), "First, in the mailbox") {
		t.Fatalf("transcript %q", texts())
	}
	waitLong(t, "the stored cursor", func() bool {
		id, err := e.m.Store.Identity(t.Context(), e.identity)
		return err == nil && id.Mailbox.UID >= 1 && id.Mailbox.UIDValidity != 0
	})

	// The mail server goes away: the poller's session breaks and it dials again and again.
	d.Stop()
	d.Deliver(mail("pat@example.com", "i2@example.com", "Re: By IMAP", "Second, while the poller reconnects", "In-Reply-To: <i1@example.com>"))
	time.Sleep(300 * time.Millisecond) // a few failed dials
	d.Start()
	waitLong(t, "the message delivered during the reconnect", func() bool { return strings.Contains(texts(), "Second, while") })
	// Idling: a new message wakes the poller.
	d.Deliver(mail("pat@example.com", "i3@example.com", "Re: By IMAP", "Third, while idling", "In-Reply-To: <i2@example.com>"))
	waitLong(t, "the message delivered while idling", func() bool { return strings.Contains(texts(), "Third, while") })
	contact := 0
	for _, m := range e.transcript(t, ix) {
		if dig(m, "from") == "CONTACT" {
			contact++
		}
	}
	if contact != 3 {
		t.Fatalf("%d contact messages %q, want each of the 3 once", contact, texts())
	}
	// The poller moves its place once a message is stored, in a write of its own: the third
	// message can show before the place has moved (beside a CPU hog it did).
	var uid uint32
	waitLong(t, "the cursor at the third message", func() bool {
		id, err := e.m.Store.Identity(t.Context(), e.identity)
		if err == nil {
			uid = id.Mailbox.UID
		}
		return uid >= 3
	})
	if uid != 3 {
		t.Fatalf("cursor at UID %d, want 3", uid)
	}
}
