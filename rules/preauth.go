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
	// payer's rule) requires it and the setting does not exempt it.
	Required bool `json:"required"`
	// RecordsRequired reports whether the payer also wants the patient's medical
	// records with the request. It implies Required.
	RecordsRequired bool `json:"records_required"`
	// Exempt reports whether the code would need prior authorization but the encounter
	// class exempts it (emergency, inpatient, hospital urgent care, ambulatory surgery).
	// Required and RecordsRequired are then false.
	Exempt bool `json:"exempt"`
	// Reason says in words why, for the order desk.
	Reason string `json:"reason"`
	// PriorAuth is the requirement for this payer before any exemption; empty when the
	// code is unknown.
	PriorAuth Requirement `json:"prior_auth,omitempty"`
	// Payer is the ID of the payer profile applied; empty when the table's defaults
	// applied (no payer given, or no profile for it).
	Payer      string `json:"payer,omitempty"`
	Modality   string `json:"modality,omitempty"`
	BodySite   string `json:"body_site,omitempty"`
	Descriptor string `json:"descriptor,omitempty"`
	Category   string `json:"category,omitempty"`
}

// Preauth answers whether cpt needs prior authorization for an order in the encounter
// class for the payer (a [PayerProfile] ID, matched ignoring case; "" or an ID without a
// profile gets the code table's defaults).
//
// The code table gives required, records_required or not_required; the payer profile's
// most specific matching rule overrides it. A code that needs authorization is exempt
// in the emergency, inpatient, urgent-care (hospital urgent care) and
// ambulatory-surgery classes: Required and RecordsRequired are false and Exempt is true.
// Outpatient and unknown classes are not exempt. A code that is not in the table (and
// not named by an exact-CPT payer rule) gives Known false, Required false and a Reason
// that starts with "unknown CPT code".
//
// Preauth allocates only for unknown codes. It is safe for concurrent use.
func (c *Checker) Preauth(cpt string, class order.EncounterClass, payer string) Verdict {
	cpt = strings.TrimSpace(cpt)
	py := c.payer(payer)
	return verdict(c.plan(py, cpt), cpt, class, py)
}

// plan is the precomputed answer for one code under one payer (or the defaults), with
// every text Check and Preauth may need, so that answering allocates nothing.
type plan struct {
	row  *code // nil when only an exact-CPT payer rule knows the code
	auth Requirement
	// reason is the Verdict reason when no exemption applies.
	reason string
	// exempt holds the reasons for the exempting classes (see exemptIndex); empty when
	// auth is NotRequired.
	exempt [numExempt]string
	// pending is the text of the preauth.required or preauth.records-required finding.
	pending string
}

// payer is one resolved [PayerProfile].
type payer struct {
	id, name string
	plans    map[string]*plan
}

// The classes that exempt from prior authorization, as indexes into plan.exempt.
const (
	exEmergency = iota
	exInpatient
	exUrgentCare
	exAmbulatorySurgery
	numExempt
)

// exemptIndex is the plan.exempt index of an exempting class, or -1.
func exemptIndex(c order.EncounterClass) int {
	switch c {
	case order.ClassEmergency:
		return exEmergency
	case order.ClassInpatient:
		return exInpatient
	case order.ClassUrgentCare:
		return exUrgentCare
	case order.ClassAmbulatorySurgery:
		return exAmbulatorySurgery
	}
	return -1
}

// exemptWords names an exempting class (an exemptIndex) in reasons.
func exemptWords(i int) string {
	switch i {
	case exEmergency:
		return "emergency"
	case exInpatient:
		return "inpatient"
	case exUrgentCare:
		return "hospital urgent care"
	}
	return "ambulatory surgery"
}

func verdict(p *plan, cpt string, class order.EncounterClass, py *payer) Verdict {
	v := Verdict{CPT: cpt}
	if py != nil {
		v.Payer = py.id
	}
	if p == nil {
		v.Reason = unknownReason(cpt)
		return v
	}
	if p.row != nil {
		v.Known = true
		v.Modality, v.BodySite = p.row.modality, p.row.bodySite
		v.Descriptor, v.Category = p.row.descriptor, p.row.category
	}
	v.PriorAuth = p.auth
	if p.auth == NotRequired {
		v.Reason = p.reason
		return v
	}
	if i := exemptIndex(class); i >= 0 {
		v.Exempt = true
		v.Reason = p.exempt[i]
		return v
	}
	v.Required = true
	v.RecordsRequired = p.auth == RecordsRequired
	v.Reason = p.reason
	return v
}

func unknownReason(cpt string) string {
	if cpt == "" {
		return "no CPT code given, so prior authorization was not determined"
	}
	return fmt.Sprintf("unknown CPT code %q: it is not in the imaging code table, so prior authorization was not determined", cpt)
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

func (c *Checker) plan(py *payer, cpt string) *plan {
	if py != nil {
		return py.plans[cpt]
	}
	return c.defaults[cpt]
}

// defaultPlans are the code table's answers.
func defaultPlans(codes map[string]*code) map[string]*plan {
	plans := make(map[string]*plan, len(codes))
	for cpt, row := range codes {
		plans[cpt] = newPlan(cpt, row, row.auth, "", "")
	}
	return plans
}

// payerPlans resolves a profile against the table: every table code gets the most
// specific matching rule's requirement (or the table's), and every exact-CPT rule for a
// code outside the table adds that code. It reports modality and category rules that
// match no table code.
func payerPlans(codes map[string]*code, p PayerProfile) (*payer, error) {
	py := &payer{id: strings.TrimSpace(p.ID), name: strings.TrimSpace(p.Name)}
	if py.name == "" {
		py.name = py.id
	}
	rs := make([]rule, len(p.Rules))
	for i, o := range p.Rules {
		rs[i] = newRule(o)
	}
	py.plans = make(map[string]*plan, len(codes))
	for cpt, row := range codes {
		best, bestRank := -1, -1
		for i := range rs {
			rank := rs[i].rankFor(row)
			if rank > bestRank || rank == rankRange && rank == bestRank && rs[i].width < rs[best].width {
				best, bestRank = i, rank
			}
		}
		if best < 0 {
			py.plans[cpt] = newPlan(cpt, row, row.auth, py.name, "")
			continue
		}
		py.plans[cpt] = newPlan(cpt, row, rs[best].auth, py.name, rs[best].describe())
	}
	for i := range rs {
		r := &rs[i]
		switch r.rank {
		case rankCPT:
			if _, ok := py.plans[r.lo]; !ok { // not in the table, nor named by an earlier rule
				py.plans[r.lo] = newPlan(r.lo, nil, r.auth, py.name, r.describe())
			}
		case rankModality, rankCategory:
			if !r.matchesAny(codes) {
				return nil, fmt.Errorf("rules: payer %q rule %d (%s): matches no code in the code table", py.id, i, r.describe())
			}
		}
	}
	return py, nil
}

// newPlan writes the texts for one code. payerName is "" for the table's defaults;
// rule describes the payer rule applied, "" for none.
func newPlan(cpt string, row *code, auth Requirement, payerName, rule string) *plan {
	subject := "CPT " + cpt
	if row != nil {
		subject += " (" + row.descriptor + ")"
	} else {
		subject += " (not in the imaging code table)"
	}
	forPayer, because := "", ""
	if payerName != "" {
		forPayer = " for " + payerName
	}
	if rule != "" {
		because = " (payer rule: " + rule + ")"
	}
	p := &plan{row: row, auth: auth}
	switch auth {
	case NotRequired:
		p.reason = subject + " does not require prior authorization" + forPayer + because
		return p
	case RecordsRequired:
		p.reason = subject + " requires prior authorization" + forPayer +
			", with the patient's medical records" + because
	default:
		p.reason = subject + " requires prior authorization" + forPayer + because
	}
	for i := range p.exempt {
		p.exempt[i] = subject + " would require prior authorization" + forPayer + because +
			", but " + exemptWords(i) + " orders are exempt"
	}
	who := "the payer"
	if payerName != "" {
		who = payerName
	}
	p.pending = "Prior authorization from " + who + " is required for " + subject
	if auth == RecordsRequired {
		p.pending += ", and " + who + " wants the patient's medical records with the request"
	}
	p.pending += ": obtain it and send the authorization number with the order."
	return p
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
