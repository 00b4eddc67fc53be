package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/agentdesk/agentdesk/channel/internal/wire"
	"github.com/agentdesk/agentdesk/workspace"
)

// apiError is the JSON body of a refused request.
type apiError struct {
	Code    wire.Flex `json:"code"`
	Message wire.Flex `json:"message"`
}

// form is the request Send makes for out: an SMS, or with media links an MMS, whose files
// Twilio fetches from the links (one MediaUrl each, up to 10).
func form(out workspace.Outgoing, text string, links []string, statusCallback string) url.Values {
	f := url.Values{}
	f.Set("To", wire.E164(out.To))
	f.Set("From", wire.E164(out.Identity.Address))
	if text != "" || len(links) == 0 {
		f.Set("Body", text)
	}
	for _, l := range links {
		f.Add("MediaUrl", l)
	}
	if statusCallback != "" {
		f.Set("StatusCallback", CallbackURL(statusCallback, out.Message.ID))
	}
	return f
}

// CallbackURL is the StatusCallback of one message: the identity's statusCallbackUrl with
// m=<message ID> appended to its query, which Twilio signs and echoes back.
func CallbackURL(base, messageID string) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "m=" + url.QueryEscape(messageID)
}

// Send implements workspace.Sender: one POST to the Messages resource, never retried here.
func (p *Provider) Send(ctx context.Context, out workspace.Outgoing) (string, error) {
	if out.Identity == nil || out.Message == nil {
		return "", wire.Temporary("", "nothing to send")
	}
	settings, err := p.CheckSettings(out.Identity.Channel, out.Identity.Settings)
	if err != nil {
		return "", wire.Temporary("", "the identity's settings are invalid: %v", err)
	}
	text, err := wire.Body(out)
	if err != nil {
		return "", err
	}
	links, err := wire.Links("Twilio", out.Files)
	if err != nil {
		return "", err
	}
	endpoint := settings["apiUrl"] + "/2010-04-01/Accounts/" + url.PathEscape(settings["accountSid"]) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint,
		strings.NewReader(form(out, text, links, settings["statusCallbackUrl"]).Encode()))
	if err != nil {
		return "", wire.Temporary("", "building the request: %v", err)
	}
	req.SetBasicAuth(settings["accountSid"], settings["authToken"])
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	status, resp, err := wire.Do(wire.Client(p.Client, p.Timeout), req)
	if err != nil {
		return "", err
	}
	if status >= 200 && status < 300 {
		var ok struct {
			SID wire.Flex `json:"sid"`
		}
		if json.Unmarshal(resp, &ok) != nil || strings.TrimSpace(ok.SID.String()) == "" {
			return "", wire.Temporary("", "Twilio answered %d without a sid", status)
		}
		return strings.TrimSpace(ok.SID.String()), nil
	}
	var e apiError
	_ = json.Unmarshal(resp, &e)
	code := wire.Clip(e.Code.String(), 16)
	msg := e.Message.String()
	if msg == "" {
		msg = http.StatusText(status)
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "", wire.Credentials(code, status)
	case status == http.StatusNotFound:
		return "", wire.Temporary(code, "Twilio does not know the account (HTTP 404): check the identity's accountSid")
	case status == http.StatusTooManyRequests || status >= 500:
		return "", wire.Temporary(code, "Twilio answered %d: %s", status, msg)
	case status >= 400:
		return "", wire.Content(code, "Twilio refused the message: %s", msg)
	default:
		return "", wire.Temporary(code, "Twilio answered %d", status)
	}
}

// mediaOpener fetches an MMS's media (§2.5: MediaUrl{N}) with the account's basic auth, as
// Twilio requires when "Enforce HTTP Auth on Media URLs" is on (and ignores when off). Twilio
// answers with a redirect to a short-lived CDN link on another host, where Go's client drops
// the Authorization header.
func (p *Provider) mediaOpener(id *workspace.Identity) func(link string) func(context.Context) (io.ReadCloser, error) {
	return func(link string) func(context.Context) (io.ReadCloser, error) {
		return func(ctx context.Context) (io.ReadCloser, error) {
			if id == nil {
				return nil, errors.New("the identity is missing")
			}
			settings, err := p.CheckSettings(id.Channel, id.Settings)
			if err != nil {
				return nil, fmt.Errorf("the identity's settings are invalid: %v", err)
			}
			u, err := wire.MediaURL(link, settings["apiUrl"])
			if err != nil {
				return nil, err
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
			if err != nil {
				return nil, err
			}
			req.SetBasicAuth(settings["accountSid"], settings["authToken"])
			return wire.FetchMedia(wire.MediaClient(p.Client, settings["apiUrl"]), req, "Twilio")
		}
	}
}
