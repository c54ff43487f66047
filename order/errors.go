package order

import (
	"errors"
	"strings"
)

// ErrIllegalTransition means the lifecycle does not allow the requested status change
// from the order's current status. The concrete error is a [*TransitionError].
var ErrIllegalTransition = errors.New("illegal transition")

// ErrUnknownControlCode means an ORC-1 order control code (HL7 table 0119) is not one this
// package understands, or is one it deliberately does not support (refills, parent/child
// orders, combined results, problem links).
var ErrUnknownControlCode = errors.New("unknown order control code")

// ErrUnknownOrderStatus means an ORC-5 order status (HL7 table 0038) is missing or cannot
// be mapped to a [Status] (ER, "error, order not found", is a reply, not a status).
var ErrUnknownOrderStatus = errors.New("unknown order status")

// ErrInvalidResult means a result cannot be added: its status is unknown, it arrives out
// of sequence (a preliminary after a final, anything after entered-in-error), or it
// retracts a result the order does not hold.
var ErrInvalidResult = errors.New("invalid result")

// TransitionError reports a status change the lifecycle rejected. It wraps
// [ErrIllegalTransition]; test for it with errors.Is or errors.As.
type TransitionError struct {
	From, To Status
	// Cause is the cause given for the change, e.g. "ORC-1=CA".
	Cause string
	// Reason says why the change is illegal when the transition table alone does not,
	// e.g. "order is not on hold". Empty when the table has no such edge.
	Reason string
}

// Error formats the error as
// `order: illegal transition resulted -> cancelled (ORC-1=CA): order already resulted`.
func (e *TransitionError) Error() string {
	var b strings.Builder
	b.WriteString("order: illegal transition ")
	b.WriteString(e.From.name())
	b.WriteString(" -> ")
	b.WriteString(e.To.name())
	if e.Cause != "" {
		b.WriteString(" (")
		b.WriteString(e.Cause)
		b.WriteString(")")
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Unwrap returns [ErrIllegalTransition].
func (e *TransitionError) Unwrap() error { return ErrIllegalTransition }
