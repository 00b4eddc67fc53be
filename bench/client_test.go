package bench

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/google/uuid"
)

// This file holds what the load benchmarks share: a node on the embedded store, a GraphQL
// client over loopback HTTP, graphql-transport-ws connections, and agents set up the way a
// contact centre would have them (signed in, READY, listening for offers).

// durationFlag is a benchmark setting given as a flag (go test ./bench -args -name=30s) or,
// so that `make bench` can be tuned without editing the Makefile, as an environment variable.
func durationFlag(name, env string, def time.Duration, usage string) *time.Duration {
	if v, err := time.ParseDuration(os.Getenv(env)); err == nil && v > 0 {
		def = v
	}
	return flag.Duration(name, def, usage+" (env "+env+")")
}

// startNode runs one node on the embedded SQLite store in a temp folder, with the demo data.
// Agents get the lowest bcrypt cost (benchmarks create many, they do not defend them) and the
// webchat flood limits are off: all of the load comes from 127.0.0.1. The changes apply to
// the configuration before the node starts. The caller closes it. Each node has its own SMTP
// listener on a free port: two run at once when a benchmark compares set-ups side by side,
// and the demo's fixed port would go to the first.
func startNode(b *testing.B, change ...func(*server.Config)) *server.Main {
	b.Helper()
	cfg, err := server.ParseConfig([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-smtp-addr", "127.0.0.1:0",
		"-data", b.TempDir(), "-demo"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	cfg.BcryptCost = 4
	cfg.WebchatTokenRate, cfg.WebchatIPRate = 0, 0
	for _, c := range change {
		c(&cfg)
	}
	m := server.NewMain(cfg)
	m.Stdout = io.Discard
	if err := m.Run(b.Context()); err != nil {
		b.Fatal(err)
	}
	return m
}

// planNamed returns a plan of the node by name.
func planNamed(b *testing.B, m *server.Main, name string) *workspace.Plan {
	b.Helper()
	plans, err := m.Store.Plans(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range plans {
		if p.Name == name {
			return p
		}
	}
	b.Fatalf("no plan %q", name)
	return nil
}

// copyPlan stores a copy of a plan under another name.
func copyPlan(b *testing.B, m *server.Main, p *workspace.Plan, name string) *workspace.Plan {
	b.Helper()
	cp := *p
	cp.ID, cp.Name, cp.CreatedAt, cp.Version = uuid.NewString(), name, time.Now(), 0
	if err := m.Store.CreatePlan(b.Context(), &cp); err != nil {
		b.Fatal(err)
	}
	return &cp
}

// createAgents creates n OFFLINE agents serving the plans, with room for webchats chats at
// once (the default is 4). Set-up, not measurement: the first agent is created through the
// domain (Service.CreateAgent), as an administrator's would be; the others are copies of its
// record, each with an ID, username and name of its own, stored through the Store
// (Store.CreateAgent), so bcrypt runs once and no event is published per agent. On the
// MongoDB test engine, which reads a whole collection for any query but one by _id, the
// domain's path (create, publish, then a conditional update of the capacity) made creating
// 1,000 agents take minutes, each write slower than the last. The last copy is read back
// through the Store and compared with the first, so a record that no longer copies
// fails here, loudly.
func createAgents(b *testing.B, m *server.Main, prefix string, n int, planIDs []string, webchats int) []*workspace.Agent {
	b.Helper()
	if n == 0 {
		return nil
	}
	ctx := b.Context()
	first, err := m.Service.CreateAgent(ctx, workspace.NewAgent{
		Username: fmt.Sprintf("%s-%03d", prefix, 0), Name: fmt.Sprintf("Agent %s %d", prefix, 0),
		Password: agentPassword, PlanIDs: planIDs, Capacity: map[workspace.Channel]int{workspace.Webchat: webchats},
	})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]*workspace.Agent, 0, n)
	out = append(out, first)
	for i := 1; i < n; i++ {
		a := *first
		a.ID, a.Username, a.Name = uuid.NewString(), fmt.Sprintf("%s-%03d", prefix, i), fmt.Sprintf("Agent %s %d", prefix, i)
		a.Capacity, a.PlanIDs = maps.Clone(first.Capacity), slices.Clone(first.PlanIDs)
		if err := m.Store.CreateAgent(ctx, &a); err != nil {
			b.Fatal(err)
		}
		out = append(out, &a)
	}
	last := out[len(out)-1]
	want, err := m.Store.Agent(ctx, first.ID)
	if err != nil {
		b.Fatal(err)
	}
	got, err := m.Store.Agent(ctx, last.ID)
	if err != nil {
		b.Fatal(err)
	}
	want.ID, want.Username, want.Name = last.ID, last.Username, last.Name
	if !reflect.DeepEqual(got, want) {
		b.Fatalf("a copied agent as the store reads it:\n%+v\nwant (the domain's record, renamed):\n%+v", got, want)
	}
	return out
}

const agentPassword = "bench-password"

// session is an agent signed in over GraphQL, with a websocket subscribed to their offers.
type session struct {
	agent  *workspace.Agent
	token  string
	offers *wsConn
}

const offersSubscription = `subscription { offers { kind offer { id interaction { id } } } }`

// signIn logs every agent in over GraphQL, opens one websocket each subscribed to their offers
// (waiting until the node has registered them all), and then sets them READY.
func signIn(b *testing.B, m *server.Main, c *gqlClient, agents []*workspace.Agent) []*session {
	b.Helper()
	return signInWith(b, m, c, agents, offersSubscription)
}

// signInWith is signIn with another selection of the offers subscription.
func signInWith(b *testing.B, m *server.Main, c *gqlClient, agents []*workspace.Agent, subscription string) []*session {
	b.Helper()
	ctx := b.Context()
	out := make([]*session, 0, len(agents))
	for _, a := range agents {
		var login struct{ Login struct{ Token string } }
		if err := c.do(ctx, "", `mutation($u: String!, $p: String!) { login(input:{username:$u, password:$p}) { token userErrors { code } } }`,
			map[string]any{"u": a.Username, "p": agentPassword}, &login); err != nil {
			b.Fatal(err)
		}
		ws, err := openWS(ctx, m, login.Login.Token)
		if err != nil {
			b.Fatal(err)
		}
		if err := ws.subscribe(ctx, "offers", subscription, nil); err != nil {
			b.Fatal(err)
		}
		out = append(out, &session{agent: a, token: login.Login.Token, offers: ws})
	}
	registered := func() int {
		n := 0
		for _, a := range agents {
			n += m.Hub.Subscribers(workspace.AgentTopic(a.ID))
		}
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); registered() < len(agents); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d offer subscriptions registered", registered(), len(agents))
		}
	}
	for _, s := range out {
		if err := c.do(ctx, s.token, `mutation { setPresence(input:{presence:READY}) { agent { id } userErrors { code } } }`, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// closeAll closes the sessions' websockets.
func closeAll(sessions []*session) {
	for _, s := range sessions {
		s.offers.close()
	}
}

// gqlClient posts GraphQL operations to one node over loopback HTTP, reusing connections as
// a browser or a widget would.
type gqlClient struct {
	url  string
	http *http.Client // for requests of other shapes (webhooks' posts)
	// conns are kept HTTP/1.1 connections to the node, each used by one request at a time.
	addr  string
	conns chan *keptConn
}

func newClient(m *server.Main) *gqlClient { return clientAt(m.URL()) }

// clientAt is a client of the node at base (http://host:port).
func clientAt(base string) *gqlClient {
	return &gqlClient{url: base, addr: strings.TrimPrefix(base, "http://"), conns: make(chan *keptConn, 256),
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// keptConn is one kept connection with its buffers. The load generator shares the machine's
// two cores with the node it measures, so it speaks HTTP/1.1 itself: net/http's client runs
// two goroutines per connection and hands every request and response between them, which
// took a tenth of the CPU of the full-cycle run (issue 14's profile); this takes none.
type keptConn struct {
	net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

// roundTrip sends one request (body nil: GET) on a kept connection, or a new one, and returns
// the response's status and body. A connection is kept again only after a whole exchange the
// server did not ask to end; ctx's end aborts the exchange.
func (c *gqlClient) roundTrip(ctx context.Context, method, path, token string, body []byte) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		var kc *keptConn
		select {
		case kc = <-c.conns:
		default:
		}
		reused := kc != nil
		if !reused {
			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", c.addr)
			if err != nil {
				return 0, nil, err
			}
			kc = &keptConn{Conn: conn, r: bufio.NewReaderSize(conn, 16<<10), w: bufio.NewWriterSize(conn, 16<<10)}
		}
		stop := context.AfterFunc(ctx, func() { _ = kc.SetDeadline(time.Unix(1, 0)) })
		status, raw, keep, err := kc.exchange(method, c.addr, path, token, body)
		if !stop() || err != nil || !keep {
			_ = kc.Close()
			// A kept connection the server had closed while idle: the request never reached
			// it, so it goes again on a new one, as net/http's client does.
			if err != nil && reused && status == 0 && ctx.Err() == nil && attempt == 0 &&
				(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
				continue
			}
			return status, raw, cmp.Or(ctx.Err(), err)
		}
		select {
		case c.conns <- kc:
		default:
			_ = kc.Close()
		}
		return status, raw, nil
	}
}

func (kc *keptConn) exchange(method, host, path, token string, body []byte) (status int, raw []byte, keep bool, err error) {
	fmt.Fprintf(kc.w, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	if body != nil {
		fmt.Fprintf(kc.w, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	if token != "" {
		fmt.Fprintf(kc.w, "Authorization: Bearer %s\r\n", token)
	}
	kc.w.WriteString("\r\n")
	kc.w.Write(body)
	if err := kc.w.Flush(); err != nil {
		return 0, nil, false, err
	}
	res, err := http.ReadResponse(kc.r, nil)
	if err != nil {
		return 0, nil, false, err
	}
	raw, err = io.ReadAll(res.Body)
	_ = res.Body.Close()
	return res.StatusCode, raw, !res.Close, err
}

// do posts one operation with a bearer token ("" for none) and decodes its data into out
// (nil to discard). A top-level error, or a non-empty userErrors (queries select
// `userErrors { code }`), is an error: the benchmarks only walk the happy path.
func (c *gqlClient) do(ctx context.Context, token, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	status, raw, err := c.roundTrip(ctx, http.MethodPost, "/query", token, body)
	if err != nil {
		return err
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("status %d, body not JSON: %s", status, raw)
	}
	if len(r.Errors) > 0 || bytes.Contains(r.Data, []byte(`"userErrors":[{`)) {
		return fmt.Errorf("%s: %s", firstLine(query), raw)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Data, out)
}

// get makes one GET request and discards the body.
func (c *gqlClient) get(path string) error {
	status, _, err := c.roundTrip(context.Background(), http.MethodGet, path, "", nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", path, status)
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// wsConn is one graphql-transport-ws connection to /query.
type wsConn struct {
	conn *websocket.Conn
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// openWS dials /query, sends connection_init with the bearer token and waits for the ack.
func openWS(ctx context.Context, m *server.Main, token string) (*wsConn, error) {
	return openWSAt(ctx, m.URL(), token, 5*time.Second)
}

// openWSAt is openWS for the server at base, within timeout.
func openWSAt(ctx context.Context, base, token string, timeout time.Duration) (*wsConn, error) {
	dial, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, _, err := websocket.Dial(dial, "ws"+strings.TrimPrefix(base, "http")+"/query",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	w := &wsConn{conn: conn}
	if err := w.send(ctx, map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}}); err != nil {
		w.close()
		return nil, err
	}
	if msg, err := w.next(dial); err != nil || msg.Type != "connection_ack" {
		w.close()
		return nil, fmt.Errorf("connection_init: %s %s %v", msg.Type, msg.Payload, err)
	}
	return w, nil
}

func (w *wsConn) send(ctx context.Context, v any) error { return wsjson.Write(ctx, w.conn, v) }

func (w *wsConn) close() { w.conn.CloseNow() }

// subscribe starts a subscription under id; its events arrive as `next` messages.
func (w *wsConn) subscribe(ctx context.Context, id, query string, vars map[string]any) error {
	return w.send(ctx, map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
}

// next returns the next message other than ping and pong, answering the server's pings (it
// drops connections that stop answering). It must not run beside another read.
func (w *wsConn) next(ctx context.Context) (wsMessage, error) {
	for {
		var msg wsMessage
		if err := wsjson.Read(ctx, w.conn, &msg); err != nil {
			return msg, err
		}
		switch msg.Type {
		case "ping":
			if err := w.send(ctx, map[string]string{"type": "pong"}); err != nil {
				return msg, err
			}
		case "pong":
		default:
			return msg, nil
		}
	}
}

// ping makes one graphql-transport-ws ping → pong round trip on an idle connection.
func (w *wsConn) ping(ctx context.Context) error {
	if err := w.send(ctx, map[string]string{"type": "ping"}); err != nil {
		return err
	}
	for {
		var msg wsMessage
		if err := wsjson.Read(ctx, w.conn, &msg); err != nil {
			return err
		}
		switch msg.Type {
		case "pong":
			return nil
		case "ping":
			if err := w.send(ctx, map[string]string{"type": "pong"}); err != nil {
				return err
			}
		default:
			return fmt.Errorf("waiting for pong, got %s %s", msg.Type, msg.Payload)
		}
	}
}

// offerEvent is the payload of one `offers` event.
type offerEvent struct {
	Kind          string
	OfferID       string
	InteractionID string
}

// nextOffer reads the next event of the offers subscription.
func (w *wsConn) nextOffer(ctx context.Context) (offerEvent, error) {
	msg, err := w.next(ctx)
	if err != nil {
		return offerEvent{}, err
	}
	return parseOffer(msg)
}

// parseOffer decodes a message of the offers subscription.
func parseOffer(msg wsMessage) (offerEvent, error) {
	if msg.Type != "next" {
		return offerEvent{}, fmt.Errorf("offers subscription: %s %s", msg.Type, msg.Payload)
	}
	var p struct {
		Data struct {
			Offers struct {
				Kind  string
				Offer struct {
					ID          string
					Interaction struct{ ID string }
				}
			}
		}
		Errors []json.RawMessage
	}
	if err := json.Unmarshal(msg.Payload, &p); err != nil || len(p.Errors) > 0 {
		return offerEvent{}, fmt.Errorf("offers event %s: %v", msg.Payload, err)
	}
	o := p.Data.Offers
	return offerEvent{Kind: o.Kind, OfferID: o.Offer.ID, InteractionID: o.Offer.Interaction.ID}, nil
}

// readSockets reads every session's websocket in its own goroutine until ctx ends, handing
// each message and the time it arrived to handle; the first failure goes to errs.
func readSockets(ctx context.Context, sessions []*session, readers *sync.WaitGroup, errs *firstError, handle func(s *session, msg wsMessage, at time.Time) error) {
	for _, s := range sessions {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				msg, err := s.offers.next(ctx)
				at := time.Now()
				if err != nil {
					if ctx.Err() == nil {
						errs.set(fmt.Errorf("%s's websocket: %w", s.agent.Username, err))
					}
					return
				}
				if err := handle(s, msg, at); err != nil {
					errs.set(fmt.Errorf("%s: %w", s.agent.Username, err))
					return
				}
			}
		}()
	}
}

// firstError keeps the first error any goroutine reports.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
