package whatsapp_test

import (
	"slices"
	"testing"

	"github.com/agentdesk/agentdesk/workspace"
)

// withoutOpen checks that every medium can be opened and returns m with Open cleared, to
// compare.
func withoutOpen(t *testing.T, m workspace.InboundMessage) workspace.InboundMessage {
	t.Helper()
	m.Media = slices.Clone(m.Media)
	for i := range m.Media {
		if m.Media[i].Open == nil {
			t.Fatalf("medium %d has no Open", i)
		}
		m.Media[i].Open = nil
	}
	return m
}
