package hub

import (
	"errors"
	"fmt"
)

// Kind is the class of an application error; the HTTP layer maps each kind
// to one status code in one place.
type Kind int

const (
	KindInternal     Kind = iota // a bug or an I/O failure: 500
	KindInvalid                  // bad input: 400
	KindUnauthorized             // no or wrong credentials: 401
	KindForbidden                // authenticated, but not allowed: 403
	KindNotFound                 // 404
	KindConflict                 // the state does not allow it now: 409
	KindTooLarge                 // body too large: 413
	KindUnavailable              // shutting down or store failing: 503
)

// Error is Sportello's one error model: a machine code that clients rely on
// (stable, snake_case), a kind for the transport, a human message and,
// optionally, the field the error is about.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Field   string
	Err     error
}

func (e *Error) Error() string {
	s := e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a coded error.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError builds an invalid-input error about one field.
func FieldError(code, field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the kind of err: KindInternal for anything that is not a
// coded *Error.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrorCode returns the machine code of err, "internal" for uncoded errors.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "internal"
}

// Common errors. Codes are part of the public contract: never rename one.
var (
	ErrTicketNotFound      = &Error{Kind: KindNotFound, Code: "ticket_not_found", Message: "no such ticket"}
	ErrServiceNotFound     = &Error{Kind: KindNotFound, Code: "service_not_found", Message: "no such service"}
	ErrCounterNotFound     = &Error{Kind: KindNotFound, Code: "counter_not_found", Message: "no such counter or room"}
	ErrReportNotFound      = &Error{Kind: KindNotFound, Code: "report_not_found", Message: "no such report"}
	ErrAppointmentNotFound = &Error{Kind: KindNotFound, Code: "appointment_not_found", Message: "no such appointment"}
	ErrCounterClosed       = &Error{Kind: KindConflict, Code: "counter_closed", Message: "the counter is not open"}
	ErrCounterBusy         = &Error{Kind: KindConflict, Code: "counter_busy", Message: "the counter still has a current ticket: finish it or mark it as no-show first"}
	ErrNoCurrentTicket     = &Error{Kind: KindConflict, Code: "no_current_ticket", Message: "the counter has no current ticket"}
	ErrNotAtCounter        = &Error{Kind: KindForbidden, Code: "not_at_counter", Message: "the counter is held by another clerk"}
	ErrForbidden           = &Error{Kind: KindForbidden, Code: "forbidden", Message: "your role may not do this"}
	ErrUnauthorized        = &Error{Kind: KindUnauthorized, Code: "unauthorized", Message: "authentication required"}
	ErrInvalidCredentials  = &Error{Kind: KindUnauthorized, Code: "invalid_credentials", Message: "wrong username or password"}
	ErrUnavailable         = &Error{Kind: KindUnavailable, Code: "unavailable", Message: "the hub is shutting down"}
)
