package order

import (
	"strconv"
	"time"
)

// Settle ends the evaluation of a received order, after the checks have stored their
// Findings and Authorization flags. It first derives Authorization.Status:
//
//	not Required, Undetermined     -> undetermined
//	not Required                   -> not-required
//	Exempt                         -> exempt
//	a decision (AuthStatus.Decided) -> unchanged (a recorded decision stands)
//	Number present                 -> approved (the placer obtained it)
//	otherwise                      -> pending
//
// and then moves the order:
//
//	any error-severity finding     -> incomplete
//	authorization pending          -> pending-authorization
//	authorization denied or upheld -> denied
//	otherwise                      -> ready
//
// An empty cause is replaced by a summary such as "checks: 2 findings (1 error),
// authorization pending". Settle returns a [*TransitionError], and changes nothing,
// unless the order is received.
func (o *Order) Settle(at time.Time, cause, messageID string) error {
	if o.Status != StatusReceived {
		return &TransitionError{From: o.Status, To: o.Status, Cause: cause,
			Reason: "only a received order can be settled"}
	}
	o.Authorization.settle()
	to := StatusReady
	switch {
	case o.errorFindings() > 0:
		to = StatusIncomplete
	case o.Authorization.Status == AuthPending:
		to = StatusPendingAuth
	case o.Authorization.Status == AuthDenied || o.Authorization.Status == AuthUpheld:
		to = StatusDenied
	}
	if cause == "" {
		cause = o.settleCause()
	}
	return o.Transition(to, at, cause, messageID)
}

func (o *Order) errorFindings() int {
	n := 0
	for _, f := range o.Findings {
		if f.Severity == SeverityError {
			n++
		}
	}
	return n
}

// settleCause summarizes the checks: "checks: 2 findings (1 error), authorization pending".
func (o *Order) settleCause() string {
	s := "checks: " + strconv.Itoa(len(o.Findings)) + " finding"
	if len(o.Findings) != 1 {
		s += "s"
	}
	if n := o.errorFindings(); n > 0 {
		s += " (" + strconv.Itoa(n) + " error"
		if n != 1 {
			s += "s"
		}
		s += ")"
	}
	return s + ", authorization " + string(o.Authorization.Status)
}

// DecideAuthorization records a payer's prior-authorization decision: Status approved or
// denied, Number (when not empty; denials may carry a reference number too) and Decided.
// The cause recorded is "authorization approved" or "authorization denied".
//
// From pending-authorization the order moves to ready (approved) or denied. From
// incomplete, when authorization is required and not exempt, the decision is recorded
// and the order stays incomplete (a self-transition is added to History): the placer
// still has to fix the order, and when the corrected order is settled the decision
// stands. From any other status it returns a [*TransitionError] and changes nothing: no
// decision is pending (use an order change, XO, to re-open a denied order's case).
func (o *Order) DecideAuthorization(approved bool, number string, at time.Time, messageID string) error {
	d := Decision{Status: AuthDenied, Number: number, Cause: "authorization denied"}
	if approved {
		d.Status, d.Cause = AuthApproved, "authorization approved"
	}
	return o.RecordDecision(d, at, messageID)
}

// AddResult adds one version of a result to the order and moves the order to resulted
// (or, for a cancelled result, to cancelled). It stores a copy of r, with MessageID set
// to messageID if r has none, and records the cause "result <status> <id>".
//
// Results are kept for any order the placer still wants, because a report must never be
// dropped: the order moves to resulted from ready, in-progress, resulted (another
// version) and delivered (a correction re-opens delivery), and also from incomplete,
// pending-authorization, on-hold and denied, where the exam was evidently performed
// anyway. Results for a new, received, cancelled or entered-in-error order are
// rejected with a [*TransitionError]. A cancelled result (OBR-25=X: the filler will not
// perform the exam) cancels an order that has no result yet.
//
// Versions of one report (same non-empty ID) must keep sequence: preliminary may follow
// preliminary, final follows anything but entered-in-error, corrected follows anything
// but entered-in-error; a preliminary or cancelled version after a final or corrected
// one, any version after entered-in-error, and an entered-in-error version for a report
// the order does not hold return a [*ResultError] (wrapping [ErrInvalidResult]), as
// does an unknown Status. On any error the order is unchanged.
func (o *Order) AddResult(r Result, at time.Time, messageID string) error {
	if err := o.checkResult(r); err != nil {
		return err
	}
	to := StatusResulted
	if r.Status == ResultCancelled {
		to = StatusCancelled
	}
	cause := "result " + string(r.Status)
	if r.ID != "" {
		cause += " " + r.ID
	}
	if err := o.Transition(to, at, cause, messageID); err != nil {
		return err
	}
	r = r.clone()
	if r.MessageID == "" {
		r.MessageID = messageID
	}
	o.Results = append(o.Results, r)
	return nil
}

// checkResult checks r's status and its sequence against earlier versions.
func (o *Order) checkResult(r Result) error {
	switch r.Status {
	case ResultPreliminary, ResultFinal, ResultCorrected, ResultCancelled, ResultEnteredInError:
	default:
		return &ResultError{ID: r.ID, Status: r.Status, problem: resultUnknownStatus}
	}
	prev, ok := o.latestResult(r.ID)
	switch {
	case !ok && r.Status == ResultEnteredInError:
		return &ResultError{ID: r.ID, Status: r.Status, problem: resultRetractsNone}
	case !ok:
		return nil
	case prev.Status == ResultEnteredInError:
		return &ResultError{ID: r.ID, Status: r.Status, Prev: prev.Status, problem: resultAfterRetracted}
	case (prev.Status == ResultFinal || prev.Status == ResultCorrected) &&
		(r.Status == ResultPreliminary || r.Status == ResultCancelled):
		return &ResultError{ID: r.ID, Status: r.Status, Prev: prev.Status, problem: resultAfterFinal}
	}
	return nil
}

// MarkDelivered records that the order's latest results reached the placer: resulted
// -> delivered. An empty cause is recorded as "results delivered"; messageID names the
// outbound message or receipt. Delivery receipts may repeat, so MarkDelivered on a
// delivered order records nothing and returns nil. From any other status it returns a
// [*TransitionError].
func (o *Order) MarkDelivered(at time.Time, cause, messageID string) error {
	if o.Status == StatusDelivered {
		return nil
	}
	if cause == "" {
		cause = "results delivered"
	}
	return o.Transition(StatusDelivered, at, cause, messageID)
}
