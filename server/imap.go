package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/agentdesk/agentdesk/channel/email"
)

// runIMAP keeps one IMAP poller running per email identity with an imap setting, looking
// for added, changed and removed ones every -imap-rescan. On MongoDB every node polls: the
// domain stores a message fetched twice once, and the cursor's writes are version-guarded.
func (m *Main) runIMAP(ctx context.Context) {
	type running struct {
		key    string
		cancel context.CancelFunc
		done   chan struct{}
	}
	pollers := map[string]*running{}
	defer func() {
		for _, r := range pollers {
			r.cancel()
			<-r.done
		}
	}()
	for {
		ids, err := m.Service.PolledIdentities(ctx)
		if err != nil && ctx.Err() == nil {
			slog.Warn("imap: identities not read", "err", err)
		}
		seen := map[string]bool{}
		for _, id := range ids {
			seen[id.ID] = true
			key, _ := json.Marshal(id.Settings)
			if r := pollers[id.ID]; r != nil {
				if r.key == string(key) {
					continue
				}
				r.cancel()
				<-r.done
			}
			pctx, cancel := context.WithCancel(ctx)
			r := &running{key: string(key), cancel: cancel, done: make(chan struct{})}
			pollers[id.ID] = r
			p := &email.Poller{Mailboxes: m.Service, Identity: id, Backoff: m.Config.IMAPBackoff, Poll: m.Config.IMAPPoll}
			go func() { defer close(r.done); p.Run(pctx) }()
		}
		for id, r := range pollers {
			if !seen[id] && err == nil {
				r.cancel()
				<-r.done
				delete(pollers, id)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(m.Config.IMAPRescan):
		}
	}
}
