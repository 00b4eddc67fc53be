package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/agentdesk/agentdesk/workspace"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// A websocket lives for hours, so authenticating it once at connection_init is not enough.
// Each socket keeps its credential: every operation on it authenticates afresh, and the
// socket watches for its principal's revocation (logout, expiry, a disabled agent, a new
// password, a revoked key) and closes with 4403 the moment that happens, on any node.

// socket is the server's record of one websocket connection.
type socket struct {
	ip string

	mu sync.Mutex
	// token is the credential from connection_init; "" for an anonymous socket.
	token string
	// anonymous holds a slot of the per-IP pool of unauthenticated sockets.
	anonymous bool
	// reason is set once the server decides to close the socket for its credential.
	reason string
	// answering counts the queries and mutations under way; a revoked socket closes once
	// they are answered (the logout that revoked it among them), or after revokeGrace.
	answering int
	// end cancels the connection's context, which makes gqlgen close the socket.
	end context.CancelFunc
}

type socketKey struct{}

func socketFrom(ctx context.Context) *socket {
	s, _ := ctx.Value(socketKey{}).(*socket)
	return s
}

// revokeGrace bounds how long a revoked socket stays open to answer what it was asked.
const revokeGrace = 2 * time.Second

// revoke closes the socket because its credential no longer holds: at once, or when the
// operations under way are answered.
func (s *socket) revoke(reason string) {
	s.mu.Lock()
	first := s.reason == ""
	if first {
		s.reason = reason
	}
	end, busy := s.end, s.answering > 0
	s.mu.Unlock()
	switch {
	case end == nil:
	case !busy:
		end()
	case first:
		time.AfterFunc(revokeGrace, end)
	}
}

// started notes a query or mutation under way.
func (s *socket) started() {
	s.mu.Lock()
	s.answering++
	s.mu.Unlock()
}

// answered notes that an operation's last frame went out; a revoked socket that has
// nothing left to answer closes.
func (s *socket) answered() {
	s.mu.Lock()
	s.answering = max(0, s.answering-1)
	end := s.end
	closeNow := s.answering == 0 && s.reason != ""
	s.mu.Unlock()
	if closeNow && end != nil {
		end()
	}
}

// closeReason is why the server closes the socket, "" for an ordinary close.
func (s *socket) closeReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// anonymousSockets counts, per client IP, the websockets that have not authenticated (not
// yet through connection_init, or through it without a credential), so one address cannot
// hold thousands of idle sockets.
type anonymousSockets struct {
	limit int
	mu    sync.Mutex
	byIP  map[string]int
}

func (a *anonymousSockets) take(ip string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.limit > 0 && a.byIP[ip] >= a.limit {
		return false
	}
	a.byIP[ip]++
	return true
}

func (a *anonymousSockets) release(ip string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byIP[ip]--; a.byIP[ip] <= 0 {
		delete(a.byIP, ip)
	}
}

// trackWebsockets gives each websocket its record, keeps the open-websocket gauge (gqlgen
// serves a websocket for its whole life inside ServeHTTP) and refuses an address that
// already holds its share of unauthenticated sockets with 429.
func (m *Main) trackWebsockets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebsocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		ip := workspace.ClientAddrFrom(r.Context())
		if !m.anonymous.take(ip) {
			m.metrics.socketsRefused.Inc()
			writeJSON(w, http.StatusTooManyRequests, errorBody("too many unauthenticated websockets from your address: send a token in connection_init, or close idle sockets (at most "+strconv.Itoa(m.anonymous.limit)+")", ERATELIMITED))
			return
		}
		s := &socket{ip: ip, anonymous: true}
		defer func() {
			s.mu.Lock()
			if s.anonymous {
				m.anonymous.release(ip)
			}
			if s.end != nil {
				s.end()
			}
			s.mu.Unlock()
		}()
		m.metrics.websockets.Inc()
		defer m.metrics.websockets.Dec()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), socketKey{}, s)))
	})
}

// websocketInit resolves the socket's principal from the connection_init payload. A
// credential that does not authenticate closes the socket with 4403. An authenticated
// socket leaves the anonymous pool and starts watching for its credential's revocation.
func (m *Main) websocketInit(ctx context.Context, init transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	token := bearer(init.Authorization())
	p, err := m.Service.Authenticate(ctx, token)
	if err != nil {
		ctx = transport.WithWebsocketCloseCode(ctx, closeForbidden)
		ctx = transport.AppendCloseReason(ctx, "Forbidden: "+workspace.ErrorMessage(err))
		return ctx, nil, errors.New(workspace.ErrorMessage(err))
	}
	ctx = workspace.WithPrincipal(ctx, p)
	s := socketFrom(ctx)
	if s == nil { // not through trackWebsockets: nothing to watch with
		return ctx, nil, nil
	}
	ctx, end := context.WithCancel(ctx)
	s.mu.Lock()
	s.token, s.end = token, end
	if p.Kind != workspace.Anonymous && s.anonymous {
		s.anonymous = false
		m.anonymous.release(s.ip)
	}
	s.mu.Unlock()
	if p.Kind != workspace.Anonymous {
		// Watched from before the ack, so a revocation the moment after it is not missed.
		// Neither watch holds a goroutine: a socket costs the same idle or watched.
		m.Service.OnRevoked(ctx, p, func(reason string) { m.closeRevoked(s, reason) })
		m.recheckSocket(ctx, s)
	}
	return ctx, nil, nil
}

// recheckSocket re-authenticates the socket every SocketRecheck while it is open, in case
// the announcement of its revocation from another node was missed.
func (m *Main) recheckSocket(ctx context.Context, s *socket) {
	var mu sync.Mutex // orders the timer's own Reset against Stop
	var t *time.Timer
	mu.Lock()
	defer mu.Unlock()
	t = time.AfterFunc(m.Config.SocketRecheck, func() {
		if _, err := m.Service.AuthenticateFresh(ctx, s.token); workspace.ErrorCode(err) == workspace.EUNAUTHENTICATED {
			m.closeRevoked(s, workspace.ErrorMessage(err))
			return
		}
		mu.Lock()
		if ctx.Err() == nil {
			t.Reset(m.Config.SocketRecheck)
		}
		mu.Unlock()
	})
	context.AfterFunc(ctx, func() {
		mu.Lock()
		t.Stop()
		mu.Unlock()
	})
}

func (m *Main) closeRevoked(s *socket, reason string) {
	m.metrics.socketsRevoked.Inc()
	s.revoke(reason)
}

// reauthenticate runs each operation on a websocket as the principal its credential names
// now, not as the one it named at connection_init: `me` is fresh, and a credential revoked
// a moment ago refuses the operation (and closes the socket) even before the revocation's
// announcement arrives.
func (m *Main) reauthenticate(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	s := socketFrom(ctx)
	if s == nil {
		return next(ctx)
	}
	s.mu.Lock()
	token := s.token
	s.mu.Unlock()
	if token == "" {
		return next(ctx)
	}
	p, err := m.Service.AuthenticateFresh(ctx, token)
	if err != nil {
		code := workspace.ErrorCode(err)
		if code == workspace.EUNAUTHENTICATED {
			m.closeRevoked(s, workspace.ErrorMessage(err))
		}
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
			Message: workspace.ErrorMessage(err), Extensions: map[string]any{"code": code},
		}}})
	}
	if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation != ast.Subscription {
		s.started()
	}
	return next(workspace.WithPrincipal(ctx, p))
}

// socketImplementation accepts websockets with coder/websocket, like gqlgen's own adapter,
// plus two things that adapter cannot do: a protocol-level ping that every client answers
// (browsers and libraries do it below the application), so a peer that stops reading is
// dropped whichever GraphQL subprotocol it speaks; and the 4403 close code when the server
// closes a socket whose credential was revoked.
type socketImplementation struct {
	accept coderws.AcceptOptions
	// pingEvery is how often each socket is pinged; a socket whose pong has not come back
	// within pingEvery is closed.
	pingEvery time.Duration
}

var _ transport.WebsocketImplementation = socketImplementation{}

func (si socketImplementation) Accept(w http.ResponseWriter, r *http.Request, options transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	for key, values := range options.ResponseHeader {
		for _, v := range values {
			w.Header().Add(key, v)
		}
	}
	opts := si.accept
	for _, p := range options.Subprotocols {
		if !slices.Contains(opts.Subprotocols, p) {
			opts.Subprotocols = append(opts.Subprotocols, p)
		}
	}
	conn, err := coderws.Accept(w, r, &opts)
	if err != nil {
		return nil, err
	}
	c := &wsConn{conn: conn, socket: socketFrom(r.Context()), done: make(chan struct{})}
	if si.pingEvery > 0 {
		c.keepAlive(si.pingEvery)
	}
	return c, nil
}

// wsConn is one accepted websocket as gqlgen's transport uses it.
type wsConn struct {
	conn   *coderws.Conn
	socket *socket

	closeOnce sync.Once
	done      chan struct{}

	mu     sync.Mutex
	pinger *time.Timer
	closed bool
}

var (
	_ transport.WebsocketConn        = (*wsConn)(nil)
	_ transport.WebsocketReadLimiter = (*wsConn)(nil)
)

// keepAlive pings the peer every interval until the socket closes; a pong missing by the
// next ping closes it. A timer, not a goroutine, waits between pings.
func (c *wsConn) keepAlive(every time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pinger = time.AfterFunc(every, func() {
		ctx, cancel := context.WithTimeout(context.Background(), every)
		err := c.conn.Ping(ctx)
		cancel()
		if err != nil {
			c.finish()
			_ = c.conn.CloseNow()
			return
		}
		c.mu.Lock()
		if !c.closed {
			c.pinger.Reset(every)
		}
		c.mu.Unlock()
	})
}

// finish marks the socket closed and stops its pings.
func (c *wsConn) finish() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.mu.Lock()
		c.closed = true
		if c.pinger != nil {
			c.pinger.Stop()
		}
		c.mu.Unlock()
	})
}

func (c *wsConn) NextReader() (int, io.Reader, error) {
	typ, data, err := c.conn.Read(context.Background())
	if err != nil {
		if s := coderws.CloseStatus(err); s == coderws.StatusNormalClosure || s == coderws.StatusGoingAway {
			return int(typ), nil, transport.ErrWebsocketClosed
		}
		return int(typ), nil, err
	}
	return int(typ), bytes.NewReader(data), nil
}

func (c *wsConn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	err = c.conn.Write(ctx, coderws.MessageText, data)
	// An operation's last frame is "complete" in both subprotocols. Inside a payload the
	// quotes would be escaped, so this cannot match a message's text.
	if c.socket != nil && bytes.Contains(data, []byte(`"type":"complete"`)) {
		c.socket.answered()
	}
	return err
}

// writeTimeout bounds one write, so a peer that stops reading cannot hold a sender (the
// hub's fan-out never blocks on it, but the socket's own goroutines would).
const writeTimeout = 10 * time.Second

// WriteClose starts the close handshake in the background (coder/websocket waits up to
// 5 s for the peer's answer). A socket closed for its credential closes with 4403 and the
// reason, whatever code gqlgen chose, so clients sign out instead of reconnecting.
func (c *wsConn) WriteClose(code int, message string) error {
	c.finish()
	if c.socket != nil {
		if reason := c.socket.closeReason(); reason != "" {
			code, message = closeForbidden, closeText("Forbidden: "+reason)
		}
	}
	go func() { _ = c.conn.Close(coderws.StatusCode(code), message) }()
	return nil
}

// Close is called after WriteClose; the handshake started there closes the connection.
// A Close without WriteClose closes at once.
func (c *wsConn) Close() error {
	select {
	case <-c.done:
		return nil
	default:
	}
	c.finish()
	return c.conn.CloseNow()
}

func (c *wsConn) Subprotocol() string      { return c.conn.Subprotocol() }
func (c *wsConn) SetReadLimit(limit int64) { c.conn.SetReadLimit(limit) }

// closeText fits a close reason into the 123 bytes a close frame allows.
func closeText(s string) string {
	if len(s) <= 123 {
		return s
	}
	cut := 120
	for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + "..."
}
