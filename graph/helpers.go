package graph

import (
	"context"
	"errors"

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

// capacities turns capacity inputs into the domain's map; nil when none were given.
func capacities(in []*model.ChannelCapacityInput) map[workspace.Channel]int {
	if in == nil {
		return nil
	}
	out := make(map[workspace.Channel]int, len(in))
	for _, c := range in {
		out[c.Channel] = c.Max
	}
	return out
}

// inputErrors is userErrors for operations where NOT_FOUND of a named input (an unknown
// plan or draft attachment) and CONFLICT are the caller's to fix and so are userErrors too:
// the admin operations and sending with attachments.
func inputErrors(err error) ([]*model.UserError, error) {
	var derr *workspace.Error
	if errors.As(err, &derr) && (derr.Code == workspace.ECONFLICT || (derr.Code == workspace.ENOTFOUND && len(derr.Field) > 0)) {
		return []*model.UserError{{Code: derr.Code, Message: derr.Message, Field: derr.Field}}, nil
	}
	return userErrors(err)
}

func agentPayload(a *workspace.Agent, err error) (*model.AgentPayload, error) {
	uerrs, err := inputErrors(err)
	if len(uerrs) > 0 {
		a = nil
	}
	return &model.AgentPayload{Agent: a, UserErrors: uerrs}, err
}

// planPayload carries the plan as written, or on CONFLICT the current plan.
func planPayload(p *workspace.Plan, err error) (*model.PlanPayload, error) {
	uerrs, err := inputErrors(err)
	if len(uerrs) > 0 && uerrs[0].Code != workspace.ECONFLICT {
		p = nil
	}
	return &model.PlanPayload{Plan: p, UserErrors: uerrs}, err
}

// planChange turns a plan input into the domain's change.
func planChange(in model.PlanInput) workspace.PlanChange {
	c := workspace.PlanChange{PlanID: deref(in.PlanID), Name: in.Name, DispositionRequired: in.DispositionRequired,
		WrapSeconds: in.WrapSeconds, OfferTimeoutSeconds: in.OfferTimeoutSeconds, AutoAccept: in.AutoAccept,
		AutoParkSeconds: in.AutoParkSeconds, ParkedTimeoutSeconds: in.ParkedTimeoutSeconds, PostParkingPlanID: in.PostParkingPlanID,
		DispositionAssist: in.DispositionAssist, SummaryAssist: in.SummaryAssist}
	if in.Version != nil {
		v := int64(*in.Version)
		c.Version = &v
	}
	if in.Channels != nil {
		c.Channels = &in.Channels
	}
	if in.DispositionCodes != nil {
		codes := make([]workspace.DispositionCode, len(in.DispositionCodes))
		for i, d := range in.DispositionCodes {
			codes[i] = workspace.DispositionCode{Code: d.Code, Label: d.Label}
		}
		c.DispositionCodes = &codes
	}
	return c
}
