package rules

import (
	"fmt"
	"strings"

	"github.com/radbridge/radbridge/order"
)

// Verdict is the prior-authorization answer for one CPT code in one setting for one
// payer. Its JSON has the contract shape {"cpt","required","records_required","exempt",
// "reason"} plus the descriptive fields.
type Verdict struct {
	// CPT is the code asked about, trimmed.
	CPT string `json:"cpt"`
	// Known reports whether the code is in the code table.
	Known bool `json:"known"`
	// Required reports whether the order needs prior authorization: the code (or the
	// payer's rule, or its CPT range or modality when the table does not list it)
	// requires it and the setting does not exempt it.
	Required bool `json:"required"`
	// RecordsRequired reports whether the payer also wants the patient's medical
	// records with the request. It implies Required.
	RecordsRequired bool `json:"records_required"`
	// Exempt reports whether the code would need prior authorization but the setting
	// exempts it (ordered and provided in an exempt setting of the payer's profile).
	// Required and RecordsRequired are then false.
	Exempt bool `json:"exempt"`
	// Reason says in words why, for the order desk.
	Reason string `json:"reason"`
	// PriorAuth is the requirement for this payer before any exemption; empty when the
	// code is unknown and nothing says it is advanced imaging.
	PriorAuth Requirement `json:"prior_auth,omitempty"`
	// Payer is the ID of the payer profile applied; empty when the table's defaults
	// applied (no payer given, or no profile for it).
	Payer string `json:"payer,omitempty"`
	// PayerUnknown reports that a payer was given but no profile matches it: the
	// default rules applied, not the payer's.
	PayerUnknown bool `json:"payer_unknown,omitempty"`
	// Indication is "screening" or "diagnostic" for a screening code checked with its
	// order's diagnoses: which rule applied.
	Indication string `json:"indication,omitempty"`
	Modality   string `json:"modality,omitempty"`
	BodySite   string `json:"body_site,omitempty"`
	Descriptor string `json:"descriptor,omitempty"`
	Category   string `json:"category,omitempty"`
}

// Preauth answers whether cpt needs prior authorization for an exam ordered and
// provided in the encounter class for the payer (a [PayerProfile] ID, matched ignoring
// case; "" gets the code table's defaults, an ID without a profile too, reported as
// PayerUnknown). It is the verdict [Checker.Check] records for an order with only that
// code, class and payer, through the same rules.
//
// The code table gives required, records_required or not_required; the payer profile's
// most specific matching rule overrides it. A code the table does not list is advanced
// imaging when its CPT range or the order's modality says so (see guessAdvanced), and
// then requires authorization: Known false, Required true, a Reason that says "not in
// the imaging code table". A code that needs authorization is exempt when its class is
// in the profile's exempt settings (by default emergency, inpatient,
// hospital-urgent-care and ambulatory-surgery): Required and RecordsRequired are false
// and Exempt is true. Urgent care not known to be hospital-based, outpatient and unknown
// classes are not exempt by default. Any other code gives Known false, Required false
// and a Reason that starts with "unknown CPT code".
//
// Preauth allocates only for unknown codes and unknown payers. It is safe for
// concurrent use.
func (c *Checker) Preauth(cpt string, class order.EncounterClass, payer string) Verdict {
	cpt = strings.TrimSpace(cpt)
	py := c.payer(payer)
	o := order.Order{Procedure: order.Procedure{CPT: cpt}, EncounterClass: class}
	a := c.assess(&o, py, true)
	v := a.verdict()
	if payer != "" && py == nil {
		v.PayerUnknown = true
		v.Reason += " (no payer profile for " + quote(payer) + ": the default rules applied)"
	}
	return v
}

// plan is the precomputed answer for one code under one payer (or the defaults), with
// the texts Check and Preauth need most, so that answering allocates nothing.
type plan struct {
	row  *code // nil when only an exact-CPT payer rule, or a guess, knows the code
	auth Requirement
	// explicit says an exact-CPT or CPT-range payer rule decided auth: the screening
	// rule does not override it.
	explicit bool
	// guessed is the advanced imaging recognised for a code the table does not list.
	guessed *guess
	// subject, forPayer and because are the pieces of the reasons: "CPT 70553 (MRI
	// brain...)", " for Acme PPO", " (payer rule: ...)".
	subject, forPayer, because string
	// who names the payer in finding texts: its name, or "the payer".
	who string
	// reason is the Verdict reason when no exemption applies.
	reason string
	// exempt holds the reasons for the exempting classes (see exemptIndex) when the
	// class is given as where the exam is ordered and provided (Preauth), and
	// exemptPresumed when an order's exam is presumed provided in it (no requested
	// date); empty when auth is NotRequired.
	exempt, exemptPresumed [numExempt]string
	// pending is the text of the preauth.required or preauth.records-required finding.
	pending string
}

// payer is one resolved [PayerProfile], or the defaults (id "").
type payer struct {
	id, name string
	match    Match
	plans    map[string]*plan
	// rules are the profile's overrides, for codes the table does not list.
	rules          []rule
	exempt         []exemptRule
	screening      Requirement
	bhDx           []dxRange
	eligibilityURL string
}

// The classes that may exempt from prior authorization, as indexes into plan.exempt.
const (
	exEmergency = iota
	exInpatient
	exUrgentCare
	exHospitalUrgentCare
	exAmbulatorySurgery
	numExempt
)

// exemptIndex is the plan.exempt index of a class, or -1.
func exemptIndex(c order.EncounterClass) int {
	switch c {
	case order.ClassEmergency:
		return exEmergency
	case order.ClassInpatient:
		return exInpatient
	case order.ClassUrgentCare:
		return exUrgentCare
	case order.ClassHospitalUrgentCare:
		return exHospitalUrgentCare
	case order.ClassAmbulatorySurgery:
		return exAmbulatorySurgery
	}
	return -1
}

// exemptClass is the class of an exemptIndex.
func exemptClass(i int) order.EncounterClass {
	return [numExempt]order.EncounterClass{order.ClassEmergency, order.ClassInpatient, order.ClassUrgentCare,
		order.ClassHospitalUrgentCare, order.ClassAmbulatorySurgery}[i]
}

func unknownReason(cpt string) string {
	if cpt == "" {
		return "no CPT code given, so prior authorization was not determined"
	}
	return fmt.Sprintf("unknown CPT code %q: it is not in the imaging code table, and neither its CPT range nor the order's modality says it is advanced imaging, so prior authorization was not determined", cpt)
}

// payer finds the profile for id: exactly, then ignoring case and surrounding space.
func (c *Checker) payer(id string) *payer {
	if id == "" || len(c.payers) == 0 {
		return nil
	}
	if p, ok := c.payerByID[id]; ok {
		return p
	}
	id = strings.TrimSpace(id)
	for _, p := range c.payers {
		if strings.EqualFold(p.id, id) {
			return p
		}
	}
	return nil
}

// profile is the payer's resolved profile, or the defaults for nil.
func (c *Checker) profile(py *payer) *payer {
	if py != nil {
		return py
	}
	return c.base
}

// defaultPayer is the table's answers with the default exemptions and screening rule.
func defaultPayer(codes map[string]*code) *payer {
	py := &payer{plans: make(map[string]*plan, len(codes)), exempt: defaultExempt(), screening: NotRequired}
	for cpt, row := range codes {
		py.plans[cpt] = newPlan(cpt, row, row.auth, "", "")
	}
	return py
}

// payerPlans resolves a profile against the table: every table code gets the most
// specific matching rule's requirement (or the table's), and every exact-CPT rule for a
// code outside the table adds that code. It reports modality and category rules that
// match no table code.
func payerPlans(codes map[string]*code, p PayerProfile) (*payer, error) {
	py := &payer{id: strings.TrimSpace(p.ID), name: strings.TrimSpace(p.Name), match: trimMatch(p.Match),
		exempt: exemptRules(p.ExemptSettings), screening: Requirement(strings.ToLower(string(p.ScreeningPriorAuth))),
		eligibilityURL: strings.TrimSpace(p.Eligibility.URL)}
	if py.name == "" {
		py.name = py.id
	}
	if py.screening == "" {
		py.screening = NotRequired
	}
	for _, d := range p.BehavioralHealthDx {
		r, _ := parseDxRange(d) // validated
		py.bhDx = append(py.bhDx, r)
	}
	py.rules = make([]rule, len(p.Rules))
	for i, o := range p.Rules {
		py.rules[i] = newRule(o)
	}
	py.plans = make(map[string]*plan, len(codes))
	for cpt, row := range codes {
		best := bestRule(py.rules, row)
		if best < 0 {
			py.plans[cpt] = newPlan(cpt, row, row.auth, py.name, "")
			continue
		}
		r := &py.rules[best]
		pl := newPlan(cpt, row, r.auth, py.name, r.describe())
		pl.explicit = r.rank == rankCPT || r.rank == rankRange
		py.plans[cpt] = pl
	}
	for i := range py.rules {
		r := &py.rules[i]
		switch r.rank {
		case rankCPT:
			if _, ok := py.plans[r.lo]; !ok { // not in the table, nor named by an earlier rule
				pl := newPlan(r.lo, nil, r.auth, py.name, r.describe())
				pl.explicit = true
				py.plans[r.lo] = pl
			}
		case rankModality, rankCategory:
			if !r.matchesAny(codes) {
				return nil, fmt.Errorf("rules: payer %q rule %d (%s): matches no code in the code table", py.id, i, r.describe())
			}
		}
	}
	return py, nil
}

// bestRule is the index of the most specific rule matching row, or -1.
func bestRule(rs []rule, row *code) int {
	best, bestRank := -1, -1
	for i := range rs {
		rank := rs[i].rankFor(row)
		if rank > bestRank || rank == rankRange && rank == bestRank && rs[i].width < rs[best].width {
			best, bestRank = i, rank
		}
	}
	return best
}

// guessPlan is the plan for a code the table does not list but that g recognises as
// advanced imaging: the profile's most specific rule for a row of that modality and
// category advanced, else required (records required for PET, which Kaiser WA lists
// among the services that need medical records).
func (py *payer) guessPlan(cpt string, g guess) *plan {
	row := &code{cpt: cpt, modality: g.modality, category: "advanced"}
	auth := Required
	if g.modality == "PET" {
		auth = RecordsRequired
	}
	rule := ""
	explicit := false
	if best := bestRule(py.rules, row); best >= 0 {
		r := &py.rules[best]
		auth, rule, explicit = r.auth, r.describe(), r.rank == rankCPT || r.rank == rankRange
	}
	p := newPlan(cpt, nil, auth, py.name, rule)
	p.guessed, p.explicit = &g, explicit
	var subject string
	switch {
	case cpt == "":
		subject = "The exam (no CPT code; " + g.why + ")"
	case !validCPT(cpt):
		subject = "The exam " + quote(cpt) + " (not a CPT code; " + g.why + ")"
	default:
		subject = "CPT " + cpt + " (not in the imaging code table; " + g.why + ")"
	}
	p.retext(subject)
	return p
}

// newPlan writes the texts for one code. payerName is "" for the table's defaults;
// rule describes the payer rule applied, "" for none.
func newPlan(cpt string, row *code, auth Requirement, payerName, rule string) *plan {
	p := &plan{row: row, auth: auth, who: "the payer"}
	if payerName != "" {
		p.forPayer, p.who = " for "+payerName, payerName
	}
	if rule != "" {
		p.because = " (payer rule: " + rule + ")"
	}
	subject := "CPT " + cpt
	if row != nil {
		subject += " (" + row.descriptor + ")"
	} else {
		subject += " (not in the imaging code table)"
	}
	p.retext(subject)
	return p
}

// retext writes the plan's texts for subject.
func (p *plan) retext(subject string) {
	p.subject = subject
	p.reason = requirementText(subject, p.auth, p.forPayer, p.because, "")
	p.exempt, p.exemptPresumed = [numExempt]string{}, [numExempt]string{}
	if p.auth == NotRequired {
		return
	}
	for i := range p.exempt {
		c := exemptClass(i)
		p.exempt[i] = p.exemptText(c, "")
		p.exemptPresumed[i] = p.exemptText(c, ": ordered during "+visitWords(c)+", and with no requested date presumed provided during it")
	}
	p.pending = pendingText(subject, p.who, p.auth == RecordsRequired, "")
}

// requirementText is the reason for a requirement, with why appended.
func requirementText(subject string, auth Requirement, forPayer, because, why string) string {
	switch auth {
	case NotRequired:
		return subject + " does not require prior authorization" + forPayer + because + why
	case RecordsRequired:
		return subject + " requires prior authorization" + forPayer + ", with the patient's medical records" + because + why
	}
	return subject + " requires prior authorization" + forPayer + because + why
}

// exemptText is the reason of an exemption in class c, with the basis appended.
func (p *plan) exemptText(c order.EncounterClass, basis string) string {
	return p.subject + " would require prior authorization" + p.forPayer + p.because +
		", but " + settingWords(c) + " orders are exempt" + basis
}

// pendingText is the text of the finding that authorization is outstanding.
func pendingText(subject, who string, records bool, why string) string {
	s := "Prior authorization from " + who + " is required for " + subject
	if records {
		s += ", and " + who + " wants the patient's medical records with the request"
	}
	return s + why + ": obtain it and send the authorization number with the order."
}

// The precedence ranks of payer rules: higher wins.
const (
	rankCategory = iota
	rankFamily   // a modality rule matching through the modality family
	rankModality
	rankRange
	rankCPT
)

// rule is a normalized Override.
type rule struct {
	rank  int // rankCPT, rankRange, rankModality (for any modality rule) or rankCategory
	lo    string
	hi    string
	value string // modality or category
	width int
	auth  Requirement
	note  string
}

func newRule(o Override) rule {
	r := rule{auth: Requirement(strings.ToLower(string(o.PriorAuth))), note: strings.TrimSpace(o.Note)}
	switch {
	case strings.TrimSpace(o.CPT) != "":
		r.rank, r.lo = rankCPT, strings.TrimSpace(o.CPT)
		r.hi = r.lo
	case strings.TrimSpace(o.CPTRange) != "":
		r.rank = rankRange
		r.lo, r.hi, _ = parseRange(o.CPTRange) // validated by Config.Validate
		r.width = rangeWidth(r.lo, r.hi)
	case strings.TrimSpace(o.Modality) != "":
		r.rank, r.value = rankModality, modalityAlias(o.Modality)
	default:
		r.rank, r.value = rankCategory, strings.ToLower(strings.TrimSpace(o.Category))
	}
	return r
}

// rankFor is r's precedence for row: its rank, rankFamily for a modality rule that
// matches through the modality family, or -1 when r does not match row.
func (r *rule) rankFor(row *code) int {
	match := false
	switch r.rank {
	case rankCPT:
		match = row.cpt == r.lo
	case rankRange:
		match = inRange(row.cpt, r.lo, r.hi)
	case rankModality:
		if row.modality != r.value && modalityFamily(row.modality) == r.value {
			return rankFamily
		}
		match = row.modality == r.value
	default:
		match = row.category == r.value
	}
	if !match {
		return -1
	}
	return r.rank
}

func (r *rule) matchesAny(codes map[string]*code) bool {
	for _, row := range codes {
		if r.rankFor(row) >= 0 {
			return true
		}
	}
	return false
}

// describe names the rule in reasons, e.g. "modality CT", "cpt_range 70450-70498".
func (r *rule) describe() string {
	var s string
	switch r.rank {
	case rankCPT:
		s = "cpt " + r.lo
	case rankRange:
		s = "cpt_range " + r.lo + "-" + r.hi
	case rankModality:
		s = "modality " + r.value
	default:
		s = "category " + r.value
	}
	if r.note != "" {
		s += "; " + r.note
	}
	return s
}
