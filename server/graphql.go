package server

import (
	"context"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/agentdesk/agentdesk/graph"
	"github.com/agentdesk/agentdesk/graph/model"
	"github.com/agentdesk/agentdesk/workspace"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// closeForbidden is the websocket close code for a connection_init whose token is refused,
// as graphql-ws clients expect.
const closeForbidden = 4403

// graphqlHandler builds the /query handler: SSE, websocket (both subprotocols), GET and POST
// transports, limits, the error presenter and metrics.
func (m *Main) graphqlHandler() *handler.Server {
	cfg := graph.Config{Resolvers: &graph.Resolver{Service: m.Service, Webchat: m.Webchat, WebchatLimit: m.webchatLimit()}}
	// Lists count as many items as they may hold, so complexity tracks the work done.
	cfg.Complexity.Query.InteractionPlans = func(child int, _ *string) int { return 1 + 20*child }
	cfg.Complexity.Agent.Capacity = func(child int) int { return 1 + len(workspace.Channels)*child }
	cfg.Complexity.Query.MyInteractions = func(child int) int { return 1 + 20*child }
	cfg.Complexity.Query.Interactions = func(child int, _ *model.InteractionFilter, first *int, _ *string) int {
		return 1 + pageCost(first, workspace.DefaultInteractionsPage)*child
	}
	cfg.Complexity.Interaction.Transcript = func(child int, first *int, _ *string) int {
		return 1 + pageCost(first, workspace.DefaultTranscriptPage)*child
	}
	cfg.Complexity.WebchatSession.Messages = func(child int, first *int, _ *string) int {
		return 1 + pageCost(first, workspace.DefaultTranscriptPage)*child
	}
	cfg.Complexity.Interaction.Dispositions = func(child int) int { return 1 + 5*child }
	srv := handler.New(graph.NewExecutableSchema(cfg))

	// SSE before POST: both accept a POST with a JSON body; SSE also wants text/event-stream.
	srv.AddTransport(transport.SSE{KeepAlivePingInterval: 15 * time.Second})
	srv.AddTransport(&websocketTransport{m: m, Websocket: transport.Websocket{
		// Protocol-level pings drop dead or non-reading peers of either subprotocol, so
		// graphql-transport-ws's own ping/pong is not needed for that.
		Implementation: socketImplementation{
			accept:    coderws.AcceptOptions{OriginPatterns: originPatterns(m.Config.AllowedOrigins)},
			pingEvery: m.Config.SocketPing,
		},
		InitFunc:              m.websocketInit,
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 15 * time.Second, // legacy graphql-ws "ka" frames, which its clients expect
	}})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	// Uploads (the GraphQL multipart request spec): file parts over MaxMemory go to a temp
	// file, never memory; limitUpload has checked the caller and the preflight header.
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: m.uploadLimit(), MaxMemory: 64 << 10})

	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetErrorPresenter(graph.ErrorPresenter)
	srv.SetParserTokenLimit(m.Config.MaxTokens)
	srv.SetValidationRulesFn(validationRules)
	if m.Config.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(noIntrospection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(newCostLimit(m.Config))
	srv.Use(extension.FixedComplexityLimit(m.Config.MaxComplexity))
	srv.AroundOperations(markExecution)
	srv.AroundOperations(m.metrics.aroundOperations)
	srv.AroundOperations(m.reauthenticate)
	return srv
}

// bearer strips an optional "Bearer " prefix.
func bearer(header string) string {
	header = strings.TrimSpace(header)
	if len(header) > 7 && strings.EqualFold(header[:7], "bearer ") {
		return strings.TrimSpace(header[7:])
	}
	return header
}

// originPatterns turns configured origins (scheme://host[:port]) into the patterns the
// websocket library matches. A pattern with a scheme is matched against the whole origin, so
// http://crm.example does not also let in https://crm.example; metacharacters are escaped,
// as origins are allowed exactly. The server's own host is always allowed.
func originPatterns(origins []string) []string {
	out := make([]string, 0, len(origins))
	for _, o := range origins {
		var b strings.Builder
		for _, r := range o {
			if strings.ContainsRune(`*?[]\`, r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		out = append(out, b.String())
	}
	return out
}

// errLimit marks operations refused for their cost or shape: like validation failures, they
// are request errors, refused before execution.
const errLimit = "OPERATION_LIMIT_EXCEEDED"

func init() {
	errcode.RegisterErrorType(errLimit, errcode.KindProtocol)
	// gqlgen leaves its own complexity refusal unregistered, which makes it a user error:
	// 200 with "data": null, and a websocket "next" instead of "error".
	errcode.RegisterErrorType(errComplexityLimit, errcode.KindProtocol)
}

// errComplexityLimit is the code extension.ComplexityLimit sets (unexported there).
const errComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED"

func limitError(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, errLimit)
	return err
}

// noIntrospection refuses __schema and __type when introspection is switched off, with a
// clear error before execution (gqlgen alone would fail inside execution).
type noIntrospection struct{}

func (noIntrospection) ExtensionName() string                   { return "NoIntrospection" }
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

func (noIntrospection) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, nil) {
		if f.Name == "__schema" || f.Name == "__type" {
			return limitError("introspection is switched off on this server")
		}
	}
	return nil
}

// pageCost is how many items a connection may return for its `first` argument; values out
// of range are refused by the resolver, so they cost what the largest page costs.
func pageCost(first *int, def int) int {
	switch {
	case first == nil:
		return def
	case *first < 1 || *first > workspace.MaxPage:
		return workspace.MaxPage
	}
	return *first
}
