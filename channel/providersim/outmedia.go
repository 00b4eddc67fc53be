package providersim

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// Outbound media: the files a business sends, as each provider takes them (channels.md
// §1.4, §2.4, §2.5):
//
//	Twilio     MediaUrl parameters (up to 10), fetched by Twilio without credentials
//	Vonage     image / video / audio / file objects with a url, fetched by Vonage
//	WhatsApp   POST /{version}/{phoneNumberId}/media (multipart), then a message naming the id
//
// The sim fetches links while it handles the send, so a link that does not work refuses the
// send (Twilio 21620, Vonage 1020), where the real providers accept and report the failure in a
// status callback later; the file the contact would get is kept in Sent.Files.

// Limits the sim enforces: Twilio's 5 MB per MMS, WhatsApp's 100 MB per upload.
const (
	maxMMSBytes    = 5 << 20
	maxUploadBytes = 100 << 20
)

// fetchLink GETs a file link without credentials, as a provider does, reading at most max
// bytes; the name is the response's Content-Disposition filename.
func (s *Sim) fetchLink(ctx context.Context, link string, max int64) (File, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
		return File{}, fmt.Errorf("%q is not an http(s) URL", link)
	}
	res, err := s.client().Do(req)
	if err != nil {
		return File{}, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return File{}, fmt.Errorf("GET %s answered %d", req.URL.Path, res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, max+1))
	if err != nil {
		return File{}, err
	}
	if int64(len(body)) > max {
		return File{}, fmt.Errorf("the file is larger than %d bytes", max)
	}
	f := File{ContentType: res.Header.Get("Content-Type"), Body: body, URL: link}
	if _, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition")); err == nil {
		f.FileName = params["filename"]
	}
	return f, nil
}

// upload is a file uploaded to WhatsApp's media edge.
type upload struct {
	account string
	file    File
}

// whatsappUpload serves POST /{version}/{phoneNumberId}/media: multipart with
// messaging_product=whatsapp, type and file; it answers {"id": …}.
func (s *Sim) whatsappUpload(w http.ResponseWriter, r *http.Request) {
	pnid := r.PathValue("phoneNumberId")
	s.mu.Lock()
	num := s.whatsapp[pnid]
	s.mu.Unlock()
	if token := bearer(r); num == nil || token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(num.AccessToken)) != 1 {
		metaError(w, http.StatusUnauthorized, 190, "Invalid OAuth access token - Cannot parse access token", "")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		metaError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter", "the body must be multipart/form-data")
		return
	}
	fields := map[string]string{}
	var f *File
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			metaError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter", "the multipart body does not parse: "+err.Error())
			return
		}
		if part.FormName() == "file" {
			body, err := io.ReadAll(io.LimitReader(part, maxUploadBytes+1))
			if err != nil || len(body) > maxUploadBytes {
				metaError(w, http.StatusBadRequest, 131053, "(#131053) Media upload error", "the file is too large or cut off")
				return
			}
			f = &File{ContentType: part.Header.Get("Content-Type"), FileName: part.FileName(), Body: body}
			continue
		}
		v, _ := io.ReadAll(io.LimitReader(part, 1024))
		fields[part.FormName()] = string(v)
	}
	switch {
	case fields["messaging_product"] != "whatsapp":
		metaError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter", "messaging_product must be whatsapp")
		return
	case f == nil || len(f.Body) == 0:
		metaError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter", "file is required")
		return
	case fields["type"] == "":
		metaError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter", "type is required")
		return
	}
	f.ContentType = fields["type"]
	id := randomDigits(16)
	s.mu.Lock()
	if s.uploads == nil {
		s.uploads = map[string]*upload{}
	}
	s.uploads[id] = &upload{account: pnid, file: *f}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, "application/json", map[string]string{"id": id})
}

// uploaded is the file uploaded under id on the number pnid.
func (s *Sim) uploaded(pnid, id string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.uploads[id]
	if u == nil || u.account != pnid {
		return File{}, false
	}
	f := u.file
	f.ID = id
	return f, true
}

// Uploads is how many files were uploaded to WhatsApp's media edge.
func (s *Sim) Uploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uploads)
}

// waMedia is an image, video, audio or document of a WhatsApp message: an uploaded id or a
// link, with a caption and (documents) a filename.
type waMedia struct {
	ID       string `json:"id"`
	Link     string `json:"link"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

// whatsappFile resolves the media of a WhatsApp message to the file the contact gets.
func (s *Sim) whatsappFile(ctx context.Context, pnid, kind string, m *waMedia) (File, string) {
	if m == nil || (m.ID == "") == (m.Link == "") {
		return File{}, kind + " needs exactly one of id and link"
	}
	if kind == "audio" && m.Caption != "" {
		return File{}, "audio takes no caption"
	}
	if len([]rune(m.Caption)) > 1024 {
		return File{}, "the caption is longer than 1024 characters"
	}
	var f File
	if m.ID != "" {
		var ok bool
		if f, ok = s.uploaded(pnid, m.ID); !ok {
			return File{}, "no media has the id " + m.ID
		}
	} else {
		var err error
		if f, err = s.fetchLink(ctx, m.Link, maxUploadBytes); err != nil {
			return File{}, "the link could not be fetched: " + err.Error()
		}
	}
	if kind == "image" && f.ContentType != "image/jpeg" && f.ContentType != "image/png" {
		return File{}, "an image must be JPEG or PNG, not " + f.ContentType
	}
	if m.Filename != "" {
		f.FileName = m.Filename
	}
	f.Kind = kind
	return f, ""
}

// vonageMediaObject is the url object of a Vonage image, video, audio or file message.
type vonageMediaObject struct {
	URL     string `json:"url"`
	Caption string `json:"caption"`
	Name    string `json:"name"`
}

// vonageFile fetches the file of a Vonage media message.
func (s *Sim) vonageFile(ctx context.Context, m *vonageMessage) (File, string) {
	obj := map[string]*vonageMediaObject{"image": m.Image, "video": m.Video, "audio": m.Audio, "file": m.File}[m.MessageType]
	if obj == nil || obj.URL == "" {
		return File{}, m.MessageType + ".url is required"
	}
	max := int64(maxUploadBytes)
	if m.Channel == "mms" {
		max = maxMMSBytes
	}
	f, err := s.fetchLink(ctx, obj.URL, max)
	if err != nil {
		return File{}, m.MessageType + ".url could not be fetched: " + err.Error()
	}
	if obj.Name != "" {
		f.FileName = obj.Name
	}
	f.Kind = m.MessageType
	return f, ""
}

// twilioFiles fetches an MMS's MediaUrl links: at most 10, 5 MB in all.
func (s *Sim) twilioFiles(ctx context.Context, links []string) ([]File, int, string) {
	if len(links) > 10 {
		return nil, 21623, "Number of media files exceeds allowed limit"
	}
	var files []File
	var total int64
	for _, l := range links {
		f, err := s.fetchLink(ctx, l, maxMMSBytes)
		if err != nil {
			return nil, 21620, "Invalid media URL(s): " + err.Error()
		}
		if total += int64(len(f.Body)); total > maxMMSBytes {
			return nil, 21620, "Invalid media URL(s): the files are larger than 5 MB in all"
		}
		files = append(files, f)
	}
	return files, 0, ""
}
