package server

import (
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// fragmentBomb is the query of finding 3: each of n fragments spreads the next one twice,
// so the operation expands to 2^n fields.
func fragmentBomb(n int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", n)
	return b.String()
}

func measureQuery(t *testing.T, q string) measure {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: q})
	if err != nil {
		t.Fatal(err)
	}
	return measureDocument(doc)
}

// TestCost_FragmentBombCountedLinearly: the measure returns the exact expanded counts of a
// 60-level bomb (2^60 fields), which a walk that follows every spread would never finish,
// and saturates instead of wrapping past math.MaxInt.
func TestCost_FragmentBombCountedLinearly(t *testing.T) {
	c := measureQuery(t, fragmentBomb(60))
	if c.fields != 1<<60 || c.spreads != 1<<61-1 || c.depth != 1 || c.aliases != 0 || c.visits > 4000 {
		t.Fatalf("bomb of 60: %+v, want 2^60 fields, 2^61-1 spreads, depth 1 and a few thousand visits", c)
	}
	if c := measureQuery(t, fragmentBomb(70)); c.fields != math.MaxInt || c.spreads != math.MaxInt {
		t.Fatalf("bomb of 70: %+v, want saturated counts", c)
	}
}

func TestCost_Measure(t *testing.T) {
	cases := []struct {
		name, query string
		want        measure
	}{
		{"fields and depth", `{ me { id capacity { channel max } } }`, measure{cost: cost{fields: 5, depth: 3}, visits: 5}},
		// Validation visits A from its definition and once from the operation; the spread
		// in the inline fragment is visited for the operation and again for the fragment.
		{"a fragment used twice", `{ ...A ... on Query { ...A } } fragment A on Query { a: me { id } b: __typename }`,
			measure{cost: cost{fields: 6, spreads: 3, aliases: 4, depth: 2}, visits: 3 + 4 + 3}},
		{"an alias equal to the name is not one", `{ me: me { id } }`, measure{cost: cost{fields: 2, depth: 2}, visits: 2}},
		{"nested inline fragments", `{ ... on Query { ... on Query { __typename } } }`, measure{cost: cost{fields: 1, spreads: 2, depth: 1}, visits: 1 + 2 + 3}},
		{"a chain of fragments", `{ ...A } fragment A on Query { ...B } fragment B on Query { __typename }`,
			measure{cost: cost{fields: 1, spreads: 2, depth: 1}, visits: 2 + 1 + 3}},
		{"unknown fragments count nothing", `{ ...Nope __typename }`, measure{cost: cost{fields: 1, spreads: 1, depth: 1}, visits: 2}},
		// Only validation walks fragments no operation uses.
		{"unused fragments", `{ __typename } fragment U on Query { a: me { id } }`, measure{cost: cost{fields: 1, depth: 1}, visits: 3}},
		{"every operation", `query A { me { id } } query B { me { id } }`, measure{cost: cost{fields: 4, depth: 2}, visits: 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := measureQuery(t, c.query); got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
	if m := measureQuery(t, `{ ...A } fragment A on Query { __typename ...B } fragment B on Query { me { id } ...A }`); m.cycle == "" {
		t.Fatalf("a cycle went unnoticed: %+v", m)
	}
}

func defaultConfig(t *testing.T) Config {
	t.Helper()
	c, err := ParseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCost_VerdictsCached: a repeated query is judged once, and each request gets its own
// copy of a cached refusal (the error presenter writes into it).
func TestCost_VerdictsCached(t *testing.T) {
	l := newCostLimit(defaultConfig(t))
	bomb := fragmentBomb(30)
	first := l.MutateOperationParameters(t.Context(), &graphql.RawParams{Query: bomb})
	second := l.MutateOperationParameters(t.Context(), &graphql.RawParams{Query: bomb})
	if first == nil || second == nil || first == second || first.Message != second.Message || l.verdicts.Len() != 1 {
		t.Fatalf("refusals %v / %v, %d verdicts cached", first, second, l.verdicts.Len())
	}
	first.Extensions["code"] = "changed"
	if third := l.MutateOperationParameters(t.Context(), &graphql.RawParams{Query: bomb}); third.Extensions["code"] != errLimit {
		t.Fatalf("a cached refusal was changed through an earlier copy: %v", third.Extensions)
	}
	if err := l.MutateOperationParameters(t.Context(), &graphql.RawParams{Query: `{ __typename }`}); err != nil || l.verdicts.Len() != 2 {
		t.Fatalf("accepted query: %v, %d verdicts cached", err, l.verdicts.Len())
	}
}

// clientDocuments returns every operation the SPA, the widget and the playground send, with
// the fragments each uses, plus GraphiQL's full introspection query.
func clientDocuments(t *testing.T) map[string]string {
	t.Helper()
	re := regexp.MustCompile("(?s)graphql\\(\\s*`(.*?)`")
	var sources []string
	for _, root := range []string{"../frontend/src", "../frontend/webchat"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.Contains(path, "/gql/") || strings.Contains(path, ".test.") {
				return err
			}
			b, err := os.ReadFile(path)
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				sources = append(sources, m[1])
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	fragments := map[string]string{}
	docs := map[string]*ast.QueryDocument{}
	for _, src := range sources {
		doc, err := parser.ParseQuery(&ast.Source{Input: src})
		if err != nil {
			t.Fatalf("%v in\n%s", err, src)
		}
		for _, f := range doc.Fragments {
			fragments[f.Name] = src
		}
		if len(doc.Operations) > 0 {
			docs[src] = doc
		}
	}
	out := map[string]string{}
	for src, doc := range docs {
		// Append the fragments the operation spreads, as the generated document does.
		text, added := src, map[string]bool{}
		for _, f := range doc.Fragments {
			added[f.Name] = true
		}
		var follow func(ast.SelectionSet)
		follow = func(set ast.SelectionSet) {
			for _, sel := range set {
				switch s := sel.(type) {
				case *ast.Field:
					follow(s.SelectionSet)
				case *ast.InlineFragment:
					follow(s.SelectionSet)
				case *ast.FragmentSpread:
					if !added[s.Name] && fragments[s.Name] != "" {
						added[s.Name] = true
						text += "\n" + fragments[s.Name]
						fd, _ := parser.ParseQuery(&ast.Source{Input: fragments[s.Name]})
						follow(fd.Fragments.ForName(s.Name).SelectionSet)
					}
				}
			}
		}
		for _, op := range doc.Operations {
			follow(op.SelectionSet)
		}
		out[doc.Operations[0].Name] = text
	}
	if len(out) < 20 {
		t.Fatalf("found only %d client operations", len(out))
	}
	introspection, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	out["GraphiQL introspection"] = string(introspection)
	return out
}

// TestCost_ClientOperationsFitWithMargin: every operation the clients send, and a full
// introspection, fit within a third of each default count cap, and five levels under the
// default depth cap.
func TestCost_ClientOperationsFitWithMargin(t *testing.T) {
	c := defaultConfig(t)
	c.MaxTokens, c.MaxFields, c.MaxFragmentSpreads, c.MaxAliases = c.MaxTokens/3, c.MaxFields/3, c.MaxFragmentSpreads/3, c.MaxAliases/3
	c.MaxDepth -= 5
	l := newCostLimit(c)
	for name, doc := range clientDocuments(t) {
		if err := l.judge(doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
