// Package graph is the GraphQL transport: gqlgen's generated executor plus thin resolvers
// that authorise through the context's principal, call the workspace service and map
// domain errors to userErrors or extensions.code.
package graph

//go:generate go tool gqlgen generate

import (
	"context"

	"github.com/agentdesk/agentdesk/channel/webchat"
	"github.com/agentdesk/agentdesk/workspace"
)

// Resolver holds what resolvers need: the domain service.
type Resolver struct {
	Service *workspace.Service
	// Webchat is the webchat channel: the visitor's operations.
	Webchat *webchat.Channel
	// WebchatLimit refuses a webchat contact's request when they (their token or their IP
	// address) send too fast; nil means no limit.
	WebchatLimit func(ctx context.Context) error
	// PublicURL prefixes the URLs of attachments ("" leaves them relative to this server).
	PublicURL string
}
