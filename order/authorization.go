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
	AuthPending      AuthStatus = "pending"
	AuthApproved     AuthStatus = "approved"
	AuthDenied       AuthStatus = "denied"
)

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
	// the decision says; zero means unbounded on that side.
	ValidFrom time.Time `json:"valid_from,omitzero"`
	ValidTo   time.Time `json:"valid_to,omitzero"`
	// Reason explains the requirement or exemption in words.
	Reason string `json:"reason,omitempty"`
}

// Outstanding reports whether the order still waits for an authorization: it is
// required, not exempt, carries no number, and no decision has been recorded.
func (a Authorization) Outstanding() bool {
	return a.Required && !a.Exempt && a.Number == "" &&
		a.Status != AuthApproved && a.Status != AuthDenied
}

// settle derives Status from the flags, as [Order.Settle] documents. A recorded decision
// (approved or denied) stands while authorization is still needed.
func (a *Authorization) settle() {
	switch {
	case !a.Required && a.Undetermined:
		a.Status = AuthUndetermined
	case !a.Required:
		a.Status = AuthNotRequired
	case a.Exempt:
		a.Status = AuthExempt
	case a.Status == AuthApproved || a.Status == AuthDenied:
	case a.Number != "":
		a.Status = AuthApproved
	default:
		a.Status = AuthPending
	}
}
