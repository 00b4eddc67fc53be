package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentdesk/agentdesk/clamd/clamdtest"
	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
)

// Attachments (issue 12, C2, E4, E5) over the real transports: the GraphQL multipart request
// spec in, GET /attachments/{id} out.

const uploadDoc = `mutation($f: Upload!) { uploadAttachment(input: {file: $f}) {
	attachment { id fileName contentType size url scan threat } userErrors { code message field } } }`

// pngBytes is a valid 1×1 PNG followed by n filler bytes in a tEXt-free trailer (image
// readers stop at IEND; sniffing reads the signature).
func pngBytes(n int) []byte {
	head := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
		"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
	return append(head, bytes.Repeat([]byte{0}, n)...)
}

// multipartUpload builds an upload request body per the multipart request spec, streaming
// a file of size bytes; it returns the content type, the body and its length (uploads need a
// Content-Length).
func multipartUpload(t *testing.T, name string, file io.Reader, size int) (string, io.Reader, int64) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	ops, _ := json.Marshal(map[string]any{"query": uploadDoc, "variables": map[string]any{"f": nil}})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0": ["variables.f"]}`)
	if _, err := mw.CreateFormFile("0", name); err != nil {
		t.Fatal(err)
	}
	prefix := bytes.Clone(buf.Bytes())
	_ = mw.Close()
	suffix := bytes.Clone(buf.Bytes()[len(prefix):])
	n := int64(len(prefix) + size + len(suffix))
	return mw.FormDataContentType(), io.MultiReader(bytes.NewReader(prefix), file, bytes.NewReader(suffix)), n
}

// upload posts a file with the preflight header and returns the HTTP status and the payload.
func upload(t *testing.T, m *server.Main, token, name string, file []byte) (int, map[string]any) {
	t.Helper()
	ct, body, n := multipartUpload(t, name, bytes.NewReader(file), len(file))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, m.URL()+"/query", body)
	req.ContentLength = n
	req.Header.Set("Content-Type", ct)
	req.Header.Set("GraphQL-Require-Preflight", "1")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	_ = json.Unmarshal(raw, &out)
	if len(out.Errors) > 0 || out.Data == nil {
		return res.StatusCode, map[string]any{"errors": out.Errors, "raw": string(raw)}
	}
	p, _ := out.Data["uploadAttachment"].(map[string]any)
	return res.StatusCode, p
}

// uploaded uploads a file that must be accepted and returns its attachment.
func uploaded(t *testing.T, m *server.Main, token, name string, data []byte) map[string]any {
	t.Helper()
	status, p := upload(t, m, token, name, data)
	if status != 200 || userCode(p) != "" || p["attachment"] == nil {
		t.Fatalf("upload %s: %d %v", name, status, p)
	}
	return p["attachment"].(map[string]any)
}

// fetch GETs an attachment's URL with the token and returns the response and body.
func fetch(t *testing.T, m *server.Main, token, url string) (*http.Response, []byte) {
	t.Helper()
	if strings.HasPrefix(url, "/") {
		url = m.URL() + url
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// blobFiles lists the files under a node's blob folder.
func blobFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func dataDir(m *server.Main) string { return m.Config.DataDir }

// TestAttachmentsBothWays: a webchat contact sends a file to the agent and the agent one to
// the contact; each side downloads the other's bytes unchanged, served as a download.
func TestAttachmentsBothWays(t *testing.T) {
	m := start(t)
	alice := login(t, m, "alice")
	ready(t, m, alice)
	contact, id := acceptChat(t, m, alice, "Sales", "I have a photo of the damage")

	photo := pngBytes(200 << 10)
	a := uploaded(t, m, contact, "../../damage photo.png", photo)
	if a["contentType"] != "image/png" || a["fileName"] != "damage photo.png" || a["size"] != float64(len(photo)) || a["scan"] != "UNSCANNED" {
		t.Fatalf("the contact's draft: %v", a)
	}
	sent := mutate(t, m, contact, "sendContactMessage", `mutation($a: [ID!]) { sendContactMessage(input: {text: "", attachmentIds: $a}) {
		message { id text attachments { id } } userErrors { code message } } }`, map[string]any{"a": []any{a["id"]}})
	if dig(sent, "message.attachments.0.id") != a["id"] {
		t.Fatalf("sendContactMessage: %v", sent)
	}
	r := post(t, m, alice, `query($i: ID!) { interaction(id: $i) { transcript(first: 10) { edges { node { from attachments { id fileName url contentType } } } } } }`, map[string]any{"i": id})
	var url string
	for _, e := range dig(r.Data, "interaction.transcript.edges").([]any) {
		if u, ok := dig(e, "node.attachments.0.url").(string); ok {
			url = u
		}
	}
	if url == "" {
		t.Fatalf("the agent's transcript: %+v", r)
	}
	res, body := fetch(t, m, alice, url)
	if res.StatusCode != 200 || sha256.Sum256(body) != sha256.Sum256(photo) {
		t.Fatalf("alice downloaded %d, %d bytes", res.StatusCode, len(body))
	}
	for h, want := range map[string]string{
		"Content-Type": "image/png", "X-Content-Type-Options": "nosniff",
		"Content-Disposition": `attachment; filename="damage photo.png"`,
	} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}

	doc := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("agentdesk "), 5000)...)
	b := uploaded(t, m, alice, "invoice.pdf", doc)
	reply := mutate(t, m, alice, "sendMessage", `mutation($i: ID!, $a: [ID!]) { sendMessage(input: {interactionId: $i, text: "Here is your invoice", attachmentIds: $a}) {
		message { id attachments { id url } } userErrors { code message } } }`, map[string]any{"i": id, "a": []any{b["id"]}})
	if dig(reply, "message.attachments.0.id") != b["id"] {
		t.Fatalf("sendMessage: %v", reply)
	}
	res, body = fetch(t, m, contact, dig(reply, "message.attachments.0.url").(string))
	if res.StatusCode != 200 || !bytes.Equal(body, doc) || res.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("the contact downloaded %d %q, %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(body))
	}

	t.Run("who may read", func(t *testing.T) {
		otherContact, _ := startChat(t, m, "Sales", "someone else")
		bob := login(t, m, "bob")
		admin := login(t, m, "admin")
		for _, c := range []struct {
			who, token string
			status     int
		}{
			{"supervisor", admin, 200}, {"CRM key", workspace.DemoAPIKey, 200}, {"another agent", bob, 403},
			{"another chat's contact", otherContact, 403}, {"no credential", "", 401}, {"a bad token", "ads_nope", 401},
		} {
			if res, _ := fetch(t, m, c.token, url); res.StatusCode != c.status {
				t.Errorf("%s: %d, want %d", c.who, res.StatusCode, c.status)
			}
		}
		// A draft is its uploader's alone, even for a supervisor.
		draft := uploaded(t, m, alice, "draft.png", pngBytes(10))
		if res, _ := fetch(t, m, admin, draft["url"].(string)); res.StatusCode != 403 {
			t.Errorf("a supervisor read alice's draft: %d", res.StatusCode)
		}
		if res, _ := fetch(t, m, alice, draft["url"].(string)); res.StatusCode != 200 {
			t.Errorf("alice cannot read her draft: %d", res.StatusCode)
		}
	})
	t.Run("a revoked session's link stops working", func(t *testing.T) {
		token := login(t, m, "alice")
		if res, _ := fetch(t, m, token, url); res.StatusCode != 200 {
			t.Fatalf("before logout: %d", res.StatusCode)
		}
		mutate(t, m, token, "logout", `mutation { logout }`, nil)
		if res, _ := fetch(t, m, token, url); res.StatusCode != 401 {
			t.Fatalf("after logout: %d", res.StatusCode)
		}
	})
}

// TestAttachmentRefusals: every bad upload or use of a draft gets a clear error and leaves
// nothing behind.
func TestAttachmentRefusals(t *testing.T) {
	m := start(t)
	alice, bob := login(t, m, "alice"), login(t, m, "bob")
	ready(t, m, alice)
	_, id := acceptChat(t, m, alice, "Sales", "hello")
	blobs := filepath.Join(dataDir(m), "blobs")

	t.Run("no preflight header", func(t *testing.T) {
		ct, body, n := multipartUpload(t, "a.png", bytes.NewReader(pngBytes(10)), len(pngBytes(10)))
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, m.URL()+"/query", body)
		req.ContentLength = n
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+alice)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 400 {
			t.Fatalf("a multipart request without the preflight header: %d", res.StatusCode)
		}
	})
	t.Run("no credential", func(t *testing.T) {
		if status, _ := upload(t, m, "", "a.png", pngBytes(10)); status != 401 {
			t.Fatalf("an anonymous upload: %d", status)
		}
	})
	t.Run("a CRM key cannot upload", func(t *testing.T) {
		_, p := upload(t, m, workspace.DemoAPIKey, "a.png", pngBytes(10))
		if !strings.Contains(fmt.Sprint(p), "FORBIDDEN") {
			t.Fatalf("a CRM key uploaded: %v", p)
		}
	})
	t.Run("25 MB and one byte", func(t *testing.T) {
		big := pngBytes(int(workspace.MaxAttachmentBytes) + 1 - len(pngBytes(0)))
		_, p := upload(t, m, alice, "huge.png", big)
		if userCode(p) != workspace.ETOOLARGE {
			t.Fatalf("25 MB + 1: %v", p)
		}
		exact := big[:workspace.MaxAttachmentBytes]
		uploaded(t, m, alice, "exactly-25MB.png", exact)
	})
	t.Run("an .exe renamed .png is sniffed", func(t *testing.T) {
		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 200)...)
		exe = append(exe, []byte("PE\x00\x00")...)
		_, p := upload(t, m, alice, "holiday.png", exe)
		if userCode(p) != workspace.EUNSUPPORTEDTYPE {
			t.Fatalf("an exe: %v", p)
		}
		// A real PNG named .exe is a PNG, and its name says so.
		a := uploaded(t, m, alice, "photo.exe", pngBytes(10))
		if a["contentType"] != "image/png" || a["fileName"] != "photo.exe.png" {
			t.Fatalf("a PNG named .exe: %v", a)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		if _, p := upload(t, m, alice, "empty.txt", nil); userCode(p) != workspace.EINVALID {
			t.Fatalf("an empty file: %v", p)
		}
	})
	t.Run("another agent's draft", func(t *testing.T) {
		a := uploaded(t, m, bob, "bobs.png", pngBytes(10))
		r := post(t, m, alice, `mutation($i: ID!, $a: [ID!]) { sendMessage(input: {interactionId: $i, text: "x", attachmentIds: $a}) { message { id } userErrors { code } } }`,
			map[string]any{"i": id, "a": []any{a["id"]}})
		if r.code() != workspace.EFORBIDDEN {
			t.Fatalf("alice sent bob's draft: %+v", r)
		}
	})
	t.Run("a draft goes into one message", func(t *testing.T) {
		a := uploaded(t, m, alice, "once.png", pngBytes(10))
		send := func() map[string]any {
			return mutate(t, m, alice, "sendMessage", `mutation($i: ID!, $a: [ID!]) { sendMessage(input: {interactionId: $i, text: "x", attachmentIds: $a}) { message { id } userErrors { code field } } }`,
				map[string]any{"i": id, "a": []any{a["id"]}})
		}
		ok(t, send())
		refused(t, send(), workspace.EINVALID, "attachmentIds")
	})
	t.Run("an unknown draft", func(t *testing.T) {
		refused(t, mutate(t, m, alice, "sendMessage", `mutation($i: ID!) { sendMessage(input: {interactionId: $i, text: "x", attachmentIds: ["00000000-0000-4000-8000-000000000000"]}) { message { id } userErrors { code field } } }`,
			map[string]any{"i": id}), workspace.ENOTFOUND, "attachmentIds")
	})
	t.Run("an upload cut off halfway leaves no blob", func(t *testing.T) {
		before := len(blobFiles(t, blobs))
		file := pngBytes(8 << 20)
		ct, body, n := multipartUpload(t, "cut.png", io.MultiReader(bytes.NewReader(file[:4<<20]), failing{}), len(file))
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, m.URL()+"/query", body)
		req.ContentLength = n
		req.Header.Set("Content-Type", ct)
		req.Header.Set("GraphQL-Require-Preflight", "1")
		req.Header.Set("Authorization", "Bearer "+alice)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
		if after := blobFiles(t, blobs); len(after) != before {
			t.Fatalf("blobs before %d, after %d: %v", before, len(after), after)
		}
	})
	t.Run("a body of unknown length", func(t *testing.T) {
		ct, body, _ := multipartUpload(t, "a.png", bytes.NewReader(pngBytes(10)), len(pngBytes(10)))
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, m.URL()+"/query", io.NopCloser(body))
		req.ContentLength = -1 // chunked
		req.Header.Set("Content-Type", ct)
		req.Header.Set("GraphQL-Require-Preflight", "1")
		req.Header.Set("Authorization", "Bearer "+alice)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusLengthRequired {
			t.Fatalf("a chunked upload: %d, want 411", res.StatusCode)
		}
	})
}

// failing is a reader whose client went away.
type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestAttachmentSVGIsADownload: an SVG with a script is taken (SVG is allowed) and served
// only as a sandboxed download; the browser test opens it in Chromium.
func TestAttachmentSVGIsADownload(t *testing.T) {
	m := start(t)
	alice := login(t, m, "alice")
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>document.title="pwned"</script><circle r="5"/></svg>`)
	a := uploaded(t, m, alice, "logo.svg", svg)
	res, body := fetch(t, m, alice, a["url"].(string))
	if a["contentType"] != "image/svg+xml" || res.StatusCode != 200 || !bytes.Equal(body, svg) ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("svg: %v %d %v", a, res.StatusCode, res.Header)
	}
}

// TestAttachmentEICAR: with Debian's real clamd, EICAR is blocked from the widget and from
// the agent: the upload says INFECTED and which file, its bytes are never served, and a
// message with it cannot be sent (E5). A clean file passes as CLEAN.
func TestAttachmentEICAR(t *testing.T) {
	av := clamdtest.Start(t, clamdtest.Options{})
	m := start(t, func(c *server.Config) { c.ClamdAddr = av.Addr })
	alice := login(t, m, "alice")
	ready(t, m, alice)
	contact, id := acceptChat(t, m, alice, "Sales", "see attached")
	blobs := filepath.Join(dataDir(m), "blobs")

	clean := uploaded(t, m, contact, "clean.txt", []byte("just an ordinary note\n"))
	if clean["scan"] != "CLEAN" || clean["threat"] != nil {
		t.Fatalf("a clean file: %v", clean)
	}
	for _, who := range []struct{ name, token, send string }{
		{"widget", contact, `mutation($a: [ID!]) { sendContactMessage(input: {text: "x", attachmentIds: $a}) { message { id } userErrors { code message field } } }`},
		{"agent", alice, `mutation($a: [ID!], $i: ID!) { sendMessage(input: {interactionId: $i, text: "x", attachmentIds: $a}) { message { id } userErrors { code message field } } }`},
	} {
		t.Run(who.name, func(t *testing.T) {
			before := len(blobFiles(t, blobs))
			a := uploaded(t, m, who.token, "invoice.txt", clamdtest.EICAR)
			if a["scan"] != "INFECTED" || !strings.HasPrefix(fmt.Sprint(a["threat"]), clamdtest.EICARSignature) {
				t.Fatalf("EICAR: %v", a)
			}
			if after := len(blobFiles(t, blobs)); after != before {
				t.Fatalf("an infected file's bytes were kept: %d blobs before, %d after", before, after)
			}
			if res, _ := fetch(t, m, who.token, a["url"].(string)); res.StatusCode != 403 {
				t.Fatalf("EICAR was served: %d", res.StatusCode)
			}
			field := "sendContactMessage"
			if who.name == "agent" {
				field = "sendMessage"
			}
			p := mutate(t, m, who.token, field, who.send, map[string]any{"a": []any{a["id"]}, "i": id})
			refused(t, p, workspace.EINFECTED, "attachmentIds")
			if msg := dig(p, "userErrors.0.message").(string); !strings.Contains(msg, "invoice.txt") {
				t.Fatalf("the refusal does not name the file: %q", msg)
			}
		})
	}
}

// TestUploadAuthorisation is the authorisation matrix's row for uploadAttachment, which only
// a multipart request can call: agents and webchat contacts may upload; a CRM key is
// FORBIDDEN; no credential, a bad one or a revoked one is refused before the body is read.
func TestUploadAuthorisation(t *testing.T) {
	m := start(t)
	alice := login(t, m, "alice")
	ready(t, m, alice)
	contact, _ := acceptChat(t, m, alice, "Sales", "hello")
	otherContact, _ := startChat(t, m, "Support", "another chat")
	revoked := login(t, m, "bob")
	mutate(t, m, revoked, "logout", `mutation { logout }`, nil)
	for _, c := range []struct {
		who, token, want string
	}{
		{"none", "", "401"}, {"bad_token", "ads_not-a-session", "401"}, {"revoked_token", revoked, "401"},
		{"contact", contact, "ALLOWED"}, {"other_contact", otherContact, "ALLOWED"},
		{"holder", alice, "ALLOWED"}, {"other_agent", login(t, m, "carol"), "ALLOWED"},
		{"supervisor", login(t, m, "admin"), "ALLOWED"}, {"crm_key", workspace.DemoAPIKey, "FORBIDDEN"},
	} {
		status, p := upload(t, m, c.token, "a.png", pngBytes(10))
		got := fmt.Sprint(status)
		switch {
		case status == 200 && p["attachment"] != nil:
			got = "ALLOWED"
		case status == 200 && strings.Contains(fmt.Sprint(p["errors"]), "FORBIDDEN"):
			got = "FORBIDDEN"
		}
		if got != c.want {
			t.Errorf("%s: %s (%v), want %s", c.who, got, p, c.want)
		}
	}
}
