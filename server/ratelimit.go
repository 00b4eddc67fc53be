package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// ERATELIMITED is the code of a request refused because its sender is too fast.
const ERATELIMITED = "RATE_LIMITED"

// limiter keeps one token bucket per key (a chat token, an IP address). Buckets of keys not
// seen lately are evicted, so a flood of distinct keys costs bounded memory.
type limiter struct {
	perSecond float64
	burst     int

	mu      sync.Mutex
	buckets *lru.Cache[string, *rate.Limiter]
}

func newLimiter(perSecond float64, burst int) *limiter {
	c, _ := lru.New[string, *rate.Limiter](100_000) // only fails for a size ≤ 0
	return &limiter{perSecond: perSecond, burst: burst, buckets: c}
}

// allow takes one token from key's bucket.
func (l *limiter) allow(key string) bool {
	if l.perSecond <= 0 {
		return true
	}
	l.mu.Lock()
	b, ok := l.buckets.Get(key)
	if !ok {
		b = rate.NewLimiter(rate.Limit(l.perSecond), l.burst)
		l.buckets.Add(key, b)
	}
	l.mu.Unlock()
	return b.Allow()
}

// withClientIP records the caller's IP address for the domain (workspace.ClientAddrFrom): the
// login throttle and the webchat flood limit count by it. agentdesk sees the address of
// whoever connects: behind a reverse proxy, that is the proxy (see docs/operations.md).
func withClientIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		next.ServeHTTP(w, r.WithContext(workspace.WithClientAddr(r.Context(), host)))
	})
}

// webchatLimit refuses webchat contact requests beyond the per-token and per-IP rates.
func (m *Main) webchatLimit() func(ctx context.Context) error {
	perIP := newLimiter(m.Config.WebchatIPRate, m.Config.WebchatIPBurst)
	perToken := newLimiter(m.Config.WebchatTokenRate, m.Config.WebchatTokenBurst)
	return func(ctx context.Context) error {
		if !perIP.allow(workspace.ClientAddrFrom(ctx)) {
			m.metrics.rateLimited.WithLabelValues("ip").Inc()
			return workspace.Errorf(ERATELIMITED, "too many webchat requests from your network: wait a moment and try again (at most %g per second)", m.Config.WebchatIPRate)
		}
		if p := workspace.PrincipalFrom(ctx); p.Kind == workspace.ContactPrincipal && !perToken.allow(p.InteractionID) {
			m.metrics.rateLimited.WithLabelValues("token").Inc()
			return workspace.Errorf(ERATELIMITED, "%s", fmt.Sprintf("you are sending messages too fast: wait a moment and send again (at most %g per second)", m.Config.WebchatTokenRate))
		}
		return nil
	}
}
