package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Mailboxes is what the IMAP poller needs of the domain: the identity, where the poller
// stands in its mailbox, and the entry of inbound mail.
type Mailboxes interface {
	Receiver
	MailboxCursorOf(ctx context.Context, identityID string, validity uint32) (workspace.MailboxCursor, error)
	AdvanceMailbox(ctx context.Context, identityID string, validity, uid uint32) error
}

// Poller fetches an email identity's mailbox over IMAP for organisations whose mail agentdesk
// cannot receive by SMTP. It fetches every message whose UID is above the stored cursor, in
// UID order, hands each to the domain, and moves the cursor past it only once it is stored;
// then it waits in IDLE (re-issued every IdleTimeout) for new mail. A dropped connection is
// dialled again after Backoff, and the fetch starts again from the cursor, so a message that
// arrived meanwhile is fetched and none is skipped. A changed UIDVALIDITY starts from the
// beginning (Receive recognises what it stored before by Message-ID).
type Poller struct {
	Mailboxes Mailboxes
	Identity  *workspace.Identity
	// Backoff is the wait before dialling again after a failure (default 5 s).
	Backoff time.Duration
	// IdleTimeout re-issues IDLE this often (default 25 minutes, under RFC 2177's 29).
	IdleTimeout time.Duration
	// Poll, when set, also checks the mailbox this often while idling (for servers whose IDLE
	// is unreliable); 0: IDLE alone.
	Poll time.Duration
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	if p.Backoff <= 0 {
		p.Backoff = 5 * time.Second
	}
	if p.IdleTimeout <= 0 {
		p.IdleTimeout = 25 * time.Minute
	}
	for ctx.Err() == nil {
		err := p.session(ctx)
		if ctx.Err() != nil {
			return
		}
		slog.Warn("email: imap session ended; dialling again", "identity", p.Identity.ID, "err", err, "after", p.Backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(p.Backoff):
		}
	}
}

// session is one connection: log in, select, fetch what is new, idle, repeat.
func (p *Poller) session(ctx context.Context) error {
	s, err := ParseSettings(p.Identity.Settings)
	if err != nil {
		return err
	}
	if s.IMAP == nil {
		return errors.New("the identity has no imap settings")
	}
	im := s.IMAP
	news := make(chan struct{}, 1)
	opts := &imapclient.Options{
		TLSConfig: &tls.Config{ServerName: im.Host, InsecureSkipVerify: im.InsecureSkipVerify, MinVersion: tls.VersionTLS12}, //nolint:gosec // only when the operator says so
		Dialer:    &net.Dialer{Timeout: 30 * time.Second},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				select {
				case news <- struct{}{}:
				default:
				}
			}
		}},
	}
	addr := net.JoinHostPort(im.Host, fmt.Sprint(im.Port))
	var c *imapclient.Client
	switch im.TLS {
	case TLSImplicit:
		c, err = imapclient.DialTLS(addr, opts)
	case TLSStartTLS:
		c, err = imapclient.DialStartTLS(addr, opts)
	default:
		c, err = imapclient.DialInsecure(addr, opts)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Login(im.Username, im.Password).Wait(); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	sel, err := c.Select(im.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("select %s: %w", im.Mailbox, err)
	}
	for {
		if err := p.fetchNew(ctx, c, sel.UIDValidity); err != nil {
			return err
		}
		idle, err := c.Idle()
		if err != nil {
			return fmt.Errorf("idle: %w", err)
		}
		wait := p.IdleTimeout
		if p.Poll > 0 {
			wait = min(wait, p.Poll)
		}
		select {
		case <-ctx.Done():
		case <-news:
		case <-c.Closed():
		case <-time.After(wait):
		}
		if err := idle.Close(); err != nil {
			return fmt.Errorf("idle: %w", err)
		}
		if err := idle.Wait(); err != nil {
			return fmt.Errorf("idle: %w", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// fetchNew stores, in UID order, every message above the cursor.
func (p *Poller) fetchNew(ctx context.Context, c *imapclient.Client, validity uint32) error {
	cur, err := p.Mailboxes.MailboxCursorOf(ctx, p.Identity.ID, validity)
	if err != nil {
		return err
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: imap.UID(cur.UID + 1), Stop: 0}}}}, nil).Wait()
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	uids := found.AllUIDs()
	slices.Sort(uids)
	section := &imap.FetchItemBodySection{Peek: true}
	for _, uid := range uids {
		if uint32(uid) <= cur.UID { // "n:*" names the last message even when it is below n
			continue
		}
		msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return fmt.Errorf("fetch %d: %w", uid, err)
		}
		for _, m := range msgs {
			raw := m.FindBodySection(section)
			if raw == nil {
				continue
			}
			in := Parse(raw, p.Identity, "")
			if _, err := p.Mailboxes.Receive(ctx, in); workspace.ErrorCode(err) == workspace.EINVALID {
				slog.Warn("email: imap message refused", "identity", p.Identity.ID, "uid", uid, "err", err)
			} else if err != nil {
				return fmt.Errorf("store %d: %w", uid, err) // not stored: fetched again next time
			}
		}
		if err := p.Mailboxes.AdvanceMailbox(ctx, p.Identity.ID, validity, uint32(uid)); err != nil {
			return err
		}
		cur.UID = uint32(uid)
	}
	return nil
}
