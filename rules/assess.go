package rules

import (
	"strings"

	"github.com/radbridge/radbridge/order"
)

// assessment is the prior-authorization verdict on one order, as Check records it and
// Preauth reports it. Both go through assess.
type assessment struct {
	cpt string
	p   *plan  // nil: undetermined
	py  *payer // the profile applied; c.base for the defaults
	ex  exemption
	// auth is the requirement before any exemption, after the screening,
	// behavioural-health and whole-body rules; "" when undetermined.
	auth       Requirement
	exempt     bool
	indication int
	reason     string
	// pending is the finding text when authorization is outstanding.
	pending string
}

func (a *assessment) required() bool { return a.auth == Required || a.auth == RecordsRequired }

// assess decides the order's prior authorization under profile py (nil: the
// defaults). stated says the encounter class is where the exam is ordered and provided
// (Preauth); otherwise the order's setting and timing decide (decideExemption).
func (c *Checker) assess(o *order.Order, py *payer, stated bool) assessment {
	prof := c.profile(py)
	a := assessment{cpt: procedureCPT(&o.Procedure), py: prof}
	a.p = prof.plans[a.cpt]
	if a.p == nil {
		if g, ok := guessAdvanced(a.cpt, &o.Procedure); ok {
			a.p = prof.guessPlan(a.cpt, g)
		}
	}
	if a.p == nil {
		a.reason = unknownReason(a.cpt)
		return a
	}
	p := a.p
	a.auth, a.reason, a.pending = p.auth, p.reason, p.pending
	why := "" // set when a rule below changed the requirement or its reason

	// Screening vs diagnostic: a screening code with screening diagnoses only is
	// preventive; with a diagnostic indication it follows the table's (diagnostic) rule.
	if p.row != nil && p.row.category == "screening" && !p.explicit && len(o.Diagnoses) > 0 {
		kind, which := screeningIndication(o.Diagnoses)
		a.indication = kind
		switch kind {
		case indicationScreening:
			a.auth = prof.screening
			why = ": ordered as screening (" + which + "); with a diagnostic indication the diagnostic rule (" +
				string(p.auth) + ") would apply"
		case indicationDiagnostic:
			why = ": ordered with a diagnostic indication (" + which + "), so the diagnostic rule applies, not the screening one"
		}
	}
	modality := ""
	switch {
	case p.row != nil:
		modality = p.row.modality
	case p.guessed != nil:
		modality = p.guessed.modality
	}
	// Medical records for SPECT and MRA ordered for behavioural-health indications
	// (Kaiser WA), and for whole-body CT.
	if a.auth == Required {
		switch {
		case modality == "SPECT" || modality == "SPECT-CT" || modality == "MRA":
			if dx := behavioralHealthDx(o.Diagnoses, prof.bhDx); dx != "" {
				a.auth = RecordsRequired
				why = ": behavioural-health indication " + quote(dx) + " (SPECT and MRA for behavioural-health indications need medical records)"
			}
		case (modality == "CT" || modality == "CTA" || strings.EqualFold(strings.TrimSpace(o.Procedure.Modality), "CT")) &&
			wholeBody(&o.Procedure):
			a.auth = RecordsRequired
			why = ": whole-body CT (whole-body CT needs medical records)"
		}
	}
	if why != "" {
		a.reason = requirementText(p.subject, a.auth, p.forPayer, p.because, why)
		a.pending = pendingText(p.subject, p.who, a.auth == RecordsRequired, why)
	}
	if !a.required() {
		return a
	}

	// Exemption: ordered and provided in one of the profile's exempt settings.
	if stated {
		i := exemptIndex(o.EncounterClass)
		if _, ok := findExempt(prof.exempt, o.EncounterClass); ok && i >= 0 {
			a.exempt = true
			a.reason = p.exempt[i]
			if why != "" {
				a.reason = p.exemptText(o.EncounterClass, why)
			}
		} else if o.EncounterClass == order.ClassUrgentCare {
			a.reason += "; urgent care is exempt only when hospital-based (class hospital-urgent-care)"
		}
		return a
	}
	a.ex = c.settings.decideExemption(o, prof.exempt)
	ex := &a.ex
	switch {
	case ex.ok:
		a.exempt = true
		i := exemptIndex(ex.setting)
		switch {
		case ex.basis == basisPresumed && why == "" && i >= 0:
			a.reason = p.exemptPresumed[i]
		default:
			a.reason = p.exemptText(ex.setting, why+exemptBasis(ex))
		}
	case ex.listed:
		a.reason += notExemptBasis(ex)
	case ex.setting == order.ClassUrgentCare:
		a.reason += "; urgent care is exempt only when hospital-based, and this order's facility " +
			facilityWords(&o.Setting) + " is not a hospital in prior_auth.hospital_facilities"
	}
	return a
}

// exemptBasis says why an exam counts as provided during the exempt encounter.
func exemptBasis(ex *exemption) string {
	v := visitWords(ex.setting)
	switch ex.basis {
	case basisPresumed:
		return ": ordered during " + v + ", and with no requested date presumed provided during it"
	case basisPriority:
		return ": ordered during " + v + " with " + ex.detail + ", so provided during it"
	case basisLocation:
		return ": ordered during " + v + ", and " + ex.detail + " says it is provided there"
	}
	return ": ordered and provided during " + v + " (" + ex.detail + ")"
}

// notExemptBasis says why an order placed in an exempt setting is not exempt.
func notExemptBasis(ex *exemption) string {
	v := visitWords(ex.setting)
	w := settingWords(ex.setting)
	if ex.basis == basisElsewhere {
		return "; it was ordered during " + v + " but " + ex.detail + " places the exam elsewhere, and " + w +
			" orders are exempt only when ordered and provided there"
	}
	return "; it was ordered during " + v + " but is not provided during it (" + ex.detail + "), and " + w +
		" orders are exempt only when ordered and provided there"
}

// facilityWords names the encounter's facility in reasons.
func facilityWords(st *order.Setting) string {
	switch {
	case st.Facility != "" && st.FacilityID != "":
		return quote(st.Facility) + " (" + quote(st.FacilityID) + ")"
	case st.Facility != "":
		return quote(st.Facility)
	case st.FacilityID != "":
		return quote(st.FacilityID)
	}
	return "(none given, PV1-3.4 / Encounter.serviceProvider)"
}

// verdict is the assessment as a Verdict.
func (a *assessment) verdict() Verdict {
	v := Verdict{CPT: a.cpt, Reason: a.reason}
	if a.py != nil {
		v.Payer = a.py.id
	}
	p := a.p
	if p == nil {
		return v
	}
	if p.row != nil {
		v.Known = true
		v.Modality, v.BodySite = p.row.modality, p.row.bodySite
		v.Descriptor, v.Category = p.row.descriptor, p.row.category
	} else if p.guessed != nil {
		v.Modality = p.guessed.modality
	}
	switch a.indication {
	case indicationScreening:
		v.Indication = "screening"
	case indicationDiagnostic:
		v.Indication = "diagnostic"
	}
	v.PriorAuth = a.auth
	switch {
	case a.exempt:
		v.Exempt = true
	case a.required():
		v.Required = true
		v.RecordsRequired = a.auth == RecordsRequired
	}
	return v
}
