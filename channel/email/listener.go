package email

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emersion/go-smtp"
)

// DefaultMaxMessageBytes is the largest message the listener takes (SIZE): 28 MiB, enough
// for 20 MB of files after base64; a larger one is refused with 552 before it is stored.
const DefaultMaxMessageBytes = 28 << 20

// Receiver is what the listener hands mail to: the domain service.
type Receiver interface {
	InboundIdentity(ctx context.Context, ch workspace.Channel, address string) (*workspace.Identity, error)
	Receive(ctx context.Context, in workspace.InboundMessage) (workspace.Received, error)
}

// Listener is the inbound SMTP server (-smtp-addr) the organisation's mail server or a
// forwarding rule delivers to. It accepts mail only for the addresses of EMAIL identities
// (others are refused at RCPT with 550) and hands each message to the domain once per
// identity it is addressed to.
type Listener struct {
	Receiver Receiver
	// Domain is the name the server greets with.
	Domain string
	// MaxMessageBytes bounds a message (default DefaultMaxMessageBytes).
	MaxMessageBytes int64
	// Timeout bounds the handling of one message once received (default 5 minutes).
	Timeout time.Duration

	mu     sync.Mutex
	server *smtp.Server
	closed bool
}

// Serve accepts SMTP connections on l until Close.
func (l *Listener) Serve(ln net.Listener) error {
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if l.Timeout <= 0 {
		l.Timeout = 5 * time.Minute
	}
	if l.Domain == "" {
		l.Domain = "agentdesk"
	}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{l: l}, nil }))
	s.Domain, s.MaxMessageBytes, s.MaxRecipients = l.Domain, l.MaxMessageBytes, 50
	s.ReadTimeout, s.WriteTimeout = 2*time.Minute, 2*time.Minute
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ln.Close()
	}
	l.server = s
	l.mu.Unlock()
	err := s.Serve(ln)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops the listener and its open sessions.
func (l *Listener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.server == nil {
		return nil
	}
	return l.server.Close()
}

// session is one SMTP conversation.
type session struct {
	l    *Listener
	from string
	to   []*workspace.Identity
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if opts != nil && opts.Size > s.l.MaxMessageBytes {
		return smtp.ErrDataTooLarge
	}
	s.from, s.to = from, nil
	return nil
}

// Rcpt accepts an address only when an EMAIL identity has it.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := s.l.Receiver.InboundIdentity(ctx, workspace.Email, to)
	switch {
	case workspace.ErrorCode(err) == workspace.ENOTFOUND:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox here"}
	case err != nil:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	for _, have := range s.to {
		if have.ID == id.ID {
			return nil
		}
	}
	s.to = append(s.to, id)
	return nil
}

// Data reads the message (go-smtp refuses one over the size with 552) and hands it to the
// domain for each identity. A failure of the store answers 451, so the sending server
// retries; the domain stores a retried message once.
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(s.to) == 0 {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "no valid recipients"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.l.Timeout)
	defer cancel()
	for _, id := range s.to {
		in := Parse(raw, id, s.from)
		if _, err := s.l.Receiver.Receive(ctx, in); err != nil {
			slog.Warn("email: message not stored", "identity", id.ID, "messageId", in.ProviderMessageID, "err", err)
			if workspace.ErrorCode(err) == workspace.EINVALID {
				return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "the message was refused: " + workspace.ErrorMessage(err)}
			}
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "the message could not be stored now; try again later"}
		}
	}
	return nil
}
