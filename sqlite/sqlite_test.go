package sqlite_test

import (
	"testing"

	"github.com/agentdesk/agentdesk/sqlite"
	"github.com/agentdesk/agentdesk/storetest"
	"github.com/agentdesk/agentdesk/workspace"
)

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() workspace.Store {
		dir := t.TempDir()
		var open []*sqlite.Store
		t.Cleanup(func() {
			for _, s := range open {
				s.Close()
			}
		})
		return func() workspace.Store {
			s, err := sqlite.Open(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			open = append(open, s)
			return s
		}
	})
}

// TestMigrationsIdempotent opens the same folder twice: the second open applies nothing.
func TestMigrationsIdempotent(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 2; i++ {
		s, err := sqlite.Open(t.Context(), dir)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}
