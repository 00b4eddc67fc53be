package model

import (
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/agentdesk/agentdesk/workspace"
)

// MarshalTime and UnmarshalTime implement the Time scalar (bound in gqlgen.yml) as gqlgen's
// built-in one does, except that a malformed input is the caller's mistake: gqlgen's plain
// error would be reported as INTERNAL and logged on every request.
func MarshalTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

func UnmarshalTime(v any) (time.Time, error) {
	t, err := graphql.UnmarshalTime(v)
	if err != nil {
		return time.Time{}, &workspace.Error{Code: workspace.EINVALID,
			Message: "a Time must be an RFC 3339 string, such as 2026-01-31T09:30:00Z"}
	}
	return t, nil
}
