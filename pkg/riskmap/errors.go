// Package riskmap is the domain of the urban safety risk register: risk identification
// units, categories, grades, assessments, regions, users, and the interfaces the adapters
// (stores, index, HTTP) implement or use. It imports only the standard library and
// geometry types.
package riskmap

import (
	"errors"
	"fmt"
	"strings"
)

// Application error codes. They are mapped to transport status codes only at the edge.
const (
	EINVALID      = "invalid"      // the client's input is wrong
	ENOTFOUND     = "not_found"    // no such object (or the caller may not know it exists)
	ECONFLICT     = "conflict"     // the object exists already or a unique value is taken
	EPRECONDITION = "precondition" // a stale version was named (If-Match)
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // authenticated but not allowed
	ETOOLARGE     = "too_large"    // the request body or result is over a limit
	EUNAVAILABLE  = "unavailable"  // the store or index is not ready
	EINTERNAL     = "internal"     // anything else; never shown in detail
)

// FieldError names one field of the input and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one coded application error.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an application error, EINTERNAL for any other error and ""
// for nil.
func ErrorCode(err error) string {
	code, _ := clientError(err)
	return code
}

// ErrorMessage returns the message of an application error; other errors read
// "internal error" so that no internal detail leaks.
func ErrorMessage(err error) string {
	_, message := clientError(err)
	return message
}

// clientError returns what a client is told of err: the code and message of an
// application error, EINTERNAL and "internal error" for any other error.
func clientError(err error) (code, message string) {
	if err == nil {
		return "", ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.Message
	}
	return EINTERNAL, "internal error"
}

// ErrorFields returns the per-field problems of a validation error.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Problems collects field errors during validation.
type Problems []FieldError

// Add records a problem with a field.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when there are no problems, or an EINVALID error listing them.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	msg := p[0].Field + ": " + p[0].Message
	if len(p) > 1 {
		msg = fmt.Sprintf("%s (and %d more problems)", msg, len(p)-1)
	}
	return &Error{Code: EINVALID, Message: msg, Fields: append([]FieldError(nil), p...)}
}
