package fhirmap

import (
	"strings"

	"github.com/radbridge/radbridge/mapping"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// The FHIR code and identifier systems the mapping writes. Each is the system that FHIR
// R4 (terminologies-systems.html) or HL7 Terminology (THO) registers for the code system.
const (
	systemCPT       = "http://www.ama-assn.org/go/cpt"
	systemICD10     = "http://hl7.org/fhir/sid/icd-10"
	systemLOINC     = "http://loinc.org"
	systemNPI       = "http://hl7.org/fhir/sid/us-npi"
	npiOID          = "2.16.840.1.113883.4.6" // the NPI's OID (HL7 table 0363 "NPI")
	systemDICOM     = "http://dicom.nema.org/resources/ontology/DCM"
	systemActCode   = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	systemV2Prefix  = "http://terminology.hl7.org/CodeSystem/v2-"
	systemV2ID      = systemV2Prefix + "0203" // identifier type
	systemV2Mode    = systemV2Prefix + "0483" // authorization mode (ORC-30)
	systemV2Section = systemV2Prefix + "0074" // diagnostic service section (OBR-24)
	systemCovClass  = "http://terminology.hl7.org/CodeSystem/coverage-class"
	systemSigType   = "urn:iso-astm:E1762-95:2013"
	systemProvAgent = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
	systemAbsent    = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
	extDataAbsent   = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
	systemRFC3986   = "urn:ietf:rfc:3986"
)

// identifierTypeDisplay reports whether code is an HL7 table 0203 identifier type code,
// with the display of the types the mapping writes itself. A type outside the table is
// written as text only.
func identifierTypeDisplay(code string) (string, bool) {
	switch code {
	case "PLAC":
		return "Placer Identifier", true
	case "FILL":
		return "Filler Identifier", true
	case "ACSN":
		return "Accession ID", true
	case "PGN":
		return "Placer Group Number", true
	case "MR":
		return "Medical record number", true
	case "NPI":
		return "National provider identifier", true
	case "MB":
		return "Member Number", true
	case "SN":
		return "Subscriber Number", true
	case "AM", "AN", "ANON", "BA", "BC", "BR", "DEA", "DL", "DN", "DR", "EI", "EN", "GI", "HC",
		"JHN", "LN", "LR", "MA", "MC", "MCN", "MD", "MI", "MRT", "NE", "NH", "NI", "NII", "NIIP",
		"NP", "PE", "PEN", "PI", "PN", "PNT", "PPIN", "PPN", "PRC", "PRN", "PT", "RI", "RN",
		"RPH", "RRI", "SR", "SS", "TAX", "TN", "U", "UPIN", "VN", "WC", "XX":
		return "", true
	}
	return "", false
}

// identifierType returns Identifier.type for a table 0203 code: a v2-0203 coding for a
// code of the table, text only for any other code, nil for "".
func identifierType(code string) *fhir.CodeableConcept {
	if code == "" {
		return nil
	}
	display, ok := identifierTypeDisplay(strings.ToUpper(code))
	if !ok {
		return &fhir.CodeableConcept{Text: ptr(code)}
	}
	c := fhir.Coding{System: ptr(systemV2ID), Code: ptr(strings.ToUpper(code))}
	if display != "" {
		c.Display = ptr(display)
	}
	return &fhir.CodeableConcept{Coding: []fhir.Coding{c}}
}

// typeCode returns the identifier type code of an Identifier.type: the code of a coding in
// a v2-0203 system (HL7's, or a national variant such as HL7 Australia's), else of its
// first coding, else the text.
func typeCode(cc *fhir.CodeableConcept) string {
	if cc == nil {
		return ""
	}
	for _, c := range cc.Coding {
		if c.Code != nil && c.System != nil && strings.HasSuffix(*c.System, "/v2-0203") {
			return *c.Code
		}
	}
	for _, c := range cc.Coding {
		if c.Code != nil && *c.Code != "" {
			return *c.Code
		}
	}
	return deref(cc.Text)
}

// fhirIdentifier builds a FHIR Identifier from a value and the assigning authority as the
// order model keeps it (a v2 namespace, an OID or a FHIR system URI), as the v2-to-FHIR
// IG's CX and EI maps do: a URI is the system; an OID becomes a urn:oid: system; a
// namespace, which names no URI, is kept as the assigner's display and no system is
// invented. An OID is kept as the assigner's display too, so that the authority reads
// back as sent (see authorityOf).
func fhirIdentifier(value, authority, typ string) fhir.Identifier {
	id := fhir.Identifier{Value: ptr(value), Type: identifierType(typ)}
	switch {
	case authority == "":
	case mapping.IsURI(authority):
		id.System = ptr(authority)
	case mapping.IsOID(authority):
		id.System = ptr("urn:oid:" + authority)
		id.Assigner = &fhir.Reference{Display: ptr(authority)}
	default:
		id.Assigner = &fhir.Reference{Display: ptr(authority)}
	}
	return id
}

// authorityOf reverses fhirIdentifier: the assigner's display when it is the authority (no
// system, or the urn:oid: form of the display), else the system.
func authorityOf(id fhir.Identifier) string {
	sys := deref(id.System)
	if id.Assigner != nil {
		if d := deref(id.Assigner.Display); d != "" && (sys == "" || sys == "urn:oid:"+d) {
			return d
		}
	}
	return sys
}

// fhirCoding builds a Coding from a code, a system as the order model keeps it, and a
// display; nil when there is no code.
func fhirCoding(code, system, display string) *fhir.Coding {
	if code == "" {
		return nil
	}
	c := &fhir.Coding{Code: ptr(code)}
	if u := mapping.CodeSystemURI(system); u != "" {
		c.System = ptr(u)
	}
	if display != "" {
		c.Display = ptr(display)
	}
	return c
}

// ptr returns a pointer to s, or nil for "": FHIR has no empty strings.
func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deref dereferences a possibly nil string pointer, trimmed.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}
