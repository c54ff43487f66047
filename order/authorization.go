package order

import "time"

// AuthStatus is the state of a prior authorization.
type AuthStatus string

// The authorization statuses.
const (
	// AuthNotEvaluated is the zero AuthStatus: the checks have not run.
	AuthNotEvaluated AuthStatus = ""
	AuthNotRequired  AuthStatus = "not-required"
	// AuthExempt means authorization would be required but the encounter class (or a
	// payer rule) exempts the order.
	AuthExempt AuthStatus = "exempt"
	// AuthUndetermined means the checks could not tell whether authorization is
	// needed (no CPT code, or one the code table does not know): the order must not
	// be read as needing none.
	AuthUndetermined AuthStatus = "undetermined"
	// AuthPending means authorization is required and has not been submitted to the
	// payer yet (or the payer sent the request back): the "required" state of the
	// authorization case. The stored value stays "pending"; the engine API shows it as
	// "required".
	AuthPending  AuthStatus = "pending"
	AuthApproved AuthStatus = "approved"
	AuthDenied   AuthStatus = "denied"

	// The states of an authorization case with a payer (see [Order.RecordAuthorization]
	// and [Order.RecordDecision]).

	// AuthSubmitted means the payer has received the request and not answered it yet.
	AuthSubmitted AuthStatus = "submitted"
	// AuthPended means the payer answered that the request is under review (X12 306
	// A4, or an answer radbridge cannot read as a decision).
	AuthPended AuthStatus = "pended"
	// AuthPartiallyApproved means the payer approved part of the request or approved
	// it modified (X12 306 A2, A6).
	AuthPartiallyApproved AuthStatus = "partially-approved"
	// AuthAppealed means a denial is being appealed.
	AuthAppealed AuthStatus = "appealed"
	// AuthOverturned means an appeal reversed the denial: the order is authorized.
	AuthOverturned AuthStatus = "overturned"
	// AuthUpheld means an appeal confirmed the denial.
	AuthUpheld AuthStatus = "upheld"
	// AuthCancelled means the order was cancelled while its case was open.
	AuthCancelled AuthStatus = "cancelled"
	// AuthExpired means an approval ran out before the exam was performed: a new
	// authorization is needed.
	AuthExpired AuthStatus = "expired"
)

// Decided reports whether s is a payer's decision that stands until the order changes:
// approved, partially-approved, overturned (the order may go ahead), denied or upheld
// (it may not).
func (s AuthStatus) Decided() bool {
	switch s {
	case AuthApproved, AuthPartiallyApproved, AuthOverturned, AuthDenied, AuthUpheld:
		return true
	}
	return false
}

// Authorizes reports whether s is a decision that lets the order go ahead: approved,
// partially-approved or overturned.
func (s AuthStatus) Authorizes() bool {
	return s == AuthApproved || s == AuthPartiallyApproved || s == AuthOverturned
}

// Authorization is the prior-authorization state of an order. The rules package sets
// Required, RecordsRequired, Exempt, DueBy and Reason; [Order.Settle] derives Status
// from them; [Order.DecideAuthorization] records a payer decision.
type Authorization struct {
	// Required means the procedure needs prior authorization for this payer. The rules
	// package sets it for "records required" procedures too.
	Required bool `json:"required,omitempty"`
	// RecordsRequired means the payer also wants clinical records with the request. It
	// does not change how the order is gated.
	RecordsRequired bool `json:"records_required,omitempty"`
	// Exempt means no authorization is needed in this setting (emergency, inpatient,
	// urgent care, ambulatory surgery, or a payer rule) even though Required is set.
	Exempt bool `json:"exempt,omitempty"`
	// Undetermined means the checks could not tell whether authorization is needed
	// (Status undetermined); Required is then false.
	Undetermined bool `json:"undetermined,omitempty"`
	// PayerUnknown means no payer profile matched the primary coverage (or the order
	// has none): the default rules were applied, not the payer's own.
	PayerUnknown bool       `json:"payer_unknown,omitempty"`
	Status       AuthStatus `json:"status,omitempty"`
	// Number is the authorization number, sent by the placer or recorded with a decision.
	Number string `json:"number,omitempty"`
	// CPT is the procedure the authorization was granted for, when the decision names
	// one; empty means the order's own.
	CPT string `json:"cpt,omitempty"`
	// DueBy is when a decision is needed by (set by the engine from the priority).
	DueBy time.Time `json:"due_by,omitzero"`
	// Decided is when the decision was recorded.
	Decided time.Time `json:"decided,omitzero"`
	// ValidFrom and ValidTo bound the dates of service the authorization covers, when
	// the decision (or the payer's approval) says; zero means unbounded on that side.
	// ValidTo is the last day covered (a date at midnight UTC) or the instant the
	// approval ends.
	ValidFrom time.Time `json:"valid_from,omitzero"`
	ValidTo   time.Time `json:"valid_to,omitzero"`
	// Reason explains the requirement or exemption in words.
	Reason string `json:"reason,omitempty"`

	// The authorization case with the payer (package payer). These fields are kept
	// across order changes by [Authorization.Keep].

	// Payer is the ID of the payer profile that handles the case.
	Payer string `json:"payer,omitempty"`
	// Claim is the identifier of the current request to the payer (the PAS
	// Claim.identifier value); every attempt has its own.
	Claim string `json:"claim,omitempty"`
	// Attempt counts the requests made for the order: 1 for the first.
	Attempt int `json:"attempt,omitempty"`
	// OriginalClaim is the identifier of the request that Claim replaces (a resend
	// after a change, an appeal's resubmission).
	OriginalClaim string `json:"original_claim,omitempty"`
	// Expedited means the request was sent as expedited (urgent, ASAP or stat).
	Expedited bool `json:"expedited,omitempty"`
	// Submitted is when the payer received the current request; the decision clock
	// (DueBy) runs from it.
	Submitted time.Time `json:"submitted,omitzero"`
	// DecisionReason is the payer's reason for its decision (the review action reason
	// codes, or its text).
	DecisionReason string `json:"decision_reason,omitempty"`
	// ReviewAction is the X12 306 review action code of the payer's last answer (A1,
	// A3, A4...).
	ReviewAction string `json:"review_action,omitempty"`
	// Response refers to the payer's last answer as stored, e.g.
	// "ClaimResponse/ord-7-1/_history/2".
	Response string `json:"response,omitempty"`
	// NextInquiry is when to ask the payer about a pended request if no notification
	// has come by then.
	NextInquiry time.Time `json:"next_inquiry,omitzero"`
	// Appeal refers to the R4 Task of the current appeal, e.g. "Task/ord-7-appeal-1".
	Appeal string `json:"appeal,omitempty"`
	// AppealBy is the last moment an appeal of the denial may be filed.
	AppealBy time.Time `json:"appeal_by,omitzero"`
	// DenialReason is the reason of the denial last appealed, kept through the appeal's
	// outcome ([Order.Appeal] copies it from DecisionReason).
	DenialReason string `json:"denial_reason,omitempty"`
}

// Outstanding reports whether the order still waits for an authorization: it is
// required, not exempt, carries no number, no decision has been recorded ([AuthStatus.Decided])
// and the case was not cancelled.
func (a Authorization) Outstanding() bool {
	return a.Required && !a.Exempt && a.Number == "" && !a.Status.Decided() && a.Status != AuthCancelled
}

// Keep carries the authorization case of prev, the order as stored, into a, the
// authorization the checks made for the order's new content (an XO, a FHIR update): the
// case fields (Payer through AppealBy), and a decision prev recorded ([AuthStatus.Decided])
// with its number, time, validity and reason when a carries no number of its own. A
// case in any other state is not carried: the changed order is settled afresh and its
// payer follows it up.
func (a *Authorization) Keep(prev Authorization) {
	if prev.Status.Decided() && a.Number == "" {
		a.Status, a.Number, a.Decided, a.CPT = prev.Status, prev.Number, prev.Decided, prev.CPT
		a.ValidFrom, a.ValidTo, a.DecisionReason = prev.ValidFrom, prev.ValidTo, prev.DecisionReason
	}
	a.Payer, a.Claim, a.Attempt, a.OriginalClaim = prev.Payer, prev.Claim, prev.Attempt, prev.OriginalClaim
	a.Expedited, a.Submitted, a.ReviewAction, a.Response = prev.Expedited, prev.Submitted, prev.ReviewAction, prev.Response
	a.NextInquiry, a.Appeal, a.AppealBy, a.DenialReason = prev.NextInquiry, prev.Appeal, prev.AppealBy, prev.DenialReason
}

// settle derives Status from the flags, as [Order.Settle] documents. A recorded decision
// ([AuthStatus.Decided]) stands while authorization is still needed.
func (a *Authorization) settle() {
	switch {
	case !a.Required && a.Undetermined:
		a.Status = AuthUndetermined
	case !a.Required:
		a.Status = AuthNotRequired
	case a.Exempt:
		a.Status = AuthExempt
	case a.Status.Decided():
	case a.Number != "":
		a.Status = AuthApproved
	default:
		a.Status = AuthPending
	}
}
