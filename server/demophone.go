package server

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// The demo's phone simulator: with -demo, an SMS identity (Vonage) and a WhatsApp identity
// (WhatsApp Cloud) whose apiUrl is the simulator of the providers' APIs, served by this same
// process under /demo/phone/sim. The page at /demo/phone lets a newcomer text the desk from a
// browser tab: the simulator signs each webhook exactly as the provider does and posts it to
// the real webhook path, and sends delivery receipts for what the desk sends back. Nothing of
// it exists without -demo.

// Fixed IDs, so a restart finds the demo identities again (and updates their apiUrl).
const (
	demoSMSIdentityID      = "5e7d0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"
	demoWhatsAppIdentityID = "6f8e1d2b-3c4d-4e5f-9a01-b2c3d4e5f6a7"
	demoVonageAppID        = "demo-vonage-application"
	demoPhoneNumberID      = "100000000000001"
)

// Demo numbers of the desk, from Ofcom's range for drama (never a real subscriber).
const (
	demoSMSNumber      = "+447700900100"
	demoWhatsAppNumber = "+447700900200"
)

// demoPhone is the simulator and what the phone page needs besides it.
type demoPhone struct {
	m   *Main
	sim *providersim.Sim
	// accounts maps the simulator's account (Vonage application, WhatsApp number ID) to the
	// identity it serves.
	accounts map[string]string

	mu sync.Mutex
	// sent are the messages the phones sent, oldest first.
	sent []phoneMessage
}

// phoneMessage is one message on the phone page.
type phoneMessage struct {
	ID         string    `json:"id"`
	Phone      string    `json:"phone"`
	IdentityID string    `json:"identityId"`
	Direction  string    `json:"direction"`
	Text       string    `json:"text"`
	Template   *string   `json:"template"`
	Status     string    `json:"status"`
	At         time.Time `json:"at"`
	// File is the file of the message, if any: one the phone sent, or one the desk sent
	// (then with a URL the page downloads it from).
	File *phoneFile `json:"file,omitempty"`
}

// phoneFile is a file a phone sends: in the page's request with its bytes (base64), in the
// page's state without them.
type phoneFile struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int    `json:"size"`
	Data        string `json:"data,omitempty"`
	URL         string `json:"url,omitempty"`
}

// maxPhoneFile is the largest file the phone page sends (MMS and WhatsApp allow about this).
const maxPhoneFile = 5 << 20

// phoneFileTypes are the files the phone page sends: images and PDFs.
var phoneFileTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}

// decodePhoneFile checks a file from the page: an allowed type that its bytes agree with, a
// name, at most maxPhoneFile bytes. The error is for the page, with its HTTP status.
func decodePhoneFile(f *phoneFile) (providersim.File, int, error) {
	name := strings.TrimSpace(f.Name)
	if name == "" || len(name) > 200 || strings.ContainsAny(name, "/\\\x00") {
		return providersim.File{}, http.StatusBadRequest, errors.New("the file needs a name (up to 200 characters, no slashes)")
	}
	if !slices.Contains(phoneFileTypes, f.ContentType) {
		return providersim.File{}, http.StatusUnsupportedMediaType, errors.New("only images (PNG, JPEG, GIF, WebP) and PDFs can be sent, not " + strconv.Quote(f.ContentType))
	}
	if base64.StdEncoding.DecodedLen(len(f.Data)) > maxPhoneFile+2 {
		return providersim.File{}, http.StatusRequestEntityTooLarge, errors.New("the file is larger than 5 MB")
	}
	body, err := base64.StdEncoding.DecodeString(f.Data)
	if err != nil {
		return providersim.File{}, http.StatusBadRequest, errors.New("the file's data is not base64")
	}
	if len(body) == 0 {
		return providersim.File{}, http.StatusBadRequest, errors.New("the file is empty")
	}
	if len(body) > maxPhoneFile {
		return providersim.File{}, http.StatusRequestEntityTooLarge, errors.New("the file is larger than 5 MB")
	}
	if sniffed, _, _ := strings.Cut(http.DetectContentType(body), ";"); sniffed != f.ContentType {
		return providersim.File{}, http.StatusUnsupportedMediaType, errors.New("the file's bytes are not " + f.ContentType)
	}
	return providersim.File{ContentType: f.ContentType, FileName: name, Body: body}, 0, nil
}

// startDemoPhone creates or updates the demo identities and templates and builds the simulator.
func (m *Main) startDemoPhone(ctx context.Context) (*demoPhone, error) {
	base := loopbackURL(m)
	sim := providersim.New()
	sim.BaseURL = base + "/demo/phone/sim"
	sim.SetAutoReceipts(true)
	p := &demoPhone{m: m, sim: sim, accounts: map[string]string{}}
	plans, err := m.Store.Plans(ctx)
	if err != nil || len(plans) == 0 {
		return nil, errors.Join(err, errors.New("the demo plans are missing"))
	}
	planID := plans[0].ID
	for _, pl := range plans {
		if pl.Name == "Support" {
			planID = pl.ID
		}
	}
	sms, err := m.demoIdentity(ctx, demoSMSIdentityID, workspace.SMS, demoSMSNumber, "Acme Support (SMS)", "vonage", planID,
		func(s map[string]string) error {
			if s["privateKey"] == "" {
				key, err := rsa.GenerateKey(rand.Reader, 2048)
				if err != nil {
					return err
				}
				s["privateKey"] = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
				s["signatureSecret"] = rand.Text()
			}
			s["applicationId"] = demoVonageAppID
			s["apiUrl"] = base + "/demo/phone/sim"
			return nil
		})
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode([]byte(sms.Settings["privateKey"]))
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	sim.AddVonage(providersim.VonageApp{ApplicationID: demoVonageAppID, PublicKey: &key.PublicKey, APIKey: "demo",
		SignatureSecret: sms.Settings["signatureSecret"],
		InboundURL:      base + "/webhooks/vonage/" + sms.ID + "/inbound", StatusURL: base + "/webhooks/vonage/" + sms.ID + "/status"})
	p.accounts[demoVonageAppID] = sms.ID

	wa, err := m.demoIdentity(ctx, demoWhatsAppIdentityID, workspace.WhatsApp, demoWhatsAppNumber, "Acme Support (WhatsApp)", "whatsapp-cloud", planID,
		func(s map[string]string) error {
			if s["accessToken"] == "" {
				s["accessToken"], s["appSecret"], s["verifyToken"] = rand.Text(), rand.Text(), rand.Text()
			}
			s["phoneNumberId"] = demoPhoneNumberID
			s["apiUrl"] = base + "/demo/phone/sim"
			return nil
		})
	if err != nil {
		return nil, err
	}
	sim.AddWhatsApp(providersim.WhatsAppNumber{PhoneNumberID: demoPhoneNumberID, DisplayPhoneNumber: strings.TrimPrefix(demoWhatsAppNumber, "+"),
		WABAID: "100000000000002", AccessToken: wa.Settings["accessToken"], AppSecret: wa.Settings["appSecret"],
		WebhookURL: base + "/webhooks/whatsapp/" + wa.ID})
	p.accounts[demoPhoneNumberID] = wa.ID
	if err := m.demoTemplates(ctx, wa.ID); err != nil {
		return nil, err
	}
	return p, nil
}

// demoIdentity creates a demo identity or brings its settings up to date.
func (m *Main) demoIdentity(ctx context.Context, id string, ch workspace.Channel, addr, name, provider, planID string,
	settings func(map[string]string) error) (*workspace.Identity, error) {
	ident, err := m.Store.Identity(ctx, id)
	create := workspace.ErrorCode(err) == workspace.ENOTFOUND
	if create {
		ident = &workspace.Identity{ID: id, Channel: ch, Address: addr, Name: name, Outbound: true, PlanID: planID,
			Provider: provider, Settings: map[string]string{}, CreatedAt: m.Clock.Now()}
	} else if err != nil {
		return nil, err
	}
	if err := settings(ident.Settings); err != nil {
		return nil, err
	}
	checked, err := m.providers.CheckSettings(provider, ch, ident.Settings)
	if err != nil {
		return nil, err
	}
	ident.Settings = checked
	if create {
		return ident, m.Store.CreateIdentity(ctx, ident)
	}
	return ident, m.Store.UpdateIdentity(ctx, ident)
}

// demoTemplates are two templates "Meta approved" for the demo WhatsApp number.
func (m *Main) demoTemplates(ctx context.Context, identityID string) error {
	have, err := m.Store.Templates(ctx, identityID)
	if err != nil {
		return err
	}
	for _, t := range []workspace.Template{
		{Name: "order_update", Language: "en_GB", Body: "Hello {{1}}, your order {{2}} has shipped. Reply here if you have any questions.", ParameterCount: 2},
		{Name: "support_follow_up", Language: "en_GB", Body: "Hi {{1}}, this is Acme Support following up on your request. Can we help with anything else?", ParameterCount: 1},
	} {
		if slices.ContainsFunc(have, func(h *workspace.Template) bool { return h.Name == t.Name && h.Language == t.Language }) {
			continue
		}
		t.ID, t.IdentityID, t.CreatedAt = uuid.NewString(), identityID, m.Clock.Now()
		if err := m.Store.CreateTemplate(ctx, &t); err != nil {
			return err
		}
	}
	return nil
}

// loopbackURL is the server's own URL as the simulator in this process reaches it.
func loopbackURL(m *Main) string {
	addr := m.listener.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return m.scheme() + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// routes mounts the simulator's provider APIs and the page's JSON API.
func (p *demoPhone) routes(mux *http.ServeMux) {
	mux.Handle("/demo/phone/sim/", http.StripPrefix("/demo/phone/sim", p.sim.Handler()))
	mux.HandleFunc("GET /demo/phone/api/state", p.state)
	mux.HandleFunc("POST /demo/phone/api/send", p.send)
	mux.HandleFunc("POST /demo/phone/api/read", p.read)
	mux.HandleFunc("GET /demo/phone/api/file", p.file)
}

// phoneFileName is the name a phone shows for a file the desk sent: the provider's file
// name, else its kind and the extension of its type.
func phoneFileName(f providersim.File) string {
	if f.FileName != "" {
		return f.FileName
	}
	ext := ""
	if exts, _ := mime.ExtensionsByType(f.ContentType); len(exts) > 0 {
		ext = exts[0]
	}
	kind, _, _ := strings.Cut(f.ContentType, "/")
	return kind + ext
}

// file serves the n-th file of a message the desk sent to a phone, as the phone downloads it.
func (p *demoPhone) file(w http.ResponseWriter, r *http.Request) {
	id, n := r.URL.Query().Get("id"), r.URL.Query().Get("n")
	for _, s := range p.sim.Received() {
		if s.ID != id {
			continue
		}
		i, err := strconv.Atoi(n)
		if err != nil || i < 0 || i >= len(s.Files) {
			break
		}
		f := s.Files[i]
		h := w.Header()
		h.Set("Content-Type", f.ContentType)
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": phoneFileName(f)}))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		_, _ = w.Write(f.Body)
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such file"})
}

// state is what the page shows: the demo identities and every message of the phones.
func (p *demoPhone) state(w http.ResponseWriter, r *http.Request) {
	type identity struct {
		ID       string            `json:"id"`
		Channel  workspace.Channel `json:"channel"`
		Address  string            `json:"address"`
		Name     string            `json:"name"`
		Provider string            `json:"provider"`
	}
	ids := []identity{}
	for _, id := range []string{demoSMSIdentityID, demoWhatsAppIdentityID} {
		if x, err := p.m.Store.Identity(r.Context(), id); err == nil {
			ids = append(ids, identity{x.ID, x.Channel, x.Address, x.Name, x.Provider})
		}
	}
	statuses := map[string]string{}
	for _, rc := range p.sim.Receipts() {
		if rc.HTTPStatus == http.StatusOK && receiptRank(rc.Status) > receiptRank(statuses[rc.ID]) {
			statuses[rc.ID] = rc.Status
		}
	}
	p.mu.Lock()
	msgs := append([]phoneMessage{}, p.sent...)
	p.mu.Unlock()
	for _, s := range p.sim.Received() {
		pm := phoneMessage{ID: s.ID, Phone: "+" + strings.TrimPrefix(s.To, "+"), IdentityID: p.accounts[s.Account],
			Direction: "out", Text: s.Text, Status: phoneStatus(statuses[s.ID]), At: s.At}
		if s.Template != nil {
			name := s.Template.Name
			pm.Template = &name
			if pm.Text == "" {
				pm.Text = p.renderTemplate(r.Context(), pm.IdentityID, s.Template)
			}
		}
		// A message with several files (an MMS) shows as one bubble per file, the text on the first.
		for i, f := range s.Files {
			fm := pm
			if i > 0 {
				fm.ID, fm.Text, fm.Template = s.ID+"/"+strconv.Itoa(i), "", nil
			}
			fm.File = &phoneFile{Name: phoneFileName(f), ContentType: f.ContentType, Size: len(f.Body),
				URL: "/demo/phone/api/file?id=" + url.QueryEscape(s.ID) + "&n=" + strconv.Itoa(i)}
			msgs = append(msgs, fm)
		}
		if len(s.Files) == 0 {
			msgs = append(msgs, pm)
		}
	}
	slices.SortStableFunc(msgs, func(a, b phoneMessage) int { return a.At.Compare(b.At) })
	writeJSON(w, http.StatusOK, map[string]any{"identities": ids, "messages": msgs})
}

// renderTemplate shows a template send as the phone would display it.
func (p *demoPhone) renderTemplate(ctx context.Context, identityID string, t *providersim.Template) string {
	ts, err := p.m.Store.Templates(ctx, identityID)
	if err == nil {
		for _, x := range ts {
			if x.Name == t.Name && x.Language == t.Language {
				if text, err := x.Render(t.Parameters); err == nil {
					return text
				}
			}
		}
	}
	return "[template " + t.Name + "] " + strings.Join(t.Parameters, ", ")
}

// receiptRank orders the providers' status words so the page shows the furthest one.
func receiptRank(s string) int {
	switch s {
	case "submitted", "sent", "queued":
		return 1
	case "delivered":
		return 2
	case "read":
		return 3
	case "rejected", "undeliverable", "failed", "undelivered":
		return 4
	}
	return 0
}

// phoneStatus is a receipt's word as the page shows it.
func phoneStatus(s string) string {
	switch receiptRank(s) {
	case 2:
		return "delivered"
	case 3:
		return "read"
	case 4:
		return "failed"
	}
	return "sent"
}

// send posts a phone's message to the desk as a signed provider webhook.
func (p *demoPhone) send(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Phone      string `json:"phone"`
		Name       string `json:"name"`
		IdentityID string `json:"identityId"`
		Text       string `json:"text"`
		// File is one file sent with the text (the text becomes its caption).
		File *phoneFile `json:"file"`
	}
	// A 5 MB file is under 7 MB in base64.
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxPhoneFile/3*4+64<<10)).Decode(&in); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "the file is larger than 5 MB"})
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "send {phone, name, identityId, text, file?: {name, contentType, data}}"})
		return
	}
	phone, err := workspace.NormalisePhone(in.Phone, "phone")
	if err != nil || (strings.TrimSpace(in.Text) == "" && in.File == nil) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "a phone number in international form (+44…) and a text or a file"})
		return
	}
	msg := providersim.Inbound{ID: uuid.NewString(), From: phone, Name: in.Name, Text: in.Text}
	var shown *phoneFile
	if in.File != nil {
		f, status, err := decodePhoneFile(in.File)
		if err != nil {
			writeJSON(w, status, map[string]string{"error": err.Error()})
			return
		}
		msg.Files, msg.Caption, msg.Text = []providersim.File{f}, in.Text, ""
		shown = &phoneFile{Name: f.FileName, ContentType: f.ContentType, Size: len(f.Body)}
	}
	var status int
	switch in.IdentityID {
	case demoSMSIdentityID:
		msg.To = demoSMSNumber
		status, err = p.sim.VonageInbound(r.Context(), demoVonageAppID, msg)
	case demoWhatsAppIdentityID:
		msg.ID = "wamid." + msg.ID
		status, err = p.sim.WhatsAppInbound(r.Context(), demoPhoneNumberID, msg)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such demo identity"})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	if status == http.StatusOK {
		p.mu.Lock()
		p.sent = append(p.sent, phoneMessage{ID: msg.ID, Phone: phone, IdentityID: in.IdentityID, Direction: "in",
			Text: in.Text, Status: "received", At: p.m.Clock.Now(), File: shown})
		p.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, map[string]int{"status": status})
}

// read tells the desk that the phone showed one of its messages (WhatsApp's read receipt).
func (p *demoPhone) read(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&in); err != nil || in.ID == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "send {id}"})
		return
	}
	// Only WhatsApp reports reads; an SMS handset says nothing when its owner reads.
	if !slices.ContainsFunc(p.sim.Received(), func(s providersim.Sent) bool { return s.ID == in.ID && s.Provider == providersim.WhatsApp }) {
		writeJSON(w, http.StatusOK, map[string]int{"status": 0})
		return
	}
	status, err := p.sim.Receipt(r.Context(), in.ID, "read", "")
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"status": status})
}
