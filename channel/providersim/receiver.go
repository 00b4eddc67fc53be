package providersim

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/workspace"
)

// Receiver stands in for the server's webhook mount in tests and demos: it serves
// /webhooks/{provider}/{identityId}[/{route}], hands each call to its provider's Webhook the
// way the server does (body read and capped at 1 MiB, full URL, query), answers as the
// result says, and keeps what the webhooks carried.
type Receiver struct {
	mu         sync.Mutex
	providers  map[string]channel.Provider
	identities map[string]*workspace.Identity
	messages   []workspace.InboundMessage
	reports    []workspace.DeliveryReport
	errs       []error
	changed    chan struct{}
}

// NewReceiver returns a receiver for the providers, knowing no identity yet.
func NewReceiver(providers ...channel.Provider) *Receiver {
	r := &Receiver{providers: map[string]channel.Provider{}, identities: map[string]*workspace.Identity{},
		changed: make(chan struct{})}
	for _, p := range providers {
		r.providers[p.Name()] = p
	}
	return r
}

// Add makes an identity known.
func (r *Receiver) Add(id *workspace.Identity) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.identities[id.ID] = id
}

// ServeHTTP implements http.Handler.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rest, ok := strings.CutPrefix(req.URL.Path, "/webhooks/")
	parts := strings.SplitN(rest, "/", 3)
	if !ok || len(parts) < 2 {
		http.NotFound(w, req)
		return
	}
	route := ""
	if len(parts) == 3 {
		route = parts[2]
	}
	r.mu.Lock()
	p, id := r.providers[parts[0]], r.identities[parts[1]]
	r.mu.Unlock()
	if p == nil || id == nil || id.Provider != p.Name() {
		http.NotFound(w, req)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 1<<20))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	res, err := p.Webhook(channel.WebhookRequest{
		Method: req.Method, Route: route, URL: scheme + "://" + req.Host + req.RequestURI,
		Header: req.Header, Query: req.URL.Query(), Body: body, Identity: id, Now: time.Now(),
	})
	r.mu.Lock()
	if err != nil {
		r.errs = append(r.errs, err)
	} else {
		r.messages = append(r.messages, res.Messages...)
		r.reports = append(r.reports, res.Reports...)
	}
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	var werr *channel.WebhookError
	switch {
	case errors.As(err, &werr):
		http.Error(w, werr.Message, werr.Status)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	case res.Reply != nil:
		w.Header().Set("Content-Type", res.ContentType)
		_, _ = w.Write(res.Reply)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// Messages returns the inbound messages received so far.
func (r *Receiver) Messages() []workspace.InboundMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]workspace.InboundMessage(nil), r.messages...)
}

// Reports returns the delivery reports received so far.
func (r *Receiver) Reports() []workspace.DeliveryReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]workspace.DeliveryReport(nil), r.reports...)
}

// Errors returns the webhook calls the providers refused.
func (r *Receiver) Errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// WaitReports waits until at least n reports arrived and returns them.
func (r *Receiver) WaitReports(n int, timeout time.Duration) ([]workspace.DeliveryReport, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok, ch := len(r.reports) >= n, r.changed
		r.mu.Unlock()
		if ok {
			return r.Reports(), nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			return r.Reports(), ErrTimeout
		}
	}
}
