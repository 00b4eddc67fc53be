package providersim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// maxRequest bounds a send request's body.
const maxRequest = 1 << 20

// Handler serves the three providers' send endpoints, and the files of inbound messages
// (see File):
//
//	POST /v1/messages                                  Vonage Messages API
//	POST /2010-04-01/Accounts/{sid}/Messages.json      Twilio
//	POST /{version}/{phoneNumberId}/messages           WhatsApp Cloud API
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/messages", s.vonageSend)
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Messages.json", s.twilioSend)
	mux.HandleFunc("POST /{version}/{phoneNumberId}/messages", s.whatsappSend)
	mux.HandleFunc("POST /{version}/{phoneNumberId}/media", s.whatsappUpload)
	mux.HandleFunc("GET /{version}/{mediaId}", s.whatsappMediaInfo)
	mux.HandleFunc("GET /whatsapp-media/{id}", s.whatsappMediaBytes)
	mux.HandleFunc("GET /2010-04-01/Accounts/{sid}/Messages/{msid}/Media/{id}", s.twilioMedia)
	mux.HandleFunc("GET /twilio-cdn/{id}", s.twilioCDN)
	mux.HandleFunc("GET /v3/media/{id}", s.vonageMedia)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
	if err != nil {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	return b, true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// accept records an accepted message, answers the send, and then starts its automatic
// receipts if they are on. The message is recorded before the answer, so a sender that got
// its ID finds the message in Received.
func (s *Sim) accept(w http.ResponseWriter, m Sent, status int, answer any) {
	s.mu.Lock()
	s.sent = append(s.sent, m)
	auto := s.auto
	s.notify()
	s.mu.Unlock()
	writeJSON(w, status, "application/json", answer)
	if auto {
		s.autoReceipts(m)
	}
}

func randomBase64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// ---- Vonage ----

// vonageProblem is the RFC 7807 body of a refused Vonage request.
func vonageProblem(w http.ResponseWriter, status int, code, title, detail string, extra map[string]any) {
	body := map[string]any{
		"type":     "https://developer.vonage.com/api-errors/messages#" + code,
		"title":    title,
		"detail":   detail,
		"instance": uuid.NewString(),
	}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, status, "application/problem+json", body)
}

type vonageMessage struct {
	To          string             `json:"to"`
	From        string             `json:"from"`
	Channel     string             `json:"channel"`
	MessageType string             `json:"message_type"`
	Text        string             `json:"text"`
	ClientRef   string             `json:"client_ref"`
	Image       *vonageMediaObject `json:"image"`
	Video       *vonageMediaObject `json:"video"`
	Audio       *vonageMediaObject `json:"audio"`
	File        *vonageMediaObject `json:"file"`
	Template    *struct {
		Name       string   `json:"name"`
		Parameters []string `json:"parameters"`
	} `json:"template"`
	WhatsApp *struct {
		Policy string `json:"policy"`
		Locale string `json:"locale"`
	} `json:"whatsapp"`
	Failover []vonageMessage `json:"failover"`
}

// vonageApp checks the application JWT: RS256, signed by the application's key when the sim
// knows it, with application_id, iat, jti and an exp still ahead.
func (s *Sim) vonageApp(r *http.Request) (*VonageApp, string) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, "no bearer token"
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		return nil, "the token does not parse"
	}
	appID, _ := claims["application_id"].(string)
	s.mu.Lock()
	app := s.vonage[appID]
	s.mu.Unlock()
	if app == nil {
		return nil, "unknown application_id"
	}
	now := s.now()
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithLeeway(time.Minute))
	if app.PublicKey != nil {
		if _, err := parser.ParseWithClaims(token, jwt.MapClaims{}, func(*jwt.Token) (any, error) { return app.PublicKey, nil }); err != nil {
			return nil, "bad token: " + err.Error()
		}
	} else {
		tok, _, _ := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
		if tok.Method.Alg() != "RS256" {
			return nil, "the token is not RS256"
		}
		if exp, err := claims.GetExpirationTime(); err != nil || exp == nil || exp.Before(now.Add(-time.Minute)) {
			return nil, "the token has no exp ahead"
		}
	}
	if _, ok := claims["jti"].(string); !ok {
		return nil, "the token has no jti"
	}
	if iat, err := claims.GetIssuedAt(); err != nil || iat == nil {
		return nil, "the token has no iat"
	}
	return app, ""
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// vonageCheck validates one message of a send the way §2.4 describes it.
func vonageCheck(m *vonageMessage) (param, reason string) {
	switch {
	case !allDigits(m.To):
		return "to", "must be a number without + or 00, starting with the country code"
	case m.From == "":
		return "from", "is required"
	case m.Channel != "sms" && m.Channel != "rcs" && m.Channel != "whatsapp" && m.Channel != "mms":
		return "channel", "is not one of sms, mms, rcs, whatsapp"
	case m.Channel == "mms" && m.MessageType == "text":
		return "message_type", "mms carries files: send text with channel sms"
	}
	switch m.MessageType {
	case "text":
		if m.Text == "" {
			return "text", "is required"
		}
	case "template":
		if m.Channel != "whatsapp" || m.Template == nil || m.Template.Name == "" || m.WhatsApp == nil || m.WhatsApp.Locale == "" {
			return "template", "needs channel whatsapp, template.name and whatsapp.locale"
		}
	case "image", "video", "audio", "file":
		if m.Channel == "sms" {
			return "message_type", "sms carries text only: send files with channel mms"
		}
	default:
		return "message_type", "is not supported by the simulator"
	}
	return "", ""
}

func (s *Sim) vonageSend(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	app, why := s.vonageApp(r)
	var m vonageMessage
	_ = json.Unmarshal(body, &m)
	switch s.fault(m.To) {
	case ServerError:
		vonageProblem(w, http.StatusInternalServerError, "1030", "Internal error", "There was an error processing your request in the Platform.", nil)
		return
	case Hang:
		s.hang(r.Context())
		return
	case RateLimited:
		vonageProblem(w, http.StatusTooManyRequests, "1000", "Throttled", "You have exceeded the submission capacity allowed on this account. Please wait and retry", nil)
		return
	case InvalidNumber:
		vonageProblem(w, http.StatusUnprocessableEntity, "1020", "Invalid params", "The value of one or more parameters is invalid.",
			map[string]any{"invalid_parameters": []map[string]string{{"name": "to", "reason": "Invalid number"}}})
		return
	}
	if app == nil {
		vonageProblem(w, http.StatusUnauthorized, "unauthorized", "Unauthorized", "You did not provide correct credentials: "+why, nil)
		return
	}
	if err := json.Unmarshal(body, &m); err != nil {
		vonageProblem(w, http.StatusBadRequest, "1010", "Missing params", "The body is not JSON.", nil)
		return
	}
	for _, mm := range append([]vonageMessage{m}, m.Failover...) {
		if p, reason := vonageCheck(&mm); p != "" {
			vonageProblem(w, http.StatusUnprocessableEntity, "1020", "Invalid params", "The value of one or more parameters is invalid.",
				map[string]any{"invalid_parameters": []map[string]string{{"name": p, "reason": reason}}})
			return
		}
	}
	sent := Sent{Provider: Vonage, ID: uuid.NewString(), Account: app.ApplicationID, Channel: m.Channel,
		From: m.From, To: m.To, MessageType: m.MessageType, Text: m.Text, Ref: m.ClientRef,
		ContentType: r.Header.Get("Content-Type"), Body: body, At: s.now()}
	if m.MessageType != "text" && m.MessageType != "template" {
		f, why := s.vonageFile(r.Context(), &m)
		if why != "" {
			vonageProblem(w, http.StatusUnprocessableEntity, "1020", "Invalid params", "The value of one or more parameters is invalid.",
				map[string]any{"invalid_parameters": []map[string]string{{"name": m.MessageType, "reason": why}}})
			return
		}
		sent.Files = []File{f}
		if obj := map[string]*vonageMediaObject{"image": m.Image, "video": m.Video, "file": m.File}[m.MessageType]; obj != nil {
			sent.Text = obj.Caption
		}
	}
	if m.Template != nil {
		sent.Template = &Template{Name: m.Template.Name, Parameters: m.Template.Parameters}
		if m.WhatsApp != nil {
			sent.Template.Language = m.WhatsApp.Locale
		}
	}
	for _, f := range m.Failover {
		sent.Failover = append(sent.Failover, Failover{Channel: f.Channel, From: f.From, To: f.To,
			MessageType: f.MessageType, Text: f.Text, ClientRef: f.ClientRef})
	}
	s.accept(w, sent, http.StatusAccepted, map[string]string{"message_uuid": sent.ID})
}

// ---- Twilio ----

func twilioError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, "application/json", map[string]any{
		"code":      code,
		"message":   message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}

func (s *Sim) twilioSend(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	form, _ := url.ParseQuery(string(body))
	switch s.fault(form.Get("To")) {
	case ServerError:
		twilioError(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	case Hang:
		s.hang(r.Context())
		return
	case RateLimited:
		twilioError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
		return
	case InvalidNumber:
		twilioError(w, http.StatusBadRequest, 21211, fmt.Sprintf("Invalid 'To' Phone Number: %s", form.Get("To")))
		return
	}
	sid := r.PathValue("sid")
	s.mu.Lock()
	acct := s.twilio[sid]
	s.mu.Unlock()
	user, pass, hasAuth := r.BasicAuth()
	if acct == nil || !hasAuth || user != sid ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(acct.AuthToken)) != 1 {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	to, from, text := form.Get("To"), form.Get("From"), form.Get("Body")
	switch {
	case !strings.HasPrefix(to, "+") || !allDigits(to[1:]):
		twilioError(w, http.StatusBadRequest, 21211, fmt.Sprintf("Invalid 'To' Phone Number: %s", to))
		return
	case from == "":
		twilioError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case text == "" && len(form["MediaUrl"]) == 0:
		twilioError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	}
	files, code, why := s.twilioFiles(r.Context(), form["MediaUrl"])
	if code != 0 {
		twilioError(w, http.StatusBadRequest, code, why)
		return
	}
	callback := form.Get("StatusCallback")
	var ref string
	if callback != "" {
		u, err := url.Parse(callback)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			twilioError(w, http.StatusBadRequest, 21609, "Invalid StatusCallback")
			return
		}
		ref = u.Query().Get("m")
	}
	now := s.now()
	sent := Sent{Provider: Twilio, ID: "SM" + randomHex(16), Account: sid, Channel: "sms",
		From: from, To: to, MessageType: "text", Text: text, Ref: ref, StatusCallback: callback,
		Files: files, ContentType: r.Header.Get("Content-Type"), Body: body, At: now}
	if len(files) > 0 {
		sent.Channel, sent.MessageType = "mms", "media"
	}
	s.accept(w, sent, http.StatusCreated, map[string]any{
		"sid":          sent.ID,
		"account_sid":  sid,
		"to":           to,
		"from":         from,
		"body":         text,
		"status":       "queued",
		"direction":    "outbound-api",
		"api_version":  "2010-04-01",
		"num_segments": "1",
		"num_media":    strconv.Itoa(len(files)),
		"date_created": now.UTC().Format(time.RFC1123Z),
		"uri":          "/2010-04-01/Accounts/" + sid + "/Messages/" + sent.ID + ".json",
	})
}

// ---- WhatsApp Cloud API ----

func metaError(w http.ResponseWriter, status, code int, message, details string) {
	e := map[string]any{
		"message":    message,
		"type":       "OAuthException",
		"code":       code,
		"fbtrace_id": randomHex(8),
	}
	if details != "" {
		e["error_data"] = map[string]string{"messaging_product": "whatsapp", "details": details}
	}
	writeJSON(w, status, "application/json", map[string]any{"error": e})
}

type waRequest struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
	To               string `json:"to"`
	Type             string `json:"type"`
	Text             *struct {
		PreviewURL bool   `json:"preview_url"`
		Body       string `json:"body"`
	} `json:"text"`
	Image    *waMedia `json:"image"`
	Video    *waMedia `json:"video"`
	Audio    *waMedia `json:"audio"`
	Document *waMedia `json:"document"`
	Template *struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []struct {
			Type       string `json:"type"`
			Parameters []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"parameters"`
		} `json:"components"`
	} `json:"template"`
	BizOpaqueCallbackData string `json:"biz_opaque_callback_data"`
}

// WindowClosedDetails is the details of error 131047 (§1.5).
const WindowClosedDetails = "Message failed to send because more than 24 hours have passed since the customer last replied to this number."

func (s *Sim) whatsappSend(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var m waRequest
	jsonErr := json.Unmarshal(body, &m)
	switch s.fault(m.To) {
	case ServerError:
		metaError(w, http.StatusInternalServerError, 131000, "(#131000) Something went wrong", "Something went wrong")
		return
	case Hang:
		s.hang(r.Context())
		return
	case RateLimited:
		metaError(w, http.StatusTooManyRequests, 130429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached.")
		return
	case InvalidNumber:
		metaError(w, http.StatusBadRequest, 131026, "(#131026) Message undeliverable", "Message Undeliverable.")
		return
	}
	pnid := r.PathValue("phoneNumberId")
	s.mu.Lock()
	num := s.whatsapp[pnid]
	closed := s.closed[digits(m.To)]
	s.mu.Unlock()
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if num == nil || !strings.EqualFold(scheme, "Bearer") ||
		subtle.ConstantTimeCompare([]byte(token), []byte(num.AccessToken)) != 1 {
		metaError(w, http.StatusUnauthorized, 190, "Invalid OAuth access token - Cannot parse access token", "")
		return
	}
	if jsonErr != nil || m.MessagingProduct != "whatsapp" || m.To == "" {
		metaError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter", "messaging_product must be whatsapp and to is required")
		return
	}
	sent := Sent{Provider: WhatsApp, ID: "wamid." + randomBase64(30),
		Account: pnid, Channel: "whatsapp", From: num.DisplayPhoneNumber, To: m.To, MessageType: m.Type,
		Ref: m.BizOpaqueCallbackData, ContentType: r.Header.Get("Content-Type"), Body: body, At: s.now()}
	switch m.Type {
	case "text":
		if m.Text == nil || m.Text.Body == "" {
			metaError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter", "text.body is required")
			return
		}
		if len([]rune(m.Text.Body)) > 4096 {
			metaError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter", "text.body is longer than 4096 characters")
			return
		}
		if closed {
			metaError(w, http.StatusBadRequest, 131047, "(#131047) Re-engagement message", WindowClosedDetails)
			return
		}
		sent.Text = m.Text.Body
	case "template":
		if m.Template == nil || m.Template.Name == "" || m.Template.Language.Code == "" {
			metaError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter", "template.name and template.language.code are required")
			return
		}
		t := &Template{Name: m.Template.Name, Language: m.Template.Language.Code}
		for _, c := range m.Template.Components {
			if c.Type == "body" {
				for _, p := range c.Parameters {
					t.Parameters = append(t.Parameters, p.Text)
				}
			}
		}
		sent.Template = t
	case "image", "video", "audio", "document":
		if closed {
			metaError(w, http.StatusBadRequest, 131047, "(#131047) Re-engagement message", WindowClosedDetails)
			return
		}
		media := map[string]*waMedia{"image": m.Image, "video": m.Video, "audio": m.Audio, "document": m.Document}[m.Type]
		f, why := s.whatsappFile(r.Context(), pnid, m.Type, media)
		if why != "" {
			metaError(w, http.StatusBadRequest, 131053, "(#131053) Media upload error", why)
			return
		}
		sent.Files, sent.Text = []File{f}, media.Caption
	default:
		metaError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter", "type is not supported by the simulator")
		return
	}
	s.accept(w, sent, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": m.To, "wa_id": digits(m.To)}},
		"messages":          []map[string]string{{"id": sent.ID}},
	})
}
