package workspace

import (
	"context"
	"strings"
)

// Plans returns the interaction plans whose names contain search, ignoring case; the search
// is normalised as a name is.
func (s *Service) Plans(ctx context.Context, search string) ([]*Plan, error) {
	if err := RequireReader(ctx); err != nil {
		return nil, err
	}
	all, err := s.Store.Plans(ctx)
	if err != nil {
		return nil, err
	}
	search = strings.ToLower(NormaliseName(search))
	out := all[:0]
	for _, p := range all {
		if strings.Contains(strings.ToLower(p.Name), search) {
			out = append(out, p)
		}
	}
	return out, nil
}
