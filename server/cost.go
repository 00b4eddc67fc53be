package server

import (
	"context"
	"crypto/sha256"
	"maps"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// costLimit refuses a query whose cost is out of bounds before gqlgen parses, validates or
// walks it. Complexity and execution visit fields as expanded through fragment spreads,
// and a 1 KB query whose fragments each spread the next one twice expands to millions;
// validation walks every fragment once from every definition that reaches it, and its
// field-merging rule is quadratic in the fields of each selection set it visits. So the
// query is parsed here under a token cap and measured in passes that memoise per fragment
// definition, in time linear in the text however far it expands. The limits:
//   - tokens in the query text;
//   - fields and fragment spreads (named or inline) of the operations, as expanded;
//   - selections validation visits (measure.visits), under the same cap as fields;
//   - per operation, the deepest field nesting and the aliases as expanded;
//   - one login per mutation: each hashes a password, slowly on purpose.
//
// It runs as an OperationParameterMutator, after automatic persisted queries have put the
// real text in place and before gqlgen's own parse; verdicts are cached by the text's hash
// so a client's repeated queries are measured once.
type costLimit struct {
	maxTokens, maxFields, maxSpreads, maxDepth, maxAliases int

	// verdicts maps a query's SHA-256 to its refusal (nil: accepted). Hashes, not texts, are
	// the keys so a full cache holds kilobytes, however large the queries were.
	verdicts *lru.Cache[[sha256.Size]byte, *gqlerror.Error]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*costLimit)(nil)

func newCostLimit(c Config) *costLimit {
	verdicts, err := lru.New[[sha256.Size]byte, *gqlerror.Error](1024)
	if err != nil {
		panic(err) // only for a size < 1
	}
	return &costLimit{
		maxTokens: c.MaxTokens, maxFields: c.MaxFields, maxSpreads: c.MaxFragmentSpreads,
		maxDepth: c.MaxDepth, maxAliases: c.MaxAliases,
		verdicts: verdicts,
	}
}

func (*costLimit) ExtensionName() string                   { return "CostLimit" }
func (*costLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l *costLimit) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	key := sha256.Sum256([]byte(p.Query))
	verdict, ok := l.verdicts.Get(key)
	if !ok {
		verdict = l.judge(p.Query)
		l.verdicts.Add(key, verdict)
	}
	if verdict == nil {
		return nil
	}
	// A copy: the error presenter writes into the error it is given, and requests run
	// concurrently.
	return &gqlerror.Error{Message: verdict.Message, Locations: slices.Clone(verdict.Locations), Extensions: maps.Clone(verdict.Extensions)}
}

// judge returns why the query is refused, or nil. A query that does not parse is refused
// with the parse error gqlgen would give, so it is not parsed twice.
func (l *costLimit) judge(query string) *gqlerror.Error {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, l.maxTokens)
	if err != nil {
		gerr, ok := err.(*gqlerror.Error)
		if !ok {
			gerr = gqlerror.Wrap(err)
		}
		if strings.HasPrefix(gerr.Message, "exceeded token limit") {
			return limitError("the query has more than %d tokens; the limit is %d", l.maxTokens, l.maxTokens)
		}
		errcode.Set(gerr, errcode.ParseFailed)
		return gerr
	}
	m := measureDocument(doc)
	switch {
	case m.cycle != "":
		// Validation would say the same, after a walk the measure cannot bound.
		err := gqlerror.Errorf("Cannot spread fragment %q within itself.", m.cycle)
		errcode.Set(err, errcode.ValidationFailed)
		return err
	case m.fields > l.maxFields:
		return limitError("the query selects %d fields once its fragments are expanded; the limit is %d", m.fields, l.maxFields)
	case m.visits > l.maxFields:
		return limitError("validating the query would visit %d selections (a fragment counts for every definition that reaches it, "+
			"a nested inline fragment for every level); the limit is %d", m.visits, l.maxFields)
	case m.spreads > l.maxSpreads:
		return limitError("the query spreads %d fragments once its fragments are expanded; the limit is %d", m.spreads, l.maxSpreads)
	case m.depth > l.maxDepth:
		return limitError("the operation is nested %d levels deep; the limit is %d", m.depth, l.maxDepth)
	case m.aliases > l.maxAliases:
		return limitError("the operation uses %d aliases; the limit is %d", m.aliases, l.maxAliases)
	case m.logins > 1:
		// Each login hashes a password on purpose slowly (bcrypt, some 60 ms of CPU); aliases
		// would let one anonymous request buy 30 of them.
		return limitError("an operation may call login only once; it calls it %d times", m.logins)
	}
	return nil
}

// cost is what a selection set costs once its fragment spreads are expanded, as complexity
// and execution walk it. Counts saturate at math.MaxInt instead of wrapping.
type cost struct {
	fields, spreads, aliases int
	depth                    int
	// logins counts the fields named login at the top of the selection set.
	logins int
}

func (c *cost) add(o cost) {
	c.fields = satAdd(c.fields, o.fields)
	c.spreads = satAdd(c.spreads, o.spreads)
	c.aliases = satAdd(c.aliases, o.aliases)
	c.logins = satAdd(c.logins, o.logins)
}

func satAdd(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// measure is what a document costs.
type measure struct {
	// cost sums the fields and spreads of every operation as expanded, and holds the
	// greatest depth, alias count and (in a mutation) login count of any one.
	cost
	// visits counts the selections gqlparser's validation visits. Its walk starts at every
	// operation and every fragment definition, and follows each spread fragment once per
	// start; the field-merging rule then compares the fields of every selection set visited,
	// where a selection set's fields include those of the inline fragments nested in it.
	// So a selection counts once for every start that reaches it, and once more for every
	// inline fragment around it: comparisons are at most quadratic in visits.
	visits int
	// cycle names a fragment that spreads itself.
	cycle string
}

// measureDocument measures doc in time linear in its size (plus, for fragments that spread
// each other, the size of a bitset per fragment), however far its fragments expand.
func measureDocument(doc *ast.QueryDocument) measure {
	m := &measurer{byName: make(map[string]*fragment, len(doc.Fragments)), words: (len(doc.Fragments) + 63) / 64}
	var defs []*fragment
	for _, def := range doc.Fragments {
		f := &fragment{def: def}
		defs = append(defs, f)
		if _, dup := m.byName[def.Name]; !dup {
			f.index = len(m.frags)
			m.byName[def.Name] = f
			m.frags = append(m.frags, f)
		}
	}
	for _, f := range defs {
		f.own = m.own(f.def.SelectionSet, 0, &f.spreads)
	}

	var out measure
	visit := func(own int, spreads []*fragment) {
		reached := make([]uint64, m.words)
		for _, s := range spreads {
			for i, w := range m.reach(s) {
				reached[i] |= w
			}
		}
		out.visits = satAdd(out.visits, own)
		for i, w := range reached {
			for ; w != 0; w &= w - 1 {
				out.visits = satAdd(out.visits, m.frags[i*64+bits.TrailingZeros64(w)].own)
			}
		}
	}
	for _, f := range defs {
		visit(f.own, f.spreads)
	}
	for _, op := range doc.Operations {
		var spreads []*fragment
		visit(m.own(op.SelectionSet, 0, &spreads), spreads)
	}
	if out.cycle = m.cycle; m.cycle != "" {
		return out
	}
	for _, op := range doc.Operations {
		c := m.expand(op.SelectionSet)
		out.fields = satAdd(out.fields, c.fields)
		out.spreads = satAdd(out.spreads, c.spreads)
		out.depth = max(out.depth, c.depth)
		out.aliases = max(out.aliases, c.aliases)
		if op.Operation == ast.Mutation {
			out.logins = max(out.logins, c.logins)
		}
	}
	return out
}

// fragment is a fragment definition as the measurer sees it.
type fragment struct {
	def *ast.FragmentDefinition
	// index is its place in measurer.frags (the first definition of each name only).
	index int
	// own is its selections, as visits counts them, without following spreads; spreads
	// are the fragments it spreads.
	own     int
	spreads []*fragment
	// reach is a bitset of the fragments it reaches, itself included; state says whether
	// reach is being computed (1) or done (2).
	reach []uint64
	state uint8
	// expanded is its cost as expanded, once computed.
	expanded *cost
}

// measurer measures one document, memoising per fragment definition.
type measurer struct {
	frags  []*fragment
	byName map[string]*fragment
	words  int
	cycle  string
}

// own counts the selections of set, each once for its own selection set and once for
// every one of the inline fragments (inline levels deep) that enclose it there, and adds
// the known fragments it spreads to spreads.
func (m *measurer) own(set ast.SelectionSet, inline int, spreads *[]*fragment) int {
	n := 0
	for _, sel := range set {
		n = satAdd(n, inline+1)
		switch s := sel.(type) {
		case *ast.Field:
			n = satAdd(n, m.own(s.SelectionSet, 0, spreads))
		case *ast.InlineFragment:
			n = satAdd(n, m.own(s.SelectionSet, inline+1, spreads))
		case *ast.FragmentSpread:
			if f := m.byName[s.Name]; f != nil {
				*spreads = append(*spreads, f)
			}
		}
	}
	return n
}

// reach returns the fragments f reaches. A fragment reached again while its reach is being
// computed spreads itself: validation refuses that, and so does the measure.
func (m *measurer) reach(f *fragment) []uint64 {
	switch f.state {
	case 2:
		return f.reach
	case 1:
		if m.cycle == "" {
			m.cycle = f.def.Name
		}
		return nil
	}
	f.state = 1
	r := make([]uint64, m.words)
	r[f.index/64] |= 1 << (f.index % 64)
	for _, s := range f.spreads {
		for i, w := range m.reach(s) {
			r[i] |= w
		}
	}
	f.reach, f.state = r, 2
	return r
}

// expand returns the cost of set with its fragment spreads expanded, expanding each
// fragment definition once. It runs only on documents without cycles.
func (m *measurer) expand(set ast.SelectionSet) cost {
	var out cost
	for _, sel := range set {
		var sub cost
		switch s := sel.(type) {
		case *ast.Field:
			sub = m.expand(s.SelectionSet)
			sub.depth++
			sub.fields = satAdd(sub.fields, 1)
			if s.Alias != "" && s.Alias != s.Name {
				sub.aliases = satAdd(sub.aliases, 1)
			}
			sub.logins = 0
			if s.Name == "login" {
				sub.logins = 1
			}
		case *ast.InlineFragment:
			sub = m.expand(s.SelectionSet)
			sub.spreads = satAdd(sub.spreads, 1)
		case *ast.FragmentSpread:
			if f := m.byName[s.Name]; f != nil {
				if f.expanded == nil {
					c := m.expand(f.def.SelectionSet)
					f.expanded = &c
				}
				sub = *f.expanded
			}
			sub.spreads = satAdd(sub.spreads, 1)
		}
		out.add(sub)
		out.depth = max(out.depth, sub.depth)
	}
	return out
}

// maxValidationErrors is the most validation errors one response reports, as graphql-js
// does: each costs microseconds to present and encode, and a 2,000-token query can hold
// 2,000 of them.
const maxValidationErrors = 100

// validationRules is gqlparser's default rule set (gqlgen asks for it once per validation)
// with two changes that bound its cost. Rules that suggest names ("Did you mean") use their
// variants that do not: a suggestion costs time proportional to the misspelled text times
// the names it is compared with, and a 1 MiB name took 0.2 s. And errors past
// maxValidationErrors are dropped before their messages are built. (gqlgen's
// SetDisableSuggestion is left off: it swaps in two rules of its own, which this
// wrapping would not see; with it off, gqlgen keeps rules of the same names as they are.)
func validationRules() *rules.Rules {
	r := rules.NewDefaultRules()
	r.ReplaceRule(rules.FieldsOnCorrectTypeRule.Name, rules.FieldsOnCorrectTypeRuleWithoutSuggestions.RuleFunc)
	r.ReplaceRule(rules.ScalarLeafsRule.Name, rules.ScalarLeafsRuleWithoutSuggestions.RuleFunc)
	r.ReplaceRule(rules.KnownArgumentNamesRule.Name, rules.KnownArgumentNamesRuleWithoutSuggestions.RuleFunc)
	r.ReplaceRule(rules.KnownTypeNamesRule.Name, rules.KnownTypeNamesRuleWithoutSuggestions.RuleFunc)
	r.ReplaceRule(rules.ValuesOfCorrectTypeRule.Name, rules.ValuesOfCorrectTypeRuleWithoutSuggestions.RuleFunc)
	reported := 0
	for name, rule := range r.GetInner() {
		r.ReplaceRule(name, func(observers *core.Events, addError core.AddErrFunc) {
			rule(observers, func(options ...core.ErrorOption) {
				reported++
				switch {
				case reported <= maxValidationErrors:
					addError(options...)
				case reported == maxValidationErrors+1:
					addError(core.Message("too many validation errors: only the first %d are reported", maxValidationErrors))
				}
			})
		})
	}
	return r
}
