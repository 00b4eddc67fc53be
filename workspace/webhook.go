package workspace

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Webhooks push every change event to a CRM's HTTPS endpoint (issue 18). Each webhook
// reads the one stored order of events (crm.go) from its Cursor: it delivers the next event
// of its kinds, and only once that succeeds or fails for good does it move on, so a
// receiver gets every event at least once and in order (the order of the store, which
// keeps each interaction's order). A run of deliveries holds a lease on the webhook,
// taken with a version-guarded write, so with several nodes one node at a time delivers
// for a webhook and each event goes out once; a node that dies mid-run leaves the lease to
// expire and another node (or the restarted one) delivers from the stored Cursor. Each
// webhook's run is its own goroutine: a slow receiver holds only its own run, for at most
// the delivery timeout. A failure is retried with exponential backoff; an event that has
// failed for GiveUpAfter (24 h) is kept as a failed delivery, which a supervisor can
// redeliver, and the webhook moves on.

// Webhook is a CRM's endpoint for change events.
type Webhook struct {
	ID    string
	URL   string
	Kinds []ChangeKind
	// Secret is the HMAC key of the signatures; shown once, when created or rotated.
	Secret    string
	Active    bool
	CreatedAt time.Time

	// Cursor is the Seq of the last event settled: delivered, not of the webhook's kinds,
	// or failed for good. A new webhook starts at the latest event.
	Cursor int64
	// Attempts counts the failed attempts at the event after Cursor; FailingSince is when
	// the first of them was made (nil while none failed).
	Attempts     int
	FailingSince *time.Time
	// NextAttemptAt is when the next attempt may be made (the backoff).
	NextAttemptAt time.Time
	// LeaseUntil keeps other nodes off the webhook while one delivers for it.
	LeaseUntil time.Time
	// Last is the latest attempt, successful or not; nil before the first.
	Last *WebhookDelivery

	Version int64
}

// WebhookDelivery is an attempted delivery of one event.
type WebhookDelivery struct {
	WebhookID string
	EventID   string
	Attempts  int
	// LastStatus is the receiver's HTTP status, 0 when none came (timeout, refused).
	LastStatus    int
	LastError     string
	LastAttemptAt time.Time
}

// WebhookPolicy tunes deliveries and the URLs webhooks may have.
type WebhookPolicy struct {
	// Timeout bounds one delivery, connection included.
	Timeout time.Duration
	// Lease is how long a run's claim keeps other nodes off a webhook; it is renewed at
	// each delivery, and must exceed Timeout.
	Lease time.Duration
	// FirstBackoff is the wait after a first failure; each further failure doubles it, up to
	// MaxBackoff. An event that has failed for GiveUpAfter is a failed delivery.
	FirstBackoff, MaxBackoff, GiveUpAfter time.Duration
	// Batch is how many events one read returns.
	Batch int
	// AllowLoopback lets URLs be http:// (or https://) to a loopback address: for
	// development and tests. AllowPrivate lets https:// URLs reach private networks.
	AllowLoopback, AllowPrivate bool
}

// DefaultWebhookPolicy: 10 s per delivery; retries from 10 s doubling to an hour, for 24 h.
func DefaultWebhookPolicy() WebhookPolicy {
	return WebhookPolicy{Timeout: 10 * time.Second, Lease: 30 * time.Second, FirstBackoff: 10 * time.Second,
		MaxBackoff: time.Hour, GiveUpAfter: 24 * time.Hour, Batch: 100}
}

// backoff is the wait after n failed attempts.
func (p WebhookPolicy) backoff(n int) time.Duration {
	d := p.FirstBackoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.MaxBackoff)
}

// WebhookPoster makes one delivery: a POST of body with the headers to url. status is the
// receiver's HTTP status (0 with err when none came). The poster refuses to connect to an
// address the policy does not allow, whatever the URL's host resolved to when it was
// checked, and does not follow redirects.
type WebhookPoster interface {
	Post(ctx context.Context, url string, body []byte, headers map[string]string) (status int, err error)
}

// Resolver looks up a host's addresses (net.Resolver is one).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// webhookRuns tracks the runs under way on this node.
type webhookRuns struct {
	mu      sync.Mutex
	running map[string]bool
	wg      sync.WaitGroup
}

// SignatureHeader carries a delivery's signature: "t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>" under the webhook's secret>".
const SignatureHeader = "X-Agentdesk-Signature"

// Sign returns the signature header's value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a signature header against body and secret, and that its time is
// within tolerance of now (a replay older than that is refused).
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return false
	}
	at := time.Unix(sec, 0)
	if d := now.Sub(at); d > tolerance || d < -tolerance {
		return false
	}
	want := Sign(secret, at, body)
	return hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig))
}

// maxURLChars bounds a webhook's URL.
const maxURLChars = 2048

// checkWebhookURL refuses URLs a webhook may not have: not https:// (http:// only to
// loopback, when allowed), with credentials, a host that does not resolve, or one that
// resolves to a loopback, private, link-local or unspecified address the policy does not
// allow.
func (s *Service) checkWebhookURL(ctx context.Context, raw string) (string, error) {
	bad := func(format string, args ...any) error { return fieldError(EINVALID, "url", format, args...) }
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxURLChars {
		return "", bad("a webhook needs a URL of at most %d characters", maxURLChars)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", bad("not an absolute URL")
	}
	if u.User != nil {
		return "", bad("a webhook URL may not carry credentials; receivers check the signature instead")
	}
	if u.Fragment != "" {
		return "", bad("a webhook URL has no #fragment")
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		addrs = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	} else if s.Resolver != nil {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		addrs, err = s.Resolver.LookupNetIP(rctx, "ip", host)
		cancel()
		if err != nil || len(addrs) == 0 {
			return "", bad("the host %q does not resolve", host)
		}
	}
	loopback := len(addrs) > 0
	for _, a := range addrs {
		if err := s.WebhookPolicy.CheckAddr(a); err != nil {
			return "", bad("%s", err.Error())
		}
		loopback = loopback && a.Unmap().IsLoopback()
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !(loopback && s.WebhookPolicy.AllowLoopback) {
			return "", bad("webhook URLs must be https:// (http:// only to loopback, with -webhooks-allow-loopback)")
		}
	default:
		return "", bad("webhook URLs must be https://")
	}
	return u.String(), nil
}

// CheckAddr says whether a delivery may connect to the address: the poster asks it for
// every connection, so a host that resolves elsewhere later (DNS rebinding) is refused too.
func (p WebhookPolicy) CheckAddr(a netip.Addr) error {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		if !p.AllowLoopback {
			return fmt.Errorf("%s is a loopback address; allowed only with -webhooks-allow-loopback", a)
		}
	case a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsUnspecified() ||
		a.IsMulticast() || a.IsInterfaceLocalMulticast() || isSharedAddress(a):
		if !p.AllowPrivate {
			return fmt.Errorf("%s is a private or local network address; allowed only with -webhooks-allow-private", a)
		}
	}
	return nil
}

// isSharedAddress reports carrier-grade NAT space (100.64.0.0/10), which is not public.
func isSharedAddress(a netip.Addr) bool {
	return netip.MustParsePrefix("100.64.0.0/10").Contains(a)
}

// CreateWebhook registers an endpoint for events of the kinds (supervisors only) and returns
// it with its secret, the only time the secret is shown.
func (s *Service) CreateWebhook(ctx context.Context, rawURL string, kinds []ChangeKind) (*Webhook, string, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, "", err
	}
	if len(kinds) == 0 {
		return nil, "", fieldError(EINVALID, "kinds", "name at least one kind of event")
	}
	if err := checkKinds(kinds); err != nil {
		return nil, "", err
	}
	u, err := s.checkWebhookURL(ctx, rawURL)
	if err != nil {
		return nil, "", err
	}
	last, err := s.Store.LastEventSeq(ctx)
	if err != nil {
		return nil, "", err
	}
	kinds = slices.Clone(kinds)
	slices.SortFunc(kinds, func(a, b ChangeKind) int { return slices.Index(ChangeKinds, a) - slices.Index(ChangeKinds, b) })
	w := &Webhook{ID: uuid.NewString(), URL: u, Kinds: slices.Compact(kinds), Secret: "whsec_" + randomString(32),
		Active: true, CreatedAt: s.Clock.Now(), Cursor: last}
	if err := s.Store.CreateWebhook(ctx, w); err != nil {
		return nil, "", err
	}
	s.audit(ctx, "webhook.create", AuditWebhook, w.ID, w.URL, nil, webhookSnapshot(w))
	s.noWebhooks.Store(false)
	s.kickWebhooks()
	return w, w.Secret, nil
}

func webhookSnapshot(w *Webhook) map[string]any {
	kinds := make([]string, len(w.Kinds))
	for i, k := range w.Kinds {
		kinds[i] = string(k)
	}
	return map[string]any{"url": w.URL, "kinds": kinds, "active": w.Active}
}

// Webhooks lists every webhook (supervisors only).
func (s *Service) Webhooks(ctx context.Context) ([]*Webhook, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	return s.Store.Webhooks(ctx)
}

// webhook reads a webhook a supervisor names, refusing a malformed or unknown ID.
func (s *Service) webhook(ctx context.Context, id string) (*Webhook, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	if checkID(id) != nil {
		return nil, fieldError(EINVALID, "webhookId", "not a valid ID: IDs are UUIDs")
	}
	w, err := s.Store.Webhook(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, fieldError(ENOTFOUND, "webhookId", "no webhook has this ID")
	}
	return w, err
}

// DeleteWebhook removes a webhook and its failed deliveries (supervisors only); a run under
// way stops before its next delivery.
func (s *Service) DeleteWebhook(ctx context.Context, id string) error {
	w, err := s.webhook(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteWebhook(ctx, id); ErrorCode(err) == ENOTFOUND {
		return fieldError(ENOTFOUND, "webhookId", "no webhook has this ID")
	} else if err != nil {
		return err
	}
	s.audit(ctx, "webhook.delete", AuditWebhook, w.ID, w.URL, webhookSnapshot(w), nil)
	return nil
}

// RotateWebhookSecret gives a webhook a new secret and returns it, the only time it is shown
// (supervisors only). Every delivery that starts after it is signed with the new secret.
func (s *Service) RotateWebhookSecret(ctx context.Context, id string) (*Webhook, string, error) {
	if _, err := s.webhook(ctx, id); err != nil {
		return nil, "", err
	}
	secret := "whsec_" + randomString(32)
	_, w, err := guardedWrite(ctx, nil, func(ctx context.Context) (*Webhook, error) { return s.Store.Webhook(ctx, id) },
		func(w *Webhook) error { w.Secret = secret; return nil },
		func(ctx context.Context, _, w *Webhook) error { return s.Store.UpdateWebhook(ctx, w) })
	if err != nil {
		return nil, "", err
	}
	s.audit(ctx, "webhook.rotateSecret", AuditWebhook, w.ID, w.URL, map[string]any{"secret": "old"}, map[string]any{"secret": "new"})
	return w, secret, nil
}

// FailedDeliveries lists a webhook's deliveries that failed for good, newest first.
func (s *Service) FailedDeliveries(ctx context.Context, w *Webhook, first *int) ([]*WebhookDelivery, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	n, err := pageSize(first, 20)
	if err != nil {
		return nil, err
	}
	return s.Store.FailedDeliveries(ctx, w.ID, n)
}

// RedeliverWebhookEvent delivers a failed delivery's event again, now (supervisors only). On
// success the failed delivery is removed; otherwise it is kept with the new attempt.
func (s *Service) RedeliverWebhookEvent(ctx context.Context, webhookID, eventID string) (*WebhookDelivery, bool, error) {
	w, err := s.webhook(ctx, webhookID)
	if err != nil {
		return nil, false, err
	}
	failed, err := s.Store.FailedDeliveries(ctx, w.ID, 0)
	if err != nil {
		return nil, false, err
	}
	i := slices.IndexFunc(failed, func(d *WebhookDelivery) bool { return d.EventID == eventID })
	if i < 0 {
		return nil, false, fieldError(ENOTFOUND, "eventId", "this webhook has no failed delivery of this event")
	}
	d := failed[i]
	e, err := s.Store.Event(ctx, eventID)
	if err != nil {
		return nil, false, err
	}
	status, perr := s.post(ctx, w, e, d.Attempts+1)
	d.Attempts++
	d.LastStatus, d.LastError, d.LastAttemptAt = status, errText(perr), s.Clock.Now()
	if perr == nil {
		if err := s.Store.DeleteFailedDelivery(ctx, w.ID, eventID); err != nil && ErrorCode(err) != ENOTFOUND {
			return nil, false, err
		}
		s.audit(ctx, "webhook.redeliver", AuditWebhook, w.ID, w.URL, map[string]any{"event": eventID, "delivered": false}, map[string]any{"event": eventID, "delivered": true})
		return d, true, nil
	}
	return d, false, s.Store.SaveFailedDelivery(ctx, d)
}

// WebhookKick is signalled when there may be work for webhooks (events stored, a webhook
// created), so a runner delivers without waiting for its next poll.
func (s *Service) WebhookKick() <-chan struct{} { return s.webhookKick }

func (s *Service) kickWebhooks() {
	select {
	case s.webhookKick <- struct{}{}:
	default:
	}
}

// DeliverWebhooks starts a run, on its own goroutine, for each active webhook with events
// to deliver whose backoff has passed and which no node is running; it returns how many it
// started. WaitWebhooks waits for them.
//
// poll is false when the runner was woken by events stored: then, if the last look found no
// webhook at all, it does not read the store again, since events are all most deployments
// ever store and most of them have no webhook. A webhook created on this node clears that
// (CreateWebhook); one created on another node is found by the next poll, and delivers from
// the cursor it was created with, so it misses nothing.
func (s *Service) DeliverWebhooks(ctx context.Context, poll bool) (int, error) {
	if !poll && s.noWebhooks.Load() {
		return 0, nil
	}
	hooks, err := s.Store.Webhooks(ctx)
	if err != nil {
		return 0, err
	}
	s.noWebhooks.Store(len(hooks) == 0)
	if len(hooks) == 0 {
		return 0, nil
	}
	last, err := s.Store.LastEventSeq(ctx)
	if err != nil {
		return 0, err
	}
	now := s.Clock.Now()
	started := 0
	for _, w := range hooks {
		if !w.Active || w.Cursor >= last || now.Before(w.NextAttemptAt) || now.Before(w.LeaseUntil) {
			continue
		}
		if !s.runs.start(w.ID) {
			continue
		}
		claimed := *w
		claimed.LeaseUntil = now.Add(s.WebhookPolicy.Lease)
		if err := s.Store.UpdateWebhook(ctx, &claimed); err != nil { // another node claimed it
			s.runs.done(w.ID)
			continue
		}
		started++
		go func() {
			defer s.runs.done(w.ID)
			s.runWebhook(ctx, &claimed)
		}()
	}
	return started, nil
}

// WaitWebhooks waits for this node's runs to end.
func (s *Service) WaitWebhooks() { s.runs.wg.Wait() }

func (r *webhookRuns) start(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running == nil {
		r.running = map[string]bool{}
	}
	if r.running[id] {
		return false
	}
	r.running[id] = true
	r.wg.Add(1)
	return true
}

func (r *webhookRuns) done(id string) {
	r.mu.Lock()
	delete(r.running, id)
	r.mu.Unlock()
	r.wg.Done()
}

// runWebhook delivers a claimed webhook's events in order until it has none left or one
// fails; each outcome is written with the version guard, which also renews the lease. A
// write that loses (a supervisor rotated the secret, or deleted the webhook) reads the
// webhook again; a webhook claimed meanwhile by another node, deleted or deactivated ends
// the run.
func (s *Service) runWebhook(ctx context.Context, w *Webhook) {
	for ctx.Err() == nil {
		events, err := s.Store.Events(ctx, w.Cursor, s.WebhookPolicy.Batch)
		if err != nil || len(events) == 0 {
			s.releaseWebhook(ctx, w)
			return
		}
		for _, e := range events {
			if !slices.Contains(w.Kinds, e.Kind) {
				w.Cursor = e.Seq // written with the next delivery's outcome or the release
				continue
			}
			fresh, err := s.Store.Webhook(ctx, w.ID)
			if err != nil || !fresh.Active || !sameLease(fresh, w) {
				return
			}
			fresh.Cursor = max(fresh.Cursor, w.Cursor)
			w = fresh
			status, perr := s.post(ctx, w, e, w.Attempts+1)
			if ctx.Err() != nil {
				return // shutting down: the attempt does not count
			}
			var retry bool
			if w, retry, err = s.settleDelivery(ctx, w, e, status, perr); err != nil || retry {
				return
			}
		}
	}
}

// settleDelivery writes the outcome of an attempt at e: success (or a failure past GiveUpAfter,
// kept as a failed delivery) moves the cursor past e and renews the lease; another failure
// schedules a retry and ends the lease (retry).
func (s *Service) settleDelivery(ctx context.Context, w *Webhook, e *ChangeEvent, status int, perr error) (next *Webhook, retry bool, err error) {
	now := s.Clock.Now()
	n := *w
	last := &WebhookDelivery{WebhookID: w.ID, EventID: e.ID, Attempts: w.Attempts + 1, LastStatus: status, LastError: errText(perr), LastAttemptAt: now}
	n.Last = last
	if perr != nil {
		if n.FailingSince == nil {
			n.FailingSince = &now
		}
		if now.Sub(*n.FailingSince) >= s.WebhookPolicy.GiveUpAfter {
			if err := s.Store.SaveFailedDelivery(ctx, last); err != nil {
				return nil, false, err
			}
		} else {
			retry = true
			n.Attempts++
			n.NextAttemptAt = now.Add(s.WebhookPolicy.backoff(n.Attempts))
			n.LeaseUntil = time.Time{}
		}
	}
	if !retry {
		n.Cursor, n.Attempts, n.FailingSince, n.NextAttemptAt = e.Seq, 0, nil, time.Time{}
		n.LeaseUntil = now.Add(s.WebhookPolicy.Lease)
	}
	// Written on the record as stored: a supervisor may have rotated the secret (or changed
	// the webhook) during the attempt, and losing the version guard to that must not end the
	// run with its lease held and its cursor behind (the lease would hold every later event
	// back until it expired). A lease another run holds now ends this one.
	_, stored, err := guardedWrite(ctx, w, func(ctx context.Context) (*Webhook, error) { return s.Store.Webhook(ctx, w.ID) },
		func(fresh *Webhook) error {
			if !sameLease(fresh, w) {
				return errSkip
			}
			fresh.Last, fresh.FailingSince, fresh.Attempts, fresh.NextAttemptAt, fresh.LeaseUntil = n.Last, n.FailingSince, n.Attempts, n.NextAttemptAt, n.LeaseUntil
			fresh.Cursor = max(fresh.Cursor, n.Cursor)
			return nil
		},
		func(ctx context.Context, _, next *Webhook) error { return s.Store.UpdateWebhook(ctx, next) })
	if err != nil {
		return nil, false, err
	}
	return stored, retry, nil
}

// releaseWebhook writes a run's cursor and ends its lease.
func (s *Service) releaseWebhook(ctx context.Context, w *Webhook) {
	_, _, _ = guardedWrite(ctx, nil, func(ctx context.Context) (*Webhook, error) { return s.Store.Webhook(ctx, w.ID) },
		func(fresh *Webhook) error {
			if !sameLease(fresh, w) {
				return errSkip // claimed by another run since
			}
			fresh.Cursor, fresh.LeaseUntil = max(fresh.Cursor, w.Cursor), time.Time{}
			return nil
		},
		func(ctx context.Context, _, w *Webhook) error { return s.Store.UpdateWebhook(ctx, w) })
}

// sameLease reports whether the stored webhook still holds the run's lease (at the
// millisecond precision of the stores).
func sameLease(stored, run *Webhook) bool {
	return stored.LeaseUntil.Truncate(time.Millisecond).Equal(run.LeaseUntil.Truncate(time.Millisecond))
}

// errText is a failed attempt's error for the supervisor, "" for a success.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// post makes one signed delivery of e to w, bounded by the policy's timeout. A status other
// than 2xx is an error.
func (s *Service) post(ctx context.Context, w *Webhook, e *ChangeEvent, attempt int) (int, error) {
	body, err := s.eventBody(ctx, e)
	if err != nil {
		return 0, err
	}
	if s.Poster == nil {
		return 0, Errorf(EINTERNAL, "no webhook poster")
	}
	ctx, cancel := context.WithTimeout(ctx, s.WebhookPolicy.Timeout)
	defer cancel()
	status, err := s.Poster.Post(ctx, w.URL, body, map[string]string{
		"Content-Type":               "application/json",
		SignatureHeader:              Sign(w.Secret, s.Clock.Now(), body),
		"X-Agentdesk-Event-Id":       e.ID,
		"X-Agentdesk-Webhook-Id":     w.ID,
		"X-Agentdesk-Delivery-Count": strconv.Itoa(attempt),
	})
	if err == nil && (status < 200 || status > 299) {
		err = fmt.Errorf("the receiver answered %d", status)
	}
	return status, err
}

// EventBody is a delivery's JSON: the event, with the interaction as it is when delivered
// and the message of a MESSAGE. Its field names are those of the GraphQL API.
type EventBody struct {
	ID          string           `json:"id"`
	Kind        ChangeKind       `json:"kind"`
	At          time.Time        `json:"at"`
	Interaction *InteractionBody `json:"interaction"`
	Message     *MessageBody     `json:"message,omitempty"`
}

// InteractionBody is an interaction in a delivery.
type InteractionBody struct {
	ID               string           `json:"id"`
	Channel          Channel          `json:"channel"`
	Direction        Direction        `json:"direction"`
	State            InteractionState `json:"state"`
	Contact          Contact          `json:"contact"`
	AgentID          string           `json:"agentId,omitempty"`
	PlanID           string           `json:"planId"`
	CreatedAt        time.Time        `json:"createdAt"`
	UpdatedAt        time.Time        `json:"updatedAt"`
	AcceptedAt       *time.Time       `json:"acceptedAt,omitempty"`
	EndedAt          *time.Time       `json:"endedAt,omitempty"`
	CompletedAt      *time.Time       `json:"completedAt,omitempty"`
	Notes            string           `json:"notes,omitempty"`
	DispositionCodes []string         `json:"dispositionCodes,omitempty"`
}

// MessageBody is a message in a delivery.
type MessageBody struct {
	ID      string    `json:"id"`
	From    Party     `json:"from"`
	AgentID string    `json:"agentId,omitempty"`
	Text    string    `json:"text"`
	SentAt  time.Time `json:"sentAt"`
}

func (s *Service) eventBody(ctx context.Context, e *ChangeEvent) ([]byte, error) {
	ix, err := s.Store.Interaction(ctx, e.InteractionID)
	if err != nil {
		return nil, err
	}
	b := EventBody{ID: e.ID, Kind: e.Kind, At: e.At, Interaction: &InteractionBody{
		ID: ix.ID, Channel: ix.Channel, Direction: ix.Direction, State: ix.State,
		Contact: Contact{Address: ix.Contact.Address, Name: ix.Contact.Name}, AgentID: ix.AgentID, PlanID: ix.PlanID,
		CreatedAt: ix.CreatedAt, UpdatedAt: ix.LastChanged(), AcceptedAt: ix.AcceptedAt, EndedAt: ix.EndedAt,
		CompletedAt: ix.CompletedAt, Notes: ix.Notes, DispositionCodes: ix.Dispositions,
	}}
	if e.MessageID != "" {
		m, err := s.Store.Message(ctx, e.MessageID)
		if err != nil {
			return nil, err
		}
		b.Message = &MessageBody{ID: m.ID, From: m.From, AgentID: m.AgentID, Text: m.Text, SentAt: m.SentAt}
	}
	return json.Marshal(b)
}
