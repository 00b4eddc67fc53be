package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// webhookPaths maps the provider segment of /webhooks/{provider}/… to the provider's name as
// identities store it. The paths are documented for operators to paste into consoles.
var webhookPaths = map[string]string{"vonage": "vonage", "twilio": "twilio", "whatsapp": "whatsapp-cloud"}

// catalog is the providers this server carries, by name.
type catalog map[string]channel.Provider

// CheckSettings implements workspace.ProviderCatalog.
func (c catalog) CheckSettings(provider string, ch workspace.Channel, settings map[string]string) (map[string]string, error) {
	p := c[provider]
	if p == nil {
		names := make([]string, 0, len(c))
		for n := range c {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, errors.New("unknown provider; this server carries " + strings.Join(names, ", "))
	}
	return p.CheckSettings(ch, settings) // which refuses a channel it does not carry
}

// senders are the providers as the outbox's senders. Twilio learns where to send status
// callbacks from the identity's statusCallbackUrl, which the server fills in from its public
// URL when the operator left it out.
func (m *Main) senders(c catalog) map[string]workspace.Sender {
	out := make(map[string]workspace.Sender, len(c))
	for name, p := range c {
		out[name] = workspace.SenderFunc(func(ctx context.Context, o workspace.Outgoing) (string, error) {
			if name == "twilio" && o.Identity.Settings["statusCallbackUrl"] == "" {
				id := *o.Identity
				id.Settings = map[string]string{"statusCallbackUrl": m.publicBase(nil) + "/webhooks/twilio/" + id.ID + "/status"}
				for k, v := range o.Identity.Settings {
					if k != "statusCallbackUrl" {
						id.Settings[k] = v
					}
				}
				o.Identity = &id
			}
			return p.Send(ctx, o)
		})
	}
	return out
}

// publicBase is the URL providers reach this server at: -public-url, else the request's own
// scheme and host, else the listener's URL.
func (m *Main) publicBase(r *http.Request) string {
	switch {
	case m.Config.PublicURL != "":
		return m.Config.PublicURL
	case r != nil:
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		return scheme + "://" + r.Host
	default:
		return m.URL()
	}
}

// webhook serves /webhooks/{provider}/{identityId}[/{route}]: it finds the identity, reads
// the body within the limit, lets the provider verify and parse the call, and hands what it
// carried to the domain. Every message is stored before the provider hears 200; when the
// store fails the answer is 503, and the provider's retry is safe because Receive is
// idempotent on the provider's message ID.
func (m *Main) webhook(w http.ResponseWriter, r *http.Request) {
	name, ok := webhookPaths[r.PathValue("provider")]
	p := m.providers[name]
	if !ok || p == nil {
		m.webhookRefused(w, r, "", http.StatusNotFound, "no such provider")
		return
	}
	idID := r.PathValue("identity")
	var id *workspace.Identity
	var err error
	if uuid.Validate(idID) == nil {
		id, err = m.Store.Identity(r.Context(), idID)
	} else {
		err = workspace.Errorf(workspace.ENOTFOUND, "not an identity ID")
	}
	switch {
	case workspace.ErrorCode(err) == workspace.ENOTFOUND || (err == nil && id.Provider != name):
		m.webhookRefused(w, r, name, http.StatusNotFound, "no identity "+idID+" uses provider "+name)
		return
	case err != nil:
		m.webhookRefused(w, r, name, http.StatusServiceUnavailable, "the database did not answer; retry")
		return
	}
	if r.ContentLength > m.Config.MaxWebhookBytes {
		m.webhookRefused(w, r, name, http.StatusRequestEntityTooLarge, "the body is larger than "+strconv.FormatInt(m.Config.MaxWebhookBytes, 10)+" bytes")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, m.Config.MaxWebhookBytes+1))
	if err != nil {
		m.webhookRefused(w, r, name, http.StatusBadRequest, "could not read the body")
		return
	}
	if int64(len(body)) > m.Config.MaxWebhookBytes {
		m.webhookRefused(w, r, name, http.StatusRequestEntityTooLarge, "the body is larger than "+strconv.FormatInt(m.Config.MaxWebhookBytes, 10)+" bytes")
		return
	}
	res, err := p.Webhook(channel.WebhookRequest{
		Method: r.Method, Route: r.PathValue("route"), URL: m.publicBase(r) + r.URL.RequestURI(),
		Header: r.Header, Query: r.URL.Query(), Body: body, Identity: id, Now: m.Clock.Now(),
	})
	var werr *channel.WebhookError
	if errors.As(err, &werr) {
		m.webhookRefused(w, r, name, werr.Status, werr.Message)
		return
	} else if err != nil {
		slog.Error("webhook", "provider", name, "err", err)
		m.webhookRefused(w, r, name, http.StatusInternalServerError, "internal error")
		return
	}
	ctx := context.WithoutCancel(r.Context()) // a provider hanging up must not cut a write short
	for _, in := range res.Messages {
		in.IdentityID, in.Channel, in.PlanID = id.ID, id.Channel, id.PlanID
		if got, err := m.Service.Receive(ctx, in); err != nil {
			slog.Warn("webhook: message not stored", "provider", name, "err", err)
			m.webhookRefused(w, r, name, http.StatusServiceUnavailable, "the message could not be stored; retry")
			return
		} else if got.Duplicate {
			m.metrics.webhooks.WithLabelValues(name, "duplicate").Inc()
		}
	}
	for _, rep := range res.Reports {
		rep.IdentityID = id.ID
		if _, err := m.Service.ReportDelivery(ctx, rep); workspace.ErrorCode(err) == workspace.ENOTFOUND {
			m.metrics.webhooks.WithLabelValues(name, "unmatched_status").Inc()
		} else if err != nil {
			slog.Warn("webhook: status not stored", "provider", name, "err", err)
			m.webhookRefused(w, r, name, http.StatusServiceUnavailable, "the status could not be stored; retry")
			return
		}
	}
	m.metrics.webhooks.WithLabelValues(name, "ok").Inc()
	if res.ContentType != "" {
		w.Header().Set("Content-Type", res.ContentType)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Reply)
}

// webhookRefused answers a refused webhook with a short plain reason and counts it.
func (m *Main) webhookRefused(w http.ResponseWriter, _ *http.Request, provider string, status int, reason string) {
	if provider == "" {
		provider = "unknown"
	}
	m.metrics.webhooks.WithLabelValues(provider, strconv.Itoa(status)).Inc()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, reason+"\n")
}

// runOutbox sends queued messages: at once when one is queued, and every poll for retries
// and for messages another node's claim left behind.
func (m *Main) runOutbox(ctx context.Context) {
	t := time.NewTicker(m.Config.OutboxPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.Service.OutboxKick():
		}
		for {
			n, err := m.Service.DeliverDue(ctx)
			if err != nil && ctx.Err() == nil {
				m.metrics.timerErrors.Inc()
				slog.Warn("outbox", "err", err)
			}
			if n == 0 || ctx.Err() != nil {
				break
			}
		}
	}
}
