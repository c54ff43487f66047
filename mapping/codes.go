package mapping

import "strings"

// Coding systems have two names: the one HL7 v2 messages give them (table 0396 coding
// system names, or OIDs) and the URI FHIR gives them, which the order model keeps as it
// was sent. Both mappings turn one into the other, following the v2-to-FHIR IG's coding
// system map: the FHIR mapping writes URIs, BuildORU writes v2 names.

// The coding systems CodeSystemURI and V2CodeSystem know by name: the system FHIR R4
// (terminologies-systems.html) or HL7 Terminology (THO) registers for each.
const (
	systemCPT      = "http://www.ama-assn.org/go/cpt"
	systemICD10CM  = "http://hl7.org/fhir/sid/icd-10-cm"
	systemICD9CM   = "http://hl7.org/fhir/sid/icd-9-cm"
	systemLOINC    = "http://loinc.org"
	systemSNOMED   = "http://snomed.info/sct"
	systemNPI      = "http://hl7.org/fhir/sid/us-npi"
	systemDICOM    = "http://dicom.nema.org/resources/ontology/DCM"
	systemUCUM     = "http://unitsofmeasure.org"
	systemV2Prefix = "http://terminology.hl7.org/CodeSystem/v2-"
)

// CodeSystemURI returns the FHIR system URI for a coding system as an HL7 v2 message
// names it (table 0396: C4, LN, I10...), an OID, or a URI; "" for a local or unknown
// system, which the FHIR mapping then leaves out rather than invent one. I10 is read as
// ICD-10-CM, as US senders use it (see order.Diagnosis.IsICD10CM); I10C is ICD-10-CM by
// definition.
func CodeSystemURI(s string) string {
	s = strings.TrimSpace(s)
	switch strings.ToUpper(s) {
	case "":
		return ""
	case "C4", "C5", "CPT", "CPT4", "CPT-4", "2.16.840.1.113883.6.12":
		return systemCPT
	case "I10", "I10C", "ICD10", "ICD-10", "ICD10CM", "ICD-10-CM", "2.16.840.1.113883.6.90":
		return systemICD10CM
	case "I9C", "ICD9CM", "ICD-9-CM", "2.16.840.1.113883.6.103":
		return systemICD9CM
	case "LN", "LOINC", "2.16.840.1.113883.6.1":
		return systemLOINC
	case "SCT", "SNOMED", "SNOMEDCT", "SNOMED-CT", "2.16.840.1.113883.6.96":
		return systemSNOMED
	case "DCM", "DICOM", "1.2.840.10008.2.16.4":
		return systemDICOM
	case "UCUM", "2.16.840.1.113883.6.8":
		return systemUCUM
	case "NPI", "2.16.840.1.113883.4.6":
		return systemNPI
	}
	if IsURI(s) {
		return s
	}
	if t, ok := strings.CutPrefix(strings.ToUpper(s), "HL7"); ok && len(t) == 4 && allDigits(t) {
		return systemV2Prefix + t // HL70203: an HL7-defined table
	}
	if IsOID(s) {
		return "urn:oid:" + s
	}
	return ""
}

// V2CodeSystem returns the HL7 v2 table 0396 name for a system: the v2 name for the
// systems CodeSystemURI knows, the OID of a urn:oid system, and v2 names unchanged. It
// returns "" for other URIs, which v2 coding system fields cannot hold.
func V2CodeSystem(s string) string {
	switch s {
	case systemCPT:
		return "C4"
	case systemICD10CM:
		return "I10C"
	case systemICD9CM:
		return "I9C"
	case systemLOINC:
		return "LN"
	case systemSNOMED:
		return "SCT"
	case systemDICOM:
		return "DCM"
	case systemUCUM:
		return "UCUM"
	}
	if t, ok := strings.CutPrefix(s, systemV2Prefix); ok {
		return "HL7" + t
	}
	if oid, ok := strings.CutPrefix(s, "urn:oid:"); ok {
		return oid
	}
	if IsURI(s) {
		return ""
	}
	return s
}

// IsURI reports whether s starts with a URI scheme FHIR systems use: http://, https://
// or urn:.
func IsURI(s string) bool {
	for _, p := range [...]string{"http://", "https://", "urn:"} {
		if len(s) > len(p) && strings.EqualFold(s[:len(p)], p) {
			return true
		}
	}
	return false
}

// IsOID reports whether s is an ISO object identifier (an HD universal ID of type ISO):
// digits in at least two arcs.
func IsOID(s string) bool {
	if len(s) < 3 || !strings.Contains(s, ".") {
		return false
	}
	for arc := range strings.SplitSeq(s, ".") {
		if arc == "" || !allDigits(arc) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
