package voice

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// guardConn is the SIP listener's socket as sipgo reads it: a datagram that does not parse
// as SIP is answered 400 here (when it looks like a request) and never reaches sipgo, which
// would drop it without a word.
type guardConn struct {
	net.PacketConn
}

// ReadFrom implements net.PacketConn.
func (g *guardConn) ReadFrom(p []byte) (int, net.Addr, error) {
	parser := sip.NewParser()
	for {
		n, addr, err := g.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		data := p[:n]
		if len(bytes.Trim(data, "\r\n")) == 0 { // keep-alive
			return n, addr, nil
		}
		_, perr := parser.ParseSIP(data)
		if perr == nil {
			return n, addr, nil
		}
		slog.Debug("voice: malformed SIP", "from", addr, "err", perr)
		if res := badRequest(data); res != nil {
			_, _ = g.PacketConn.WriteTo(res, addr)
		}
	}
}

// badRequest is a 400 answer to a malformed request, echoing the headers a client matches
// responses by where they can be found; nil when the datagram is not a request at all.
func badRequest(data []byte) []byte {
	lines := strings.Split(string(data), "\n")
	first := strings.Fields(lines[0])
	if len(first) < 2 || strings.HasPrefix(first[0], "SIP/") || strings.ToUpper(first[0]) != first[0] {
		return nil
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 400 Bad Request\r\n")
	for _, l := range lines[1:] {
		l = strings.TrimRight(l, "\r")
		if l == "" {
			break
		}
		name, _, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v", "from", "f", "to", "t", "call-id", "i", "cseq":
			if len(l) < 1024 {
				b.WriteString(l + "\r\n")
			}
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// checkDigest checks a request's digest credentials against username and password. It
// returns ok, or the challenge to answer 401 with when the request carried none or a stale
// nonce; neither (wrong credentials) means 403.
func (b *Bridge) checkDigest(req *sip.Request, username, password string) (ok bool, challenge sip.Header) {
	now := time.Now()
	chal := digest.Challenge{Realm: b.cfg.Realm, Nonce: b.nonce(now), Algorithm: "MD5"}
	fresh := sip.NewHeader("WWW-Authenticate", chal.String())
	h := req.GetHeader("Authorization")
	if h == nil {
		return false, fresh
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Username != username || cred.Realm != b.cfg.Realm {
		return false, nil
	}
	if !b.nonceFresh(cred.Nonce, now) {
		return false, fresh
	}
	chal.Nonce = cred.Nonce
	want, err := digest.Digest(&chal, digest.Options{Method: req.Method.String(), URI: cred.URI, Username: username, Password: password})
	if err != nil || want.Response != cred.Response {
		return false, nil
	}
	return true, nil
}

// limiter is a token bucket per source address.
type limiter struct {
	mu      sync.Mutex
	burst   int
	every   time.Duration
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{burst: burst, every: every, buckets: map[string]*bucket{}}
}

// allow takes a token of the address's bucket.
func (l *limiter) allow(addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buckets) > 10000 { // forget idle addresses rather than grow without bound
		for k, v := range l.buckets {
			if now.Sub(v.at) > time.Duration(l.burst)*l.every {
				delete(l.buckets, k)
			}
		}
	}
	bk := l.buckets[addr]
	if bk == nil {
		bk = &bucket{tokens: float64(l.burst), at: now}
		l.buckets[addr] = bk
	}
	bk.tokens = min(float64(l.burst), bk.tokens+float64(now.Sub(bk.at))/float64(l.every))
	bk.at = now
	if bk.tokens < 1 {
		return false
	}
	bk.tokens--
	return true
}
