package rules

import (
	"strings"
	"time"

	"github.com/radbridge/radbridge/order"
)

// Checker runs the completeness and prior-authorization checks. Build it once with
// [New]; it is immutable afterwards and safe for concurrent use (each order must be
// checked by one goroutine at a time, as [order.Order] is not safe for concurrent
// mutation).
type Checker struct {
	defaults map[string]*plan
	// payers are the resolved profiles in configuration order; payerByID indexes them
	// by their exact (trimmed) ID.
	payers       []*payer
	payerByID    map[string]*payer
	dueStandard  time.Duration
	dueExpedited time.Duration
}

// New validates cfg, parses the embedded code table (data/imaging-codes.csv) and
// resolves every payer profile against it, so that checks only look things up. It
// returns an error for an invalid Config, including a modality or category rule that
// matches no code of the table.
func New(cfg Config) (*Checker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	codes, err := parseTable(imagingCodes)
	if err != nil {
		return nil, err
	}
	c := &Checker{
		defaults:     defaultPlans(codes),
		payerByID:    make(map[string]*payer, len(cfg.Payers)),
		dueStandard:  cfg.dueStandard(),
		dueExpedited: cfg.dueExpedited(),
	}
	for _, p := range cfg.Payers {
		py, err := payerPlans(codes, p)
		if err != nil {
			return nil, err
		}
		c.payers = append(c.payers, py)
		c.payerByID[py.id] = py
	}
	return c, nil
}

// Check runs every check on o and records the outcome in o; it never fails and never
// changes o.Status (the engine calls [order.Order.Settle] next). It:
//
//   - replaces o.Findings with this check's findings, reusing its backing array (so a
//     caller that kept the old slice sees it overwritten: copy it first, or use
//     [order.Order.Clone]);
//   - fills o.Procedure.Modality and BodySite from the code table when they are empty
//     (modality in the order's DICOM-style vocabulary: CT, MR, PET, NM, XR, US, MG,
//     FL, BMD);
//   - sets o.Authorization Required, RecordsRequired, Exempt, Reason and DueBy from
//     [Checker.Preauth] for the order's CPT code, encounter class and primary coverage
//     (see below), and leaves Status, Number and Decided alone.
//
// The CPT code is o.Procedure.CPT or, when that is empty and the procedure is coded in
// CPT, o.Procedure.Code. The payer profile is found from o.Coverage[0], the primary
// coverage: its Plan first (a plan-level profile is the more specific), then its Payer;
// with no coverage or no matching profile, the table's defaults apply.
//
// Authorization follows the order package's meaning: Required is what the payer
// requires for the procedure, Exempt says the encounter class waives it (so
// [order.Order.Settle] records the status exempt), and RecordsRequired says the payer
// wants medical records with the request; it is false when the order is exempt, as
// there is no request to make. (The [Verdict] of Preauth, a contract of its own,
// reports Required false when exempt.) When authorization is outstanding (required, not
// exempt, no number and no recorded decision) DueBy is set to now plus DueExpedited for
// an expedited priority or DueStandard otherwise, and an information finding
// (preauth.required or preauth.records-required) says what is needed; when it is not
// required or exempt DueBy is cleared; when a number or decision is present DueBy is
// kept.
//
// A complete order is checked without allocating.
func (c *Checker) Check(o *order.Order, now time.Time) {
	old := o.Findings
	fs := old[:0]
	cpt := procedureCPT(&o.Procedure)
	py := c.coveragePayer(o.Coverage)
	p := c.plan(py, cpt)

	fs = checkProcedure(fs, &o.Procedure, cpt, p)
	fs = checkReason(fs, o)
	fs = checkDiagnoses(fs, o.Diagnoses)
	fs = checkProvider(fs, &o.Provider)
	fs = checkPatient(fs, &o.Patient)
	fs = checkSignature(fs, o)
	fs = c.checkPreauth(fs, o, cpt, p, py, now)

	if len(fs) < len(old) {
		clear(old[len(fs):]) // same backing array: drop stale findings
	}
	o.Findings = fs
}

// Overdue reports whether o still waits for a prior authorization (see
// [order.Authorization.Outstanding]) and now is past its DueBy. Orders whose workflow
// has ended ([order.Status.Terminal]) or that were never checked (no DueBy) are not
// overdue.
func (c *Checker) Overdue(o *order.Order, now time.Time) bool {
	a := &o.Authorization
	return a.Outstanding() && !a.DueBy.IsZero() && now.After(a.DueBy) && !o.Status.Terminal()
}

// coveragePayer finds the payer profile of the primary coverage: by plan, then payer.
func (c *Checker) coveragePayer(cov []order.Coverage) *payer {
	if len(cov) == 0 || len(c.payers) == 0 {
		return nil
	}
	if py := c.payer(cov[0].Plan); py != nil {
		return py
	}
	return c.payer(cov[0].Payer)
}

// procedureCPT is the order's CPT code: Procedure.CPT, else Code when the system is CPT.
func procedureCPT(p *order.Procedure) string {
	if s := strings.TrimSpace(p.CPT); s != "" {
		return s
	}
	if isCPTSystem(p.System) {
		return strings.TrimSpace(p.Code)
	}
	return ""
}

// isCPTSystem is [order.Procedure.IsCPT] without allocating (IsCPT lower-cases its
// input); a test keeps the two in step.
func isCPTSystem(s string) bool {
	s = strings.TrimSpace(s)
	for _, name := range [...]string{"CPT", "C4", "C5", "CPT4", "CPT-4",
		"http://www.ama-assn.org/go/cpt", "urn:oid:2.16.840.1.113883.6.12"} {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

// finding builds a Finding; every rule goes through it so that the fields line up and
// every finding has its code's class.
func finding(code string, sev order.Severity, location, fhirPath, text string) order.Finding {
	return order.Finding{Code: code, Severity: sev, Class: classOf(code), Location: location, FHIRPath: fhirPath, Text: text}
}
