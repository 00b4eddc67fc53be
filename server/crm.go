package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// webhookPoster delivers CRM webhooks over HTTP. Every connection's address is checked
// against the policy when it is dialled, after resolution, so a host that resolved to a
// public address when the webhook was created and to a private one now (DNS rebinding) is
// refused; redirects are not followed (a 3xx is a failed delivery); proxies from the
// environment are not used, since they would hide the address.
type webhookPoster struct {
	client *http.Client
}

func newWebhookPoster(p workspace.WebhookPolicy) *webhookPoster {
	dialer := &net.Dialer{
		Timeout: p.Timeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			return p.CheckAddr(ap.Addr())
		},
	}
	transport := &http.Transport{
		DialContext:         dialer.DialContext,
		TLSHandshakeTimeout: p.Timeout,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return &webhookPoster{client: &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// countedPoster counts and times each delivery attempt in the node's metrics.
type countedPoster struct {
	workspace.WebhookPoster
	m *metrics
}

// Post implements workspace.WebhookPoster.
func (p countedPoster) Post(ctx context.Context, url string, body []byte, headers map[string]string) (int, error) {
	start := time.Now()
	status, err := p.WebhookPoster.Post(ctx, url, body, headers)
	p.m.crmDuration.Observe(time.Since(start).Seconds())
	outcome := "error"
	if err == nil {
		outcome = strconv.Itoa(status/100) + "xx"
	}
	p.m.crmDeliveries.WithLabelValues(outcome).Inc()
	return status, err
}

// maxReceiverBody is how much of a receiver's answer is read (and discarded), so the
// connection can be reused.
const maxReceiverBody = 64 << 10

// Post implements workspace.WebhookPoster.
func (p *webhookPoster) Post(ctx context.Context, url string, body []byte, headers map[string]string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "agentdesk-webhooks/1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := p.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, errors.New("the receiver did not answer within the delivery timeout")
		}
		return 0, fmt.Errorf("delivery failed: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxReceiverBody))
	return res.StatusCode, nil
}

// runWebhooks starts webhook runs when events are stored (on any node), when a webhook is
// created, and every WebhookPoll for retries that came due; on shutdown it waits for the
// runs under way, whose deliveries the shutdown cancels.
func (m *Main) runWebhooks(ctx context.Context) {
	defer m.Service.WaitWebhooks()
	stored := make(chan struct{}, 1)
	m.Hub.Watch(ctx, workspace.ChangesTopic, func(workspace.Event) {
		select {
		case stored <- struct{}{}:
		default:
		}
	})
	t := time.NewTicker(m.Config.WebhookPoll)
	defer t.Stop()
	for poll := true; ; {
		if _, err := m.Service.DeliverWebhooks(ctx, poll); err != nil && ctx.Err() == nil {
			slog.Warn("webhooks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			poll = true
		case <-stored:
			poll = false
		case <-m.Service.WebhookKick():
			poll = false
		}
	}
}
