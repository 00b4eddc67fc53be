package server_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
	coderws "github.com/coder/websocket"
)

// closedWith waits for the server to close the socket and returns the close status and
// reason, and how long it took. Keep-alive and data frames before the close are skipped.
func closedWith(t *testing.T, c *wsClient, within time.Duration) (coderws.StatusCode, string, time.Duration) {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	for {
		_, _, err := c.conn.Read(ctx)
		if err == nil {
			continue
		}
		var ce coderws.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason, time.Since(start)
		}
		t.Fatalf("the socket did not close within %v: %v", within, err)
	}
}

// wantRevoked checks that a socket closes with 4403 and a reason that says why; the bound is
// generous for a busy machine, and the measured time is logged.
func wantRevoked(t *testing.T, c *wsClient, why string) {
	t.Helper()
	code, reason, took := closedWith(t, c, 10*time.Second)
	if code != 4403 || !strings.Contains(reason, why) {
		t.Fatalf("closed with %d %q, want 4403 and a reason containing %q", code, reason, why)
	}
	t.Logf("closed with 4403 %q after %v", reason, took.Round(time.Millisecond))
}

// supervisorCtx is a context carrying the demo supervisor, as the admin API will build it.
func supervisorCtx(t *testing.T, m *server.Main) context.Context {
	t.Helper()
	p, err := m.Service.Authenticate(t.Context(), login(t, m, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	return workspace.WithPrincipal(t.Context(), p)
}

// Finding 1: a token revoked by logout kept working on a websocket opened before. Now every
// socket of that session closes with 4403, whichever subprotocol it speaks, and the socket
// of another session of the same agent stays open.
func TestHardening_LogoutClosesTheSessionsSockets(t *testing.T) {
	m := start(t)
	token, other := login(t, m, "alice"), login(t, m, "alice")
	modern := subscribe(t, m, token, `subscription { offers { kind } }`, nil)
	legacy := connectWS(t, m, "graphql-ws", token)
	legacy.expect("connection_ack")
	keep := subscribe(t, m, other, `subscription { offers { kind } }`, nil)

	if r := post(t, m, token, `mutation { logout }`, nil); dig(r.Data, "logout") != true {
		t.Fatalf("logout: %+v", r)
	}
	wantRevoked(t, modern, "signed out")
	wantRevoked(t, legacy, "signed out")

	keep.send(map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": `{ me { username } }`}})
	if dig(keep.event(), "me.username") != "alice" {
		t.Fatal("the other session's socket stopped answering")
	}
}

// Finding 1 without the announcement: a session deleted where no event tells the sockets
// (another tool, a lost bus message) is refused on the next operation, which closes the
// socket; no mutation goes through on it.
func TestHardening_SocketOperationsReauthenticate(t *testing.T) {
	m := start(t)
	token := login(t, m, "alice")
	c := connectWS(t, m, "graphql-transport-ws", token)
	c.expect("connection_ack")
	if err := m.Store.DeleteSession(t.Context(), workspace.HashToken(token)); err != nil {
		t.Fatal(err)
	}
	c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `mutation { setPresence(input:{presence:READY}) { agent { presence } } }`}})
	wantRevoked(t, c, "invalid or has expired")
	a, err := m.Store.AgentByUsername(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if a.Presence == workspace.Ready {
		t.Fatal("a mutation went through on a socket whose session was gone")
	}
}

// Finding 1: `me` on a socket was a snapshot from connect time. It is read afresh for each
// operation.
func TestHardening_MeOnASocketIsFresh(t *testing.T) {
	m := start(t)
	token := login(t, m, "alice")
	c := connectWS(t, m, "graphql-transport-ws", token)
	c.expect("connection_ack")
	ready(t, m, token) // over HTTP, after the socket connected
	c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `{ me { presence } }`}})
	if got := dig(c.event(), "me.presence"); got != "READY" {
		t.Fatalf("me.presence on the socket = %v, want READY", got)
	}
}

// Finding 1: a token expired by -session-ttl kept working on an open socket. The socket now
// closes when the session expires.
func TestHardening_ExpiryClosesTheSocket(t *testing.T) {
	m := start(t, func(c *server.Config) { c.SessionTTL = 1500 * time.Millisecond })
	token := login(t, m, "alice")
	c := subscribe(t, m, token, `subscription { offers { kind } }`, nil)
	wantRevoked(t, c, "expired")
	if r := post(t, m, token, `{ me { id } }`, nil); r.code() != workspace.EUNAUTHENTICATED {
		t.Fatalf("me after expiry: %+v", r)
	}
}

// Disabling an agent and resetting a password end every session of that agent at once;
// revoking an API key closes the sockets that use it. (The admin API of issue 13 calls these
// same domain operations.)
func TestHardening_RevocationsCloseSockets(t *testing.T) {
	m := start(t)
	sup := supervisorCtx(t, m)
	bob, err := m.Store.AgentByUsername(t.Context(), "bob")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("disabled agent", func(t *testing.T) {
		a, b := login(t, m, "bob"), login(t, m, "bob")
		ca := subscribe(t, m, a, `subscription { offers { kind } }`, nil)
		cb := subscribe(t, m, b, `subscription { interactionUpdates { id } }`, nil)
		if _, err := m.Service.SetAgentDisabled(sup, bob.ID, true); err != nil {
			t.Fatal(err)
		}
		wantRevoked(t, ca, "disabled")
		wantRevoked(t, cb, "disabled")
		r := post(t, m, "", `mutation { login(input:{username:"bob", password:"demo"}) { token userErrors { code message } } }`, nil)
		if dig(r.Data, "login.token") != nil || !strings.Contains(dig(r.Data, "login.userErrors.0.message").(string), "disabled") {
			t.Fatalf("a disabled agent signed in: %+v", r)
		}
		if _, err := m.Service.SetAgentDisabled(sup, bob.ID, false); err != nil {
			t.Fatal(err)
		}
		login(t, m, "bob")
	})

	t.Run("password reset", func(t *testing.T) {
		token := login(t, m, "bob")
		c := subscribe(t, m, token, `subscription { offers { kind } }`, nil)
		if _, err := m.Service.ResetPassword(sup, bob.ID, "a new password"); err != nil {
			t.Fatal(err)
		}
		wantRevoked(t, c, "password was changed")
		if r := post(t, m, token, `{ me { id } }`, nil); r.code() != workspace.EUNAUTHENTICATED {
			t.Fatalf("the old session still works after a password reset: %+v", r)
		}
	})

	t.Run("revoked API key", func(t *testing.T) {
		key, err := m.Service.NewAPIKey(t.Context(), "CRM to revoke", workspace.ScopeRead)
		if err != nil {
			t.Fatal(err)
		}
		c := connectWS(t, m, "graphql-transport-ws", key)
		c.expect("connection_ack")
		if err := m.Service.RevokeAPIKey(sup, workspace.HashToken(key)); err != nil {
			t.Fatal(err)
		}
		wantRevoked(t, c, "revoked")
		if r := post(t, m, key, `{ interactionPlans { id } }`, nil); r.code() != workspace.EUNAUTHENTICATED {
			t.Fatalf("a revoked key still reads: %+v", r)
		}
		if r := post(t, m, workspace.DemoAPIKey, `{ interactionPlans { id } }`, nil); len(r.Errors) > 0 {
			t.Fatalf("revoking one key stopped another: %+v", r)
		}
	})

	t.Run("only supervisors", func(t *testing.T) {
		p, err := m.Service.Authenticate(t.Context(), login(t, m, "carol"))
		if err != nil {
			t.Fatal(err)
		}
		asAgent := workspace.WithPrincipal(t.Context(), p)
		if _, err := m.Service.SetAgentDisabled(asAgent, bob.ID, true); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
			t.Fatalf("an agent disabled another: %v", err)
		}
		if _, err := m.Service.ResetPassword(asAgent, bob.ID, "x"); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
			t.Fatalf("an agent reset a password: %v", err)
		}
		if err := m.Service.RevokeAPIKey(asAgent, workspace.HashToken(workspace.DemoAPIKey)); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
			t.Fatalf("an agent revoked a key: %v", err)
		}
		if _, err := m.Service.SetAgentDisabled(sup, "not-a-uuid", true); workspace.ErrorCode(err) != workspace.EINVALID {
			t.Fatalf("a malformed agent ID: %v", err)
		}
		if _, err := m.Service.ResetPassword(sup, bob.ID, "  "); workspace.ErrorCode(err) != workspace.EINVALID {
			t.Fatalf("an empty password: %v", err)
		}
		if err := m.Service.RevokeAPIKey(sup, workspace.HashToken("no such key")); workspace.ErrorCode(err) != workspace.ENOTFOUND {
			t.Fatalf("an unknown key: %v", err)
		}
	})
}

// Finding 2: an agent who subscribed to a chat's messages while it was offered to them, then
// rejected it, went on receiving the conversation. The subscription now ends when the chat
// passes to someone else, and nothing after that reaches them.
func TestHardening_MessageFeedEndsWhenAccessEnds(t *testing.T) {
	m := start(t)
	alice, bob := login(t, m, "alice"), login(t, m, "bob")
	offers := subscribe(t, m, alice, offerSub, nil)
	ready(t, m, alice)
	contact, id := startChat(t, m, "Sales", "hello")
	offer := offers.event()
	feed := subscribe(t, m, alice, `subscription($i: ID!) { messages(interactionId:$i) { text } }`, map[string]any{"i": id})
	// The offered agent may read along before answering; this also shows the feed is in place.
	mutate(t, m, contact, "sendContactMessage", `mutation { sendContactMessage(input:{text:"anyone?"}) { message { id } } }`, nil)
	if got := dig(feed.event(), "messages.text"); got != "anyone?" {
		t.Fatalf("the offered agent's feed got %v", got)
	}

	ready(t, m, bob)
	mutate(t, m, alice, "rejectOffer", `mutation($o: ID!) { rejectOffer(input:{offerId:$o}) { userErrors { code } } }`, map[string]any{"o": dig(offer, "offers.offer.id")})
	if msg := feed.expect("complete"); msg.ID != "1" {
		t.Fatalf("complete for %q", msg.ID)
	}
	mutate(t, m, contact, "sendContactMessage", `mutation { sendContactMessage(input:{text:"my card number is 4111"}) { message { id } } }`, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	var msg wsMessage
	if err := readJSON(ctx, feed.conn, &msg); err == nil && msg.Type == "next" {
		t.Fatalf("the agent who rejected the chat still received %s", msg.Payload)
	}
	// Subscribing again is refused, as reading it is.
	again := subscribeRaw(t, m, alice, `subscription($i: ID!) { messages(interactionId:$i) { text } }`, map[string]any{"i": id})
	if msg, err := again.next(); err != nil || !strings.Contains(string(msg.Payload), workspace.EFORBIDDEN) {
		t.Fatalf("resubscribing: %s", msg.Payload)
	}
}

// Finding 2 for transfers: a transfer target who follows the chat while deciding, then
// rejects, stops receiving it; the sender keeps it.
func TestHardening_TransferTargetFeedEndsOnReject(t *testing.T) {
	m := start(t)
	alice, bob := login(t, m, "alice"), login(t, m, "bob")
	ready(t, m, alice)
	contact, id := acceptChat(t, m, alice, "Sales", "hello")
	ready(t, m, bob)
	bobOffers := subscribe(t, m, bob, offerSub, nil)
	senderFeed := subscribe(t, m, alice, `subscription($i: ID!) { messages(interactionId:$i) { text } }`, map[string]any{"i": id})
	p := mutate(t, m, alice, "transferInteraction", transferMutation, map[string]any{"i": id, "a": agentID(t, m, bob)})
	if userCode(p) != "" {
		t.Fatalf("transfer: %v", p)
	}
	offer := bobOffers.event()
	targetFeed := subscribe(t, m, bob, `subscription($i: ID!) { messages(interactionId:$i) { text } }`, map[string]any{"i": id})
	// The target reads along while deciding (T3); this also shows the feed is in place.
	mutate(t, m, contact, "sendContactMessage", `mutation { sendContactMessage(input:{text:"are you there?"}) { message { id } } }`, nil)
	if got := dig(targetFeed.event(), "messages.text"); got != "are you there?" {
		t.Fatalf("the target's feed got %v", got)
	}
	senderFeed.event()
	mutate(t, m, bob, "rejectOffer", `mutation($o: ID!) { rejectOffer(input:{offerId:$o}) { userErrors { code } } }`, map[string]any{"o": dig(offer, "offers.offer.id")})
	targetFeed.expect("complete")
	mutate(t, m, contact, "sendContactMessage", `mutation { sendContactMessage(input:{text:"still there?"}) { message { id } } }`, nil)
	if got := dig(senderFeed.event(), "messages.text"); got != "still there?" {
		t.Fatalf("the sender's feed got %v", got)
	}
}

// Weakness: legacy graphql-ws sockets that never read stayed open. Every socket is pinged at
// the protocol level; one that does not answer is closed, one that reads stays.
func TestHardening_NonReadingSocketsAreReaped(t *testing.T) {
	m := start(t, func(c *server.Config) { c.SocketPing = 200 * time.Millisecond })
	for _, proto := range []string{"graphql-ws", "graphql-transport-ws"} {
		t.Run(proto, func(t *testing.T) {
			silent := connectWS(t, m, proto, "")
			reader := connectWS(t, m, proto, "")
			reader.expect("connection_ack")
			stop := make(chan error, 1)
			go func() { // a client that reads, and so answers pings
				for {
					if _, _, err := reader.conn.Read(t.Context()); err != nil {
						stop <- err
						return
					}
				}
			}()
			time.Sleep(2 * time.Second) // ten pings; the silent peer answers none
			// The silent socket was closed under it: reading now finds the end of the stream
			// (after whatever was buffered), not a live socket.
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			for {
				_, _, err := silent.conn.Read(ctx)
				if err == nil {
					continue
				}
				if errors.Is(err, context.DeadlineExceeded) {
					t.Fatal("the socket that never read is still open")
				}
				break
			}
			select {
			case err := <-stop:
				t.Fatalf("the socket that reads was closed: %v", err)
			default:
			}
		})
	}
}

// Weakness: anonymous sockets had no per-IP cap. Sockets without a credential count against
// the address; one that authenticates frees its slot; an authenticated one never counts.
func TestHardening_AnonymousSocketsPerIPAreCapped(t *testing.T) {
	m := start(t, func(c *server.Config) { c.MaxAnonymousSocketsPerIP = 3 })
	var anon []*coderws.Conn
	for range 3 {
		conn, _, err := dialWS(t, m, "graphql-transport-ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		anon = append(anon, conn)
	}
	_, res, err := dialWS(t, m, "graphql-transport-ws", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a fourth anonymous socket: %v %v", res, err)
	}
	// One of the three authenticates: its slot frees at once.
	c := &wsClient{t: t, conn: anon[0], ctx: t.Context()}
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + login(t, m, "alice")}})
	c.expect("connection_ack")
	conn, _, err := dialWS(t, m, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatalf("after one socket authenticated: %v", err)
	}
	conn.CloseNow()
	// A closed anonymous socket frees its slot too.
	anon[1].CloseNow()
	waitFor(t, func() bool {
		conn, _, err := dialWS(t, m, "graphql-transport-ws", nil)
		if err == nil {
			conn.CloseNow()
		}
		return err == nil
	})
}

// Revocation reaches every node: a socket on node A closes when its session is ended on
// node B, through the MongoDB event bus.
func TestHardening_RevocationCrossesNodes(t *testing.T) {
	for name, uri := range mongoURIs(t) {
		t.Run(name, func(t *testing.T) {
			nodes := cluster(t, uri(t), 2)
			a, b := nodes[0], nodes[1]
			token := login(t, a, "alice")
			c := subscribe(t, a, token, `subscription { offers { kind } }`, nil)
			if r := post(t, b, token, `mutation { logout }`, nil); dig(r.Data, "logout") != true {
				t.Fatalf("logout on node B: %+v", r)
			}
			wantRevoked(t, c, "signed out")
		})
	}
}

// A logout sent over the socket itself is answered before the socket closes.
func TestHardening_LogoutOverTheSocketIsAnswered(t *testing.T) {
	m := start(t)
	for range 5 {
		token := login(t, m, "alice")
		c := connectWS(t, m, "graphql-transport-ws", token)
		c.expect("connection_ack")
		c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `mutation { logout }`}})
		if got := dig(c.event(), "logout"); got != true {
			t.Fatalf("logout over the socket answered %v", got)
		}
		c.expect("complete")
		wantRevoked(t, c, "signed out")
	}
}
