package rules

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/radbridge/radbridge/order"
)

// Checker runs the completeness and prior-authorization checks. Build it once with
// [New]; it is immutable afterwards and safe for concurrent use (each order must be
// checked by one goroutine at a time, as [order.Order] is not safe for concurrent
// mutation).
type Checker struct {
	// base is the defaults: the code table's answers with the default exemptions.
	base *payer
	// payers are the resolved profiles in configuration order; payerByID indexes them
	// by their exact (trimmed) ID.
	payers       []*payer
	payerByID    map[string]*payer
	settings     settings
	networks     []networkRow
	haveNetworks bool
	facilityNPI  string
	eligibility  Eligibility
	dueStandard  time.Duration
	dueExpedited time.Duration
}

// Deps are what a [Checker] needs from outside: they are not configuration.
type Deps struct {
	// Eligibility answers eligibility questions for payer profiles that name an
	// eligibility service. Default: nil, and no question is asked ([Checker.Verify]
	// then clears the order's Eligibility).
	Eligibility Eligibility
	// ReadFile reads Config.NetworksFile. Default: os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// New is NewWith(cfg, Deps{}): no eligibility service, files read from disk.
func New(cfg Config) (*Checker, error) { return NewWith(cfg, Deps{}) }

// NewWith validates cfg, parses the embedded code table (data/imaging-codes.csv) and
// the networks table (Config.NetworksFile), and resolves every payer profile against
// the code table, so that checks only look things up. It returns an error for an
// invalid Config, including a modality or category rule that matches no code of the
// table, and for a networks file that cannot be read or parsed.
func NewWith(cfg Config, deps Deps) (*Checker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	codes, err := parseTable(imagingCodes)
	if err != nil {
		return nil, err
	}
	c := &Checker{
		base:         defaultPayer(codes),
		payerByID:    make(map[string]*payer, len(cfg.Payers)),
		settings:     newSettings(cfg),
		facilityNPI:  strings.TrimSpace(cfg.FacilityNPI),
		eligibility:  deps.Eligibility,
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
	if name := strings.TrimSpace(cfg.NetworksFile); name != "" {
		read := deps.ReadFile
		if read == nil {
			read = os.ReadFile
		}
		data, err := read(name)
		if err != nil {
			return nil, fmt.Errorf("rules: networks_file: %w", err)
		}
		if c.networks, err = parseNetworks(data); err != nil {
			return nil, fmt.Errorf("rules: networks_file %s: %w", name, err)
		}
		c.haveNetworks = true
	}
	return c, nil
}

// Check runs every check on o and records the outcome in o; it never fails and never
// changes o.Status (the engine calls [order.Order.Settle] next). It:
//
//   - replaces o.Findings with this check's findings, and o.ReadyToSchedule.Reasons
//     with its reasons, reusing their backing arrays (so a caller that kept the old
//     slices sees them overwritten: copy them first, or use [order.Order.Clone]);
//   - fills o.Procedure.Modality and BodySite from the code table when they are empty
//     (modality in the order's DICOM-style vocabulary: CT, MR, PET, NM, XR, US, MG,
//     FL, BMD), or the modality from the CPT range of advanced imaging the table does
//     not list;
//   - sets o.Authorization Required, RecordsRequired, Exempt, Undetermined,
//     PayerUnknown, Reason and DueBy (see below), and leaves Status, Number, CPT,
//     ValidFrom, ValidTo and Decided alone;
//   - checks the coverage dates, the payer's eligibility answer (o.Eligibility, from
//     [Checker.Verify]) and the performing facility's network participation, and
//     sets o.ReadyToSchedule.
//
// The CPT code is o.Procedure.CPT or, when that is empty and the procedure is coded in
// CPT, o.Procedure.Code. The payer profile is the one matching o.Coverage[0], the
// primary coverage, most specifically ([Match]); with no coverage or no matching
// profile the default rules apply and Authorization.PayerUnknown is set (with a
// preauth.payer-unknown finding when profiles are configured).
//
// Authorization follows the order package's meaning: Required is what the payer
// requires for the procedure, Exempt says the setting waives it (so
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
// A complete order, one pending authorization and one exempt by its setting alone are
// checked without allocating once their slices have room.
func (c *Checker) Check(o *order.Order, now time.Time) {
	old := o.Findings
	fs := old[:0]
	py := c.coveragePayer(o.Coverage)
	a := c.assess(o, py, false)

	fs = checkProcedure(fs, &o.Procedure, a.cpt, a.p)
	fs = checkReason(fs, o)
	fs = checkDiagnoses(fs, o.Diagnoses)
	fs = checkProvider(fs, &o.Provider)
	fs = checkPatient(fs, &o.Patient)
	fs = checkSignature(fs, o)
	fs = c.checkPreauth(fs, o, &a, py == nil, now)
	fs = c.checkReady(fs, o, &a, now)

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
