package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/agentdesk/agentdesk/graph"
	"github.com/agentdesk/agentdesk/workspace"
)

// FuzzGraphQLRequest feeds arbitrary bodies and queries through the whole HTTP handler of a
// real node, in process: whatever arrives, the answer is JSON with data or errors, its
// status is one GraphQL over HTTP allows, no error is INTERNAL, and no error quotes more of
// the input than an excerpt. The seed corpus is in testdata/fuzz/FuzzGraphQLRequest.
func FuzzGraphQLRequest(f *testing.F) {
	cfg, err := ParseConfig([]string{"-addr", "127.0.0.1:0", "-data", f.TempDir(), "-demo"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		f.Fatal(err)
	}
	cfg.BcryptCost, cfg.Tick = 4, 0
	m := NewMain(cfg)
	m.Stdout = io.Discard
	if err := m.Run(f.Context()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { m.Close() })
	handler := m.http.Handler

	f.Add([]byte(`{"query":"{ __typename }"}`), uint8(0))
	f.Add([]byte(`{ interactions(first: 2) { edges { cursor node { id createdAt } } } }`), uint8(5))

	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		// mode picks the transport and Accept header (mode%3: POST, POST accepting
		// application/graphql-response+json, GET) and the caller (mode/3%2: anonymous, CRM).
		var req *http.Request
		switch mode % 3 {
		case 0, 1:
			req = httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
		default:
			req = httptest.NewRequest(http.MethodGet, "/query?query="+url.QueryEscape(string(body))+"&variables=%7B%7D", nil)
		}
		if mode%3 == 1 {
			req.Header.Set("Accept", "application/graphql-response+json")
		}
		if mode/3%2 == 1 {
			req.Header.Set("Authorization", "Bearer "+workspace.DemoAPIKey)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)

		if !slices.Contains([]int{200, 400, 406, 413}, rec.Code) {
			t.Fatalf("status %d: %.500s", rec.Code, rec.Body)
		}
		var resp struct {
			Data   json.RawMessage `json:"data"`
			Errors []struct {
				Message    string         `json:"message"`
				Path       []any          `json:"path"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || (resp.Data == nil && len(resp.Errors) == 0) {
			t.Fatalf("status %d, not a GraphQL response (%v): %.500s", rec.Code, err, rec.Body)
		}
		for _, e := range resp.Errors {
			if e.Extensions["code"] == workspace.EINTERNAL {
				t.Fatalf("an internal error: %.500s", rec.Body)
			}
			if utf8.RuneCountInString(e.Message) > graph.MaxExcerpt {
				t.Fatalf("a message of %d characters: %.500s", utf8.RuneCountInString(e.Message), e.Message)
			}
			for _, p := range e.Path {
				if s, ok := p.(string); ok && utf8.RuneCountInString(s) > graph.MaxExcerpt {
					t.Fatalf("a path element of %d characters", utf8.RuneCountInString(s))
				}
			}
		}
	})
}
