package rules

import (
	"context"
	"time"

	"github.com/radbridge/radbridge/order"
)

// Eligibility asks a payer whether a coverage is in force: a CoverageEligibilityRequest
// with purpose validation (FHIR R4), posted to the payer profile's eligibility URL. The
// checker consumes it in [Checker.Verify]; package eligibility has a minimal client,
// and the payer workflow may provide its own.
type Eligibility interface {
	Check(ctx context.Context, q EligibilityQuery) (EligibilityResult, error)
}

// EligibilityQuery is what one eligibility question is about.
type EligibilityQuery struct {
	// URL is the payer profile's eligibility.url.
	URL string
	// Payer is the ID of the payer profile.
	Payer string
	// Order is the order; its primary coverage (Coverage[0]) is the one asked about.
	// It must not be changed.
	Order *order.Order
	// Date is the date of service asked about (YYYY-MM-DD).
	Date string
}

// EligibilityResult is a payer's answer.
type EligibilityResult struct {
	// Active is the coverage's state: true when the payer says it is in force for the
	// date, false when it says it is not.
	Active bool
	// Detail is the payer's words (disposition, error text), for reasons.
	Detail string
}

// Verify asks the payer of the order's primary coverage whether the coverage is in
// force on the date of service, when the payer's profile names an eligibility service
// and the checker has one (see [Deps]), and records the answer in o.Eligibility:
// active, inactive, or unverified when the question fails (an error is never read as
// eligible). Without a service o.Eligibility is cleared. Call it before [Checker.Check]
// (which reads the answer), outside any transaction: it does I/O, bounded by ctx.
func (c *Checker) Verify(ctx context.Context, o *order.Order, now time.Time) {
	py := c.coveragePayer(o.Coverage)
	if py == nil || py.eligibilityURL == "" || c.eligibility == nil {
		o.Eligibility = order.Eligibility{}
		return
	}
	q := EligibilityQuery{URL: py.eligibilityURL, Payer: py.id, Order: o, Date: serviceDate(o, now)}
	res, err := c.eligibility.Check(ctx, q)
	e := order.Eligibility{Checked: now, Payer: py.id, Detail: res.Detail}
	switch {
	case err != nil:
		e.Status, e.Detail = order.EligibilityUnverified, err.Error()
	case res.Active:
		e.Status = order.EligibilityActive
	default:
		e.Status = order.EligibilityInactive
	}
	o.Eligibility = e
}

// serviceDate is the date of service of an order: the requested date, else the
// authored date, else now's, each in its own zone, as YYYY-MM-DD.
func serviceDate(o *order.Order, now time.Time) string {
	switch {
	case !o.Requested.IsZero():
		return o.Requested.Format(time.DateOnly)
	case !o.Authored.IsZero():
		return o.Authored.Format(time.DateOnly)
	}
	return now.Format(time.DateOnly)
}
