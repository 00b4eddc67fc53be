package email_test

import (
	"strings"
	"testing"

	"github.com/agentdesk/agentdesk/channel/email"
	"github.com/agentdesk/agentdesk/workspace"
)

// FuzzEmailParse feeds arbitrary bytes to the inbound parser: it never panics, always gives
// a sender and a Message-ID (so the domain can store the message: nothing is lost), the same
// bytes give the same Message-ID, and the HTML the domain would store from it has no
// executable construct (C5). The checked-in run uses the seed corpus; run it longer with
// go test ./channel/email -run '^$' -fuzz FuzzEmailParse -fuzztime 1000000x.
func FuzzEmailParse(f *testing.F) {
	f.Add([]byte(multipartMail))
	f.Add([]byte("From: pat@example.com\r\nSubject: hi\r\n\r\nhello\r\n"))
	f.Add([]byte("From: =?utf-8?B?w6k=?= <a@b.c>\r\nMessage-ID: <x@y>\r\nReferences: <a@b> <a@b> <x@y>\r\nContent-Type: text/html\r\n\r\n<img src=x onerror=alert(1)><svg onload=alert(1)>"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n\r\n"))
	f.Add([]byte("Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=F0=D2=C9=D7=C5=D4\r\n--a--"))
	f.Add([]byte{0, 1, 2, 0xff})
	f.Fuzz(func(t *testing.T, raw []byte) {
		in := email.Parse(raw, identity, "envelope@example.com")
		if strings.TrimSpace(in.From) == "" || in.Email == nil || workspace.CleanMessageID(in.Email.MessageID) == "" || in.ProviderMessageID != in.Email.MessageID {
			t.Fatalf("parse lost the sender or the Message-ID: %+v", in)
		}
		if again := email.Parse(raw, identity, "envelope@example.com"); again.Email.MessageID != in.Email.MessageID {
			t.Fatalf("the same bytes gave Message-IDs %q and %q", in.Email.MessageID, again.Email.MessageID)
		}
		if found := workspace.ExecutableConstructs(workspace.SanitiseEmailHTML(in.Email.HTML, nil)); len(found) > 0 {
			t.Fatalf("sanitised HTML keeps %v", found)
		}
	})
}
