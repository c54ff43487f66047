package order

import "time"

// Decision is a prior-authorization decision to record with [Order.RecordDecision]: a
// payer's answer, or one a person records through the API.
type Decision struct {
	// Status is the decision: approved, partially-approved, denied, or, for an
	// appealed case, overturned or upheld ([AuthStatus.Decided]).
	Status AuthStatus
	// Number is the authorization (or reference) number; empty keeps the one recorded.
	Number string
	// ValidFrom and ValidTo are the period an approval covers; zero when not given.
	ValidFrom, ValidTo time.Time
	// Reason is the payer's reason, recorded as DecisionReason (cleared when empty).
	Reason string
	// Cause is recorded in History; empty means "authorization <status>".
	Cause string
}

// RecordDecision records a prior-authorization decision: Authorization Status, Number
// (when d has one), Decided, ValidFrom, ValidTo and DecisionReason, and clears
// NextInquiry. Overturned and upheld decide an appealed case ([Order.Appeal]); the
// other decisions decide a case that is not under appeal.
//
// From pending-authorization the order moves to ready when the decision authorizes it
// ([AuthStatus.Authorizes]) and to denied otherwise. From incomplete, when
// authorization is required and not exempt, the decision is recorded and the order
// stays incomplete (a self-transition is added to History): the placer still has to
// fix the order, and when the corrected order is settled the decision stands. From any
// other status, or for a Status that is not a decision or does not fit the case, it
// returns a [*TransitionError] and changes nothing.
func (o *Order) RecordDecision(d Decision, at time.Time, messageID string) error {
	cause := d.Cause
	if cause == "" {
		cause = "authorization " + string(d.Status)
	}
	to := StatusDenied
	if d.Status.Authorizes() {
		to = StatusReady
	}
	a := o.Authorization
	appeal := d.Status == AuthOverturned || d.Status == AuthUpheld
	switch {
	case !d.Status.Decided():
		return &TransitionError{From: o.Status, To: to, Cause: cause, Reason: "\"" + string(d.Status) + "\" is not a decision"}
	case appeal != (a.Status == AuthAppealed):
		reason := "the case is under appeal: record overturned or upheld"
		if appeal {
			reason = "no appeal is pending"
		}
		return &TransitionError{From: o.Status, To: to, Cause: cause, Reason: reason}
	case o.Status == StatusPendingAuth:
	case o.Status == StatusIncomplete && a.Required && !a.Exempt:
		to = StatusIncomplete
	default:
		return &TransitionError{From: o.Status, To: to, Cause: cause,
			Reason: "no authorization decision is pending"}
	}
	if err := o.Transition(to, at, cause, messageID); err != nil {
		return err
	}
	au := &o.Authorization
	au.Status = d.Status
	if d.Number != "" {
		au.Number = d.Number
	}
	au.Decided, au.ValidFrom, au.ValidTo, au.DecisionReason = at, d.ValidFrom, d.ValidTo, d.Reason
	au.NextInquiry = time.Time{}
	return nil
}

// RecordAuthorization records an event of an open authorization case that leaves the
// order waiting in pending-authorization: the request was submitted to the payer
// (submitted), the payer is reviewing it (pended), or the payer sent it back and it
// must be made again (pending). It sets Authorization.Status and adds a
// self-transition with cause to History. For another status, or an order that is not
// pending-authorization, it returns a [*TransitionError] and changes nothing.
func (o *Order) RecordAuthorization(status AuthStatus, at time.Time, cause, messageID string) error {
	switch status {
	case AuthPending, AuthSubmitted, AuthPended:
	default:
		return &TransitionError{From: o.Status, To: o.Status, Cause: cause,
			Reason: "\"" + string(status) + "\" is not a state of a waiting case"}
	}
	if o.Status != StatusPendingAuth {
		return &TransitionError{From: o.Status, To: o.Status, Cause: cause,
			Reason: "the order is not waiting for an authorization"}
	}
	if err := o.Transition(StatusPendingAuth, at, cause, messageID); err != nil {
		return err
	}
	o.Authorization.Status = status
	return nil
}

// Appeal starts an appeal of a denied authorization: the order moves from denied back
// to pending-authorization, Authorization.Status becomes appealed and DenialReason keeps
// the denial's DecisionReason. An empty cause is recorded as "appeal started". It returns a [*TransitionError], and changes nothing,
// unless the order is denied by a denial (denied, or upheld on an earlier appeal).
func (o *Order) Appeal(at time.Time, cause, messageID string) error {
	if cause == "" {
		cause = "appeal started"
	}
	if s := o.Authorization.Status; o.Status != StatusDenied || s != AuthDenied && s != AuthUpheld {
		return &TransitionError{From: o.Status, To: StatusPendingAuth, Cause: cause,
			Reason: "only a denied authorization can be appealed"}
	}
	if err := o.Transition(StatusPendingAuth, at, cause, messageID); err != nil {
		return err
	}
	o.Authorization.Status = AuthAppealed
	o.Authorization.DenialReason = o.Authorization.DecisionReason
	return nil
}

// ExpireAuthorization records that the approval of a ready order ran out before the
// exam was performed: the order moves back to pending-authorization, the status becomes
// expired and the number is cleared (cause, when empty, names it: "authorization
// AUTH1 expired"), so that a new authorization is outstanding. It returns a
// [*TransitionError], and changes nothing, unless the order is ready on an approval.
func (o *Order) ExpireAuthorization(at time.Time, cause, messageID string) error {
	a := &o.Authorization
	if cause == "" {
		cause = "authorization expired"
		if a.Number != "" {
			cause = "authorization " + a.Number + " expired"
		}
	}
	if o.Status != StatusReady || !a.Status.Authorizes() {
		return &TransitionError{From: o.Status, To: StatusPendingAuth, Cause: cause,
			Reason: "only a ready order's approval can expire"}
	}
	if err := o.Transition(StatusPendingAuth, at, cause, messageID); err != nil {
		return err
	}
	a.Status, a.Number = AuthExpired, ""
	return nil
}
