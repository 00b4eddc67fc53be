package providersim

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Inbound media: the files contacts send (Inbound.Files) are kept in memory and served the
// way each provider serves them, credentials checked as the real APIs check them (401
// without):
//
//	GET /{version}/{mediaId}                                  WhatsApp: the file's url, as JSON (bearer token)
//	GET /whatsapp-media/{id}                                   WhatsApp: the bytes (the same bearer token)
//	GET /2010-04-01/Accounts/{sid}/Messages/{msid}/Media/{id}  Twilio (basic auth): a redirect to a CDN link
//	GET /twilio-cdn/{id}?t=…                                   Twilio's CDN: the bytes, on another host name
//	GET /v3/media/{id}                                         Vonage (application JWT, "Secure Inbound Media")
//
// Twilio's CDN is served on the other of 127.0.0.1 and localhost than BaseURL names, so
// that the redirect crosses hosts as Twilio's does; the sim counts the credentials that
// reach it (MediaLeaks), which must stay at zero.

// File is one file a contact sends with an inbound message.
type File struct {
	// Kind is the message type: image, video, audio, sticker, document (WhatsApp), file
	// (Vonage). Empty: by ContentType (image/…, video/…, audio/…), else document or file.
	Kind        string
	ContentType string
	// FileName is a WhatsApp document's filename or a Vonage file's name.
	FileName string
	Body     []byte
	// ID and URL are where the file is served (a WhatsApp media ID; a Twilio or Vonage URL).
	// The Sim's inbound methods fill them in; the payload builders use them as given.
	ID, URL string
}

func (f File) kind(provider string) string {
	if f.Kind != "" {
		return f.Kind
	}
	switch k, _, _ := strings.Cut(f.ContentType, "/"); k {
	case "image", "video", "audio":
		return k
	}
	if provider == WhatsApp {
		return "document"
	}
	return "file"
}

type storedMedia struct {
	provider, account string
	contentType       string
	body              []byte
	cdnToken          string
}

// MediaFault makes the next n media requests (n <= 0: all, until ClearFaults) answer with
// the HTTP status (404, 500, …) instead of the file.
func (s *Sim) MediaFault(status, n int) {
	if n <= 0 {
		n = -1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mediaFaults = append(s.mediaFaults, &mediaFault{status: status, left: n})
}

type mediaFault struct {
	status, left int
}

// MediaFetches is how many requests for a file reached the sim's first media endpoint (the
// one that checks credentials), answered or refused.
func (s *Sim) MediaFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mediaFetches
}

// MediaLeaks is how many requests to Twilio's CDN carried an Authorization header: the
// credentials must not follow a redirect to another host.
func (s *Sim) MediaLeaks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mediaLeaks
}

// storeFiles keeps the files of an inbound message and fills in their ID and URL.
func (s *Sim) storeFiles(provider, account, messageID string, files []File) error {
	if len(files) == 0 {
		return nil
	}
	base := strings.TrimRight(s.BaseURL, "/")
	if base == "" {
		return errors.New("providersim: set BaseURL to send files")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.media == nil {
		s.media = map[string]*storedMedia{}
	}
	for i := range files {
		f := &files[i]
		if f.ID != "" || f.URL != "" {
			continue
		}
		m := &storedMedia{provider: provider, account: account, contentType: f.ContentType, body: bytes.Clone(f.Body)}
		switch provider {
		case WhatsApp:
			f.ID = randomDigits(16)
		case Twilio:
			f.ID = "ME" + randomHex(16)
			f.URL = base + "/2010-04-01/Accounts/" + account + "/Messages/" + messageID + "/Media/" + f.ID
			m.cdnToken = randomHex(16)
		case Vonage:
			f.ID = randomHex(16)
			f.URL = base + "/v3/media/" + f.ID
		}
		s.media[f.ID] = m
	}
	return nil
}

// mediaRequest counts a request for a file and finds it; it answers the request itself
// (and returns nil) when a fault applies or the file is unknown.
func (s *Sim) mediaRequest(w http.ResponseWriter, provider, id string) *storedMedia {
	s.mu.Lock()
	s.mediaFetches++
	m := s.media[id]
	status := 0
	if len(s.mediaFaults) > 0 { // the first fault applies, one use of it consumed
		f := s.mediaFaults[0]
		status = f.status
		if f.left > 0 {
			if f.left--; f.left == 0 {
				s.mediaFaults = s.mediaFaults[1:]
			}
		}
	}
	s.notify()
	s.mu.Unlock()
	if status == 0 && (m == nil || m.provider != provider) {
		status = http.StatusNotFound
	}
	if status != 0 {
		switch provider {
		case WhatsApp:
			metaError(w, status, 100, "(#100) Invalid parameter", "the media could not be served")
		case Twilio:
			twilioError(w, status, 20404, "The requested resource was not found")
		default:
			vonageProblem(w, status, "1030", "Media not available", "the media could not be served", nil)
		}
		return nil
	}
	return m
}

func serveBytes(w http.ResponseWriter, m *storedMedia) {
	ct := m.contentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.body)))
	_, _ = w.Write(m.body)
}

func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// whatsappToken reports whether the request carries the access token of the number the
// file was sent to.
func (s *Sim) whatsappToken(r *http.Request, m *storedMedia) bool {
	s.mu.Lock()
	num := s.whatsapp[m.account]
	s.mu.Unlock()
	token := bearer(r)
	return num != nil && token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(num.AccessToken)) == 1
}

// whatsappMediaInfo is GET /{version}/{mediaId} (§1.6): the file's url, mime_type, sha256
// and file_size.
func (s *Sim) whatsappMediaInfo(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("mediaId")
	m := s.mediaRequest(w, WhatsApp, id)
	if m == nil {
		return
	}
	if !s.whatsappToken(r, m) {
		metaError(w, http.StatusUnauthorized, 190, "Invalid OAuth access token - Cannot parse access token", "")
		return
	}
	sum := sha256.Sum256(m.body)
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"messaging_product": "whatsapp",
		"url":               strings.TrimRight(s.BaseURL, "/") + "/whatsapp-media/" + id + "?ext=" + randomHex(4),
		"mime_type":         m.contentType,
		"sha256":            hex.EncodeToString(sum[:]),
		"file_size":         len(m.body),
		"id":                id,
	})
}

// whatsappMediaBytes serves the bytes at the url the info gave, to the same token.
func (s *Sim) whatsappMediaBytes(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m := s.media[r.PathValue("id")]
	s.mu.Unlock()
	if m == nil || m.provider != WhatsApp {
		metaError(w, http.StatusNotFound, 100, "(#100) Invalid parameter", "unknown media")
		return
	}
	if !s.whatsappToken(r, m) {
		metaError(w, http.StatusUnauthorized, 190, "Invalid OAuth access token - Cannot parse access token", "")
		return
	}
	serveBytes(w, m)
}

// twilioMedia checks the account's basic auth and redirects to a short-lived CDN link on
// another host, as Twilio does with "Enforce HTTP Auth on Media URLs" on.
func (s *Sim) twilioMedia(w http.ResponseWriter, r *http.Request) {
	id, sid := r.PathValue("id"), r.PathValue("sid")
	m := s.mediaRequest(w, Twilio, id)
	if m == nil {
		return
	}
	s.mu.Lock()
	acct := s.twilio[sid]
	s.mu.Unlock()
	user, pass, ok := r.BasicAuth()
	if acct == nil || m.account != sid || !ok || user != sid || subtle.ConstantTimeCompare([]byte(pass), []byte(acct.AuthToken)) != 1 {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	u, err := url.Parse(strings.TrimRight(s.BaseURL, "/") + "/twilio-cdn/" + id)
	if err != nil {
		http.Error(w, "bad BaseURL", http.StatusInternalServerError)
		return
	}
	switch host, port := u.Hostname(), u.Port(); host {
	case "127.0.0.1":
		u.Host = "localhost:" + port
	case "localhost":
		u.Host = "127.0.0.1:" + port
	}
	u.RawQuery = "t=" + m.cdnToken
	http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
}

// twilioCDN serves the bytes to whoever has the link, and counts credentials that reach it.
func (s *Sim) twilioCDN(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m := s.media[r.PathValue("id")]
	if r.Header.Get("Authorization") != "" {
		s.mediaLeaks++
	}
	s.mu.Unlock()
	if m == nil || m.provider != Twilio || subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("t")), []byte(m.cdnToken)) != 1 {
		http.Error(w, "Access Denied", http.StatusForbidden)
		return
	}
	serveBytes(w, m)
}

// vonageMedia serves a file to the application's JWT, as Vonage does with "Secure Inbound
// Media" on.
func (s *Sim) vonageMedia(w http.ResponseWriter, r *http.Request) {
	m := s.mediaRequest(w, Vonage, r.PathValue("id"))
	if m == nil {
		return
	}
	app, reason := s.vonageApp(r)
	if app == nil || app.ApplicationID != m.account {
		if reason == "" {
			reason = "the token is another application's"
		}
		vonageProblem(w, http.StatusUnauthorized, "unauthorized", "Unauthorized", reason, nil)
		return
	}
	serveBytes(w, m)
}

// randomDigits is a numeric ID, as Meta's media IDs are.
func randomDigits(n int) string {
	b := []byte(randomHex(n))
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b[:n])
}
