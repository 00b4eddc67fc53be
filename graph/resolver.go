// Package graph is the GraphQL transport: gqlgen's generated executor plus thin resolvers
// that authorise through the context's principal, call the workspace service and map
// domain errors to userErrors or extensions.code.
package graph

//go:generate go tool gqlgen generate

import "github.com/agentdesk/agentdesk/workspace"

// Resolver holds what resolvers need: the domain service.
type Resolver struct {
	Service *workspace.Service
}
