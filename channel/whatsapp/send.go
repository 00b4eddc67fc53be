package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"

	"github.com/agentdesk/agentdesk/channel/internal/wire"
	"github.com/agentdesk/agentdesk/workspace"
)

// request is the body of POST /{ver}/{phone-number-id}/messages (§1.4), with our message ID
// as biz_opaque_callback_data, which statuses echo.
type request struct {
	MessagingProduct      string       `json:"messaging_product"`
	RecipientType         string       `json:"recipient_type,omitempty"`
	To                    string       `json:"to"`
	Type                  string       `json:"type"`
	Text                  *textBody    `json:"text,omitempty"`
	Image                 *mediaUse    `json:"image,omitempty"`
	Video                 *mediaUse    `json:"video,omitempty"`
	Audio                 *mediaUse    `json:"audio,omitempty"`
	Document              *mediaUse    `json:"document,omitempty"`
	Template              *templateUse `json:"template,omitempty"`
	BizOpaqueCallbackData string       `json:"biz_opaque_callback_data,omitempty"`
}

// mediaUse is an uploaded file in a message (§1.4: {id}, the recommended way), with its
// caption (not for audio) and, for a document, its file name.
type mediaUse struct {
	ID       string `json:"id"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type textBody struct {
	PreviewURL bool   `json:"preview_url"`
	Body       string `json:"body"`
}

type templateUse struct {
	Name       string      `json:"name"`
	Language   language    `json:"language"`
	Components []component `json:"components,omitempty"`
}

type language struct {
	Code string `json:"code"`
}

type component struct {
	Type       string      `json:"type"`
	Parameters []parameter `json:"parameters"`
}

type parameter struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func build(out workspace.Outgoing) (*request, error) {
	r := &request{MessagingProduct: "whatsapp", To: wire.Digits(out.To), BizOpaqueCallbackData: out.Message.ID}
	if t := out.Message.Template; t != nil {
		r.Type = "template"
		r.Template = &templateUse{Name: t.Name, Language: language{Code: t.Language}}
		if len(t.Parameters) > 0 {
			c := component{Type: "body"}
			for _, p := range t.Parameters {
				c.Parameters = append(c.Parameters, parameter{Type: "text", Text: p})
			}
			r.Template.Components = []component{c}
		}
		return r, nil
	}
	text, err := wire.Text(out.Message)
	if err != nil {
		return nil, err
	}
	r.RecipientType = "individual"
	r.Type = "text"
	r.Text = &textBody{PreviewURL: false, Body: text}
	return r, nil
}

// mediaType is the message type WhatsApp sends a file as (§1.6): JPEG and PNG as images,
// MP4 and 3GPP as video, its audio formats as audio, anything else as a document.
func mediaType(contentType string) string {
	switch contentType {
	case "image/jpeg", "image/png":
		return "image"
	case "video/mp4", "video/3gpp":
		return "video"
	case "audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg":
		return "audio"
	}
	return "document"
}

// maxCaption is WhatsApp's limit on a caption (§1.4).
const maxCaption = 1024

// Send implements workspace.Sender: one POST to the phone number's messages edge, never
// retried here. A message with files uploads each file to the media edge and sends one
// message per file, the text as the first one's caption (or on its own before it when that
// file takes none); the first message's wamid names the message. A part refused after an
// earlier one was accepted fails the send, and a retry sends the earlier ones again: a
// contact may see a file twice, never miss one.
func (p *Provider) Send(ctx context.Context, out workspace.Outgoing) (string, error) {
	if out.Identity == nil || out.Message == nil {
		return "", wire.Temporary("", "nothing to send")
	}
	settings, err := p.CheckSettings(out.Identity.Channel, out.Identity.Settings)
	if err != nil {
		return "", wire.Temporary("", "the identity's settings are invalid: %v", err)
	}
	if len(out.Files) == 0 {
		body, err := build(out)
		if err != nil {
			return "", err
		}
		return p.post(ctx, settings, body)
	}
	text, err := wire.Body(out)
	if err != nil {
		return "", err
	}
	first := ""
	for _, part := range wire.Parts(text, out.Files, maxCaption, func(ct string) bool { return mediaType(ct) != "audio" }) {
		r := &request{MessagingProduct: "whatsapp", RecipientType: "individual", To: wire.Digits(out.To), BizOpaqueCallbackData: out.Message.ID}
		if part.File == nil {
			r.Type, r.Text = "text", &textBody{Body: part.Caption}
		} else {
			id, err := p.upload(ctx, settings, part.File)
			if err != nil {
				return "", err
			}
			use := &mediaUse{ID: id, Caption: part.Caption}
			switch r.Type = mediaType(part.File.ContentType); r.Type {
			case "image":
				r.Image = use
			case "video":
				r.Video = use
			case "audio":
				r.Audio = use
			default:
				use.Filename = part.File.FileName
				r.Document = use
			}
		}
		wamid, err := p.post(ctx, settings, r)
		if err != nil {
			return "", err
		}
		if first == "" {
			first = wamid
		}
	}
	return first, nil
}

// upload streams one file to POST /{version}/{phone-number-id}/media (multipart: the file,
// its type, messaging_product) and returns the media ID WhatsApp answers with.
func (p *Provider) upload(ctx context.Context, settings map[string]string, f *workspace.OutgoingFile) (string, error) {
	rc, err := f.Open(ctx)
	if err != nil {
		return "", wire.Temporary("", "reading %s: %v", f.FileName, err)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		defer rc.Close()
		err := mw.WriteField("messaging_product", "whatsapp")
		if err == nil {
			err = mw.WriteField("type", f.ContentType)
		}
		if err == nil {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": f.FileName}))
			h.Set("Content-Type", f.ContentType)
			var part io.Writer
			if part, err = mw.CreatePart(h); err == nil {
				_, err = io.Copy(part, rc)
			}
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	endpoint := settings["apiUrl"] + "/" + url.PathEscape(settings["apiVersion"]) + "/" +
		url.PathEscape(settings["phoneNumberId"]) + "/media"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, pr)
	if err != nil {
		pr.CloseWithError(err)
		return "", wire.Temporary("", "building the request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+settings["accessToken"])
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	status, resp, err := wire.Do(wire.Client(p.Client, p.Timeout), req)
	pr.CloseWithError(io.ErrClosedPipe) // the writer stops if the request ended early
	if err != nil {
		return "", err
	}
	if status >= 200 && status < 300 {
		var ok struct {
			ID wire.Flex `json:"id"`
		}
		if json.Unmarshal(resp, &ok) != nil || !mediaIDRE.MatchString(strings.TrimSpace(ok.ID.String())) {
			return "", wire.Temporary("", "WhatsApp answered the upload of %s with %d and no media ID", f.FileName, status)
		}
		return strings.TrimSpace(ok.ID.String()), nil
	}
	return "", sendError(status, resp)
}

// post sends one message to the messages edge and returns its wamid.
func (p *Provider) post(ctx context.Context, settings map[string]string, body *request) (string, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return "", wire.Temporary("", "encoding the message: %v", err)
	}
	endpoint := settings["apiUrl"] + "/" + url.PathEscape(settings["apiVersion"]) + "/" +
		url.PathEscape(settings["phoneNumberId"]) + "/messages"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(raw))
	if err != nil {
		return "", wire.Temporary("", "building the request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+settings["accessToken"])
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	status, resp, err := wire.Do(wire.Client(p.Client, p.Timeout), req)
	if err != nil {
		return "", err
	}
	if status >= 200 && status < 300 {
		var ok struct {
			Messages []struct {
				ID wire.Flex `json:"id"`
			} `json:"messages"`
		}
		if json.Unmarshal(resp, &ok) != nil || len(ok.Messages) == 0 || strings.TrimSpace(ok.Messages[0].ID.String()) == "" {
			return "", wire.Temporary("", "WhatsApp answered %d without a message ID", status)
		}
		return strings.TrimSpace(ok.Messages[0].ID.String()), nil
	}
	return "", sendError(status, resp)
}

// sendError classifies a refused request: 131047 is the closed window, 401/403 the
// credentials, 429, 5xx and Meta's temporary codes the provider's trouble, any other 4xx
// the message or its recipient.
func sendError(status int, resp []byte) error {
	var e struct {
		Error apiErr `json:"error"`
	}
	_ = json.Unmarshal(resp, &e)
	code := wire.Clip(strings.TrimSpace(e.Error.Code.String()), 16)
	msg := e.Error.Message.String()
	if d := e.Error.ErrorData.Details.String(); d != "" {
		msg = strings.TrimSpace(msg + ": " + d)
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	switch {
	case code == windowClosed:
		return e.Error.delivery()
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return wire.Credentials(code, status)
	case status == http.StatusTooManyRequests || status >= 500 || temporaryCodes[code]:
		return wire.Temporary(code, "WhatsApp answered %d: %s", status, msg)
	case status >= 400:
		return wire.Content(code, "WhatsApp refused the message: %s", msg)
	default:
		return wire.Temporary(code, "WhatsApp answered %d", status)
	}
}

// mediaIDRE is what a media ID looks like: Meta's are numeric; letters, '-' and '_' are
// allowed, never a path.
var mediaIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// mediaOpener fetches an inbound message's media (§1.6): GET /{version}/{media-id} with the
// access token answers with the file's url, which is fetched with the same token (Meta's
// media host is another than the API's: the token goes there, over https, because Meta says
// to send it there).
func (p *Provider) mediaOpener(id *workspace.Identity) func(mediaID string) func(context.Context) (io.ReadCloser, error) {
	return func(mediaID string) func(context.Context) (io.ReadCloser, error) {
		return func(ctx context.Context) (io.ReadCloser, error) {
			if id == nil {
				return nil, errors.New("the identity is missing")
			}
			settings, err := p.CheckSettings(id.Channel, id.Settings)
			if err != nil {
				return nil, fmt.Errorf("the identity's settings are invalid: %v", err)
			}
			if !mediaIDRE.MatchString(mediaID) {
				return nil, errors.New("the webhook's media ID is not one")
			}
			apiURL, token := settings["apiUrl"], settings["accessToken"]
			client := wire.MediaClient(p.Client, apiURL)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet,
				apiURL+"/"+url.PathEscape(settings["apiVersion"])+"/"+url.PathEscape(mediaID), nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Accept", "application/json")
			body, err := wire.FetchMedia(client, req, "WhatsApp")
			if err != nil {
				return nil, err
			}
			var info struct {
				URL wire.Flex `json:"url"`
			}
			err = json.NewDecoder(io.LimitReader(body, wire.MaxResponseBody)).Decode(&info)
			body.Close()
			if err != nil || strings.TrimSpace(info.URL.String()) == "" {
				return nil, errors.New("WhatsApp answered without the file's url")
			}
			u, err := wire.MediaURL(info.URL.String(), apiURL)
			if err != nil {
				return nil, err
			}
			req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+token)
			return wire.FetchMedia(client, req, "WhatsApp")
		}
	}
}
