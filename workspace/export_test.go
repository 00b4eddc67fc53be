package workspace

import "context"

// PasswordChecks is how many bcrypt comparisons ran so far in this process.
func PasswordChecks() int64 { return passwordChecks.Load() }

// FileLink is fileLink, for tests that need a valid link to any file (a draft's, too).
func (s *Service) FileLink(ctx context.Context, a *Attachment) (string, error) {
	return s.fileLink(ctx, a)
}

// CachedSessions counts the sessions the node keeps in memory (authcache.go).
func (s *Service) CachedSessions() int {
	s.sessions.mu.Lock()
	defer s.sessions.mu.Unlock()
	return len(s.sessions.entries)
}

// SweepSessions runs the session cache's sweep now, rather than when its timer fires.
func (s *Service) SweepSessions() { s.sessions.sweep() }
