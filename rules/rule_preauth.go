package rules

import (
	"time"

	"github.com/radbridge/radbridge/order"
)

// The v2 locations and FHIR paths of the authorization: IN1-14 (authorization
// information) and the ServiceRequest's insurance; of the payer, IN1-3.
const (
	locPreauth  = "IN1-14"
	fhirPreauth = "ServiceRequest.insurance"
	locPayer    = "IN1-3"
)

// payerUnknownText is the text of the preauth.payer-unknown finding.
const payerUnknownText = "No payer profile matches the primary coverage (payer IN1-3, plan IN1-2, plan type IN1-15): " +
	"the default prior-authorization rules were applied; check the payer's own requirements."

// checkPreauth records the prior-authorization verdict in o.Authorization, as
// [Checker.Check] documents, and adds an information finding while authorization is
// outstanding, and one when the payer is unknown and profiles are configured.
func (c *Checker) checkPreauth(fs []order.Finding, o *order.Order, a *assessment, payerUnknown bool, now time.Time) []order.Finding {
	v := a.verdict()
	auth := &o.Authorization
	auth.Required = v.Required || v.Exempt
	auth.RecordsRequired = v.RecordsRequired
	auth.Exempt = v.Exempt
	auth.Undetermined = a.p == nil // neither the code table, a payer rule nor the modality says
	auth.PayerUnknown = payerUnknown
	auth.Reason = v.Reason
	if payerUnknown && len(c.payers) > 0 {
		fs = append(fs, finding(CodePayerUnknown, order.SeverityInformation, locPayer, fhirPreauth, payerUnknownText))
	}
	if !v.Required {
		auth.DueBy = time.Time{}
		return fs
	}
	if !auth.Outstanding() {
		return fs // the placer sent a number, or a decision is on record
	}
	due := c.dueStandard
	if o.Priority.Expedited() {
		due = c.dueExpedited
	}
	auth.DueBy = now.Add(due)
	code := CodePreauthRequired
	if v.RecordsRequired {
		code = CodePreauthRecordsRequired
	}
	return append(fs, finding(code, order.SeverityInformation, locPreauth, fhirPreauth, a.pending))
}
