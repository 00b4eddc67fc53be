// Package providersim simulates the HTTP APIs of the messaging providers agentdesk talks to
// (Vonage Messages, Twilio Messaging, WhatsApp Cloud), built from the documented formats in
// shared/reference/channels.md. Tests run it on loopback (httptest); the demo's phone
// simulator uses it too.
//
// A Sim serves the three send endpoints (Handler), records what it accepted (Received,
// WaitFor), fails on demand (Fail, CloseWindow), posts signed status webhooks (Receipt,
// SetAutoReceipts) and signed inbound webhooks (VonageInbound, TwilioInbound,
// WhatsAppInbound), each signed exactly as the provider signs, and serves the files those
// carry (Inbound.Files) behind each provider's credentials (see File). The builders (VonageRequest,
// TwilioRequest, WhatsAppRequest and the payload functions) are exported for tests that need
// a malformed, oversized or badly signed variant.
//
// It deliberately shares no code with the adapters: it is a second, independent reading of
// the same documents.
package providersim

import (
	"context"
	"crypto/rsa"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Provider names, as identities store them.
const (
	Vonage   = "vonage"
	Twilio   = "twilio"
	WhatsApp = "whatsapp-cloud"
)

// VonageApp is a Vonage application the sim accepts sends for and signs webhooks as.
type VonageApp struct {
	ApplicationID string
	// PublicKey verifies the RS256 application JWT of a send. When nil only the token's shape
	// and claims are checked.
	PublicKey *rsa.PublicKey
	// APIKey is put in the webhook JWT's api_key claim.
	APIKey string
	// SignatureSecret signs inbound and status webhooks (HS256).
	SignatureSecret string
	// InboundURL and StatusURL are the application's webhook URLs.
	InboundURL string
	StatusURL  string
}

// TwilioAccount is a Twilio account the sim accepts sends for.
type TwilioAccount struct {
	AccountSID string
	AuthToken  string
	// InboundURL is the numbers' "A message comes in" webhook. Status callbacks go to each
	// send's StatusCallback.
	InboundURL string
}

// WhatsAppNumber is a WhatsApp Business phone number the sim accepts sends for.
type WhatsAppNumber struct {
	PhoneNumberID      string
	DisplayPhoneNumber string
	WABAID             string
	AccessToken        string
	// AppSecret signs webhooks (X-Hub-Signature-256).
	AppSecret string
	// WebhookURL is the app's callback URL for messages and statuses.
	WebhookURL string
}

// Template is a template send as the sim received it.
type Template struct {
	Name       string
	Language   string
	Parameters []string
}

// Failover is one alternative message of a Vonage send.
type Failover struct {
	Channel     string
	From        string
	To          string
	MessageType string
	Text        string
	ClientRef   string
}

// Sent is one message the sim accepted.
type Sent struct {
	// Provider is vonage, twilio or whatsapp-cloud.
	Provider string
	// ID is the provider's message ID the sim answered with.
	ID string
	// Account is the Vonage application ID, the Twilio account SID or the WhatsApp phone
	// number ID the message was sent on.
	Account string
	// Channel is sms, rcs or whatsapp.
	Channel string
	// From and To are as the request gave them.
	From, To string
	// MessageType is Vonage's message_type or WhatsApp's type ("text" for Twilio).
	MessageType string
	Text        string
	Template    *Template
	// Failover are a Vonage send's alternative messages.
	Failover []Failover
	// Ref is the sender's own reference: Vonage's client_ref, WhatsApp's
	// biz_opaque_callback_data, or the m parameter of a Twilio StatusCallback.
	Ref string
	// StatusCallback is a Twilio send's StatusCallback.
	StatusCallback string
	// Files are the files the contact gets with the message: fetched from the links of a
	// Twilio or Vonage send, or uploaded to WhatsApp's media edge.
	Files []File
	// ContentType and Body are the request's, as received.
	ContentType string
	Body        []byte
	At          time.Time
}

// ReceiptResult is the outcome of one status webhook the sim posted.
type ReceiptResult struct {
	Provider string
	ID       string
	Status   string
	// HTTPStatus is the webhook's answer, 0 when the post failed (Err).
	HTTPStatus int
	Err        error
}

// Fault is a failure the sim can inject into sends.
type Fault int

// Faults.
const (
	// ServerError answers with the provider's 5xx.
	ServerError Fault = iota + 1
	// Hang never answers: the request is held until the client gives up (or Close).
	Hang
	// InvalidNumber answers with the provider's documented 4xx for a bad recipient: Vonage 422
	// (1020 invalid params), Twilio 400 (21211), WhatsApp 400 (131026).
	InvalidNumber
	// RateLimited answers 429.
	RateLimited
)

type faultRule struct {
	number string // digits; "" for any
	fault  Fault
	left   int // < 0: forever
}

// Sim is a fake of the three providers' APIs. Configure it before serving; it is safe for
// concurrent use.
type Sim struct {
	// Clock stamps messages and webhooks; nil means time.Now. Set it before serving.
	Clock func() time.Time
	// Client posts webhooks; nil means a client with a 5 s timeout. Set it before serving.
	Client *http.Client
	// BaseURL is where Handler is served (e.g. an httptest server's URL): the links of the
	// files contacts send are made under it. Set it before serving.
	BaseURL string

	mu           sync.Mutex
	vonage       map[string]*VonageApp
	twilio       map[string]*TwilioAccount
	whatsapp     map[string]*WhatsAppNumber
	sent         []Sent
	attempts     int
	faults       []*faultRule
	closed       map[string]bool // WhatsApp windows closed, by digits
	noRCS        map[string]bool // numbers whose handsets cannot take RCS, by digits
	auto         bool
	receipts     []ReceiptResult
	media        map[string]*storedMedia
	uploads      map[string]*upload
	mediaFaults  []*mediaFault
	mediaFetches int
	mediaLeaks   int
	changed      chan struct{}
	done         chan struct{}
	closeOnce    sync.Once
	inflight     sync.WaitGroup
}

// New returns an empty sim: no accounts, no faults, automatic receipts off.
func New() *Sim {
	return &Sim{
		vonage:   map[string]*VonageApp{},
		twilio:   map[string]*TwilioAccount{},
		whatsapp: map[string]*WhatsAppNumber{},
		closed:   map[string]bool{},
		noRCS:    map[string]bool{},
		changed:  make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// AddVonage registers a Vonage application.
func (s *Sim) AddVonage(a VonageApp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vonage[a.ApplicationID] = &a
}

// AddTwilio registers a Twilio account.
func (s *Sim) AddTwilio(a TwilioAccount) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.twilio[a.AccountSID] = &a
}

// AddWhatsApp registers a WhatsApp Business phone number.
func (s *Sim) AddWhatsApp(n WhatsAppNumber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.whatsapp[n.PhoneNumberID] = &n
}

// Fail makes the next n sends to number (any number when "") fail with f; n <= 0 makes
// every such send fail until ClearFaults. Rules apply in the order they were added.
func (s *Sim) Fail(number string, f Fault, n int) {
	if n <= 0 {
		n = -1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultRule{number: digits(number), fault: f, left: n})
}

// ClearFaults removes every injected fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.mediaFaults = nil
}

// CloseWindow closes number's WhatsApp 24-hour window: free text to it fails with 131047
// (templates still pass) until OpenWindow or an inbound WhatsApp message from it.
func (s *Sim) CloseWindow(number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed[digits(number)] = true
}

// OpenWindow opens number's WhatsApp window again.
func (s *Sim) OpenWindow(number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.closed, digits(number))
}

// NoRCS marks number as a handset without RCS: with automatic receipts, a Vonage RCS send to
// it is rejected and its SMS failover delivered, as Vonage reports a failover.
func (s *Sim) NoRCS(number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noRCS[digits(number)] = true
}

// SetAutoReceipts turns automatic status webhooks on or off. When on, every accepted send is
// followed by the provider's usual sequence (Vonage submitted, delivered, and read on
// WhatsApp and RCS; Twilio sent, delivered; WhatsApp sent, delivered, read), posted in
// order in the background.
func (s *Sim) SetAutoReceipts(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auto = on
}

// Received returns a copy of every message the sim accepted, oldest first.
func (s *Sim) Received() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Attempts is how many send requests reached the sim, accepted or not.
func (s *Sim) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Receipts returns the status webhooks the sim posted so far.
func (s *Sim) Receipts() []ReceiptResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ReceiptResult(nil), s.receipts...)
}

// ErrTimeout is WaitFor's error when too few messages arrived in time.
var ErrTimeout = errors.New("providersim: timed out waiting")

// WaitFor waits until the sim has accepted at least n messages and returns them (all of
// them, with ErrTimeout, when fewer arrived in time).
func (s *Sim) WaitFor(n int, timeout time.Duration) ([]Sent, error) {
	err := s.waitUntil(timeout, func() bool { return len(s.sent) >= n })
	return s.Received(), err
}

// WaitReceipts waits until the sim has posted at least n status webhooks and returns them.
func (s *Sim) WaitReceipts(n int, timeout time.Duration) ([]ReceiptResult, error) {
	err := s.waitUntil(timeout, func() bool { return len(s.receipts) >= n })
	return s.Receipts(), err
}

// waitUntil waits for ready, called with s.mu held, to hold.
func (s *Sim) waitUntil(timeout time.Duration, ready func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok, ch := ready(), s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			return ErrTimeout
		}
	}
}

// notify wakes waiters; s.mu must be held.
func (s *Sim) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Close releases hanging requests and waits for the webhooks in flight.
func (s *Sim) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.inflight.Wait()
}

func (s *Sim) now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

func (s *Sim) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return &http.Client{Timeout: 5 * time.Second}
}

// fault takes the first fault that applies to a send to number, consuming one use of it.
func (s *Sim) fault(number string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	d := digits(number)
	for i, r := range s.faults {
		if r.number != "" && r.number != d {
			continue
		}
		if r.left > 0 {
			r.left--
			if r.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return r.fault
	}
	return 0
}

// hang holds a request until its client gives up or the sim closes.
func (s *Sim) hang(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-s.done:
	}
}

// digits is a number without '+' or spaces, the form numbers are compared in.
func digits(n string) string {
	n = strings.TrimSpace(n)
	n = strings.TrimPrefix(n, "+")
	return strings.ReplaceAll(n, " ", "")
}
