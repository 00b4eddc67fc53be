package workspace_test

import (
	"context"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// signIn logs the agent in and returns their principal.
func (e *env) signIn(username string) (string, workspace.Principal) {
	e.t.Helper()
	token, _, _, err := e.s.Login(e.t.Context(), username, workspace.DemoPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := e.s.Authenticate(e.t.Context(), token)
	if err != nil {
		e.t.Fatal(err)
	}
	return token, p
}

// revocations is OnRevoked as a channel that receives the reason.
func revocations(s *workspace.Service, ctx context.Context, p workspace.Principal) <-chan string {
	out := make(chan string, 1)
	s.OnRevoked(ctx, p, func(reason string) { out <- reason })
	return out
}

// revoked waits a little for a revocation reason; "" if none came.
func revoked(ch <-chan string, within time.Duration) string {
	select {
	case r := <-ch:
		return r
	case <-time.After(within):
		return ""
	}
}

func TestRevocation_LogoutEndsOnlyThatSession(t *testing.T) {
	e := newEnv(t)
	token, p := e.signIn("alice")
	_, other := e.signIn("alice")
	mine, theirs := revocations(e.s, t.Context(), p), revocations(e.s, t.Context(), other)
	if _, err := e.s.Logout(workspace.WithPrincipal(t.Context(), p)); err != nil {
		t.Fatal(err)
	}
	if r := revoked(mine, 2*time.Second); r != workspace.ReasonLoggedOut {
		t.Fatalf("the session's watch got %q", r)
	}
	if r := revoked(theirs, 50*time.Millisecond); r != "" {
		t.Fatalf("the other session's watch got %q", r)
	}
	_, err := e.s.Authenticate(t.Context(), token)
	wantCode(t, err, workspace.EUNAUTHENTICATED)
}

func TestRevocation_DisabledAgentIsSignedOutEverywhereAndOffline(t *testing.T) {
	e := newEnv(t)
	e.ready("bob")
	t1, p1 := e.signIn("bob")
	_, p2 := e.signIn("bob")
	w1, w2 := revocations(e.s, t.Context(), p1), revocations(e.s, t.Context(), p2)
	bob := e.agent("bob")
	a, err := e.s.SetAgentDisabled(e.as("admin"), bob.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Disabled || a.Presence != workspace.Offline {
		t.Fatalf("disabled bob = disabled %v, presence %s", a.Disabled, a.Presence)
	}
	for _, w := range []<-chan string{w1, w2} {
		if r := revoked(w, 2*time.Second); r != workspace.ReasonAgentDisabled {
			t.Fatalf("a session's watch got %q", r)
		}
	}
	_, err = e.s.Authenticate(t.Context(), t1)
	wantCode(t, err, workspace.EUNAUTHENTICATED)
	_, _, _, err = e.s.Login(t.Context(), "bob", workspace.DemoPassword)
	wantCode(t, err, workspace.EINVALIDCREDENTIALS)
	// Nothing is offered to a disabled agent, even one who was READY.
	_, ix := e.chat("Sales")
	if got := e.get(ix.ID); got.AgentID == bob.ID {
		t.Fatal("a disabled agent was offered a chat")
	}

	_, err = e.s.SetAgentDisabled(e.as("admin"), e.agent("admin").ID, true)
	wantCode(t, err, workspace.EINVALID)
	_, err = e.s.SetAgentDisabled(e.as("carol"), bob.ID, false)
	wantCode(t, err, workspace.EFORBIDDEN)
	if _, err := e.s.SetAgentDisabled(e.as("admin"), bob.ID, false); err != nil {
		t.Fatal(err)
	}
	e.signIn("bob")
}

func TestRevocation_PasswordResetEndsSessions(t *testing.T) {
	e := newEnv(t)
	token, p := e.signIn("carol")
	w := revocations(e.s, t.Context(), p)
	if _, err := e.s.ResetPassword(e.as("admin"), e.agent("carol").ID, "new secret"); err != nil {
		t.Fatal(err)
	}
	if r := revoked(w, 2*time.Second); r != workspace.ReasonPasswordChanged {
		t.Fatalf("the watch got %q", r)
	}
	_, err := e.s.Authenticate(t.Context(), token)
	wantCode(t, err, workspace.EUNAUTHENTICATED)
	_, _, _, err = e.s.Login(t.Context(), "carol", workspace.DemoPassword)
	wantCode(t, err, workspace.EINVALIDCREDENTIALS)
	if _, _, _, err := e.s.Login(t.Context(), "carol", "new secret"); err != nil {
		t.Fatal(err)
	}
}

func TestRevocation_RevokedKeyStopsAuthenticating(t *testing.T) {
	e := newEnv(t)
	key, err := e.s.NewAPIKey(t.Context(), "CRM", workspace.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.s.Authenticate(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	w := revocations(e.s, t.Context(), p)
	if err := e.s.RevokeAPIKey(e.as("admin"), workspace.HashToken(key)); err != nil {
		t.Fatal(err)
	}
	if r := revoked(w, 2*time.Second); r != workspace.ReasonKeyRevoked {
		t.Fatalf("the watch got %q", r)
	}
	_, err = e.s.Authenticate(t.Context(), key)
	wantCode(t, err, workspace.EUNAUTHENTICATED)
}

func TestRevocation_ExpiryIsAnnounced(t *testing.T) {
	e := newEnv(t)
	e.s.SessionTTL = 300 * time.Millisecond
	_, p := e.signIn("alice")
	// The watch's timer runs on real time from the session's expiry as the clock tells it.
	if r := revoked(revocations(e.s, t.Context(), p), 5*time.Second); r != workspace.ReasonSessionExpired {
		t.Fatalf("the watch got %q", r)
	}
}

func TestRevocation_WatchEndsWithItsContext(t *testing.T) {
	e := newEnv(t)
	_, p := e.signIn("alice")
	before := e.hub.Watchers()
	ctx, cancel := context.WithCancel(t.Context())
	revocations(e.s, ctx, p)
	if e.hub.Watchers() != before+2 {
		t.Fatalf("a session's watch holds %d watchers, want 2 (session and agent)", e.hub.Watchers()-before)
	}
	if e.hub.Count() != 0 {
		t.Fatalf("a watch holds %d buffered subscriptions, want none", e.hub.Count())
	}
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for e.hub.Watchers() != before {
		if time.Now().After(deadline) {
			t.Fatalf("%d watchers left after the watch ended", e.hub.Watchers()-before)
		}
		time.Sleep(time.Millisecond)
	}
	// Anonymous and contact principals have nothing to revoke.
	if revocations(e.s, t.Context(), workspace.Principal{}) == nil || e.hub.Watchers() != before {
		t.Fatal("an anonymous watch watched something")
	}
}

// Finding 2 in the domain: an agent's message feed ends when the chat passes to someone
// else, and a supervisor's does not.
func TestRevocation_MessageFeedFollowsTheHolder(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.chat("Sales")
	offered := e.get(ix.ID)
	if offered.AgentID != e.agent("alice").ID {
		t.Fatalf("offered to %s", offered.AgentID)
	}
	feed, err := e.s.MessageFeed(e.as("alice"), ix.ID)
	if err != nil {
		t.Fatal(err)
	}
	watch, err := e.s.MessageFeed(e.as("admin"), ix.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.RejectOffer(e.as("alice"), offered.OfferID()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.web.Send(contact, "after the rejection"); err != nil {
		t.Fatal(err)
	}
	for ev := range feed { // drains until the feed ends
		if messageIn(ev) != nil && messageIn(ev).Text == "after the rejection" {
			t.Fatal("the agent who rejected got the next message")
		}
	}
	for ev := range watch {
		if messageIn(ev) != nil && messageIn(ev).Text == "after the rejection" {
			return // the supervisor's feed goes on
		}
	}
	t.Fatal("the supervisor's feed ended")
}
