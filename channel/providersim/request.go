package providersim

import (
	"io"
	"net/http"
	"time"

	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/workspace"
)

// AsWebhook turns a webhook request (one the builders made) into what the server hands an
// adapter: its body read, its full URL, route and identity. A nil-bodied request has an
// empty body.
func AsWebhook(r *http.Request, route string, id *workspace.Identity, now time.Time) (channel.WebhookRequest, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return channel.WebhookRequest{}, err
		}
		body = b
	}
	return channel.WebhookRequest{
		Method:   r.Method,
		Route:    route,
		URL:      r.URL.String(),
		Header:   r.Header,
		Query:    r.URL.Query(),
		Body:     body,
		Identity: id,
		Now:      now,
	}, nil
}
