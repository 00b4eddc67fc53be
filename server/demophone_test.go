package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/agentdesk/agentdesk/server"
)

// The demo phone page sends a customer's file (an image or a PDF) with an SMS or WhatsApp
// message: the simulator serves it as the provider would and the desk stores it.

// phoneAPI posts a JSON body to the demo phone page's API: the status and the decoded answer.
func phoneAPI(t *testing.T, m *server.Main, path string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	res, err := http.Post(m.URL()+"/demo/phone/api/"+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// demoIdentity is the ID of the demo's identity on the channel, from the page's state.
func demoIdentity(t *testing.T, m *server.Main, channel string) string {
	t.Helper()
	res, err := http.Get(m.URL() + "/demo/phone/api/state")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st struct {
		Identities []struct{ ID, Channel string }
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	for _, i := range st.Identities {
		if i.Channel == channel {
			return i.ID
		}
	}
	t.Fatalf("no demo %s identity in %+v", channel, st)
	return ""
}

func TestDemoPhoneSendsFile(t *testing.T) {
	m := start(t)
	e := &chanEnv{t: t, m: m, alice: login(t, m, "alice")}
	const contact = "+447700900351"
	post(t, m, e.alice, `mutation { setPresence(input: {presence: READY}) { agent { presence } } }`, nil)
	photo := pngBytes(30 << 10)
	status, out := phoneAPI(t, m, "send", map[string]any{"phone": contact, "name": "Ana", "identityId": demoIdentity(t, m, "SMS"),
		"text": "the broken part", "file": map[string]any{"name": "part.png", "contentType": "image/png", "data": base64.StdEncoding.EncodeToString(photo)}})
	if status != http.StatusOK || out["status"] != float64(200) {
		t.Fatalf("send: %d %v", status, out)
	}
	var offer string
	waitFor(t, func() bool {
		r := post(t, m, e.alice, `{ myInteractions { id state contact { address } offer { id } } }`, nil)
		for _, ix := range dig(r.Data, "myInteractions").([]any) {
			if dig(ix, "contact.address") == contact && dig(ix, "state") == "OFFERED" {
				offer, _ = dig(ix, "offer.id").(string)
			}
		}
		return offer != ""
	})
	r := post(t, m, e.alice, `mutation($o: ID!) { acceptOffer(input: {offerId: $o}) { interaction { id state } } }`, map[string]any{"o": offer})
	ix, _ := dig(r.Data, "acceptOffer.interaction.id").(string)
	if ix == "" {
		t.Fatalf("accept: %+v", r)
	}
	msg, notes := e.last(ix)
	as := attachments(msg)
	if msg["text"] != "the broken part" || len(as) != 1 || as[0]["contentType"] != "image/png" || as[0]["fileName"] != "part.png" ||
		len(notes) != 1 || !strings.Contains(notes[0], "joined") {
		t.Fatalf("%v, notes %q", msg, notes)
	}
	e.downloaded(as[0], photo)

	// The phone's thread shows the file it sent, without its bytes.
	if _, raw := phoneAPIState(t, m); !strings.Contains(raw, `"file":{"name":"part.png","contentType":"image/png","size":30`) || strings.Contains(raw, `"data"`) {
		t.Fatalf("state: %s", raw)
	}
}

func TestDemoPhoneRefusesBadFiles(t *testing.T) {
	m := start(t)
	sms, wa := demoIdentity(t, m, "SMS"), demoIdentity(t, m, "WHATSAPP")
	b64 := base64.StdEncoding.EncodeToString
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 100)...)
	for _, c := range []struct {
		name string
		file any
		want int
	}{
		{"too large", map[string]any{"name": "big.pdf", "contentType": "application/pdf", "data": b64(append(pdf, make([]byte, 5<<20)...))}, http.StatusRequestEntityTooLarge},
		{"not base64", map[string]any{"name": "a.pdf", "contentType": "application/pdf", "data": "%%%not base64"}, http.StatusBadRequest},
		{"empty", map[string]any{"name": "a.pdf", "contentType": "application/pdf", "data": ""}, http.StatusBadRequest},
		{"no name", map[string]any{"name": " ", "contentType": "application/pdf", "data": b64(pdf)}, http.StatusBadRequest},
		{"a path", map[string]any{"name": "../a.pdf", "contentType": "application/pdf", "data": b64(pdf)}, http.StatusBadRequest},
		{"not an image or PDF", map[string]any{"name": "a.txt", "contentType": "text/plain", "data": b64([]byte("hello"))}, http.StatusUnsupportedMediaType},
		{"bytes that are not the type", map[string]any{"name": "a.png", "contentType": "image/png", "data": b64(pdf)}, http.StatusUnsupportedMediaType},
		{"not an object", "a.pdf", http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, id := range []string{sms, wa} {
				status, out := phoneAPI(t, m, "send", map[string]any{"phone": "+447700900352", "identityId": id, "text": "hi", "file": c.file})
				if status != c.want || out["error"] == nil || out["error"] == "" {
					t.Fatalf("%s: %d %v (want %d)", id, status, out, c.want)
				}
			}
		})
	}
	// Nothing reached the desk: no interaction with the contact, nothing on the phone.
	r := post(t, m, "demo-crm-key", `query { interactions(filter: {contactAddress: "+447700900352"}, first: 5) { edges { node { id } } } }`, nil)
	if len(r.Errors) > 0 || len(dig(r.Data, "interactions.edges").([]any)) != 0 {
		t.Fatalf("interactions: %+v", r)
	}
	if _, out := phoneAPIState(t, m); strings.Contains(out, "+447700900352") {
		t.Fatalf("state: %s", out)
	}
}

// phoneAPIState is the page's state as the server sends it.
func phoneAPIState(t *testing.T, m *server.Main) (int, string) {
	t.Helper()
	res, err := http.Get(m.URL() + "/demo/phone/api/state")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw := new(bytes.Buffer)
	_, _ = raw.ReadFrom(res.Body)
	return res.StatusCode, raw.String()
}
