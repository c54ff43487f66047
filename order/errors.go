package order

import (
	"errors"
	"fmt"
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

// Explain says in a sentence, for the sender of the message that asked for the change,
// what the lifecycle refused and why: `The order is resulted: it cannot become
// cancelled (ORC-1=CA).` Error is for logs; this is for acknowledgments and
// OperationOutcomes.
func (e *TransitionError) Explain() string {
	var b strings.Builder
	if e.Reason == "" {
		b.WriteString("The order is ")
		b.WriteString(e.From.name())
		b.WriteString(": it cannot become ")
		b.WriteString(e.To.name())
		if e.Cause != "" {
			b.WriteString(" (")
			b.WriteString(e.Cause)
			b.WriteString(")")
		}
		b.WriteString(".")
		return b.String()
	}
	b.WriteString("The change")
	if e.Cause != "" {
		b.WriteString(" (")
		b.WriteString(e.Cause)
		b.WriteString(")")
	}
	b.WriteString(" was refused: ")
	b.WriteString(e.Reason)
	b.WriteString(" (the order is ")
	b.WriteString(e.From.name())
	b.WriteString(").")
	return b.String()
}

// CodeError reports an order control code (ORC-1, HL7 table 0119) or order status
// (ORC-5, table 0038) the lifecycle does not apply. It wraps [ErrUnknownControlCode] or
// [ErrUnknownOrderStatus].
type CodeError struct {
	Field string // "ORC-1" or "ORC-5"
	Code  string // as given
	Err   error  // ErrUnknownControlCode or ErrUnknownOrderStatus
}

// Error formats the error as `order: ORC-1 "RF": unknown order control code`.
func (e *CodeError) Error() string {
	return fmt.Sprintf("order: %s %q: %v", e.Field, e.Code, e.Err)
}

// Unwrap returns Err.
func (e *CodeError) Unwrap() error { return e.Err }

// Explain says in a sentence what the code is and what to send instead.
func (e *CodeError) Explain() string {
	if errors.Is(e.Err, ErrUnknownOrderStatus) {
		if strings.TrimSpace(e.Code) == "" {
			return "A status change (ORC-1 SC) needs the order status in " + e.Field + ": send it (HL7 table 0038, e.g. IP or CM)."
		}
		return "The order status " + quoteCode(e.Code) + " in " + e.Field + " is not one an order can take (HL7 table 0038: SC, IP, CM, A, CA, DC, HD...)."
	}
	if strings.TrimSpace(e.Code) == "" {
		return "The order control code (" + e.Field + ") is missing: send NW for a new order, XO to change it, CA to cancel it."
	}
	return "The order control code " + quoteCode(e.Code) + " (" + e.Field + ") is not one this engine applies: send NW, RO, XO, CA, DC, HD, RL or SC " +
		"(refills, child orders, combined results and problem links are not handled)."
}

func quoteCode(s string) string { return `"` + s + `"` }

// resultProblem is why a result version cannot be added.
type resultProblem int

const (
	resultUnknownStatus  resultProblem = iota // Status is not a ResultStatus
	resultRetractsNone                        // entered-in-error for a report the order does not hold
	resultAfterRetracted                      // a version after entered-in-error
	resultAfterFinal                          // preliminary or cancelled after final or corrected
)

// ResultError reports a result version that cannot be added to an order (see
// [Order.AddResult]). It wraps [ErrInvalidResult].
type ResultError struct {
	ID     string       // the report's id
	Status ResultStatus // the status of the version refused
	// Prev is the status of the latest version of the report the order holds, "" when
	// it holds none.
	Prev    ResultStatus
	problem resultProblem
}

// Error formats the error as `order: result "R1": preliminary after final: invalid result`.
func (e *ResultError) Error() string {
	switch e.problem {
	case resultRetractsNone:
		return fmt.Sprintf("order: result %q: retracts a result the order does not hold: %v", e.ID, ErrInvalidResult)
	case resultAfterRetracted, resultAfterFinal:
		return fmt.Sprintf("order: result %q: %s after %s: %v", e.ID, e.Status, e.Prev, ErrInvalidResult)
	}
	return fmt.Sprintf("order: result %q: status %q: %v", e.ID, e.Status, ErrInvalidResult)
}

// Unwrap returns [ErrInvalidResult].
func (e *ResultError) Unwrap() error { return ErrInvalidResult }

// Explain says in a sentence why the result was not added and what to send instead.
func (e *ResultError) Explain() string {
	report := "The result"
	if e.ID != "" {
		report += " " + quoteCode(e.ID)
	}
	switch e.problem {
	case resultRetractsNone:
		return report + " retracts (entered-in-error) a result this order does not hold: it was not added."
	case resultAfterRetracted:
		return report + " was retracted (entered-in-error): a " + string(e.Status) + " version cannot follow; send the report again under a new id."
	case resultAfterFinal:
		return report + " is already " + string(e.Prev) + ": a " + string(e.Status) + " version cannot follow it; send a corrected version instead."
	}
	if e.Status == "" {
		return report + " has no status: send preliminary, final, corrected, cancelled or entered-in-error."
	}
	return report + " has the status " + quoteCode(string(e.Status)) + ", which is not a result status: send preliminary, final, corrected, cancelled or entered-in-error."
}

// Explain returns the sentence that tells the sender what err refused and why, when err
// is (or wraps) an error of this package that says so ([TransitionError],
// [CodeError], [ResultError]), else "".
func Explain(err error) string {
	var x interface{ Explain() string }
	if errors.As(err, &x) {
		return x.Explain()
	}
	return ""
}
