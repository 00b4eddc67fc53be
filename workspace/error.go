package workspace

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. The first six are faults a transport reports as top-level errors; the rest
// are expected, user-fixable outcomes that mutations report as user errors.
const (
	EUNAUTHENTICATED = "UNAUTHENTICATED"
	EFORBIDDEN       = "FORBIDDEN"
	ENOTFOUND        = "NOT_FOUND"
	ECONFLICT        = "CONFLICT"
	EINVALID         = "INVALID"
	EINTERNAL        = "INTERNAL"

	EINVALIDCREDENTIALS = "INVALID_CREDENTIALS"
	EWRONGSTATE         = "WRONG_STATE"
	// EASSISTOFF refuses an Agent Assist feature the plan has switched off (W4).
	EASSISTOFF = "ASSIST_OFF"
)

// Error is a domain error with a machine-readable code and a message a person can read.
type Error struct {
	Code    string
	Message string
	// Field names the input field at fault, if any.
	Field []string
	// RetryAfter, when set, is how long to wait before trying again (TOO_MANY_ATTEMPTS).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, INTERNAL for errors that are not *Error, "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the message of err, hiding the text of internal errors.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "Internal error."
	}
}

// RetryAfter is how long err says to wait before trying again, 0 if it does not say.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// IsUserError reports whether err is an expected outcome a mutation reports in its
// userErrors rather than as a top-level error.
func IsUserError(err error) bool {
	switch ErrorCode(err) {
	case "", EUNAUTHENTICATED, EFORBIDDEN, ENOTFOUND, ECONFLICT, EINTERNAL:
		return false
	}
	return true
}
