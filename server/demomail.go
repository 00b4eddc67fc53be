package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/agentdesk/agentdesk/channel/email"
	"github.com/agentdesk/agentdesk/channel/email/emailtest"
	"github.com/agentdesk/agentdesk/workspace"
)

// The demo's mailbox: with -demo, an EMAIL identity support@agentdesk.localhost that a
// newcomer mails through the SMTP listener (-smtp-addr; the demo listens on
// 127.0.0.1:2525 when no address is given and the port is free), and whose replies go to a
// mail catcher in this process (a go-smtp server on a loopback port), which keeps them.

// DemoEmailAddress is the demo identity's address.
const DemoEmailAddress = "support@agentdesk.localhost"

// DemoSMTPAddr is where -demo runs the SMTP listener when -smtp-addr is not given.
const DemoSMTPAddr = "127.0.0.1:2525"

const demoEmailIdentityID = "7a9f2e3c-4d5e-4f60-8b12-c3d4e5f6a7b8"

// startDemoMail starts the catcher and points the demo identity's sending at it.
func (m *Main) startDemoMail(ctx context.Context) (*emailtest.Sink, error) {
	sink, err := emailtest.Listen("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	plans, err := m.Store.Plans(ctx)
	if err != nil || len(plans) == 0 {
		sink.Close()
		return nil, fmt.Errorf("the demo plans are missing: %w", err)
	}
	planID := plans[0].ID
	for _, pl := range plans {
		if pl.Name == "Support" {
			planID = pl.ID
		}
	}
	if _, err := m.demoIdentity(ctx, demoEmailIdentityID, workspace.Email, DemoEmailAddress, "Acme Support (email)", email.ProviderName, planID,
		func(s map[string]string) error {
			s["host"], s["port"], s["tls"] = sink.Host(), sink.Port(), "none"
			return nil
		}); err != nil {
		sink.Close()
		return nil, err
	}
	return sink, nil
}

// demoSMTPListener is the listener -demo opens when -smtp-addr is not given: nil (and a log
// line) when the port is taken.
func demoSMTPListener() net.Listener {
	ln, err := net.Listen("tcp", DemoSMTPAddr)
	if err != nil {
		slog.Warn("demo: no SMTP listener on "+DemoSMTPAddr+"; give -smtp-addr", "err", err)
		return nil
	}
	return ln
}
