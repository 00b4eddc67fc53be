package server_test

import (
	"fmt"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/examples/crmmirror"
	"github.com/agentdesk/agentdesk/workspace"
)

// TestCRMMirror (the acceptance): the sample mirror in examples/crmmirror syncs,
// then follows the server through whole lifecycles (chats completed, one parked and woken,
// one transferred, one left open) by webhooks alone, and its copy of every interaction's
// state and transcript equals the API's; a reconciliation by updatedAfter changes nothing.
func TestCRMMirror(t *testing.T) {
	m := startCRM(t)
	admin, alice, bob := login(t, m, "admin"), login(t, m, "alice"), login(t, m, "bob")
	mirror := crmmirror.New(m.URL()+"/query", workspace.DemoAPIKey, "")
	recv := httptest.NewServer(mirror)
	t.Cleanup(recv.Close)
	started := time.Now()
	ready(t, m, alice)
	before := lifecycle(t, m, alice, "before the mirror") // the initial sync copies this one
	if err := mirror.Sync(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	id, secret := createWebhook(t, m.URL(), admin, recv.URL)
	mirror.Secret = secret

	ids := []string{before}
	for i := range 3 {
		ids = append(ids, lifecycle(t, m, alice, fmt.Sprint("chat ", i)))
	}
	// Transferred to bob, parked, woken by the contact, left open.
	contact, open := startChat(t, m, "Sales", "I will be transferred and parked")
	ids = append(ids, open)
	r := post(t, m, alice, `query($i: ID!) { interaction(id:$i) { offer { id } } }`, map[string]any{"i": open})
	mutate(t, m, alice, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { id } } }`, map[string]any{"o": dig(r.Data, "interaction.offer.id")})
	ready(t, m, bob)
	p := mutate(t, m, alice, "transferInteraction", `mutation($i: ID!, $b: ID!) { transferInteraction(input:{interactionId:$i, toAgentId:$b}) { userErrors { code } } }`,
		map[string]any{"i": open, "b": agentID(t, m, bob)})
	if userCode(p) != "" {
		t.Fatalf("transfer: %v", p)
	}
	r = post(t, m, bob, `{ myInteractions { id offer { id } } }`, nil)
	for _, ix := range asList(dig(r.Data, "myInteractions")) {
		if o, _ := dig(ix, "offer.id").(string); o != "" {
			mutate(t, m, bob, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { id } } }`, map[string]any{"o": o})
		}
	}
	mutate(t, m, bob, "sendMessage", `mutation($i: ID!) { sendMessage(input:{interactionId:$i, text:"Bob here"}) { message { id } } }`, map[string]any{"i": open})
	p = mutate(t, m, bob, "parkInteraction", `mutation($i: ID!) { parkInteraction(input:{interactionId:$i}) { interaction { state } userErrors { code } } }`, map[string]any{"i": open})
	if dig(p, "interaction.state") != "PARKED" {
		t.Fatalf("park: %v", p)
	}
	mutate(t, m, contact, "sendContactMessage", `mutation { sendContactMessage(input:{text:"I am back"}) { message { id } } }`, nil)

	// The webhook has delivered every event.
	waitLong(t, "the webhook to catch up", func() bool {
		w, err := m.Store.Webhook(t.Context(), id)
		last, err2 := m.Store.LastEventSeq(t.Context())
		return err == nil && err2 == nil && w.Cursor == last && w.LeaseUntil.IsZero()
	})
	compare := func(when string) {
		t.Helper()
		got := mirror.Copy()
		if len(got) != len(ids) {
			t.Fatalf("%s: the mirror holds %d interactions, want %d", when, len(got), len(ids))
		}
		for _, id := range ids {
			want, err := mirror.Fetch(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if c := got[id]; !reflect.DeepEqual(c, *want) {
				t.Errorf("%s: %s differs:\n mirror %+v\n    api %+v", when, id, c, *want)
			}
		}
	}
	compare("after the webhooks")
	if st := mirror.Copy()[open]; st.State == "PARKED" || len(st.Messages) < 5 {
		t.Errorf("the open chat as mirrored: %+v", st)
	}
	from := started.Add(-time.Minute)
	if err := mirror.Sync(t.Context(), &from); err != nil {
		t.Fatal(err)
	}
	compare("after reconciling")
}
