package fhirmap

import (
	"strconv"
	"strings"

	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// FromFHIRServiceRequest maps a ServiceRequest to an order. related holds the resources
// its references may name: its contained resources (FullURL "#id"), and the other entries
// of its Bundle (FullURL the entry's fullUrl); include sr itself with its fullUrl so that
// a Provenance can target it by that URL. A reference that resolves to nothing is read
// as the logical reference it carries (identifier, display). The function never fails:
// what it cannot read is left empty and reported; what the request does not give is
// left empty for the checks (package rules) to report. It is pure and safe for
// concurrent use.
//
//	Source.Kind         fhir; FHIRSource meta.source (ClientID is the engine's)
//	Placer, Filler,     identifier typed PLAC, FILL, ACSN (a v2-0203 coding, any v2-0203
//	Accession           variant system, or type.text); else a system naming placer, filler
//	                    or accession; else the first untyped identifier is the placer
//	PlacerGroup         requisition.value
//	Patient             subject: a Patient's identifiers (value, type code, authority
//	                    as written by ToServiceRequest: the assigner's display or the
//	                    system), first official/usual name (family, given, further given
//	                    names as Middle), birthDate, gender; from a logical reference its
//	                    identifier and display ("Family, Given" or "Given Family")
//	EncounterClass      encounter: Encounter.class code via order.ParseEncounterClass
//	Setting             encounter: location, serviceProvider, type (v2-0007, v2-0018),
//	                    serviceType (v2-0069), period; locationCode (see setting.go)
//	Performer           performer: an Organization, or logical reference, with an NPI
//	Requested           occurrenceDateTime, occurrencePeriod.start, occurrenceTiming
//	Provider            requester: a Practitioner, a PractitionerRole's practitioner (its
//	                    own identifiers when that is not given), or a logical reference
//	                    (its identifier and display, else the reference itself as ID:
//	                    the order names a provider whose NPI it does not give).
//	                    NPI is an identifier in http://hl7.org/fhir/sid/us-npi (or its
//	                    OID), or typed NPI with no system; another identifier is ID and
//	                    IDSystem. Name family, given, prefix, suffix
//	Procedure           code: Code, System, Text from the first coding with a code (text
//	                    from code.text, else its display); CPT from the first coding in
//	                    the CPT system. Modality from an orderDetail DICOM (DCM) coding,
//	                    else a category one;
//	                    BodySite from bodySite (text, else display, else code)
//	Diagnoses, Reason   reasonCode: each coding is a diagnosis (display as text, the
//	                    concept's text when it has a single coding), each text part of
//	                    Reason (joined by "; "); reasonReference: a Condition's code is a
//	                    diagnosis (the ICD-10-CM coding preferred); another target's
//	                    display is part of Reason
//	Priority            priority
//	Authored            authoredOn
//	Signature           a Provenance that targets the request (in related, or named in
//	                    relevantHistory) with a signature: Time when, Signer who.display
//	                    else the signer's name, SignerNPI its NPI, Mode the activity's
//	                    v2-0483 code; else the requester and authoredOn: Present when both
//	                    are given (DESIGN.md)
//	Coverage            insurance: Coverage payor (Organization identifier and name, or
//	                    the logical reference's), class plan and group values, type
//	                    text (else code), subscriberId (else an MB/SN identifier), period
//	                    as dates; a logical reference gives MemberID and PayerName
//	Authorization       Number: supportingInfo naming a ClaimResponse (by type, or
//	                    resolved): its preAuthRef, else the reference's identifier value
//
// Caveats: the order model keeps one value per number, so identifier systems of the
// placer, filler and accession numbers are not kept; local code systems with no URI do
// not survive a v2 -> FHIR -> order trip (codes and text do; known systems come back as
// FHIR URIs, e.g. C4 as http://www.ama-assn.org/go/cpt); a v2 order with a signer but no
// ORC-9 comes back signed, because requester and authoredOn are a signature in FHIR.
func FromFHIRServiceRequest(sr *fhir.ServiceRequest, related ...FHIRResource) (*order.Order, []FHIRIssue) {
	rd := &srReader{rv: resolver{res: related}, is: issues{base: "ServiceRequest"}}
	o := &order.Order{Source: order.Source{Kind: order.SourceFHIR}}
	if sr.Meta != nil {
		o.Source.FHIRSource = deref(sr.Meta.Source)
	}
	rd.checkStatus(sr)
	rd.identifiers(sr, o)
	if sr.Requisition != nil {
		o.PlacerGroup = deref(sr.Requisition.Value)
	}
	o.Patient = rd.patient(&sr.Subject)
	o.EncounterClass, o.Setting = rd.encounter(sr.Encounter)
	o.Setting.LocationCode = readLocationCode(sr.LocationCode)
	o.Performer = rd.readPerformer(sr.Performer)
	if p, ok := rd.provider(sr.Requester, "requester", true); ok {
		o.Provider = p
	}
	o.Procedure = rd.procedure(sr)
	o.Diagnoses, o.Reason = rd.reasons(sr)
	if sr.Priority != nil {
		o.Priority, _ = order.ParsePriority(sr.Priority.Code())
	}
	o.Requested = rd.readRequested(sr)
	if s := deref(sr.AuthoredOn); s != "" {
		t, ok := parseFHIRTime(s)
		if !ok {
			rd.is.add(FHIRWarning, FHIRCodeValue, "authoredOn", "authoredOn "+quote(s)+" is not a dateTime; ignored")
		}
		o.Authored = t
	}
	o.Signature = rd.signature(sr, o)
	for i := range sr.Insurance {
		if c, ok := rd.coverage(&sr.Insurance[i], i); ok {
			o.Coverage = append(o.Coverage, c)
		}
	}
	o.Authorization.Number = rd.authNumber(sr)
	return o, rd.is.list
}

// srReader reads one ServiceRequest.
type srReader struct {
	rv resolver
	is issues
}

func (rd *srReader) checkStatus(sr *fhir.ServiceRequest) {
	switch sr.Status {
	case fhir.RequestStatusDraft, fhir.RequestStatusEnteredInError, fhir.RequestStatusUnknown:
		rd.is.add(FHIRInformation, FHIRCodeInformation, "status", "status "+sr.Status.Code()+
			" asks for no order action: no order control")
	}
	switch sr.Intent {
	case fhir.RequestIntentProposal, fhir.RequestIntentPlan, fhir.RequestIntentDirective, fhir.RequestIntentOption:
		rd.is.add(FHIRWarning, FHIRCodeValue, "intent", "intent "+sr.Intent.Code()+" is not an order; mapped as one")
	}
}

// identifiers reads the placer, filler and accession numbers.
func (rd *srReader) identifiers(sr *fhir.ServiceRequest, o *order.Order) {
	untyped := ""
	for _, id := range sr.Identifier {
		v := deref(id.Value)
		if v == "" {
			continue
		}
		kind := strings.ToUpper(typeCode(id.Type))
		if kind == "" {
			sys := strings.ToLower(deref(id.System))
			switch {
			case strings.Contains(sys, "placer"):
				kind = "PLAC"
			case strings.Contains(sys, "filler"):
				kind = "FILL"
			case strings.Contains(sys, "accession"):
				kind = "ACSN"
			}
		}
		switch kind {
		case "PLAC", "PLACER":
			o.Placer = firstOf(o.Placer, v)
		case "FILL", "FILLER":
			o.Filler = firstOf(o.Filler, v)
		case "ACSN", "ACCESSION":
			o.Accession = firstOf(o.Accession, v)
		case "":
			untyped = firstOf(untyped, v)
		}
	}
	if o.Placer == "" && untyped != "" {
		o.Placer = untyped
		rd.is.add(FHIRInformation, FHIRCodeInformation, "identifier",
			"no identifier is typed PLAC; the first untyped identifier is taken as the placer order number")
	}
	if o.Placer == "" {
		rd.is.add(FHIRError, FHIRCodeRequired, "identifier", "no placer order number (identifier typed PLAC)")
	}
}

// patient reads the subject.
func (rd *srReader) patient(ref *fhir.Reference) order.Patient {
	var p order.Patient
	switch t := rd.rv.resolve(ref).(type) {
	case *fhir.Patient:
		for _, id := range t.Identifier {
			if v := deref(id.Value); v != "" {
				p.Identifiers = append(p.Identifiers, order.Identifier{Value: v, System: authorityOf(id), Type: typeCode(id.Type)})
			}
		}
		if n, ok := pickName(t.Name); ok {
			p.Family = deref(n.Family)
			if len(n.Given) > 0 {
				p.Given = strings.TrimSpace(n.Given[0])
				p.Middle = strings.TrimSpace(strings.Join(n.Given[1:], " "))
			}
		}
		p.BirthDate = deref(t.BirthDate)
		if t.Gender != nil {
			p.Sex = t.Gender.Code()
		}
		return p
	case nil:
	default:
		typ, _ := resourceInfo(t)
		rd.is.add(FHIRWarning, FHIRCodeValue, "subject", "subject is a "+typ+", not a Patient")
		return p
	}
	if ref.Reference != nil {
		rd.is.add(FHIRInformation, FHIRCodeNotFound, "subject", "subject "+quote(*ref.Reference)+
			" is not in the request or its Bundle; read as a logical reference")
	}
	if ref.Identifier != nil && deref(ref.Identifier.Value) != "" {
		id := *ref.Identifier
		p.Identifiers = []order.Identifier{{Value: deref(id.Value), System: authorityOf(id), Type: typeCode(id.Type)}}
	}
	n := splitDisplay(deref(ref.Display))
	p.Family, p.Given, p.Middle = n.family, n.given, n.middle
	return p // what it lacks is the checks' to report (patient.identifier-missing, ...)
}

// pickName returns the official name, else the usual one, else the first with a family
// or given name.
func pickName(names []fhir.HumanName) (fhir.HumanName, bool) {
	best, found := fhir.HumanName{}, false
	for _, n := range names {
		if deref(n.Family) == "" && len(n.Given) == 0 {
			continue
		}
		if n.Use != nil && (n.Use.Code() == "official" || n.Use.Code() == "usual") {
			return n, true
		}
		if !found {
			best, found = n, true
		}
	}
	return best, found
}

// splitDisplay reads a person's name from a reference display: "Family, Given Middle",
// else "[Prefix] Given... Family"; a leading Dr, Mr, Mrs, Ms, Miss or Prof is the
// prefix, and a trailing degree or generation after a comma or at the end (MD, DO, PhD,
// RN, NP, PA, Jr, Sr, II, III) the suffix.
func splitDisplay(s string) (n displayName) {
	s = strings.TrimSpace(s)
	if f, g, ok := strings.Cut(s, ","); ok {
		if isNameSuffix(strings.TrimSpace(g)) {
			n = splitDisplay(f)
			n.suffix = strings.TrimSpace(g)
			return n
		}
		words := strings.Fields(g)
		if len(words) > 0 {
			n.given, n.middle = words[0], strings.Join(words[1:], " ")
		}
		n.family = strings.TrimSpace(f)
		return n
	}
	words := strings.Fields(s)
	if len(words) > 1 {
		switch strings.ToLower(strings.TrimSuffix(words[0], ".")) {
		case "dr", "mr", "mrs", "ms", "prof", "miss":
			n.prefix, words = words[0], words[1:]
		}
	}
	if len(words) > 1 && isNameSuffix(words[len(words)-1]) {
		n.suffix, words = words[len(words)-1], words[:len(words)-1]
	}
	switch len(words) {
	case 0:
	case 1:
		n.family = words[0]
	default:
		n.family, n.given = words[len(words)-1], words[0]
		n.middle = strings.Join(words[1:len(words)-1], " ")
	}
	return n
}

// displayName is a name read from a reference display.
type displayName struct{ family, given, middle, prefix, suffix string }

func isNameSuffix(s string) bool {
	switch strings.ToUpper(strings.ReplaceAll(s, ".", "")) {
	case "MD", "DO", "PHD", "RN", "NP", "PA", "JR", "SR", "II", "III", "IV":
		return true
	}
	return false
}

// encounter reads the encounter class and the setting (see setEncounterSetting).
func (rd *srReader) encounter(ref *fhir.Reference) (order.EncounterClass, order.Setting) {
	if ref == nil {
		return order.ClassUnknown, order.Setting{}
	}
	enc, ok := rd.rv.resolve(ref).(*fhir.Encounter)
	if !ok {
		if ref.Reference != nil {
			rd.is.add(FHIRInformation, FHIRCodeNotFound, "encounter", "encounter "+quote(*ref.Reference)+
				" is not in the request or its Bundle: encounter class unknown")
		}
		return order.ClassUnknown, order.Setting{}
	}
	code := deref(enc.Class.Code)
	c, ok := order.ParseEncounterClass(code)
	if !ok {
		rd.is.add(FHIRInformation, FHIRCodeValue, "encounter", "Encounter.class "+quote(code)+
			" is not recognised: encounter class unknown")
	}
	return c, rd.readEncounterSetting(enc)
}

// provider reads a requester or signer reference; path is its FHIRPath for issues, and
// logical asks for one when the reference resolves to nothing given.
func (rd *srReader) provider(ref *fhir.Reference, path string, logical bool) (order.Provider, bool) {
	if ref == nil {
		return order.Provider{}, false
	}
	var p order.Provider
	switch t := rd.rv.resolve(ref).(type) {
	case *fhir.Practitioner:
		return practitionerProvider(t), true
	case *fhir.PractitionerRole:
		if pr, ok := rd.rv.resolve(t.Practitioner).(*fhir.Practitioner); ok {
			return practitionerProvider(pr), true
		}
		p = providerFromIDs(p, t.Identifier)
		if t.Practitioner != nil {
			p = rd.logicalProvider(p, t.Practitioner, path, logical, "the practitioner of the "+path+" PractitionerRole")
		}
		return p, p != order.Provider{}
	case nil:
		return rd.logicalProvider(p, ref, path, logical, path), true
	default:
		typ, _ := resourceInfo(t)
		rd.is.add(FHIRInformation, FHIRCodeValue, path, path+" is a "+typ+
			": the ordering provider is read from a Practitioner or a PractitionerRole only")
		return p, false
	}
}

// logicalProvider reads a provider from a reference that resolves to nothing given:
// its identifier and display, else the reference itself as the provider's ID, so that
// a provider named only by a reference is named, its NPI unknown. With note, an issue
// at path says so, naming the reference as what.
func (rd *srReader) logicalProvider(p order.Provider, ref *fhir.Reference, path string, note bool, what string) order.Provider {
	r := strings.TrimSpace(deref(ref.Reference))
	if r != "" && note {
		rd.is.add(FHIRInformation, FHIRCodeNotFound, path, what+" "+quote(r)+" is not in the request or its Bundle; read as a logical reference")
	}
	if ref.Identifier != nil {
		p = providerFromIDs(p, []fhir.Identifier{*ref.Identifier})
	}
	if p.Family == "" && p.Given == "" {
		n := splitDisplay(deref(ref.Display))
		p.Family, p.Given, p.Prefix, p.Suffix = n.family, joinNonEmpty(n.given, n.middle), n.prefix, n.suffix
	}
	if p == (order.Provider{}) {
		p.ID = r
	}
	return p
}

func practitionerProvider(pr *fhir.Practitioner) order.Provider {
	p := providerFromIDs(order.Provider{}, pr.Identifier)
	if n, ok := pickName(pr.Name); ok {
		p.Family = deref(n.Family)
		if len(n.Given) > 0 {
			p.Given = strings.Join(n.Given, " ")
		}
		p.Prefix = strings.Join(n.Prefix, " ")
		p.Suffix = strings.Join(n.Suffix, " ")
	}
	return p
}

// providerFromIDs sets the NPI from an identifier in the NPI system (or typed NPI with
// no system), and ID/IDSystem from the first other identifier.
func providerFromIDs(p order.Provider, ids []fhir.Identifier) order.Provider {
	for _, id := range ids {
		v, sys := deref(id.Value), deref(id.System)
		if v == "" {
			continue
		}
		isNPI := sys == systemNPI || sys == "urn:oid:"+npiOID ||
			(sys == "" && strings.EqualFold(typeCode(id.Type), "NPI"))
		switch {
		case isNPI && p.NPI == "":
			p.NPI = v
		case !isNPI && p.ID == "":
			p.ID, p.IDSystem = v, authorityOf(id)
		}
	}
	return p
}

// procedure reads code, orderDetail and bodySite.
func (rd *srReader) procedure(sr *fhir.ServiceRequest) order.Procedure {
	var p order.Procedure
	if cc := sr.Code; cc != nil {
		for _, c := range cc.Coding {
			code := deref(c.Code)
			if code == "" {
				continue
			}
			if p.Code == "" {
				p.Code, p.System, p.Text = code, deref(c.System), deref(c.Display)
			}
			if p.CPT == "" && (order.Procedure{System: deref(c.System)}).IsCPT() {
				p.CPT = code
			}
		}
		p.Text = firstOf(deref(cc.Text), p.Text)
	}
	for _, ccs := range [...][]fhir.CodeableConcept{sr.OrderDetail, sr.Category} {
		for _, od := range ccs {
			for _, c := range od.Coding {
				if deref(c.System) == systemDICOM && deref(c.Code) != "" && p.Modality == "" {
					p.Modality = mapping.DICOMModality(deref(c.Code))
				}
			}
		}
	}
	for _, bs := range sr.BodySite {
		if p.BodySite = conceptLabel(bs); p.BodySite != "" {
			break
		}
	}
	return p
}

// conceptLabel is a concept's text, else its first display, else its first code.
func conceptLabel(cc fhir.CodeableConcept) string {
	if t := deref(cc.Text); t != "" {
		return t
	}
	for _, c := range cc.Coding {
		if d := deref(c.Display); d != "" {
			return d
		}
	}
	for _, c := range cc.Coding {
		if d := deref(c.Code); d != "" {
			return d
		}
	}
	return ""
}

// reasons reads reasonCode and reasonReference.
func (rd *srReader) reasons(sr *fhir.ServiceRequest) ([]order.Diagnosis, string) {
	var ds []order.Diagnosis
	var text []string
	for _, cc := range sr.ReasonCode {
		for _, c := range cc.Coding {
			if code := deref(c.Code); code != "" {
				d := order.Diagnosis{Code: code, System: deref(c.System), Text: deref(c.Display)}
				if d.Text == "" && len(cc.Coding) == 1 {
					d.Text = deref(cc.Text)
				}
				ds = mapping.AddDiagnosis(ds, d)
			}
		}
		if t := deref(cc.Text); t != "" {
			text = append(text, t)
		}
	}
	for i := range sr.ReasonReference {
		ref := &sr.ReasonReference[i]
		switch t := rd.rv.resolve(ref).(type) {
		case *fhir.Condition:
			if d, ok := conditionDiagnosis(t); ok {
				ds = mapping.AddDiagnosis(ds, d)
			}
		default:
			if d := deref(ref.Display); d != "" {
				text = append(text, d)
			} else if t == nil && ref.Reference != nil {
				rd.is.add(FHIRInformation, FHIRCodeNotFound, "reasonReference["+strconv.Itoa(i)+"]",
					"reason "+quote(*ref.Reference)+" is not in the request or its Bundle: not read")
			}
		}
	}
	return ds, strings.Join(text, "; ")
}

// conditionDiagnosis reads a Condition's code: the ICD-10-CM coding, else the first
// coding with a code, else the text alone.
func conditionDiagnosis(c *fhir.Condition) (order.Diagnosis, bool) {
	if c.Code == nil {
		return order.Diagnosis{}, false
	}
	var d order.Diagnosis
	for _, cd := range c.Code.Coding {
		x := order.Diagnosis{Code: deref(cd.Code), System: deref(cd.System), Text: deref(cd.Display)}
		if x.Code == "" {
			continue
		}
		if d.Code == "" || (x.IsICD10CM() && !d.IsICD10CM()) {
			d = x
		}
	}
	if d.Text == "" {
		d.Text = deref(c.Code.Text)
	}
	return d, d.Code != "" || d.Text != ""
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}
