package rules

import (
	"time"

	"github.com/radbridge/radbridge/order"
)

// The v2 location and FHIR path of the authorization: IN1-14 (authorization
// information) and the ServiceRequest's insurance.
const (
	locPreauth  = "IN1-14"
	fhirPreauth = "ServiceRequest.insurance"
)

// checkPreauth records the prior-authorization verdict in o.Authorization, as
// [Checker.Check] documents, and adds an information finding while authorization is
// outstanding.
func (c *Checker) checkPreauth(fs []order.Finding, o *order.Order, cpt string, p *plan, py *payer, now time.Time) []order.Finding {
	v := verdict(p, cpt, o.EncounterClass, py)
	a := &o.Authorization
	a.Required = v.Required || v.Exempt
	a.RecordsRequired = v.RecordsRequired
	a.Exempt = v.Exempt
	a.Undetermined = p == nil // neither the code table nor a payer rule knows the code
	a.Reason = v.Reason
	if !v.Required {
		a.DueBy = time.Time{}
		return fs
	}
	if !a.Outstanding() {
		return fs // the placer sent a number, or a decision is on record
	}
	due := c.dueStandard
	if o.Priority.Expedited() {
		due = c.dueExpedited
	}
	a.DueBy = now.Add(due)
	code := CodePreauthRequired
	if v.RecordsRequired {
		code = CodePreauthRecordsRequired
	}
	return append(fs, finding(code, order.SeverityInformation, locPreauth, fhirPreauth, p.pending))
}
