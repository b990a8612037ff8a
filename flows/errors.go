package flows

import (
	"errors"
	"fmt"
)

// Code classifies an error for the user-facing answer and for logs.
type Code string

// Error codes.
const (
	CodeInvalid   Code = "invalid"
	CodeNotFound  Code = "not_found"
	CodeForbidden Code = "forbidden"
	CodeConflict  Code = "conflict"
	CodeInternal  Code = "internal"
)

// Error is a user-safe error: a code and a catalog key with arguments. The
// engine turns it into a reply in exactly one place (call.fail, engine.go).
type Error struct {
	Code Code
	Key  string
	Args []any
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s %v", e.Code, e.Key, e.Args) }

// Errorf builds a user-safe error.
func Errorf(code Code, key string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: args}
}

// ErrorCode returns the code of err, CodeInternal for anything not an *Error.
func ErrorCode(err error) Code {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return CodeInternal
}
