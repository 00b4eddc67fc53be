package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
)

// Regression tests for issue 10 ("Hardening"), findings 3 to 6 and the echo of input in
// error messages.

const graphqlResponseJSON = "application/graphql-response+json"

// exchange is one request to /query and its raw answer.
type exchange struct {
	Status int
	Body   []byte
	Resp   map[string]any
	// CPU is the process's CPU time (user + system) the exchange took. The server runs in the
	// test process and requests are serialised, so this is the request's cost plus a little
	// of the client's and the runtime's.
	CPU time.Duration
}

func (x exchange) errorField(key string) string {
	v, _ := dig(x.Resp, "errors.0."+key).(string)
	return v
}

func (x exchange) hasData() bool { _, ok := x.Resp["data"]; return ok }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// send posts body to /query with the given Accept header (none when empty) and bearer token.
func send(t *testing.T, m *server.Main, method, contentType, accept, token string, body []byte) exchange {
	t.Helper()
	req, err := http.NewRequest(method, m.URL()+"/query", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := cpuTime()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	x := exchange{Status: res.StatusCode, Body: raw, CPU: cpuTime() - start}
	if err := json.Unmarshal(raw, &x.Resp); err != nil {
		t.Fatalf("status %d, body not JSON: %.300s", res.StatusCode, raw)
	}
	return x
}

func sendQuery(t *testing.T, m *server.Main, accept, token, query string, vars map[string]any) exchange {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return send(t, m, http.MethodPost, "application/json", accept, token, body)
}

func fragmentBomb(n int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", n)
	return b.String()
}

// refusedForLimit fails unless x is a request error with code INVALID, reason
// OPERATION_LIMIT_EXCEEDED, no data, and a message containing want.
func refusedForLimit(t *testing.T, x exchange, want string) {
	t.Helper()
	if x.errorField("extensions.code") != "INVALID" || x.errorField("extensions.reason") != "OPERATION_LIMIT_EXCEEDED" ||
		!strings.Contains(x.errorField("message"), want) || x.hasData() {
		t.Fatalf("got %d %s, want an OPERATION_LIMIT_EXCEEDED refusal saying %q, without data", x.Status, x.Body, want)
	}
}

// Finding 3: a 1 KB query of 24 fragments, each spreading the next twice, cost 4 s of CPU
// in the complexity walk and the depth/alias walk. It is now refused by its expanded field
// count, measured without expanding.
func TestHardening_FragmentBombRefusedCheaply(t *testing.T) {
	m := start(t)
	for _, levels := range []int{24, 60} {
		x := sendQuery(t, m, "", "", fragmentBomb(levels), nil)
		refusedForLimit(t, x, fmt.Sprintf("selects %d fields once its fragments are expanded", 1<<levels))
		// The count (2^60 at 60 levels) is reached without expanding: the old walk took 4 s at
		// 24 levels and would never end at 60. The CPU is logged, not asserted.
		t.Logf("%d-level bomb (%d bytes) refused in %v of CPU", levels, len(fragmentBomb(levels)), x.CPU)
	}
}

// Finding 4: 5,000 copies of __typename cost 2.8 s and 7,000 cost 7.2 s (field merging in
// validation is quadratic). Tokens and fields are now capped before validation.
func TestHardening_ManyTypenamesRefusedCheaply(t *testing.T) {
	m := start(t)
	for n, want := range map[int]string{
		5000: "more than 5000 tokens", 7000: "more than 5000 tokens", 1201: "selects 1201 fields",
	} {
		query := "{" + strings.Repeat(" __typename", n) + " }"
		// Without a credential a body over 64 KiB is refused before it is read; the caps are
		// the same for every caller, so a CRM key shows them on the larger query.
		token := ""
		if len(query) > 60<<10 {
			if x := sendQuery(t, m, "", "", query, nil); x.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("%d __typename without a credential: %d %.300s, want 413", n, x.Status, x.Body)
			}
			token = workspace.DemoAPIKey
		}
		x := sendQuery(t, m, "", token, query, nil)
		refusedForLimit(t, x, want)
		t.Logf("%d __typename refused in %v of CPU", n, x.CPU)
	}
	if x := sendQuery(t, m, "", "", "{"+strings.Repeat(" __typename", 1200)+" }", nil); dig(x.Resp, "data.__typename") != "Query" {
		t.Fatalf("1,200 fields, the limit, must be answered: %d %.300s", x.Status, x.Body)
	}
}

// errorLogs captures the server's log lines at level ERROR for the rest of the test.
func errorLogs(t *testing.T) func() string {
	var mu sync.Mutex
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelError})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Finding 5: a malformed Time answered INTERNAL and logged an ERROR line on every request.
// Every malformed scalar, enum and cursor is the caller's mistake: INVALID, not logged.
func TestHardening_MalformedScalarsAreInvalid(t *testing.T) {
	logs := errorLogs(t)
	m := start(t)
	const filtered = `query($t:Time){ interactions(filter:{createdAfter:$t}) { edges { cursor } } }`
	const page = `query($n:Int){ interactions(first:$n) { pageInfo { hasNextPage } } }`
	const node = `query($id:ID!){ node(id:$id) { __typename } }`
	cases := []struct {
		name, query string
		vars        map[string]any
		message     string // part of the message, when it matters
	}{
		{"Time variable", filtered, map[string]any{"t": "garbage"}, "RFC 3339"},
		{"Time variable, a number", filtered, map[string]any{"t": 12}, "RFC 3339"},
		{"Time variable, out of range", filtered, map[string]any{"t": "2026-13-45T25:61:00Z"}, "RFC 3339"},
		{"Time literal", `{ interactions(filter:{createdBefore:"yesterday"}) { pageInfo { hasNextPage } } }`, nil, "RFC 3339"},
		{"ID variable, a boolean", node, map[string]any{"id": true}, ""},
		{"ID variable, an object", node, map[string]any{"id": map[string]any{"a": 1}}, ""},
		{"ID, not one this API issued", node, map[string]any{"id": "garbage"}, ""},
		{"Int variable beyond 64 bits", page, map[string]any{"n": 1e30}, ""},
		{"Int variable beyond 32 bits", page, map[string]any{"n": 99999999999}, ""},
		{"Int variable, a fraction", page, map[string]any{"n": 2.5}, ""},
		{"Int variable, not a number", page, map[string]any{"n": "ten"}, ""},
		{"Int literal beyond 64 bits", `{ interactions(first:99999999999999999999999) { pageInfo { hasNextPage } } }`, nil, ""},
		{"Int literal, negative", `{ interactions(first:-1) { pageInfo { hasNextPage } } }`, nil, ""},
		{"Boolean variable, a string", `query($b:Boolean!){ __typename @include(if:$b) }`, map[string]any{"b": "yes"}, ""},
		{"enum variable", `query($s:[InteractionState!]){ interactions(filter:{states:$s}) { pageInfo { hasNextPage } } }`, map[string]any{"s": []any{"NOPE"}}, ""},
		{"cursor", `{ interactions(after:"garbage") { pageInfo { hasNextPage } } }`, nil, "cursor"},
		{"cursor of the right shape", `{ interactions(after:"aTE6eHh4") { pageInfo { hasNextPage } } }`, nil, "cursor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := sendQuery(t, m, "", workspace.DemoAPIKey, c.query, c.vars)
			if x.errorField("extensions.code") != "INVALID" || !strings.Contains(x.errorField("message"), c.message) {
				t.Fatalf("got %d %s, want INVALID saying %q", x.Status, x.Body, c.message)
			}
		})
	}
	if l := logs(); l != "" {
		t.Fatalf("malformed input was logged as an error:\n%s", l)
	}
}

// Finding 6: every request that fails before execution answers without a data entry, 400
// under application/graphql-response+json and 200 under application/json (an undecodable
// body or an unsupported content type: 400 under both). Errors during execution keep 200
// and their data. A complexity refusal answered 200 with "data": null.
func TestHardening_RequestErrorStatusEveryClass(t *testing.T) {
	m := start(t)
	off := start(t, func(c *server.Config) { c.Introspection = false })
	query := func(q string) []byte { b, _ := json.Marshal(map[string]any{"query": q}); return b }
	deep := "{ __schema { types { fields { type" + strings.Repeat(" { ofType", 18) + " { name }" + strings.Repeat(" }", 18) + " } } } }"
	var aliases strings.Builder
	for i := range 31 {
		fmt.Fprintf(&aliases, " a%d: __typename", i)
	}
	cases := []struct {
		name              string
		target            *server.Main
		contentType, body string
		token             string
		legacy, modern    int // statuses under application/json and application/graphql-response+json
		executed          bool
	}{
		{"undecodable JSON", m, "application/json", `{"query": `, "", 400, 400, false},
		{"unsupported content type", m, "text/plain", `{"query":"{ __typename }"}`, "", 400, 400, false},
		{"parse error", m, "application/json", string(query(`{ me { name `)), "", 200, 400, false},
		{"no operation", m, "application/json", `{}`, "", 200, 400, false},
		{"validation error", m, "application/json", string(query(`{ nope }`)), "", 200, 400, false},
		{"variable coercion", m, "application/json", `{"query":"query($n:Int!){ interactions(first:$n) { pageInfo { hasNextPage } } }","variables":{"n":"x"}}`, "", 200, 400, false},
		{"unknown operation name", m, "application/json", `{"query":"query A { __typename }","operationName":"B"}`, "", 200, 400, false},
		{"token limit", m, "application/json", string(query("{" + strings.Repeat(" __typename", 5001) + " }")), "", 200, 400, false},
		{"field limit", m, "application/json", string(query("{" + strings.Repeat(" __typename", 1201) + " }")), "", 200, 400, false},
		{"fragment limit", m, "application/json", string(query("{" + strings.Repeat(" ... on Query { __typename }", 251) + " }")), "", 200, 400, false},
		{"depth limit", m, "application/json", string(query(deep)), "", 200, 400, false},
		{"alias limit", m, "application/json", string(query("{" + aliases.String() + " }")), "", 200, 400, false},
		{"complexity limit", m, "application/json", string(query(`{ interactions(first:100) { edges { node { transcript(first:100) { edges { cursor } } } } } }`)), workspace.DemoAPIKey, 200, 400, false},
		{"introspection switched off", off, "application/json", string(query(`{ __schema { queryType { name } } }`)), "", 200, 400, false},
		{"persisted query not found", m, "application/json", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("0", 64) + `"}}}`, "", 200, 400, false},
		{"persisted query hash mismatch", m, "application/json", `{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("0", 64) + `"}}}`, "", 200, 400, false},
		{"execution error", m, "application/json", string(query(`{ me { name } }`)), "", 200, 200, true},
	}
	for _, c := range cases {
		for accept, want := range map[string]int{"application/json": c.legacy, graphqlResponseJSON: c.modern} {
			t.Run(c.name+" as "+accept, func(t *testing.T) {
				x := send(t, c.target, http.MethodPost, c.contentType, accept, c.token, []byte(c.body))
				if x.Status != want || x.hasData() != c.executed || len(x.Resp["errors"].([]any)) == 0 || x.errorField("extensions.code") == "" {
					t.Fatalf("got %d %.400s; want %d, a coded error and data only if executed (%v)", x.Status, x.Body, want, c.executed)
				}
			})
		}
	}
}

// An error never echoes more of the input than an excerpt: a 500 KB malformed body came
// back whole inside the message, and gqlparser quotes names and values however long.
func TestHardening_ErrorsNeverEchoInput(t *testing.T) {
	m := start(t)
	long := strings.Repeat("x", 100_000)
	query := func(q string) []byte { b, _ := json.Marshal(map[string]any{"query": q}); return b }
	cases := map[string][]byte{
		"malformed 500 KB body":   []byte(`{"query":"{ __typename }", "variables": {"a": "` + strings.Repeat("y", 500_000) + `" ` + "\x01}"),
		"body of the wrong type":  []byte(`{"query":"{ __typename }","variables":"` + strings.Repeat("y", 500_000) + `"}`),
		"long field name":         query("{ " + long + " }"),
		"long argument name":      query("{ __typename(" + long + ": 1) }"),
		"long type name":          query("query($v: " + long + ") { __typename }"),
		"long enum value":         query(`{ interactions(filter:{states:[` + long + `]}) { pageInfo { hasNextPage } } }`),
		"long string for an enum": query(`{ interactions(filter:{states:["` + long + `"]}) { pageInfo { hasNextPage } } }`),
		"long unexpected string":  query(`{ __typename "` + long + `" }`),
		"long operation name":     []byte(`{"query":"{ __typename }","operationName":"` + long + `"}`),
		"long variable name":      []byte(`{"query":"query($` + long + `: Int!) { interactions(first: $` + long + `) { pageInfo { hasNextPage } } }","variables":{"` + long + `":"x"}}`),
	}
	check := func(t *testing.T, status int, raw []byte) {
		t.Helper()
		var resp struct {
			Errors []struct {
				Message string `json:"message"`
				Path    []any  `json:"path"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(raw, &resp); err != nil || len(resp.Errors) == 0 {
			t.Fatalf("%d %.300s: want errors", status, raw)
		}
		for _, e := range resp.Errors {
			if n := utf8.RuneCountInString(e.Message); n > 200 || (n == 200 && !strings.HasSuffix(e.Message, "…")) {
				t.Fatalf("a message of %d characters: %.300s", n, e.Message)
			}
			for _, p := range e.Path {
				if s, ok := p.(string); ok && utf8.RuneCountInString(s) > 200 {
					t.Fatalf("a path element of %d characters", len(s))
				}
			}
		}
		if len(raw) > 4096 {
			t.Fatalf("a response of %d bytes to bad input: %.300s", len(raw), raw)
		}
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			x := send(t, m, http.MethodPost, "application/json", "", "", body)
			check(t, x.Status, x.Body)
		})
	}
	t.Run("GET with a long query", func(t *testing.T) {
		res, err := http.Get(m.URL() + "/query?query=" + url.QueryEscape("{ "+strings.Repeat("z", 50_000)+" }"))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		check(t, res.StatusCode, raw)
	})
}

// The largest operation any client sends, GraphiQL's full introspection (15 levels deep,
// 230 fields), is answered under the default limits; depth 12 refused it.
func TestHardening_FullIntrospectionAnswered(t *testing.T) {
	m := start(t)
	q, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	x := sendQuery(t, m, graphqlResponseJSON, "", string(q), nil)
	if types, _ := dig(x.Resp, "data.__schema.types").([]any); x.Status != 200 || len(types) < 20 || x.Resp["errors"] != nil {
		t.Fatalf("full introspection: %d %.400s", x.Status, x.Body)
	}
}

// Callers without a credential may send at most -max-anonymous-body-bytes (64 KiB): login
// and startWebchat need a few kilobytes, and decoding a megabyte of JSON costs about 0.1 s
// of CPU. A credential lifts the bound to -max-body-bytes.
func TestHardening_AnonymousBodiesAreSmall(t *testing.T) {
	m := start(t)
	body, _ := json.Marshal(map[string]any{"query": "# " + strings.Repeat("padding ", 10_000) + "\n{ __typename }"})
	if len(body) <= 64<<10 || len(body) > 1<<20 {
		t.Fatalf("a body of %d bytes does not test the bound", len(body))
	}
	if r := postRaw(t, m, "", body); r.Status != http.StatusRequestEntityTooLarge || !strings.Contains(r.Errors[0].Message, "without a valid credential") {
		t.Fatalf("anonymous: %+v", r)
	}
	if r := postRaw(t, m, "not-a-real-token", body); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a bad token counts as none: %+v", r)
	}
	if r := postRaw(t, m, workspace.DemoAPIKey, body); r.Status != http.StatusOK || dig(r.Data, "__typename") != "Query" {
		t.Fatalf("with a key: %+v", r)
	}
	// A webchat's first message at the longest, in characters that JSON escapes, still fits.
	text := strings.Repeat("\U0001F600", 4096)
	start, _ := json.Marshal(map[string]any{"query": `mutation($t: String!) { startWebchat(input:{name:"V", text:$t}) { token userErrors { code } } }`, "variables": map[string]any{"t": text}})
	if r := postRaw(t, m, "", start); r.Status != http.StatusOK || dig(r.Data, "startWebchat.token") == nil {
		t.Fatalf("the longest first message (%d bytes): %+v", len(start), r)
	}
}
