package workspace

import (
	"net/netip"
	"testing"
	"time"
)

// TestChangeKind: what each write of an interaction is to a CRM.
func TestChangeKind(t *testing.T) {
	base := Interaction{State: Active, AgentID: "a", PlanID: "p"}
	with := func(f func(ix *Interaction)) *Interaction {
		ix := base
		f(&ix)
		return &ix
	}
	for _, c := range []struct {
		name     string
		old, new *Interaction
		want     ChangeKind
	}{
		{"offered", with(func(ix *Interaction) { ix.State = Queued }), with(func(ix *Interaction) { ix.State = Offered }), ChangeOffered},
		{"accepted", with(func(ix *Interaction) { ix.State = Offered }), &base, ChangeAccepted},
		{"offer lapsed", with(func(ix *Interaction) { ix.State = Offered }), with(func(ix *Interaction) { ix.State = Queued }), ChangeUpdated},
		{"parked", &base, with(func(ix *Interaction) { ix.State = Parked }), ChangeParked},
		{"unparked to the agent", with(func(ix *Interaction) { ix.State = Parked }), &base, ChangeUnparked},
		{"unparked to the queue", with(func(ix *Interaction) { ix.State = Parked }), with(func(ix *Interaction) { ix.State = Queued }), ChangeUnparked},
		{"transferred to a plan", &base, with(func(ix *Interaction) { ix.State, ix.PlanID = Queued, "q" }), ChangeTransferred},
		{"transferred to an agent", &base, with(func(ix *Interaction) { ix.AgentID = "b" }), ChangeTransferred},
		{"ended", &base, with(func(ix *Interaction) { ix.State = Wrap }), ChangeEnded},
		{"ended while parked", with(func(ix *Interaction) { ix.State = Parked }), with(func(ix *Interaction) { ix.State = Wrap }), ChangeEnded},
		{"completed", with(func(ix *Interaction) { ix.State = Wrap }), with(func(ix *Interaction) { ix.State = Completed }), ChangeCompleted},
		{"abandoned", with(func(ix *Interaction) { ix.State = Queued }), with(func(ix *Interaction) { ix.State = Completed }), ChangeCompleted},
		{"notes", &base, with(func(ix *Interaction) { ix.Notes = "n" }), ChangeUpdated},
		{"a code", &base, with(func(ix *Interaction) { ix.Dispositions = []string{"SALE"} }), ChangeUpdated},
		{"a timer only", &base, with(func(ix *Interaction) { ix.DueAt = time.Unix(1, 0) }), ""},
	} {
		if got := changeKind(c.old, c.new); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestStampOnlyGrows: UpdatedAt moves forward by at least a millisecond on every write, even
// when the clock stands still or is behind.
func TestStampOnlyGrows(t *testing.T) {
	clock := NewManualClock(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
	s := &Service{Clock: clock}
	old := &Interaction{ID: "i", State: Active, UpdatedAt: clock.Now().Add(time.Second)}
	ix := *old
	ix.Notes = "n"
	s.stamp(old, &ix)
	if want := old.UpdatedAt.Add(time.Millisecond); !ix.UpdatedAt.Equal(want) {
		t.Fatalf("updatedAt %v, want %v", ix.UpdatedAt, want)
	}
	if len(ix.Outbox) != 1 || ix.Outbox[0].Kind != ChangeUpdated || !ix.Outbox[0].At.Equal(ix.UpdatedAt) || ix.Outbox[0].InteractionID != "i" {
		t.Fatalf("outbox %+v", ix.Outbox)
	}
	clock.Advance(time.Hour)
	next := ix
	next.DueAt = clock.Now()
	s.stamp(&ix, &next)
	if !next.UpdatedAt.Equal(clock.Now()) || next.Outbox != nil {
		t.Fatalf("a bookkeeping write: updatedAt %v (want %v), outbox %v", next.UpdatedAt, clock.Now(), next.Outbox)
	}
}

// TestWebhookBackoff doubles from the first wait up to the longest.
func TestWebhookBackoff(t *testing.T) {
	p := DefaultWebhookPolicy()
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second}
	for i, w := range want {
		if got := p.backoff(i + 1); got != w {
			t.Errorf("after %d failures: %v, want %v", i+1, got, w)
		}
	}
	if got := p.backoff(40); got != time.Hour {
		t.Errorf("after 40 failures: %v, want the hour cap", got)
	}
}

// TestWebhookAddresses: what a delivery may connect to, by policy.
func TestWebhookAddresses(t *testing.T) {
	for _, c := range []struct {
		addr                      string
		strict, loopback, private bool // allowed under: no flags, -webhooks-allow-loopback, -webhooks-allow-private
	}{
		{"93.184.216.34", true, true, true},
		{"2606:2800:220:1::248", true, true, true},
		{"127.0.0.1", false, true, false},
		{"::1", false, true, false},
		{"::ffff:127.0.0.1", false, true, false},
		{"10.0.0.1", false, false, true},
		{"172.16.5.4", false, false, true},
		{"192.168.1.1", false, false, true},
		{"169.254.169.254", false, false, true},
		{"100.64.0.1", false, false, true},
		{"fd00::1", false, false, true},
		{"0.0.0.0", false, false, true},
		{"::ffff:10.0.0.1", false, false, true},
	} {
		a := netip.MustParseAddr(c.addr)
		for name, got := range map[string]bool{
			"strict":   WebhookPolicy{}.CheckAddr(a) == nil,
			"loopback": WebhookPolicy{AllowLoopback: true}.CheckAddr(a) == nil,
			"private":  WebhookPolicy{AllowPrivate: true}.CheckAddr(a) == nil,
		} {
			want := map[string]bool{"strict": c.strict, "loopback": c.loopback, "private": c.private}[name]
			if got != want {
				t.Errorf("%s under %s: allowed %v, want %v", c.addr, name, got, want)
			}
		}
	}
}
