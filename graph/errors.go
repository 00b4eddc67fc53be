package graph

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/agentdesk/agentdesk/graph/model"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// ErrorPresenter gives every error an extensions.code from the domain's codes. Domain
// errors keep their code and message; gqlgen's parse, validation and limit errors become
// INVALID (their own code stays in extensions.reason); anything else is INTERNAL, logged
// here and shown without its text. Messages and path names are cut to an Excerpt, since
// gqlparser quotes names and values from the query, however long.
func ErrorPresenter(ctx context.Context, err error) *gqlerror.Error {
	gerr := present(ctx, err)
	gerr.Message = Excerpt(gerr.Message)
	if len(gerr.Path) > 0 {
		path := make(ast.Path, len(gerr.Path))
		for i, el := range gerr.Path {
			if name, ok := el.(ast.PathName); ok {
				el = ast.PathName(Excerpt(string(name)))
			}
			path[i] = el
		}
		gerr.Path = path
	}
	return gerr
}

// MaxExcerpt is the most characters of an error message a response carries.
const MaxExcerpt = 200

// Excerpt returns s if it has at most MaxExcerpt characters, else its beginning ending in
// "…" and MaxExcerpt characters long.
func Excerpt(s string) string {
	if len(s) <= MaxExcerpt {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxExcerpt-1 {
			return strings.ToValidUTF8(s[:i], "") + "…"
		}
		n++
	}
	return s
}

func present(ctx context.Context, err error) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	var derr *workspace.Error
	if errors.As(err, &derr) {
		gerr.Message = derr.Message
		setCode(gerr, derr.Code)
		return gerr
	}
	if code, ok := gerr.Extensions["code"].(string); ok {
		switch code {
		case workspace.EUNAUTHENTICATED, workspace.EFORBIDDEN, workspace.ENOTFOUND,
			workspace.ECONFLICT, workspace.EINVALID, workspace.EINTERNAL:
		default:
			gerr.Extensions["reason"] = code
			setCode(gerr, workspace.EINVALID)
		}
		return gerr
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		gerr.Message = "the request was cancelled or timed out"
		setCode(gerr, workspace.EINTERNAL)
		return gerr
	}
	var plain *gqlerror.Error
	if errors.As(err, &plain) && plain.Err == nil && len(plain.Path) == 0 {
		// A gqlgen error with no code and no path is about the request (a bad variable, an
		// unknown operation name): the caller can fix it.
		setCode(gerr, workspace.EINVALID)
		return gerr
	}
	slog.ErrorContext(ctx, "internal error", "path", gerr.Path.String(), "err", err)
	gerr.Message = workspace.ErrorMessage(err)
	setCode(gerr, workspace.EINTERNAL)
	return gerr
}

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}

// userErrors splits a mutation's error: expected, user-fixable outcomes become userErrors
// (and a nil error); faults stay top-level errors.
func userErrors(err error) ([]*model.UserError, error) {
	if err == nil {
		return []*model.UserError{}, nil
	}
	if !workspace.IsUserError(err) {
		return nil, err
	}
	var derr *workspace.Error
	errors.As(err, &derr)
	return []*model.UserError{{Code: derr.Code, Message: derr.Message, Field: derr.Field}}, nil
}

// retryAfterSeconds is the wait an error asks for in whole seconds, nil when it asks none.
func retryAfterSeconds(err error) *int {
	wait := workspace.RetryAfter(err)
	if wait <= 0 {
		return nil
	}
	s := int((wait + time.Second - 1) / time.Second)
	return &s
}
