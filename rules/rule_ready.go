package rules

import (
	"strconv"
	"time"

	"github.com/radbridge/radbridge/order"
)

// The v2 locations and FHIR paths of the coverage period and the performing facility.
const (
	locCoveragePeriod = "IN1-13"
	locFacility       = "MSH-6"
	fhirFacility      = "ServiceRequest.performer"
)

// The reasons that name nothing of the order: written once, never allocated.
const (
	reasonNoCoverage       = "not ready: the order has no coverage (IN1 / ServiceRequest.insurance), so its payer and plan are unknown"
	reasonCoverageNoCheck  = "coverage not verified: no eligibility service for the payer and no coverage dates on the order"
	reasonCoverageDates    = "coverage dates cover the date of service (not verified with the payer: no eligibility service for it)"
	reasonNoNetworks       = "network participation not checked: no networks table (prior_auth.networks_file)"
	reasonAuthNotRequired  = "authorization not needed: the procedure does not require prior authorization"
	reasonAuthExempt       = "authorization not needed: the setting exempts the order (see the authorization reason)"
	reasonAuthApproved     = "authorization approved: the number is on the order"
	reasonAuthPending      = "not ready: prior authorization is required and not yet approved"
	reasonAuthDenied       = "not ready: prior authorization was denied"
	reasonAuthUndetermined = "not ready: prior authorization could not be determined (see the authorization reason)"
	reasonDocsComplete     = "documentation complete"
)

// checkReady checks the coverage (its dates and the payer's eligibility answer), the
// performing facility's network participation, the authorization and the
// documentation, and records the verdict in o.ReadyToSchedule: ready when every part
// allows scheduling, with one reason per part, in that order. A part the site has not
// configured (no eligibility service, no networks table) does not block, and its
// reason says it was not checked. Coverage, eligibility and network problems are
// findings too.
func (c *Checker) checkReady(fs []order.Finding, o *order.Order, a *assessment, now time.Time) []order.Finding {
	r := &o.ReadyToSchedule
	old := r.Reasons
	rs := old[:0]
	ready := true
	add := func(ok bool, reason string) {
		ready = ready && ok
		rs = append(rs, reason)
	}
	date := "" // the date of service, computed when a part needs it
	dateOf := func() string {
		if date == "" {
			date = serviceDate(o, now)
		}
		return date
	}

	// Coverage.
	if len(o.Coverage) == 0 {
		add(false, reasonNoCoverage)
	} else {
		cov := &o.Coverage[0]
		datesOK := true
		if cov.Start != "" || cov.End != "" {
			d := dateOf()
			if (cov.Start != "" && d < cov.Start) || (cov.End != "" && d > cov.End) {
				datesOK = false
				text := "The coverage period (" + periodWords(cov) + ", IN1-12 to IN1-13 / Coverage.period) does not cover the date of service " + d + "."
				fs = append(fs, finding(CodeCoverageOutOfPeriod, order.SeverityWarning, locCoveragePeriod, fhirPreauth, text))
				add(false, "not ready: coverage not in force on "+d+" ("+periodWords(cov)+")")
			}
		}
		if datesOK {
			var text string
			fs, text, datesOK = c.eligibilityPart(fs, o, a, cov)
			add(datesOK, text)
		}
	}

	// Network.
	fs = c.networkPart(fs, o, add, dateOf)

	// Authorization.
	add(authPart(o, a, dateOf))

	// Documentation.
	errs := 0
	for i := range fs {
		if fs[i].Severity == order.SeverityError {
			errs++
		}
	}
	if errs == 0 {
		add(true, reasonDocsComplete)
	} else {
		add(false, "not ready: documentation incomplete ("+strconv.Itoa(errs)+" error findings to fix)")
	}

	if len(rs) < len(old) {
		clear(old[len(rs):])
	}
	r.Ready, r.Reasons = ready, rs
	return fs
}

// eligibilityPart is the coverage reason when its dates are fine: the payer's
// eligibility answer when there is one.
func (c *Checker) eligibilityPart(fs []order.Finding, o *order.Order, a *assessment, cov *order.Coverage) ([]order.Finding, string, bool) {
	e := &o.Eligibility
	dated := cov.Start != "" || cov.End != ""
	switch e.Status {
	case order.EligibilityActive:
		return fs, "coverage active: verified with " + a.py.nameOr(e.Payer) + " on " + e.Checked.Format(time.DateOnly), true
	case order.EligibilityInactive:
		text := "The eligibility service of " + a.py.nameOr(e.Payer) + " says the coverage is not in force" + detailWords(e.Detail) + "."
		fs = append(fs, finding(CodeCoverageInactive, order.SeverityWarning, locPayer, fhirPreauth, text))
		return fs, "not ready: coverage inactive according to " + a.py.nameOr(e.Payer) + detailWords(e.Detail), false
	case order.EligibilityUnverified:
		text := "Coverage could not be verified with " + a.py.nameOr(e.Payer) + detailWords(e.Detail) + ": check it before scheduling."
		fs = append(fs, finding(CodeCoverageUnverified, order.SeverityInformation, locPayer, fhirPreauth, text))
		return fs, "not ready: coverage could not be verified with " + a.py.nameOr(e.Payer) + detailWords(e.Detail), false
	}
	if a.py != nil && a.py.eligibilityURL != "" {
		return fs, "not ready: coverage not verified: " + a.py.name + " has an eligibility service, but it was not asked", false
	}
	if dated {
		return fs, reasonCoverageDates, true
	}
	return fs, reasonCoverageNoCheck, true
}

// networkPart checks the performing facility against the networks table.
func (c *Checker) networkPart(fs []order.Finding, o *order.Order, add func(bool, string), dateOf func() string) []order.Finding {
	if !c.haveNetworks {
		add(true, reasonNoNetworks)
		return fs
	}
	if len(o.Coverage) == 0 {
		add(false, "not ready: network participation not checked: no coverage")
		return fs
	}
	cov := &o.Coverage[0]
	npi := o.Performer.NPI
	if npi == "" {
		npi = c.facilityNPI
	}
	if npi == "" {
		text := "The order names no performing facility NPI (MSH-6 or PV1-3.4 as name^NPI^NPI, ServiceRequest.performer) and prior_auth.facility_npi is not set: network participation cannot be checked."
		fs = append(fs, finding(CodeNetworkUnknown, order.SeverityWarning, locFacility, fhirFacility, text))
		add(false, "not ready: network participation unknown: no performing facility NPI")
		return fs
	}
	res := lookupNetwork(c.networks, cov.Payer, cov.Plan, npi, dateOf())
	npi = safeWords(npi, ValidNPI) // the order's value, in texts
	switch res.outcome {
	case networkIn:
		add(true, "in network: facility NPI "+npi+" is in "+res.row.payer+"'s network "+quote(res.row.network)+" on "+res.date)
	case networkNoPayer:
		text := "The networks table has no row for payer " + quote(cov.Payer) + ": network participation of facility NPI " + npi + " is unknown."
		fs = append(fs, finding(CodeNetworkUnknown, order.SeverityWarning, locFacility, fhirFacility, text))
		add(false, "not ready: network participation unknown: no networks table row for payer "+quote(cov.Payer))
	default:
		text := "The performing facility (NPI " + npi + ") is not in " + quote(cov.Payer) + "'s networks for plan " + quote(cov.Plan) + " on " + res.date
		if res.left {
			text += " (its row for network " + quote(res.row.network) + " runs " + res.row.from + " to " + toWords(res.row.to) + ")"
		}
		text += ": out of network."
		fs = append(fs, finding(CodeOutOfNetwork, order.SeverityWarning, locFacility, fhirFacility, text))
		add(false, "not ready: out of network on "+res.date+": facility NPI "+npi)
	}
	return fs
}

// authPart is whether the authorization allows scheduling, and why.
func authPart(o *order.Order, a *assessment, dateOf func() string) (bool, string) {
	auth := &o.Authorization
	switch {
	case a.p == nil:
		return false, reasonAuthUndetermined
	case a.exempt:
		return true, reasonAuthExempt
	case !a.required():
		return true, reasonAuthNotRequired
	case auth.Status == order.AuthDenied:
		return false, reasonAuthDenied
	case auth.Number == "" && auth.Status != order.AuthApproved:
		return false, reasonAuthPending
	}
	if auth.CPT != "" && auth.CPT != a.cpt {
		return false, "not ready: authorization " + quote(auth.Number) + " is for CPT " + quote(auth.CPT) + ", not the ordered " + quote(a.cpt)
	}
	if auth.ValidFrom.IsZero() && auth.ValidTo.IsZero() {
		return true, reasonAuthApproved
	}
	d := dateOf()
	from, to := "", ""
	if !auth.ValidFrom.IsZero() {
		from = auth.ValidFrom.Format(time.DateOnly)
	}
	if !auth.ValidTo.IsZero() {
		to = auth.ValidTo.Format(time.DateOnly)
	}
	window := toWords(from) + " to " + toWords(to)
	if (from != "" && d < from) || (to != "" && d > to) {
		return false, "not ready: authorization valid " + window + " does not cover the date of service " + d
	}
	return true, "authorization approved, valid " + window + ", covering the date of service " + d
}

// nameOr is the profile's name, else id.
func (py *payer) nameOr(id string) string {
	if py != nil && py.name != "" {
		return py.name
	}
	if id == "" {
		return "the payer"
	}
	return id
}

func periodWords(cov *order.Coverage) string {
	return toWords(safeWords(cov.Start, isoDate)) + " to " + toWords(safeWords(cov.End, isoDate))
}

// safeWords is an order's value for texts: as it is when ok says it is well-formed,
// quoted (escaped, cut) otherwise.
func safeWords(s string, ok func(string) bool) string {
	if s == "" || ok(s) {
		return s
	}
	return quote(s)
}

// toWords is a date bound for reasons: "open" when empty.
func toWords(d string) string {
	if d == "" {
		return "open"
	}
	return d
}

func detailWords(d string) string {
	if d == "" {
		return ""
	}
	return " (" + quoteLong(d) + ")"
}

// quoteLong is quote for a payer's words: up to 200 bytes.
func quoteLong(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return strconv.Quote(s)
}
