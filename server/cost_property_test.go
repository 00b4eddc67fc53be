package server_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
)

// genField is a field of the schema as the generator needs it: the named type it returns
// (empty for a leaf) and the named types of its required arguments.
type genField struct {
	name, typ string
	required  map[string]string
}

// genSchema maps object and interface types to their fields, read by introspection.
type genSchema map[string][]genField

func introspectForGenerator(t *testing.T, m *server.Main) genSchema {
	t.Helper()
	const typeRef = `kind name ofType { kind name ofType { kind name ofType { kind name } } }`
	x := sendQuery(t, m, "", "", `{ __schema { types { name kind fields { name type { `+typeRef+` } args { name type { `+typeRef+` } } } } } }`, nil)
	named := func(ref any) (name, kind string, nonNull bool) {
		nonNull = dig(ref, "kind") == "NON_NULL"
		for dig(ref, "name") == nil && ref != nil {
			ref = dig(ref, "ofType")
		}
		name, _ = dig(ref, "name").(string)
		kind, _ = dig(ref, "kind").(string)
		return name, kind, nonNull
	}
	s := genSchema{}
	types, _ := dig(x.Resp, "data.__schema.types").([]any)
	for _, ty := range types {
		if k := dig(ty, "kind"); k != "OBJECT" && k != "INTERFACE" {
			continue
		}
		fields, _ := dig(ty, "fields").([]any)
		for _, f := range fields {
			gf := genField{name: dig(f, "name").(string), required: map[string]string{}}
			if name, kind, _ := named(dig(f, "type")); kind == "OBJECT" || kind == "INTERFACE" {
				gf.typ = name
			}
			args, _ := dig(f, "args").([]any)
			for _, a := range args {
				if name, _, nonNull := named(dig(a, "type")); nonNull {
					gf.required[dig(a, "name").(string)] = name
				}
			}
			tn := dig(ty, "name").(string)
			s[tn] = append(s[tn], gf)
		}
	}
	if len(s["Query"]) == 0 {
		t.Fatalf("introspection for the generator failed: %.300s", x.Body)
	}
	return s
}

// opGen writes random GraphQL documents: selections that follow the schema, with aliases,
// arguments and variables, duplicated fields, inline fragments and named fragments that
// spread each other (bombs and cycles included); in a dirty document also made-up names,
// long names and garbage tokens.
type opGen struct {
	r      *rand.Rand
	schema genSchema
	b      strings.Builder
	// limit is the size the document should stay near; dirty allows invalid input.
	limit int
	dirty bool
	// vars and spread record which variables and fragments the document uses, so a clean
	// document declares exactly those and leaves no fragment unused; aliases numbers them.
	vars    map[string]bool
	spread  map[string]bool
	aliases int
}

func (g *opGen) full() bool { return g.b.Len() >= g.limit }

func (g *opGen) chance(n int) bool { return g.r.IntN(n) == 0 }

func (g *opGen) name() string {
	switch g.r.IntN(4) {
	case 0: // long: up to 64 KiB
		return "n" + strings.Repeat(string(rune('a'+g.r.IntN(26))), g.r.IntN(1<<16))
	default:
		return fmt.Sprintf("x%d", g.r.IntN(1000))
	}
}

// value writes an argument value of type typ. A clean document always writes the same value
// for a type, so that fields repeated with arguments still merge.
func (g *opGen) value(typ string, depth int) string {
	if !g.dirty {
		v := map[string]string{"Int": "$v0", "ID": "$v5", "String": "$v4", "Boolean": "$v3"}[typ]
		if v == "" {
			v = "{states: $v2, createdAfter: $v1}"
			g.vars["$v1"], g.vars["$v2"] = true, true
		}
		g.vars[v] = true
		return v
	}
	switch g.r.IntN(7) {
	case 0:
		return "$v" + fmt.Sprint(g.r.IntN(6))
	case 1:
		return fmt.Sprint([]int64{1, 5, 100, 0, -1, 1 << 40}[g.r.IntN(6)])
	case 2:
		return `"` + []string{"garbage", "aTE6eHh4", "00000000-0000-0000-0000-000000000000", strings.Repeat("s", g.r.IntN(4096))}[g.r.IntN(4)] + `"`
	case 3:
		if depth < 4 {
			items := make([]string, g.r.IntN(6))
			for i := range items {
				items[i] = g.value(typ, depth+1)
			}
			return "[" + strings.Join(items, ",") + "]"
		}
	case 4:
		return []string{"true", "null", "QUEUED", "1.5", "NOPE"}[g.r.IntN(5)]
	}
	return `{states:[QUEUED, ACTIVE], createdAfter:"2026-01-01T00:00:00Z", ` + g.name() + `: 1}`
}

// selection writes the body of a selection set on type typ; frags holds the names of the
// fragments on that type the selection may spread.
func (g *opGen) selection(typ string, depth int, frags map[string][]string) {
	fields := g.schema[typ]
	n := 1 + g.r.IntN(5)
	for i := range n {
		if g.full() {
			if i == 0 {
				g.b.WriteString("__typename")
			}
			return
		}
		switch k := g.r.IntN(14); {
		case k < 8 || depth > 12:
			f := fields[g.r.IntN(len(fields))]
			name := f.name
			if g.dirty && g.chance(8) {
				name = g.name()
			}
			if g.chance(8) {
				g.aliases++
				alias := fmt.Sprintf("a%d", g.aliases)
				if g.dirty && g.chance(4) {
					alias = g.name()
				}
				g.b.WriteString(alias + ": ")
			}
			g.b.WriteString(name)
			var args []string
			for arg, at := range f.required {
				args = append(args, arg+": "+g.value(at, 0))
			}
			if name == "interactions" || name == "transcript" || name == "messages" {
				args = append(args, "first: "+g.value("Int", 0))
				if g.dirty && g.chance(4) {
					args = append(args, "after: "+g.value("String", 0))
				}
				if name == "interactions" && g.chance(3) {
					args = append(args, "filter: "+g.value("InteractionFilter", 0))
				}
			}
			if len(args) > 0 {
				g.b.WriteString("(" + strings.Join(args, ", ") + ")")
			}
			if g.chance(12) {
				g.b.WriteString(" @include(if: " + g.value("Boolean", 0) + ")")
			}
			if f.typ != "" {
				g.b.WriteString(" { ")
				g.selection(f.typ, depth+1, frags)
				g.b.WriteString(" }")
			}
		case k < 10 && len(frags[typ]) > 0:
			f := frags[typ][g.r.IntN(len(frags[typ]))]
			g.spread[f] = true
			g.b.WriteString(strings.Repeat("..."+f+" ", 1+g.r.IntN(3)))
		case k < 11:
			g.b.WriteString("... on " + typ + " { ")
			g.selection(typ, depth+1, frags)
			g.b.WriteString(" }")
		case k < 12:
			// The same field many times over: field merging compares every pair.
			g.b.WriteString(strings.Repeat("__typename ", 1+g.r.IntN(min(1200, 1+(g.limit-g.b.Len())/11))))
		case k < 13 && g.dirty:
			g.garbage(1 + g.r.IntN(100))
		default:
			g.b.WriteString("__typename")
		}
		g.b.WriteByte(' ')
	}
}

func (g *opGen) garbage(n int) {
	for range n {
		g.b.WriteString([]string{"{", "}", "(", ")", "[", "]", "...", ":", "$", "@", "!", "=", "|", "&",
			`"`, `"""`, "#", "\n", "query", "fragment", "on", "1e999", "-0", "0x1", "\u00e9", "\x00", g.name()}[g.r.IntN(27)])
		g.b.WriteByte(' ')
	}
}

// document writes fragments on Query and on Agent (a new one often spreading the previous
// one several times, as a bomb does) and one operation, or two in a dirty document.
func (g *opGen) document() string {
	g.vars, g.spread = map[string]bool{}, map[string]bool{}
	frags := map[string][]string{}
	for i := range g.r.IntN(30) {
		typ := []string{"Query", "Agent"}[g.r.IntN(2)]
		name := fmt.Sprintf("F%d", i)
		fmt.Fprintf(&g.b, "fragment %s on %s { ", name, typ)
		if prev := frags[typ]; len(prev) > 0 && g.chance(2) {
			g.spread[prev[len(prev)-1]] = true
			g.b.WriteString(strings.Repeat("..."+prev[len(prev)-1]+" ", 2+g.r.IntN(3)))
		}
		if g.dirty && g.chance(20) {
			g.b.WriteString("..." + name + " ") // a cycle
		}
		g.selection(typ, 1, frags)
		g.b.WriteString(" }\n")
		frags[typ] = append(frags[typ], name)
	}
	doc := g.b.String()
	ops := 1
	if g.dirty {
		ops += g.r.IntN(2)
	}
	for i := range ops {
		g.b.Reset()
		g.b.WriteString(doc) // keeps full() counting the whole document
		g.b.WriteString("{ ")
		g.selection("Query", 1, frags)
		for !g.full() && g.chance(3) {
			g.selection("Query", 1, frags)
		}
		// Every fragment is used: those no selection spread are spread here.
		for _, f := range frags["Query"] {
			if !g.spread[f] {
				g.spread[f] = true
				g.b.WriteString(" ..." + f)
			}
		}
		for _, f := range frags["Agent"] {
			if !g.spread[f] {
				g.spread[f] = true
				g.b.WriteString(" me { ..." + f + " }")
			}
		}
		g.b.WriteString(" }\n")
		op := g.b.String()[len(doc):]
		if ops > 1 || len(g.vars) > 0 || g.chance(2) {
			var decls []string
			for i, typ := range []string{"Int", "Time", "[InteractionState!]", "Boolean!", "String", "ID!"} {
				if v := fmt.Sprintf("$v%d", i); g.vars[v] || g.dirty {
					decls = append(decls, v+": "+typ)
				}
			}
			header := fmt.Sprintf("query Op%d", i)
			if len(decls) > 0 {
				header += "(" + strings.Join(decls, ", ") + ")"
			}
			op = header + " " + op
		}
		doc += op
	}
	if g.dirty && g.chance(4) { // cut short anywhere
		doc = doc[:g.r.IntN(len(doc)+1)]
	}
	return doc
}

// randomBody returns a request body of about limit bytes at most: usually a JSON request
// with a generated document and variables (a quarter of them dirty), sometimes a soup of
// tokens, sometimes malformed JSON.
func randomBody(r *rand.Rand, schema genSchema, limit int) []byte {
	g := &opGen{r: r, schema: schema, limit: limit, dirty: r.IntN(4) == 0}
	var q string
	if r.IntN(10) == 0 {
		for !g.full() {
			g.garbage(100)
		}
		q = g.b.String()
	} else {
		q = g.document()
	}
	vars := map[string]any{
		"v0": []any{5, 5, 5, 20, 1e30, "x"}[r.IntN(6)],
		"v1": []any{"2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "garbage", 12}[r.IntN(4)],
		"v2": []any{[]any{"QUEUED"}, []any{"ACTIVE", "QUEUED"}, []any{"NOPE"}}[r.IntN(3)],
		"v3": r.IntN(2) == 0,
		"v4": "s",
		"v5": []any{"00000000-0000-0000-0000-000000000000", "garbage"}[r.IntN(2)],
	}
	req := map[string]any{"query": q, "variables": vars}
	if r.IntN(5) == 0 {
		req["operationName"] = fmt.Sprintf("Op%d", r.IntN(3))
	}
	body, _ := json.Marshal(req)
	if r.IntN(20) == 0 {
		body = body[:r.IntN(len(body)+1)]
	}
	return body
}

// TestCost_RandomOperationsBounded sends random operations of every size up to the body
// limit, anonymously and with a CRM key: every one must be refused or answered with a
// well-formed response. The CPU each costs is logged (the aim is 100 ms); it is not
// asserted, since a busy machine or the race detector multiplies it. bench/ measures it.
func TestCost_RandomOperationsBounded(t *testing.T) {
	t.Parallel() // one of the longest: see "Parallel tests" in helpers_test.go
	if testing.Short() {
		t.Skip("sends a few hundred requests of up to 1 MiB")
	}
	m := start(t)
	schema := introspectForGenerator(t, m)
	r := rand.New(rand.NewPCG(10, 3))
	const requests = 400
	var cpu []time.Duration
	var worst string
	outcomes := map[string]int{}
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < requests && time.Now().Before(deadline); i++ {
		// Sizes spread evenly on a log scale from 64 bytes to the 1 MiB limit.
		limit := int(math.Exp(math.Log(64) + r.Float64()*(math.Log(float64(m.Config.MaxBodyBytes))-math.Log(64))))
		body := randomBody(r, schema, limit)
		token := ""
		if r.IntN(2) == 0 {
			token = workspace.DemoAPIKey
		}
		accept := []string{"", "application/json", graphqlResponseJSON}[r.IntN(3)]
		x := send(t, m, http.MethodPost, "application/json", accept, token, body)
		var outcome string
		switch {
		case !slices.Contains([]int{200, 400, 413}, x.Status):
			t.Fatalf("status %d for %.300s: %.300s", x.Status, body, x.Body)
		case x.Resp["errors"] == nil && x.Resp["data"] == nil:
			t.Fatalf("neither data nor errors for %.300s: %.300s", body, x.Body)
		case x.hasData():
			outcome = "answered"
		default:
			outcome = "refused: " + x.errorField("extensions.reason")
		}
		outcomes[outcome]++
		if len(cpu) == 0 || x.CPU > slices.Max(cpu) {
			worst = fmt.Sprintf("%d bytes, %s: %.200s", len(body), outcome, body)
		}
		cpu = append(cpu, x.CPU)
	}
	slices.Sort(cpu)
	pct := func(p float64) time.Duration { return cpu[int(p*float64(len(cpu)-1))] }
	t.Logf("%d requests: CPU per request p50 %v, p99 %v, max %v; outcomes %v", len(cpu), pct(0.5), pct(0.99), cpu[len(cpu)-1], outcomes)
	t.Logf("costliest: %s", worst)
	if len(cpu) < 100 || outcomes["answered"] < 10 {
		t.Fatalf("only %d requests, %d answered: the generator or the machine is off", len(cpu), outcomes["answered"])
	}
	// The CPU figures are logged for the record, never asserted: a test must not fail on a
	// busy machine or under the race detector.
}

// TestCost_WorstCaseAnonymous measures what the costliest requests found so far cost an
// anonymous caller under the default limits, answered and refused, and logs the figures.
// The bound leaves room for a busy machine: the same requests cost seconds before the limits.
func TestCost_WorstCaseAnonymous(t *testing.T) {
	m := start(t)
	introspection, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	nested := func(name string, width, levels int) string {
		return "query " + name + " " + strings.Repeat("{ ... on Query ", levels) + "{" + strings.Repeat(" __typename", width) + " }" + strings.Repeat(" }", levels)
	}
	var logins strings.Builder
	for i := range 30 {
		fmt.Fprintf(&logins, ` a%d: login(input: {username: "nobody%d", password: "x"}) { token }`, i, i)
	}
	mib := int(m.Config.MaxBodyBytes) - 100
	cases := []struct {
		name   string
		body   func(op string) []byte
		reason string // "" when answered
	}{
		{"1,200 __typename", queryBody("query %s {" + strings.Repeat(" __typename", 1200) + " }"), ""},
		{"28 x me { 27 x __typename }", queryBody("query %s {" + strings.Repeat(" me {"+strings.Repeat(" __typename", 27)+" }", 28) + " }"), ""},
		{"a login beside 1,190 __typename", queryBody(`mutation %s { login(input: {username: "nobody", password: "x"}) { token }` + strings.Repeat(" __typename", 1190) + " }"), ""},
		{"full introspection", queryBody(strings.Replace(string(introspection), "query IntrospectionQuery", "query %s", 1)), ""},
		{"fragment bomb, 24 levels", queryBody(strings.Replace(fragmentBomb(24), "query", "query %s", 1)), "OPERATION_LIMIT_EXCEEDED"},
		{"7,000 __typename", queryBody("query %s {" + strings.Repeat(" __typename", 7000) + " }"), "OPERATION_LIMIT_EXCEEDED"},
		{"1 MiB of __typename", queryBody("query %s {" + strings.Repeat(" __typename", mib/11) + " }"), "OPERATION_LIMIT_EXCEEDED"},
		{"550 __typename in 200 nested inline fragments", queryBody(nested("%s", 550, 200)), "OPERATION_LIMIT_EXCEEDED"},
		{"30 logins", queryBody("mutation %s {" + logins.String() + " }"), "OPERATION_LIMIT_EXCEEDED"},
		{"a 1 MiB string", queryBody(`query %s { __typename(s: "` + strings.Repeat("s", mib) + `") }`), "GRAPHQL_VALIDATION_FAILED"},
		{"1 MiB of small variables", func(op string) []byte {
			return []byte(`{"query":"query ` + op + `($v: [Int]) { __typename }","variables":{"v":[` + strings.Repeat("0,", mib/2-50) + `0]}}`)
		}, "GRAPHQL_VALIDATION_FAILED"},
		{"1 MiB of small variables, used", func(op string) []byte {
			return []byte(`{"query":"query ` + op + `($v: [InteractionState!]) { interactions(filter: {states: $v}) { pageInfo { hasNextPage } } }","variables":{"v":[` + strings.Repeat(`"QUEUED",`, mib/9-50) + `"QUEUED"]}}`)
		}, ""},
		{"1 MiB of malformed JSON", func(op string) []byte {
			return []byte(`{"query":"query ` + op + ` { __typename }","variables":{"v":[` + strings.Repeat("[", mib-60) + `}`)
		}, ""},
	}
	for i, c := range cases {
		body := c.body(fmt.Sprintf("W%d", i))
		// Without a credential, a body over -max-anonymous-body-bytes is refused unread; the
		// CRM key shows what the same body costs a caller who may send it.
		callers := []string{""}
		if int64(len(body)) > m.Config.MaxAnonymousBodyBytes && !strings.Contains(c.name, "used") {
			callers = append(callers, workspace.DemoAPIKey)
		}
		for _, token := range callers {
			x := send(t, m, http.MethodPost, "application/json", "", token, body)
			reason := x.errorField("extensions.reason")
			who := "anonymous"
			switch {
			case token != "":
				who = "CRM key"
				if reason != c.reason || (c.reason == "" && !x.hasData() && x.Status != 400) {
					t.Errorf("%s with a key: %d %.300s, want reason %q", c.name, x.Status, x.Body, c.reason)
				}
			case int64(len(body)) > m.Config.MaxAnonymousBodyBytes:
				if x.Status != http.StatusRequestEntityTooLarge {
					t.Errorf("%s without a credential: %d %.300s, want 413", c.name, x.Status, x.Body)
				}
			case reason != c.reason || (c.reason == "" && !x.hasData() && x.Status != 400):
				t.Errorf("%s: %d %.300s, want reason %q", c.name, x.Status, x.Body, c.reason)
			}
			t.Logf("%-48s %-9s %8d bytes  status %d  CPU %v", c.name, who, len(body), x.Status, x.CPU.Round(100*time.Microsecond))
		}
	}
}

// queryBody returns a body maker for a query whose %s is the operation's name, so that
// gqlgen's cache of validated queries does not answer for it.
func queryBody(format string) func(string) []byte {
	return func(op string) []byte {
		b, _ := json.Marshal(map[string]string{"query": fmt.Sprintf(format, op)})
		return b
	}
}
