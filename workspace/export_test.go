package workspace

import "context"

// PasswordChecks is how many bcrypt comparisons ran so far in this process.
func PasswordChecks() int64 { return passwordChecks.Load() }

// FileLink is fileLink, for tests that need a valid link to any file (a draft's, too).
func (s *Service) FileLink(ctx context.Context, a *Attachment) (string, error) {
	return s.fileLink(ctx, a)
}
