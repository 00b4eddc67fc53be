// Package webchat is the webchat channel on the channel port: the visitor's token, the
// contact's operations (start a chat, write, end it) and the widget's endpoints. Every rule
// is the domain's: a visitor's message enters through workspace.Service.Receive like any
// provider's webhook, and ending follows C4 there.
package webchat

import (
	"context"
	"crypto/rand"
	"io/fs"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// Prefix marks webchat contact tokens. A token is the prefix, the chat's ID, a dot and a
// secret; only its hash is stored, on the interaction itself.
const Prefix = "adc_"

// maxNameChars bounds a visitor's name.
const maxNameChars = 100

// Channel is webchat on one node's domain service.
type Channel struct {
	svc *workspace.Service
}

// New returns the webchat channel and registers its tokens with the service, so the
// service authenticates visitors.
func New(svc *workspace.Service) *Channel {
	c := &Channel{svc: svc}
	svc.ContactTokens = append(svc.ContactTokens, c)
	return c
}

// ParseContactToken implements workspace.ContactTokens.
func (*Channel) ParseContactToken(bearer string) (string, bool) {
	if !strings.HasPrefix(bearer, Prefix) {
		return "", false
	}
	id, _, ok := strings.Cut(strings.TrimPrefix(bearer, Prefix), ".")
	return id, ok
}

// Start is what a visitor sends to open a chat.
type Start struct {
	Name   string
	PlanID string
	Text   string
}

// Start opens a chat for an anonymous visitor: a new QUEUED interaction with the visitor's
// first message, routed at once. It returns the contact's token, shown only here.
func (c *Channel) Start(ctx context.Context, in Start) (string, *workspace.Interaction, error) {
	in, err := check(c.svc, in)
	if err != nil {
		return "", nil, err
	}
	plan, err := c.svc.PlanFor(ctx, in.PlanID, workspace.Webchat, "planId")
	if err != nil {
		return "", nil, err
	}
	// Each chat is a visitor of its own, so the message always opens a new interaction, under
	// the ID its token names.
	id := uuid.NewString()
	token := Prefix + id + "." + rand.Text()
	visitor := "visitor-" + strings.ToLower(rand.Text()[:8])
	r, err := c.svc.Receive(ctx, workspace.InboundMessage{Channel: workspace.Webchat, PlanID: plan.ID, From: visitor,
		Name: in.Name, Text: in.Text, ContactTokenHash: workspace.HashToken(token), NewID: id})
	if err != nil {
		return "", nil, err
	}
	if r.Interaction.ID != id {
		return "", nil, workspace.Errorf(workspace.EINTERNAL, "the chat was opened under another ID")
	}
	return token, r.Interaction, nil
}

// check returns what a visitor sent, normalised, or INVALID: a blank or too long message, a
// too long name, a plan ID that is not a UUID. A name that shows nothing is no name.
func check(svc interface{ CheckText(string) (string, error) }, in Start) (Start, error) {
	text, err := svc.CheckText(in.Text)
	if err != nil {
		return in, err
	}
	name := workspace.NormaliseName(in.Name)
	if workspace.IsBlank(name) {
		name = ""
	}
	if utf8.RuneCountInString(name) > maxNameChars {
		return in, &workspace.Error{Code: workspace.EINVALID, Message: "the name is limited to 100 characters", Field: []string{"name"}}
	}
	if in.PlanID != "" && uuid.Validate(in.PlanID) != nil {
		return in, &workspace.Error{Code: workspace.EINVALID, Message: "not a valid plan ID: IDs are UUIDs", Field: []string{"planId"}}
	}
	return Start{Name: name, PlanID: in.PlanID, Text: text}, nil
}

// Send appends the visitor's message to their chat, while it has not ended. It restarts the
// auto-park countdown of an ACTIVE chat and wakes a PARKED one (K2, K4).
func (c *Channel) Send(ctx context.Context, text string, attachmentIDs ...string) (*workspace.Message, error) {
	if _, err := workspace.RequireContact(ctx); err != nil {
		return nil, err
	}
	if len(attachmentIDs) == 0 || !workspace.IsBlank(text) {
		var err error
		if text, err = c.svc.CheckText(text); err != nil {
			return nil, err
		}
	}
	r, err := c.svc.Receive(ctx, workspace.InboundMessage{Channel: workspace.Webchat, From: "visitor", Text: text, Continue: true, AttachmentIDs: attachmentIDs})
	return r.Message, err
}

// End ends the visitor's chat (C4).
func (c *Channel) End(ctx context.Context) (*workspace.Interaction, error) {
	return c.svc.EndByContact(ctx)
}

// Chat is the visitor's own chat.
func (c *Channel) Chat(ctx context.Context) (*workspace.Interaction, error) {
	return c.svc.ContactInteraction(ctx)
}

// AgentName is the name of the agent handling the chat, as the visitor may see it.
func (c *Channel) AgentName(ctx context.Context, ix *workspace.Interaction) (*string, error) {
	return c.svc.HolderName(ctx, ix)
}

// Routes mounts the widget: its script, which any site embeds with one script tag, and a
// demo page that shows it beside nothing else. serve writes one file of assets.
func Routes(mux *http.ServeMux, assets fs.FS, serve func(http.ResponseWriter, *http.Request, fs.FS, string)) {
	mux.HandleFunc("GET /webchat/widget.js", func(w http.ResponseWriter, r *http.Request) { serve(w, r, assets, "webchat/widget.js") })
	mux.HandleFunc("GET /webchat/demo", func(w http.ResponseWriter, r *http.Request) { serve(w, r, assets, "webchat/demo.html") })
}
