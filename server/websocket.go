package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
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
	// upgraded, when websocketTransport serves the socket, is closed once the connection is
	// a websocket: from then on the goroutine serving it owns it (detached).
	upgraded chan struct{}
	detached bool
	// conn is the accepted websocket, to close if serving it panics.
	conn *wsConn
}

// accepted records that the connection is now a websocket, and lets the goroutine that
// waits for the upgrade return if the socket is served on a goroutine of its own.
func (s *socket) accepted(c *wsConn) {
	s.mu.Lock()
	s.conn = c
	if s.upgraded != nil {
		s.detached = true
		close(s.upgraded)
	}
	s.mu.Unlock()
}

func (s *socket) isDetached() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.detached
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

// trackWebsockets gives each websocket its record, keeps the open-websocket gauge and
// refuses an address that already holds its share of unauthenticated sockets with 429. A
// socket that websocketTransport serves on a goroutine of its own is released there, when
// it closes; any other request is released here, when its handler returns.
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
		m.metrics.websockets.Inc()
		defer func() {
			if !s.isDetached() {
				m.releaseSocket(s)
			}
		}()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), socketKey{}, s)))
	})
}

// releaseSocket gives back what a websocket held once it is over: its slot in the
// anonymous pool, its credential's watches, its place in the gauge.
func (m *Main) releaseSocket(s *socket) {
	s.mu.Lock()
	if s.anonymous {
		s.anonymous = false
		m.anonymous.release(s.ip)
	}
	if s.end != nil {
		s.end()
	}
	s.mu.Unlock()
	m.metrics.websockets.Dec()
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

// websocketTransport is gqlgen's websocket transport, served on a goroutine of its own
// once the connection is hijacked, so that net/http's goroutine for the request returns.
// Otherwise that goroutine would stay parked, for the socket's life, under the whole
// middleware chain, its stack twice what the socket's read loop needs, and with it
// net/http's state for the request: its connection record, read and write buffers,
// response and request (issue 14 §4: an idle agent's socket costs at most 64 KiB).
type websocketTransport struct {
	transport.Websocket
	m *Main
}

var _ graphql.Transport = (*websocketTransport)(nil)

func (t *websocketTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	s := socketFrom(r.Context())
	if s == nil || t.m.base == nil { // not through trackWebsockets, or not under Run
		t.Websocket.Do(w, r, exec)
		return
	}
	// The request's context ends when net/http's goroutine returns; the socket's keeps its
	// values and ends with the server instead (as every request's does).
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	hw := &handedOver{ResponseWriter: w}
	d := &detachedSocket{t: t, w: hw, r: r.WithContext(ctx), exec: exec, s: s, done: make(chan struct{}), cancel: cancel}
	d.stop = context.AfterFunc(t.m.base, cancel)
	s.mu.Lock()
	s.upgraded = make(chan struct{})
	s.mu.Unlock()
	go d.serve()
	select {
	case <-s.upgraded:
		// Served on d's goroutine from now on, which no longer uses w or r: let go of
		// net/http's response, and with it the connection's buffers and request.
		hw.ResponseWriter, d.r = nil, nil
	case <-d.done: // refused before the upgrade: answered on w
	}
}

// handedOver is the response of a request whose goroutine returns once its connection
// is a websocket: it then lets go of net/http's response.
type handedOver struct{ http.ResponseWriter }

func (h *handedOver) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// detachedSocket is a websocket served on its own goroutine.
type detachedSocket struct {
	t      *websocketTransport
	w      http.ResponseWriter
	r      *http.Request
	exec   graphql.GraphExecutor
	s      *socket
	done   chan struct{}
	cancel context.CancelFunc
	stop   func() bool
}

// serve runs the transport and releases the socket after it. Its frame is the bottom of
// the stack every idle socket's read loop keeps, so it holds nothing else.
func (d *detachedSocket) serve() {
	defer d.finish()
	d.t.Websocket.Do(d.w, d.r, d.exec)
}

func (d *detachedSocket) finish() {
	d.stop()
	d.cancel()
	if err := recover(); err != nil {
		// What gqlgen's handler would do for a panic on net/http's goroutine, which
		// is not this one: log it; answer the request if it is not yet a websocket.
		slog.Error("websocket: panic", "err", err, "stack", string(debug.Stack()))
		d.s.mu.Lock()
		conn, detached := d.s.conn, d.s.detached
		d.s.mu.Unlock()
		if conn != nil {
			_ = conn.Close()
		}
		if !detached {
			d.w.WriteHeader(http.StatusInternalServerError)
		}
	}
	if d.s.isDetached() {
		d.t.m.releaseSocket(d.s)
	}
	close(d.done)
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
	hj := &smallBuffers{ResponseWriter: w}
	conn, err := coderws.Accept(hj, r, &opts)
	if err != nil {
		return nil, err
	}
	hj.accepted()
	// gqlgen keeps the upgrade request's headers for the socket's life, to hand each
	// operation (OperationContext.Headers); nothing here reads them, and a socket's
	// credential comes from connection_init. Drop them rather than keep a kilobyte per
	// agent (the request is gqlgen's to read, and websocketTransport's own copy).
	r.Header = nil
	c := &wsConn{conn: conn, socket: socketFrom(r.Context()), done: make(chan struct{})}
	if si.pingEvery > 0 {
		c.keepAlive(si.pingEvery)
	}
	if c.socket != nil {
		c.socket.accepted(c)
	}
	return c, nil
}

// Read and write buffers of an accepted websocket. net/http's are 4 KiB each and stay for
// the socket's life, mostly idle; these cover the frames an agent's socket exchanges (a
// subscribe, a ping, an event) in one system call, and longer frames take a second one.
const (
	socketReadBuffer  = 512
	socketWriteBuffer = 512
)

// smallBuffers hands coder/websocket the hijacked connection with buffers of
// socketReadBuffer and socketWriteBuffer bytes instead of net/http's; bytes the client sent
// after its upgrade request, already in net/http's buffer, are carried over.
type smallBuffers struct {
	http.ResponseWriter
	conn  net.Conn
	br    *bufio.Reader
	early bool
}

func (b *smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(b.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	b.conn, b.br = conn, bufio.NewReaderSize(conn, socketReadBuffer)
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		b.br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn), max(n, socketReadBuffer))
		_, _ = b.br.Peek(n) // buffered again: coder/websocket carries them over
		b.early = true
	}
	return conn, bufio.NewReadWriter(b.br, bufio.NewWriterSize(conn, socketWriteBuffer)), nil
}

// accepted undoes what coder/websocket's Accept does for bytes sent early, when there were
// none: it reads through an io.MultiReader of those bytes and the connection, one frame
// more on the stack of every socket's read loop.
func (b *smallBuffers) accepted() {
	if b.br != nil && !b.early && b.br.Buffered() == 0 {
		b.br.Reset(b.conn)
	}
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

// NextReader reads the next message whole. gqlgen's read loop waits for it here all the
// socket's idle life, so it keeps a small frame: coder/websocket's Read is Reader and
// io.ReadAll, and the error's translation is in a function of its own.
func (c *wsConn) NextReader() (int, io.Reader, error) {
	typ, r, err := c.conn.Reader(context.Background())
	if err != nil {
		return int(typ), nil, readError(err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return int(typ), nil, readError(err)
	}
	return int(typ), bytes.NewReader(data), nil
}

// readError is what NextReader returns for a failed read: ErrWebsocketClosed when the
// peer closed the socket normally.
func readError(err error) error {
	if s := coderws.CloseStatus(err); s == coderws.StatusNormalClosure || s == coderws.StatusGoingAway {
		return transport.ErrWebsocketClosed
	}
	return err
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
