package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// Parallel tests: the package's four longest tests (the routing race, the outbox across
// nodes, the authorisation matrix, the random operations) call t.Parallel, so they run
// together after all the others, two at a time, each on its own nodes, store and MongoDB
// test engine. Under make test the rest of the suite has finished by then, and the package
// would otherwise leave a core idle for its last minutes. A test that changes process state
// (TestGCPercent, t.Setenv) must not be among them.

// start runs a real node on a free port and a temp data folder, with demo data.
func start(t *testing.T, change ...func(*server.Config)) *server.Main {
	t.Helper()
	cfg, err := server.ParseConfig([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-data", t.TempDir(), "-demo"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BcryptCost = 4 // the lowest cost: tests create agents, they do not defend them
	for _, c := range change {
		c(&cfg)
	}
	return run(t, cfg)
}

func run(t *testing.T, cfg server.Config) *server.Main {
	t.Helper()
	m := server.NewMain(cfg)
	m.Stdout = io.Discard
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// gqlResponse is a GraphQL response with the HTTP status it came with.
type gqlResponse struct {
	Status int
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// code is the first error's extensions.code, "" when there is none.
func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func post(t *testing.T, m *server.Main, token, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return postRaw(t, m, token, body)
}

// queryRequest is a POST of a GraphQL body to the node's /query, with the token if any.
func queryRequest(ctx context.Context, m *server.Main, token string, body []byte) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.URL()+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

func postRaw(t *testing.T, m *server.Main, token string, body []byte) gqlResponse {
	t.Helper()
	res, err := http.DefaultClient.Do(queryRequest(t.Context(), m, token, body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := gqlResponse{Status: res.StatusCode}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body not JSON: %s", res.StatusCode, raw)
	}
	return out
}

// dig walks a decoded JSON value by keys and indexes written as a dotted path.
func dig(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func login(t *testing.T, m *server.Main, username string) string {
	t.Helper()
	r := post(t, m, "", `mutation($u:String!){ login(input:{username:$u, password:"demo"}) { token userErrors { code } } }`, map[string]any{"u": username})
	token, _ := dig(r.Data, "login.token").(string)
	if token == "" {
		t.Fatalf("login %s failed: %+v", username, r)
	}
	return token
}

// wsClient speaks graphql-transport-ws (or the legacy graphql-ws) to /query.
type wsClient struct {
	t    *testing.T
	conn *coderws.Conn
	ctx  context.Context
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dialWS(t *testing.T, m *server.Main, subprotocol string, header http.Header) (*coderws.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	return coderws.Dial(ctx, "ws"+strings.TrimPrefix(m.URL(), "http")+"/query", &coderws.DialOptions{
		Subprotocols: []string{subprotocol}, HTTPHeader: header,
	})
}

// connectWS dials and sends connection_init with the token; it does not wait for the ack.
func connectWS(t *testing.T, m *server.Main, subprotocol, token string) *wsClient {
	t.Helper()
	conn, _, err := dialWS(t, m, subprotocol, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &wsClient{t: t, conn: conn, ctx: t.Context()}
	payload := map[string]any{}
	if token != "" {
		payload["Authorization"] = "Bearer " + token
	}
	c.send(map[string]any{"type": "connection_init", "payload": payload})
	return c
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	if err := wsjson.Write(c.ctx, c.conn, v); err != nil {
		c.t.Fatal(err)
	}
}

// next reads messages until one whose type is not a keep-alive arrives.
func (c *wsClient) next() (wsMessage, error) {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	for {
		var msg wsMessage
		if err := wsjson.Read(ctx, c.conn, &msg); err != nil {
			return msg, err
		}
		if msg.Type != "ka" && msg.Type != "ping" && msg.Type != "pong" {
			return msg, nil
		}
	}
}

func (c *wsClient) expect(typ string) wsMessage {
	c.t.Helper()
	msg, err := c.next()
	if err != nil {
		c.t.Fatalf("waiting for %s: %v", typ, err)
	}
	if msg.Type != typ {
		c.t.Fatalf("got %s %s, want %s", msg.Type, msg.Payload, typ)
	}
	return msg
}
