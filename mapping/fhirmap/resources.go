package fhirmap

import (
	"strings"

	"github.com/radbridge/radbridge/order"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// This file builds the resources around a ServiceRequest from the order model: Patient,
// Practitioner, Encounter, Coverage, Condition and Provenance, and the logical
// references (identifier and display) that stand in for them when they are not sent.
// Every builder omits what the order does not know: no empty strings, objects or arrays.

// patientResource maps the order's patient (PID in v2): identifiers, name, birth date and
// gender. It returns nil when the order knows nothing of the patient.
func patientResource(p order.Patient) *fhir.Patient {
	if len(p.Identifiers) == 0 && p.Family == "" && p.Given == "" && p.BirthDate == "" && p.Sex == "" {
		return nil
	}
	pt := &fhir.Patient{BirthDate: ptr(p.BirthDate)}
	for _, id := range p.Identifiers {
		pt.Identifier = append(pt.Identifier, fhirIdentifier(id.Value, id.System, id.Type))
	}
	if n, ok := humanName(p.Family, p.Given, p.Middle, "", ""); ok {
		pt.Name = []fhir.HumanName{n}
	}
	if g, ok := enumOf[fhir.AdministrativeGender](p.Sex); ok {
		pt.Gender = &g
	}
	return pt
}

// humanName builds a HumanName; given and middle are the given names in order, prefix and
// suffix one element each (the suffix may hold "Jr MD": XCN.5 and the degree, as read).
func humanName(family, given, middle, prefix, suffix string) (fhir.HumanName, bool) {
	n := fhir.HumanName{Family: ptr(family)}
	for _, g := range [...]string{given, middle} {
		if g != "" {
			n.Given = append(n.Given, g)
		}
	}
	if prefix != "" {
		n.Prefix = []string{prefix}
	}
	if suffix != "" {
		n.Suffix = []string{suffix}
	}
	return n, n.Family != nil || len(n.Given) > 0 || prefix != "" || suffix != ""
}

// practitionerResource maps a provider: the NPI as an identifier in the us-npi system
// (typed NPI), another ID with its assigning authority, and the name. It returns nil
// for an empty provider.
func practitionerResource(p order.Provider) *fhir.Practitioner {
	if p == (order.Provider{}) {
		return nil
	}
	pr := &fhir.Practitioner{Identifier: providerIdentifiers(p)}
	if n, ok := humanName(p.Family, p.Given, "", p.Prefix, p.Suffix); ok {
		pr.Name = []fhir.HumanName{n}
	}
	return pr
}

func providerIdentifiers(p order.Provider) []fhir.Identifier {
	var ids []fhir.Identifier
	if p.NPI != "" {
		ids = append(ids, fhir.Identifier{System: ptr(systemNPI), Value: ptr(p.NPI), Type: identifierType("NPI")})
	}
	if p.ID != "" {
		ids = append(ids, fhirIdentifier(p.ID, p.IDSystem, ""))
	}
	return ids
}

// personDisplay is the display of a patient or provider reference: "Family, Given
// Middle", or what there is of it.
func personDisplay(family string, given ...string) string {
	g := strings.TrimSpace(strings.Join(given, " "))
	switch {
	case family != "" && g != "":
		return family + ", " + g
	case family != "":
		return family
	}
	return g
}

// patientRef is the logical reference to the patient of a ServiceRequest sent without
// its Patient: the first identifier and the name. When the order knows nothing of the
// patient the required subject carries the data-absent-reason extension "unknown".
func patientRef(p order.Patient) fhir.Reference {
	r := fhir.Reference{Type: ptr("Patient"), Display: ptr(personDisplay(p.Family, p.Given, p.Middle))}
	if len(p.Identifiers) > 0 {
		id := p.Identifiers[0]
		fid := fhirIdentifier(id.Value, id.System, id.Type)
		r.Identifier = &fid
	}
	if r.Identifier == nil && r.Display == nil {
		return absentRef()
	}
	return r
}

// absentRef is a reference whose target is unknown: the data-absent-reason extension is
// how FHIR fills a required element the sender did not give.
func absentRef() fhir.Reference {
	return fhir.Reference{Extension: []fhir.Extension{{Url: extDataAbsent, ValueCode: ptr("unknown")}}}
}

// providerRef is the logical reference to a provider: its first identifier (the NPI
// when known) and its name; nil for an empty provider.
func providerRef(p order.Provider) *fhir.Reference {
	if p == (order.Provider{}) {
		return nil
	}
	r := &fhir.Reference{Type: ptr("Practitioner"), Display: ptr(personDisplay(p.Family, p.Given))}
	if ids := providerIdentifiers(p); len(ids) > 0 {
		r.Identifier = &ids[0]
	}
	return r
}

// encounterClass maps the order's encounter class to Encounter.class, with the v3 ActCode
// codes of the v2-to-FHIR IG's PV1-2 map: EMER, IMP, AMB, and SS (short stay) for
// ambulatory surgery. Urgent care (hospital-based or not) has no ActCode: its code is
// written without a system, as order.ParseEncounterClass reads it. ok is false for an
// unknown class.
func encounterClass(c order.EncounterClass) (fhir.Coding, bool) {
	code, display := "", ""
	switch c {
	case order.ClassEmergency:
		code, display = "EMER", "emergency"
	case order.ClassInpatient:
		code, display = "IMP", "inpatient encounter"
	case order.ClassOutpatient:
		code, display = "AMB", "ambulatory"
	case order.ClassAmbulatorySurgery:
		code, display = "SS", "short stay"
	case order.ClassUrgentCare:
		return fhir.Coding{Code: ptr(string(c)), Display: ptr("urgent care")}, true
	case order.ClassHospitalUrgentCare:
		return fhir.Coding{Code: ptr(string(c)), Display: ptr("hospital urgent care")}, true
	default:
		return fhir.Coding{}, false
	}
	return fhir.Coding{System: ptr(systemActCode), Code: ptr(code), Display: ptr(display)}, true
}

// encounterResource maps the encounter class and setting to an Encounter of status
// unknown (an order says nothing of where the encounter stands); nil when the class is
// unknown and there is no setting (see setEncounterSetting for the fields).
func encounterResource(o *order.Order, subject fhir.Reference) *fhir.Encounter {
	cl, ok := encounterClass(o.EncounterClass)
	if !ok && o.Setting == (order.Setting{}) {
		return nil
	}
	if !ok {
		cl = fhir.Coding{System: ptr(systemNullFlavor), Code: ptr("UNK"), Display: ptr("unknown")}
	}
	enc := &fhir.Encounter{Status: fhir.EncounterStatusUnknown, Class: cl, Subject: &subject}
	setEncounterSetting(enc, o.Setting)
	return enc
}

// coverageResource maps one coverage (IN1): payor from the payer ID and name (a logical
// Organization reference), class plan and group, type from the plan type, subscriberId
// from the member ID. A coverage with no payer gets a payor with the data-absent-reason
// extension, as Coverage.payor is required.
func coverageResource(c order.Coverage, beneficiary fhir.Reference) fhir.Coverage {
	cv := fhir.Coverage{
		Status:       fhir.FinancialResourceStatusCodesActive,
		Beneficiary:  beneficiary,
		SubscriberId: ptr(c.MemberID),
		Payor:        []fhir.Reference{payorRef(c)},
		Period:       coveragePeriod(c),
	}
	if c.PlanType != "" {
		cv.Type = &fhir.CodeableConcept{Text: ptr(c.PlanType)}
		switch up := strings.ToUpper(c.PlanType); up {
		case "HMO", "PPO", "POS":
			cv.Type.Coding = []fhir.Coding{{System: ptr(systemActCode), Code: ptr(up)}}
		}
	}
	for _, cl := range [...]struct{ typ, value string }{{"plan", c.Plan}, {"group", c.Group}} {
		if cl.value == "" {
			continue
		}
		cv.Class = append(cv.Class, fhir.CoverageClass{
			Type:  fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr(systemCovClass), Code: ptr(cl.typ)}}},
			Value: cl.value,
		})
	}
	return cv
}

func payorRef(c order.Coverage) fhir.Reference {
	if c.Payer == "" && c.PayerName == "" {
		return absentRef()
	}
	r := fhir.Reference{Type: ptr("Organization"), Display: ptr(c.PayerName)}
	if c.Payer != "" {
		r.Identifier = &fhir.Identifier{Value: ptr(c.Payer)}
	}
	return r
}

// coverageRef is the logical reference to a coverage: the member ID as a member number
// identifier, and the payer's name.
func coverageRef(c order.Coverage) fhir.Reference {
	r := fhir.Reference{Type: ptr("Coverage"), Display: ptr(firstOf(c.PayerName, c.Payer, c.Plan))}
	if c.MemberID != "" {
		r.Identifier = &fhir.Identifier{Value: ptr(c.MemberID), Type: identifierType("MB")}
	}
	if r.Display == nil && r.Identifier == nil {
		return absentRef()
	}
	return r
}

func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// diagnosisConcept maps a diagnosis to a CodeableConcept: one coding (system as a FHIR
// URI, see mapping.CodeSystemURI) with the text as display; text only when uncoded.
func diagnosisConcept(d order.Diagnosis) fhir.CodeableConcept {
	if c := fhirCoding(d.Code, d.System, d.Text); c != nil {
		return fhir.CodeableConcept{Coding: []fhir.Coding{*c}}
	}
	return fhir.CodeableConcept{Text: ptr(d.Text)}
}

// conditionResource maps a diagnosis (DG1, or an ICD-10 coded OBR-31) to a Condition,
// which the ServiceRequest names in reasonReference, as the v2-to-FHIR IG maps DG1.
func conditionResource(d order.Diagnosis, subject fhir.Reference, encounter *fhir.Reference) fhir.Condition {
	cc := diagnosisConcept(d)
	return fhir.Condition{Code: &cc, Subject: subject, Encounter: encounter}
}

// provenanceResource records the ordering provider's signature (v2 ORC-12, ORC-9 and
// ORC-30): recorded and signature.when are the signature time, the agent and signer are
// who, the signature type is the ASTM E1762 author's signature, and the authorization
// mode (table 0483) is the activity. It returns nil for an order without a signature.
func provenanceResource(s order.Signature, target, who fhir.Reference) *fhir.Provenance {
	if !s.Present || s.Time.IsZero() {
		return nil
	}
	when := fhirTime(s.Time)
	if who.Display == nil && s.Signer != "" {
		who.Display = ptr(s.Signer)
	}
	p := &fhir.Provenance{
		Target:   []fhir.Reference{target},
		Recorded: when,
		Agent: []fhir.ProvenanceAgent{{
			Type: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr(systemProvAgent), Code: ptr("author"),
				Display: ptr("Author")}}},
			Who: who,
		}},
		Signature: []fhir.Signature{{
			Type: []fhir.Coding{{System: ptr(systemSigType), Code: ptr("1.2.840.10065.1.12.1.1"),
				Display: ptr("Author's Signature")}},
			When: when,
			Who:  who,
		}},
	}
	if s.Mode != "" {
		p.Activity = &fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr(systemV2Mode), Code: ptr(s.Mode)}}}
	}
	return p
}

// signerRef is who signed: the requester when the signer is the ordering provider (as
// the v2 mapping makes it), else a reference with the signer's name and NPI.
func signerRef(s order.Signature, requester *fhir.Reference) fhir.Reference {
	if requester != nil {
		return *requester
	}
	r := fhir.Reference{Type: ptr("Practitioner"), Display: ptr(s.Signer)}
	if s.SignerNPI != "" {
		r.Identifier = &fhir.Identifier{System: ptr(systemNPI), Value: ptr(s.SignerNPI)}
	}
	if r.Display == nil && r.Identifier == nil {
		return absentRef()
	}
	return r
}
