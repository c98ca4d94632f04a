// Package riskmap is the domain of the urban safety risk register: risk identification
// units, categories, grades, assessments, regions, users, and the interfaces the adapters
// (stores, index, HTTP) implement or use. It imports only the standard library and
// geometry types.
package riskmap

import (
	"errors"
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

// FieldError names one field of the input and what is wrong with it. Message is the
// message in Chinese; MessageIn renders it in another language.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// msg is the format and arguments Message was made from (nil: Message is all there is).
	msg *message
}

// FieldErrorf returns the problem of a field with a formatted message.
func FieldErrorf(field, format string, args ...any) FieldError {
	m := &message{format: format, args: args}
	return FieldError{Field: field, Message: m.in(Chinese), msg: m}
}

// MessageIn is the field's message in lang (Chinese when the catalog has no translation).
func (f FieldError) MessageIn(lang Lang) string {
	if f.msg == nil {
		return Translate(lang, f.Message)
	}
	return f.msg.in(lang)
}

// String is the field and its message, for logs and test output.
func (f FieldError) String() string { return f.Field + ": " + f.Message }

// in renders the problem's message alone (an argument of another message).
func (f FieldError) in(lang Lang) string { return f.MessageIn(lang) }

// Error is the one coded application error. Message is the message in Chinese; the edge
// renders it in the client's language with MessageIn.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// msg is the format and arguments Message was made from (nil: Message is all there is).
	msg *message
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

// MessageIn is the error's message in lang (Chinese when the catalog has no translation).
func (e *Error) MessageIn(lang Lang) string {
	if e.msg == nil {
		return Translate(lang, e.Message)
	}
	return e.msg.in(lang)
}

// FieldsIn are the error's field problems with their messages in lang.
func (e *Error) FieldsIn(lang Lang) []FieldError {
	if len(e.Fields) == 0 {
		return nil
	}
	out := make([]FieldError, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = FieldError{Field: f.Field, Message: f.MessageIn(lang)}
	}
	return out
}

// in renders the error as Error does, in lang (an argument of another message).
func (e *Error) in(lang Lang) string {
	if e == nil {
		return "<nil>"
	}
	if len(e.Fields) == 0 {
		return e.MessageIn(lang)
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.MessageIn(lang)
	}
	return e.MessageIn(lang) + " (" + strings.Join(parts, "; ") + ")"
}

// WithFields returns e with the field problems attached (a wrapping error keeps those of
// the error it wraps).
func (e *Error) WithFields(fields []FieldError) *Error {
	e.Fields = fields
	return e
}

// Errorf returns an *Error with the code and a formatted message. The format is the
// message in Chinese and the key of its translations (messages_en.go); an argument that
// is an *Error, a FieldError or MessageOf(err) is rendered in the same language.
func Errorf(code, format string, args ...any) *Error {
	m := &message{format: format, args: args}
	return &Error{Code: code, Message: m.in(Chinese), msg: m}
}

// ErrorCode returns the code of an application error, EINTERNAL for any other error and ""
// for nil.
func ErrorCode(err error) string {
	code, _ := clientError(err)
	return code
}

// ErrorMessage returns the message of an application error; other errors read
// "内部错误" (internal error) so that no internal detail leaks.
func ErrorMessage(err error) string {
	_, message := clientError(err)
	return message
}

// internalError is what a client is told of an error that is not an application error.
const internalError = "内部错误"

// InternalError is the message of an internal error in lang.
func InternalError(lang Lang) string { return Translate(lang, internalError) }

// MessageOf is the message of err (as ErrorMessage) as an argument of another message:
// it is rendered in the language of the message it is part of.
func MessageOf(err error) any { return errMessage{err} }

type errMessage struct{ err error }

func (m errMessage) in(lang Lang) string {
	var e *Error
	if errors.As(m.err, &e) {
		return e.MessageIn(lang)
	}
	return InternalError(lang)
}

func (m errMessage) String() string { return m.in(Chinese) }

// ClientError is what a client whose language is lang is told of err: the code, message
// and field problems of an application error; EINTERNAL and "internal error" for any
// other error.
func ClientError(err error, lang Lang) (code, message string, fields []FieldError) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.MessageIn(lang), e.FieldsIn(lang)
	}
	if err == nil {
		return "", "", nil
	}
	return EINTERNAL, InternalError(lang), nil
}

// clientError returns what a client is told of err: the code and message of an
// application error, EINTERNAL and "内部错误" for any other error.
func clientError(err error) (code, message string) {
	if err == nil {
		return "", ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.Message
	}
	return EINTERNAL, internalError
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

// Add records a problem with a field; the format is the message in Chinese and the key of
// its translations.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, FieldErrorf(field, format, args...))
}

// Err returns nil when there are no problems, or an EINVALID error listing them.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	var e *Error
	if len(p) > 1 {
		e = Errorf(EINVALID, "%s：%s（另有 %d 个问题）", p[0].Field, p[0], len(p)-1)
	} else {
		e = Errorf(EINVALID, "%s：%s", p[0].Field, p[0])
	}
	return e.WithFields(append([]FieldError(nil), p...))
}

// TextOf is the text of err as an argument of another message: an application error's
// message in the language of the message; any other error's own text (a geometry's
// problem, say, which is written for the user).
func TextOf(err error) any { return errText{err} }

type errText struct{ err error }

func (m errText) in(lang Lang) string {
	var e *Error
	if errors.As(m.err, &e) {
		return e.MessageIn(lang)
	}
	if m.err == nil {
		return ""
	}
	return m.err.Error()
}

func (m errText) String() string { return m.in(Chinese) }
