// Package emailtest is a real SMTP server on loopback (go-smtp) that keeps what it
// receives, for tests and benchmarks of agentdesk's sending: the receiving side of the
// email channel, which in production is the organisation's mail server.
package emailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one message the sink received.
type Mail struct {
	From string
	To   []string
	Raw  []byte
	// TLS: it came over an encrypted connection.
	TLS bool
}

// Sink is an SMTP server that keeps every message. Recipients whose local part starts with
// "reject" are refused with 550, "later" with 451 (E5's content and temporary failures);
// Fail, when set, answers every RCPT.
type Sink struct {
	Addr string
	// Username and Password, when set, are required (AUTH PLAIN, allowed without TLS).
	Username, Password string

	mu       sync.Mutex
	mails    []Mail
	attempts int
	fail     *smtp.SMTPError
	server   *smtp.Server
	notify   chan struct{}
	tls      bool
}

// Start runs a sink on a free loopback port until the test ends.
func Start(t testing.TB) *Sink {
	t.Helper()
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Listen runs a sink on addr.
func Listen(addr string) (*Sink, error) { return listen(addr, nil, false) }

// StartTLS runs a sink on a free loopback port until the test ends that speaks TLS with a
// certificate of its own for 127.0.0.1, made for the test: offered with STARTTLS, or from the
// first byte when implicit (port 465's way). AUTH is then allowed only under TLS.
func StartTLS(t testing.TB, implicit bool) *Sink {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sink.test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	s, err := listen("127.0.0.1:0", cfg, implicit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func listen(addr string, cfg *tls.Config, implicit bool) (*Sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Sink{Addr: ln.Addr().String(), notify: make(chan struct{}, 1), tls: cfg != nil}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s, conn: c}, nil }))
	srv.Domain, srv.AllowInsecureAuth, srv.MaxMessageBytes = "sink.test", cfg == nil, 64<<20
	srv.TLSConfig = cfg
	if implicit {
		ln = tls.NewListener(ln, cfg)
	}
	s.server = srv
	go func() { _ = srv.Serve(ln) }()
	return s, nil
}

// Close stops the sink.
func (s *Sink) Close() error { return s.server.Close() }

// Fail makes every RCPT answer err (nil: accept again).
func (s *Sink) Fail(err *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// Mails returns what the sink has received so far.
func (s *Sink) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Attempts counts the recipients senders have named (RCPT), refused ones included.
func (s *Sink) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Received is signalled after each message.
func (s *Sink) Received() <-chan struct{} { return s.notify }

// Host and Port of the sink, for an identity's settings.
func (s *Sink) Host() string { h, _, _ := net.SplitHostPort(s.Addr); return h }
func (s *Sink) Port() string { _, p, _ := net.SplitHostPort(s.Addr); return p }

type session struct {
	s    *Sink
	conn *smtp.Conn
	from string
	to   []string
	auth bool
	// secure: the message came over TLS.
	secure bool
}

func (x *session) AuthMechanisms() []string { return []string{"PLAIN"} }

func (x *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != x.s.Username || password != x.s.Password {
			return errors.New("invalid credentials")
		}
		x.auth = true
		return nil
	}), nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.Username != "" && !x.auth {
		return smtp.ErrAuthRequired
	}
	_, x.secure = x.conn.TLSConnectionState()
	if x.s.tls && !x.secure {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "must issue a STARTTLS command first"}
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	fail := x.s.fail
	x.s.attempts++
	x.s.mu.Unlock()
	switch {
	case fail != nil:
		return fail
	case strings.HasPrefix(to, "reject"):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	case strings.HasPrefix(to, "later"):
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	x.s.mu.Lock()
	x.s.mails = append(x.s.mails, Mail{From: x.from, To: append([]string(nil), x.to...), Raw: b.Bytes(), TLS: x.secure})
	x.s.mu.Unlock()
	select {
	case x.s.notify <- struct{}{}:
	default:
	}
	return nil
}
