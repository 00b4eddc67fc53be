package graph

import (
	"context"

	"github.com/agentdesk/agentdesk/graph/model"
	"github.com/agentdesk/agentdesk/workspace"
)

// interactionPayload wraps the result of an operation on an interaction.
func interactionPayload(ix *workspace.Interaction, err error) (*model.InteractionPayload, error) {
	uerrs, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	if len(uerrs) > 0 {
		ix = nil
	}
	return &model.InteractionPayload{Interaction: ix, UserErrors: uerrs}, nil
}

// party is nil for the empty party.
func party(p workspace.Party) *workspace.Party {
	if p == "" {
		return nil
	}
	return &p
}

func pageInfo(p workspace.PageInfo, cursors []string) *model.PageInfo {
	out := &model.PageInfo{HasNextPage: p.HasNextPage, HasPreviousPage: p.HasPreviousPage}
	if len(cursors) > 0 {
		out.StartCursor, out.EndCursor = &cursors[0], &cursors[len(cursors)-1]
	}
	return out
}

// transcript is a page of an interaction's messages as a connection.
func (r *Resolver) transcript(ctx context.Context, ix *workspace.Interaction, first *int, after *string) (*model.MessageConnection, error) {
	page, err := r.Service.Transcript(ctx, ix, first, after)
	if err != nil {
		return nil, err
	}
	conn := &model.MessageConnection{Edges: make([]*model.MessageEdge, len(page.Items)), PageInfo: pageInfo(page.PageInfo, page.Cursors), TotalCount: page.Total}
	for i, m := range page.Items {
		conn.Edges[i] = &model.MessageEdge{Cursor: page.Cursors[i], Node: m}
	}
	return conn, nil
}

// limitWebchat applies the webchat flood limits, if the server set any.
func (r *Resolver) limitWebchat(ctx context.Context) error {
	if r.WebchatLimit == nil {
		return nil
	}
	return r.WebchatLimit(ctx)
}

// optional is nil for a zero value, else a pointer to it: GraphQL's null for "not set".
func optional[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// deref is the value of an optional input, or the zero value when it is absent.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
