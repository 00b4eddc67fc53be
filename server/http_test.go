package server_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/agentdesk/agentdesk/server"
)

func TestOversizedBodyIs413(t *testing.T) {
	m := start(t, func(c *server.Config) { c.MaxBodyBytes = 2048 })
	big := []byte(`{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", 4096) + `"}}`)
	r := postRaw(t, m, "", big)
	if r.Status != http.StatusRequestEntityTooLarge || r.code() != "INVALID" {
		t.Fatalf("oversized body: %d %+v, want 413 INVALID", r.Status, r)
	}
	// Without a Content-Length (chunked), the limit still holds.
	req, _ := http.NewRequest(http.MethodPost, m.URL()+"/query", io.MultiReader(bytes.NewReader(big)))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength > 0 {
		t.Fatalf("chunked oversized body: %d", res.StatusCode)
	}
	// Just under the limit goes through.
	if r := postRaw(t, m, "", []byte(`{"query":"{ __typename }"}`)); r.Status != 200 || dig(r.Data, "__typename") != "Query" {
		t.Fatalf("small body: %+v", r)
	}
}

func TestOperationLimits(t *testing.T) {
	m := start(t, func(c *server.Config) { c.MaxDepth, c.MaxComplexity, c.MaxAliases = 4, 40, 3 })
	token := login(t, m, "alice")
	cases := []struct{ name, query, reason string }{
		{"too deep", `{ __schema { types { fields { type { ofType { name } } } } } }`, "OPERATION_LIMIT_EXCEEDED"},
		{"too deep through a fragment", `query { ...F } fragment F on Query { __schema { types { fields { type { name } } } } }`, "OPERATION_LIMIT_EXCEEDED"},
		{"too many aliases", `{ a: me { id } b: me { id } c: me { id } d: me { id } }`, "OPERATION_LIMIT_EXCEEDED"},
		{"too complex", `{ p1: interactionPlans { id name channels dispositionRequired offerTimeoutSeconds autoAccept wrapSeconds dispositionCodes { code label } }
			p2: interactionPlans { id name channels dispositionRequired offerTimeoutSeconds autoAccept wrapSeconds dispositionCodes { code label } }
			me { id name username presence role autoAccept presenceSince capacity { channel max used } } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := post(t, m, token, c.query, nil)
			if r.code() != "INVALID" || r.Errors[0].Extensions["reason"] != c.reason || r.Data != nil {
				t.Fatalf("got %d %+v, want INVALID/%s and no data", r.Status, r, c.reason)
			}
		})
	}
	if r := post(t, m, token, `{ me { capacity { channel } } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("a query within the limits failed: %+v", r.Errors)
	}
}

func TestEveryErrorHasACode(t *testing.T) {
	m := start(t)
	for name, body := range map[string]string{
		"not JSON":          `not json`,
		"parse error":       `{"query":"{ me { name "}`,
		"unknown field":     `{"query":"{ nope }"}`,
		"bad variable type": `{"query":"query($p:PresenceState!){ __typename }","variables":{"p":42}}`,
		"unknown operation": `{"query":"query A { __typename }","operationName":"B"}`,
	} {
		t.Run(name, func(t *testing.T) {
			r := postRaw(t, m, "", []byte(body))
			if len(r.Errors) == 0 || r.code() != "INVALID" {
				t.Fatalf("%d %+v, want an INVALID error", r.Status, r)
			}
		})
	}
}

func TestGetIsForQueriesOnly(t *testing.T) {
	m := start(t)
	get := func(q string) (int, string) {
		res, err := http.Get(m.URL() + "/query?query=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if status, body := get(`{ __typename }`); status != 200 || !strings.Contains(body, `"Query"`) {
		t.Fatalf("GET query: %d %s", status, body)
	}
	status, body := get(`mutation { logout }`)
	if status < 400 || !strings.Contains(body, `"code":"INVALID"`) {
		t.Fatalf("GET mutation: %d %s, want a 4xx INVALID error", status, body)
	}
}

func TestIntrospectionSwitch(t *testing.T) {
	on := start(t)
	if r := post(t, on, "", `{ __schema { queryType { name } } }`, nil); dig(r.Data, "__schema.queryType.name") != "Query" {
		t.Fatalf("introspection on by default: %+v", r)
	}
	off := start(t, func(c *server.Config) { c.Introspection = false })
	r := post(t, off, "", `{ __schema { queryType { name } } }`, nil)
	if r.code() != "INVALID" || !strings.Contains(r.Errors[0].Message, "introspection is switched off") || r.Data != nil {
		t.Fatalf("introspection switched off: %+v", r)
	}
	if r := post(t, off, "", `{ __typename }`, nil); dig(r.Data, "__typename") != "Query" {
		t.Fatalf("__typename must still work: %+v", r)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	m := start(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(m.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s = %d", path, res.StatusCode)
		}
	}
	token := login(t, m, "alice")
	post(t, m, token, `{ me { name } }`, nil)
	post(t, m, "", `{ me { name } }`, nil)
	ws := connectWS(t, m, "graphql-transport-ws", token)
	ws.expect("connection_ack")

	res, err := http.Get(m.MetricsURL())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	found := map[string]bool{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		for _, want := range []string{
			`agentdesk_graphql_operations_total{field="me",outcome="ok",type="query"} 1`,
			`agentdesk_graphql_operations_total{field="me",outcome="error",type="query"} 1`,
			`agentdesk_graphql_operations_total{field="login",outcome="ok",type="mutation"} 1`,
			`agentdesk_graphql_operation_duration_seconds_count{field="me",type="query"} 2`,
			`agentdesk_websockets_open 1`,
			`agentdesk_store_round_trip_seconds_count`,
		} {
			if strings.HasPrefix(line, want) {
				found[want] = true
			}
		}
	}
	if len(found) != 6 {
		t.Fatalf("metrics missing; found only %v", found)
	}

	// A refused socket and a closed one both leave the gauge at exactly zero.
	bad := connectWS(t, m, "graphql-transport-ws", "ads_forged")
	if _, err := bad.next(); err == nil {
		t.Fatal("bad token accepted")
	}
	ws.conn.CloseNow()
	waitFor(t, func() bool { return strings.Contains(metricsText(t, m), "\nagentdesk_websockets_open 0\n") })
}

// metricsText scrapes the metrics listener.
func metricsText(t *testing.T, m *server.Main) string {
	t.Helper()
	res, err := http.Get(m.MetricsURL())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func TestCORS(t *testing.T) {
	m := start(t, func(c *server.Config) { c.AllowedOrigins = []string{"http://localhost:5173"} })
	preflight := func(origin string) http.Header {
		req, _ := http.NewRequest(http.MethodOptions, m.URL()+"/query", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.Header
	}
	h := preflight("http://localhost:5173")
	if h.Get("Access-Control-Allow-Origin") != "http://localhost:5173" || !strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Fatalf("allowed origin preflight headers: %v", h)
	}
	if h := preflight("https://evil.example"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("a foreign origin was allowed: %v", h)
	}
}

func TestSPAAndPlaygroundRoutes(t *testing.T) {
	m := start(t)
	for _, path := range []string{"/", "/some/client/route", "/playground"} {
		res, err := http.Get(m.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		// A binary built before `npm run build` explains itself with a 404; a built one serves HTML.
		built := res.StatusCode == 200 && strings.Contains(res.Header.Get("Content-Type"), "text/html")
		explained := res.StatusCode == 404 && strings.Contains(string(body), "make run")
		if !built && !explained {
			t.Fatalf("%s: %d %q", path, res.StatusCode, body)
		}
	}
	if res, err := http.Get(m.URL() + "/assets/gone-1234.js"); err != nil || res.StatusCode != 404 {
		t.Fatalf("a missing asset must be 404: %v %v", res, err)
	}
	res, err := http.Post(m.URL()+"/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST / = %d, want 405", res.StatusCode)
	}
}

// TestRequestErrorStatus follows GraphQL over HTTP: a request that fails before execution
// answers 200 under application/json and 400 under application/graphql-response+json, and
// carries no data entry either way.
func TestRequestErrorStatus(t *testing.T) {
	m := start(t)
	for accept, want := range map[string]int{"application/json": 200, "application/graphql-response+json": 400} {
		req, _ := http.NewRequest(http.MethodPost, m.URL()+"/query", strings.NewReader(`{"query":"{ me { name "}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want || strings.Contains(string(body), `"data"`) || !strings.Contains(string(body), `"code":"INVALID"`) {
			t.Fatalf("Accept %s: %d %s, want %d, no data, code INVALID", accept, res.StatusCode, body, want)
		}
	}
}
