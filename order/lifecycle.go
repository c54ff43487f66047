package order

import (
	"slices"
	"time"
)

// next is the transition table: the statuses an order may move to from each status.
// A status listed as its own target is a recorded self-transition (see
// [Order.Transition]). Leaving on-hold for the status it was held from is not in the
// table; [Order.Transition] allows it by reading History.
func next(from Status) []Status {
	switch from {
	case StatusNew:
		return []Status{StatusReceived}
	case StatusReceived:
		return []Status{StatusReceived, StatusIncomplete, StatusPendingAuth, StatusReady,
			StatusDenied, StatusOnHold, StatusCancelled, StatusEnteredInError}
	case StatusIncomplete:
		return []Status{StatusIncomplete, StatusReceived, StatusResulted,
			StatusOnHold, StatusCancelled, StatusEnteredInError}
	case StatusPendingAuth:
		return []Status{StatusPendingAuth, StatusReceived, StatusReady, StatusDenied, StatusResulted,
			StatusOnHold, StatusCancelled, StatusEnteredInError}
	case StatusReady:
		return []Status{StatusReceived, StatusPendingAuth, StatusInProgress, StatusResulted,
			StatusOnHold, StatusCancelled, StatusEnteredInError}
	case StatusInProgress:
		return []Status{StatusResulted, StatusOnHold, StatusCancelled, StatusEnteredInError}
	case StatusResulted:
		return []Status{StatusResulted, StatusDelivered, StatusEnteredInError}
	case StatusDelivered:
		return []Status{StatusResulted, StatusEnteredInError}
	case StatusOnHold:
		return []Status{StatusReceived, StatusResulted, StatusCancelled, StatusEnteredInError}
	case StatusDenied:
		return []Status{StatusPendingAuth, StatusResulted, StatusCancelled, StatusEnteredInError}
	case StatusCancelled:
		return []Status{StatusEnteredInError}
	}
	return nil // entered-in-error is final; unknown statuses go nowhere
}

// Transition moves the order to status to, appends a [Transition] to History and sets
// Updated to at (and Created, if it is zero). cause says what moved the order and
// messageID names the message that did, if any; both are recorded as given.
//
// It returns a [*TransitionError] wrapping [ErrIllegalTransition], and leaves the order
// unchanged, when the transition table in the package documentation has no edge from
// the current status to to. From on-hold, the order may also move back to the status it
// was held from (see [Order.Release]).
//
// A transition to the current status is legal only for received (a changed order is
// checked again), incomplete (an event, such as an authorization decision, that leaves
// the order incomplete), pending-authorization (an event of the authorization case,
// such as the payer pending the request) and resulted (another result version). Such a self-transition
// is recorded in History like any other, so that History lists every event that
// touched the order's status; elsewhere it is rejected. The helpers that apply
// duplicate messages ([Order.ApplyControl], [Order.MarkDelivered]) avoid rejecting them
// by recording nothing instead.
func (o *Order) Transition(to Status, at time.Time, cause, messageID string) error {
	if !o.canMove(to) {
		return &TransitionError{From: o.Status, To: to, Cause: cause}
	}
	o.History = append(o.History, Transition{
		At: at, From: o.Status, To: to, Cause: cause, MessageID: messageID,
	})
	o.Status = to
	if o.Created.IsZero() {
		o.Created = at
	}
	o.Updated = at
	return nil
}

func (o *Order) canMove(to Status) bool {
	if slices.Contains(next(o.Status), to) {
		return true
	}
	if o.Status != StatusOnHold {
		return false
	}
	held, ok := o.heldFrom()
	return ok && held == to
}

// heldFrom returns the status the order was in when it was last put on hold.
func (o *Order) heldFrom() (Status, bool) {
	for i := len(o.History) - 1; i >= 0; i-- {
		if t := o.History[i]; t.To == StatusOnHold && t.From != StatusOnHold {
			return t.From, true
		}
	}
	return StatusNew, false
}

// Release takes the order off hold, back to the status it had when it was put on hold,
// as History records it. It returns a [*TransitionError] if the order is not on hold or
// History does not say where it was held from.
func (o *Order) Release(at time.Time, cause, messageID string) error {
	if o.Status != StatusOnHold {
		return &TransitionError{From: o.Status, To: o.Status, Cause: cause,
			Reason: "order is not on hold"}
	}
	held, ok := o.heldFrom()
	if !ok {
		return &TransitionError{From: o.Status, To: o.Status, Cause: cause,
			Reason: "history does not show the status before the hold"}
	}
	return o.Transition(held, at, cause, messageID)
}
