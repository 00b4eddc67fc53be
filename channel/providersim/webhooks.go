package providersim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Inbound is one message a contact sends to an identity.
type Inbound struct {
	// ID is the provider's message ID; one is made up when empty.
	ID string
	// From is the contact's number, E.164 ("+447700900123").
	From string
	// To is the identity's number (Vonage and Twilio).
	To string
	// Channel is Vonage's channel: sms (the default), rcs or whatsapp.
	Channel string
	// Name is the contact's WhatsApp profile name.
	Name string
	Text string
	// MediaType makes a media message instead of a text: image, video, audio, file (Vonage),
	// document (WhatsApp); MediaURL is its URL (Vonage, Twilio) and Caption its caption.
	MediaType string
	MediaURL  string
	Caption   string
	// Files are the files the contact sends, instead of MediaType and MediaURL: the Sim's
	// inbound methods keep their bytes and serve them (see File). WhatsApp and Vonage carry
	// one file a message (the first); Twilio up to ten.
	Files []File
	// At is when the contact sent it; the sim's clock when zero.
	At time.Time
}

// Status is one delivery status of a message, in the provider's own words.
type Status struct {
	// ID is the provider's message ID.
	ID string
	// Status: Vonage submitted/delivered/read/rejected/undeliverable; Twilio
	// queued/sent/delivered/read/undelivered/failed; WhatsApp sent/delivered/read/failed.
	Status string
	// From and To are the message's (the identity's number, the contact's).
	From, To string
	// Channel is Vonage's channel (sms, rcs, whatsapp).
	Channel string
	// Ref is the sender's reference: Vonage client_ref, WhatsApp biz_opaque_callback_data.
	Ref string
	// ErrorCode, ErrorTitle and ErrorDetail describe a failure.
	ErrorCode   string
	ErrorTitle  string
	ErrorDetail string
	At          time.Time
}

// ---- Vonage (channels.md §2.1–2.3) ----

func vonageTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// VonageInboundPayload is the flat JSON of an inbound message (§2.1).
func VonageInboundPayload(in Inbound) []byte {
	ch := in.Channel
	if ch == "" {
		ch = "sms"
	}
	m := map[string]any{
		"channel":      ch,
		"message_uuid": in.ID,
		"to":           digits(in.To),
		"from":         digits(in.From),
		"timestamp":    vonageTime(in.At),
	}
	if len(in.Files) > 0 {
		f := in.Files[0]
		kind := f.kind(Vonage)
		m["message_type"] = kind
		media := map[string]string{"url": f.URL}
		if in.Caption != "" {
			media["caption"] = in.Caption
		}
		if f.FileName != "" {
			media["name"] = f.FileName
		}
		m[kind] = media
	} else if in.MediaType == "" {
		m["message_type"] = "text"
		m["text"] = in.Text
	} else {
		m["message_type"] = in.MediaType
		media := map[string]string{"url": in.MediaURL}
		if in.Caption != "" {
			media["caption"] = in.Caption
		}
		m[in.MediaType] = media
	}
	switch ch {
	case "sms":
		m["sms"] = map[string]string{"num_messages": "1", "count_total": "1"}
		m["usage"] = map[string]string{"price": "0.0057", "currency": "EUR"}
	case "whatsapp":
		m["profile"] = map[string]string{"name": in.Name}
		m["context_status"] = "none"
	}
	b, _ := json.Marshal(m)
	return b
}

// vonageErrorTitles are titles of Messages API error codes
// (https://developer.vonage.com/api-errors/messages).
var vonageErrorTitles = map[string]string{
	"1000": "Throttled", "1010": "Missing params", "1020": "Invalid params", "1030": "Internal error",
	"1040": "Invalid message", "1050": "Number barred", "1070": "Partner quota exceeded", "1100": "Communication Failed",
}

// VonageStatusPayload is the JSON of a status webhook (§2.2).
func VonageStatusPayload(st Status) []byte {
	m := map[string]any{
		"message_uuid": st.ID,
		"to":           digits(st.To),
		"from":         digits(st.From),
		"timestamp":    vonageTime(st.At),
		"status":       st.Status,
		"channel":      st.Channel,
	}
	if st.Ref != "" {
		m["client_ref"] = st.Ref
	}
	if st.Channel == "sms" && st.Status == "submitted" {
		m["usage"] = map[string]string{"currency": "EUR", "price": "0.0333"}
	}
	if st.Status == "rejected" || st.Status == "undeliverable" || st.ErrorCode != "" {
		title := st.ErrorTitle
		if title == "" {
			title = vonageErrorTitles[st.ErrorCode]
		}
		e := map[string]any{
			"type":     "https://developer.nexmo.com/api-errors/messages-olympus",
			"title":    title,
			"detail":   st.ErrorDetail,
			"instance": uuid.NewString(),
		}
		if st.ErrorCode != "" {
			e["type"] = "https://developer.nexmo.com/api-errors/messages-olympus#" + st.ErrorCode
		}
		m["error"] = e
	}
	b, _ := json.Marshal(m)
	return b
}

// VonageToken is the webhook JWT (§2.3): HS256 with the signature secret, iat, a jti,
// iss "Vonage" and payload_hash, the hex SHA-256 of the body.
func VonageToken(secret string, body []byte, iat time.Time) (string, error) {
	return vonageToken(secret, body, iat, nil)
}

func vonageToken(secret string, body []byte, iat time.Time, extra jwt.MapClaims) (string, error) {
	sum := sha256.Sum256(body)
	claims := jwt.MapClaims{
		"iat":          iat.Unix(),
		"jti":          uuid.NewString(),
		"iss":          "Vonage",
		"payload_hash": hex.EncodeToString(sum[:]),
	}
	for k, v := range extra {
		claims[k] = v
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
}

// VonageRequest is a signed Vonage webhook POST of body to url.
func VonageRequest(url, secret string, body []byte, iat time.Time) (*http.Request, error) {
	token, err := VonageToken(secret, body, iat)
	if err != nil {
		return nil, err
	}
	return vonageRequest(url, token, body)
}

func vonageRequest(url, token string, body []byte) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return req, nil
}

func (s *Sim) vonageWebhook(ctx context.Context, app *VonageApp, url string, body []byte) (int, error) {
	if url == "" {
		return 0, errors.New("providersim: the Vonage application has no webhook URL for this")
	}
	token, err := vonageToken(app.SignatureSecret, body, s.now(), jwt.MapClaims{
		"api_key": app.APIKey, "application_id": app.ApplicationID})
	if err != nil {
		return 0, err
	}
	req, err := vonageRequest(url, token, body)
	if err != nil {
		return 0, err
	}
	return s.post(ctx, req)
}

// VonageInbound posts a signed inbound webhook from a contact to the application's
// InboundURL and returns the HTTP status it got.
func (s *Sim) VonageInbound(ctx context.Context, applicationID string, in Inbound) (int, error) {
	s.mu.Lock()
	app := s.vonage[applicationID]
	s.mu.Unlock()
	if app == nil {
		return 0, fmt.Errorf("providersim: no Vonage application %q", applicationID)
	}
	s.fill(&in, func() string { return uuid.NewString() })
	in.Files = slices.Clone(in.Files) // their IDs and URLs are filled in: the caller's stay as they were
	if err := s.storeFiles(Vonage, applicationID, in.ID, in.Files); err != nil {
		return 0, err
	}
	return s.vonageWebhook(ctx, app, app.InboundURL, VonageInboundPayload(in))
}

// ---- Twilio (channels.md §2.5) ----

// TwilioInboundParams are the form parameters of an inbound SMS webhook.
func TwilioInboundParams(accountSID string, in Inbound) url.Values {
	v := url.Values{}
	v.Set("MessageSid", in.ID)
	v.Set("SmsMessageSid", in.ID)
	v.Set("SmsSid", in.ID)
	v.Set("AccountSid", accountSID)
	v.Set("From", in.From)
	v.Set("To", in.To)
	v.Set("Body", in.Text)
	v.Set("NumSegments", "1")
	v.Set("SmsStatus", "received")
	v.Set("ApiVersion", "2010-04-01")
	if len(in.Files) > 0 {
		v.Set("NumMedia", strconv.Itoa(len(in.Files)))
		for i, f := range in.Files {
			v.Set("MediaUrl"+strconv.Itoa(i), f.URL)
			v.Set("MediaContentType"+strconv.Itoa(i), f.ContentType)
		}
	} else if in.MediaType != "" {
		v.Set("NumMedia", "1")
		v.Set("MediaUrl0", in.MediaURL)
		ct := in.MediaType
		if !strings.Contains(ct, "/") {
			ct += "/jpeg"
		}
		v.Set("MediaContentType0", ct)
	} else {
		v.Set("NumMedia", "0")
	}
	return v
}

// TwilioStatusParams are the form parameters of a status callback.
func TwilioStatusParams(accountSID string, st Status) url.Values {
	v := url.Values{}
	v.Set("MessageSid", st.ID)
	v.Set("SmsSid", st.ID)
	v.Set("MessageStatus", st.Status)
	v.Set("SmsStatus", st.Status)
	v.Set("AccountSid", accountSID)
	v.Set("From", st.From)
	v.Set("To", st.To)
	v.Set("ApiVersion", "2010-04-01")
	if st.ErrorCode != "" {
		v.Set("ErrorCode", st.ErrorCode)
	}
	return v
}

// TwilioSignature is X-Twilio-Signature (§2.5): base64(HMAC-SHA1(auth token, the full URL
// followed by each parameter's name and value, sorted by name)).
func TwilioSignature(authToken, fullURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// TwilioRequest is a signed Twilio webhook POST of params to fullURL.
func TwilioRequest(fullURL, authToken string, params url.Values) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, fullURL, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", TwilioSignature(authToken, fullURL, params))
	return req, nil
}

// TwilioInbound posts a signed inbound SMS webhook to the account's InboundURL.
func (s *Sim) TwilioInbound(ctx context.Context, accountSID string, in Inbound) (int, error) {
	s.mu.Lock()
	acct := s.twilio[accountSID]
	s.mu.Unlock()
	if acct == nil || acct.InboundURL == "" {
		return 0, fmt.Errorf("providersim: no Twilio account %q with an inbound URL", accountSID)
	}
	s.fill(&in, func() string { return "SM" + randomHex(16) })
	in.Files = slices.Clone(in.Files) // their IDs and URLs are filled in: the caller's stay as they were
	if err := s.storeFiles(Twilio, accountSID, in.ID, in.Files); err != nil {
		return 0, err
	}
	req, err := TwilioRequest(acct.InboundURL, acct.AuthToken, TwilioInboundParams(accountSID, in))
	if err != nil {
		return 0, err
	}
	return s.post(ctx, req)
}

// ---- WhatsApp Cloud API (channels.md §1.1–1.3) ----

func waEnvelope(n WhatsAppNumber, value map[string]any) []byte {
	value["messaging_product"] = "whatsapp"
	value["metadata"] = map[string]string{"display_phone_number": digits(n.DisplayPhoneNumber), "phone_number_id": n.PhoneNumberID}
	env := map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id":      n.WABAID,
			"changes": []any{map[string]any{"value": value, "field": "messages"}},
		}},
	}
	b, _ := json.Marshal(env)
	return escapeNonASCII(b)
}

// escapeNonASCII writes every non-ASCII character as \uXXXX, as Meta renders the payloads it
// signs (§1.3): a receiver that re-marshals instead of hashing the raw bytes fails.
func escapeNonASCII(b []byte) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r < utf8.RuneSelf {
			out.WriteByte(b[0])
		} else if r > 0xFFFF {
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		} else {
			fmt.Fprintf(&out, `\u%04x`, r)
		}
		b = b[size:]
	}
	return out.Bytes()
}

// WhatsAppInboundPayload is the webhook of one inbound message to number (§1.1).
func WhatsAppInboundPayload(n WhatsAppNumber, in Inbound) []byte {
	msg := map[string]any{
		"from":      digits(in.From),
		"id":        in.ID,
		"timestamp": strconv.FormatInt(in.At.Unix(), 10),
	}
	if len(in.Files) > 0 {
		f := in.Files[0]
		kind := f.kind(WhatsApp)
		sum := sha256.Sum256(f.Body)
		msg["type"] = kind
		media := map[string]string{"id": f.ID, "mime_type": f.ContentType, "sha256": hex.EncodeToString(sum[:])}
		if in.Caption != "" {
			media["caption"] = in.Caption
		}
		if kind == "document" && f.FileName != "" {
			media["filename"] = f.FileName
		}
		msg[kind] = media
	} else if in.MediaType == "" {
		msg["type"] = "text"
		msg["text"] = map[string]string{"body": in.Text}
	} else {
		msg["type"] = in.MediaType
		media := map[string]string{"id": randomHex(8), "mime_type": "image/jpeg", "sha256": randomHex(32)}
		if in.Caption != "" {
			media["caption"] = in.Caption
		}
		msg[in.MediaType] = media
	}
	return waEnvelope(n, map[string]any{
		"contacts": []any{map[string]any{"profile": map[string]string{"name": in.Name}, "wa_id": digits(in.From)}},
		"messages": []any{msg},
	})
}

// whatsAppErrorTitles are titles of Cloud API error codes.
var whatsAppErrorTitles = map[string]string{
	"131047": "Re-engagement message", "131026": "Message undeliverable", "131000": "Something went wrong",
	"130429": "Rate limit hit", "131016": "Service unavailable",
}

// WhatsAppStatusPayload is the webhook of one status of a message sent from number (§1.2).
func WhatsAppStatusPayload(n WhatsAppNumber, st Status) []byte {
	status := map[string]any{
		"id":           st.ID,
		"status":       st.Status,
		"timestamp":    strconv.FormatInt(st.At.Unix(), 10),
		"recipient_id": digits(st.To),
	}
	if st.Ref != "" {
		status["biz_opaque_callback_data"] = st.Ref
	}
	if st.Status == "failed" || st.ErrorCode != "" {
		code, _ := strconv.Atoi(st.ErrorCode)
		title := st.ErrorTitle
		if title == "" {
			title = whatsAppErrorTitles[st.ErrorCode]
		}
		detail := st.ErrorDetail
		if detail == "" && st.ErrorCode == "131047" {
			detail = WindowClosedDetails
		}
		status["errors"] = []any{map[string]any{
			"code": code, "title": title, "message": title,
			"error_data": map[string]string{"details": detail},
		}}
	}
	return waEnvelope(n, map[string]any{"statuses": []any{status}})
}

// WhatsAppSignature is X-Hub-Signature-256: "sha256=" and the hex HMAC-SHA256 of the body
// keyed with the app secret.
func WhatsAppSignature(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// WhatsAppRequest is a signed WhatsApp webhook POST of body to url.
func WhatsAppRequest(url, appSecret string, body []byte) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", WhatsAppSignature(appSecret, body))
	return req, nil
}

// WhatsAppInbound posts a signed inbound message webhook for number's app, and opens the
// contact's 24-hour window.
func (s *Sim) WhatsAppInbound(ctx context.Context, phoneNumberID string, in Inbound) (int, error) {
	s.mu.Lock()
	num := s.whatsapp[phoneNumberID]
	s.mu.Unlock()
	if num == nil || num.WebhookURL == "" {
		return 0, fmt.Errorf("providersim: no WhatsApp number %q with a webhook URL", phoneNumberID)
	}
	s.fill(&in, func() string { return "wamid." + randomBase64(30) })
	in.Files = slices.Clone(in.Files) // their IDs and URLs are filled in: the caller's stay as they were
	if err := s.storeFiles(WhatsApp, phoneNumberID, in.ID, in.Files); err != nil {
		return 0, err
	}
	s.OpenWindow(in.From)
	req, err := WhatsAppRequest(num.WebhookURL, num.AppSecret, WhatsAppInboundPayload(*num, in))
	if err != nil {
		return 0, err
	}
	return s.post(ctx, req)
}

// ---- posting ----

func (s *Sim) fill(in *Inbound, id func() string) {
	if in.ID == "" {
		in.ID = id()
	}
	if in.At.IsZero() {
		in.At = s.now()
	}
}

func (s *Sim) post(ctx context.Context, req *http.Request) (int, error) {
	resp, err := s.client().Do(req.WithContext(ctx))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// Receipt posts one signed status webhook for a message the sim accepted, as its provider
// would: status is the provider's own word (see Status), errorCode the provider's code for a
// failure ("" for none). It returns the webhook's HTTP status.
func (s *Sim) Receipt(ctx context.Context, providerMessageID, status, errorCode string) (int, error) {
	s.mu.Lock()
	var m *Sent
	for i := range s.sent {
		if s.sent[i].ID == providerMessageID {
			m = &s.sent[i]
			break
		}
	}
	var sent Sent
	if m != nil {
		sent = *m
	}
	s.mu.Unlock()
	if m == nil {
		return 0, fmt.Errorf("providersim: no message %q", providerMessageID)
	}
	return s.receipt(ctx, sent, Status{ID: sent.ID, Status: status, From: sent.From, To: sent.To,
		Channel: sent.Channel, Ref: sent.Ref, ErrorCode: errorCode})
}

func (s *Sim) receipt(ctx context.Context, m Sent, st Status) (code int, err error) {
	if st.At.IsZero() {
		st.At = s.now()
	}
	defer func() {
		s.mu.Lock()
		s.receipts = append(s.receipts, ReceiptResult{Provider: m.Provider, ID: st.ID, Status: st.Status, HTTPStatus: code, Err: err})
		s.notify()
		s.mu.Unlock()
	}()
	s.mu.Lock()
	vapp, tacct, wnum := s.vonage[m.Account], s.twilio[m.Account], s.whatsapp[m.Account]
	s.mu.Unlock()
	switch m.Provider {
	case Vonage:
		if vapp == nil {
			return 0, errors.New("providersim: unknown Vonage application")
		}
		return s.vonageWebhook(ctx, vapp, vapp.StatusURL, VonageStatusPayload(st))
	case Twilio:
		if tacct == nil || m.StatusCallback == "" {
			return 0, errors.New("providersim: the Twilio send had no StatusCallback")
		}
		req, err := TwilioRequest(m.StatusCallback, tacct.AuthToken, TwilioStatusParams(m.Account, st))
		if err != nil {
			return 0, err
		}
		return s.post(ctx, req)
	case WhatsApp:
		if wnum == nil || wnum.WebhookURL == "" {
			return 0, errors.New("providersim: the WhatsApp number has no webhook URL")
		}
		req, err := WhatsAppRequest(wnum.WebhookURL, wnum.AppSecret, WhatsAppStatusPayload(*wnum, st))
		if err != nil {
			return 0, err
		}
		return s.post(ctx, req)
	}
	return 0, fmt.Errorf("providersim: unknown provider %q", m.Provider)
}

// autoReceipts posts a send's usual status sequence in the background.
func (s *Sim) autoReceipts(m Sent) {
	type step struct {
		sent Sent
		st   Status
	}
	st := func(m Sent, status string) step {
		return step{m, Status{ID: m.ID, Status: status, From: m.From, To: m.To, Channel: m.Channel, Ref: m.Ref}}
	}
	var steps []step
	s.mu.Lock()
	noRCS := s.noRCS[digits(m.To)]
	s.mu.Unlock()
	switch m.Provider {
	case Vonage:
		if m.Channel == "rcs" && noRCS && len(m.Failover) > 0 {
			rej := st(m, "rejected")
			rej.st.ErrorDetail = "The recipient's device cannot receive RCS"
			f := m.Failover[0]
			sms := Sent{Provider: Vonage, ID: uuid.NewString(), Account: m.Account, Channel: f.Channel,
				From: f.From, To: f.To, Ref: f.ClientRef}
			steps = []step{st(m, "submitted"), rej, st(sms, "submitted"), st(sms, "delivered")}
			break
		}
		steps = []step{st(m, "submitted"), st(m, "delivered")}
		if m.Channel == "whatsapp" || m.Channel == "rcs" {
			steps = append(steps, st(m, "read"))
		}
	case Twilio:
		if m.StatusCallback == "" {
			return
		}
		steps = []step{st(m, "sent"), st(m, "delivered")}
	case WhatsApp:
		steps = []step{st(m, "sent"), st(m, "delivered"), st(m, "read")}
	}
	select {
	case <-s.done:
		return
	default:
	}
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-s.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		for _, stp := range steps {
			if ctx.Err() != nil {
				return
			}
			_, _ = s.receipt(ctx, stp.sent, stp.st)
		}
	}()
}
