package rules

import (
	"strings"

	"github.com/radbridge/radbridge/order"
)

// The v2 location and FHIR path of the diagnoses.
const (
	locDiagnosis  = "DG1-3"
	fhirDiagnosis = "ServiceRequest.reasonCode"
	icd10Hint     = " is not a valid ICD-10-CM code (a letter, a digit, a letter or digit, then up to 4 more letters or digits after an optional dot, e.g. R51.9 or S06.0X0A): correct it."
)

// checkDiagnoses requires at least one well-formed ICD-10-CM code. A diagnosis whose
// system is ICD-10-CM, or that has no system (v2 senders often leave CWE-3 empty), is
// format-checked and each malformed code is a finding. Diagnoses coded only in other
// systems (ICD-9-CM, SNOMED CT...) give one finding naming the system. Diagnoses with
// no code (text only) count as a reason for exam but not as a diagnosis.
func checkDiagnoses(fs []order.Finding, ds []order.Diagnosis) []order.Finding {
	coded, icd := 0, 0
	var other *order.Diagnosis
	for i := range ds {
		d := &ds[i]
		c := strings.TrimSpace(d.Code)
		if c == "" {
			continue
		}
		coded++
		if strings.TrimSpace(d.System) != "" && !isICD10CMSystem(d.System) {
			if other == nil {
				other = d
			}
			continue
		}
		if ValidICD10CM(c) {
			icd++
			continue
		}
		fs = append(fs, finding(CodeICD10Invalid, order.SeverityError, locDiagnosis, fhirDiagnosis,
			"Diagnosis code "+quote(c)+icd10Hint))
	}
	switch {
	case coded == 0:
		fs = append(fs, finding(CodeDiagnosisMissing, order.SeverityError, locDiagnosis, fhirDiagnosis,
			"The order has no diagnosis code: send at least one ICD-10-CM code for the reason for the exam."))
	case icd == 0 && other != nil:
		fs = append(fs, finding(CodeICD10Missing, order.SeverityError, locDiagnosis, fhirDiagnosis,
			"The diagnoses are coded in "+systemName(other.System)+" only (e.g. "+quote(other.Code)+
				"), not in ICD-10-CM: send at least one ICD-10-CM code."))
	}
	return fs
}

// ValidICD10CM reports whether code has the form of an ICD-10-CM code (ICD-10-CM
// Official Guidelines for Coding and Reporting, section I.A, and the Tabular List): a
// 3-character category, that is a letter (A-Z; U is in use since U07.1), a digit and a
// letter or digit (C4A, M1A, Z3A...); then, after an optional dot, 1 to 4 more letters
// or digits: subcategory characters, the placeholder X and the 7th-character extension
// (S06.0X0A, T67.4XXA). Letters are accepted in either case. It checks the form only:
// it cannot tell whether the code exists or is billable (R51 is a category header;
// S06.0X0 lacks its required 7th character).
func ValidICD10CM(code string) bool {
	if len(code) < 3 || len(code) > 8 {
		return false
	}
	if !isLetter(code[0]) || !isDigit(code[1]) || !isAlnum(code[2]) {
		return false
	}
	rest := code[3:]
	if rest == "" {
		return true
	}
	if rest[0] == '.' {
		rest = rest[1:]
		if rest == "" {
			return false
		}
	}
	if len(rest) > 4 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !isAlnum(rest[i]) {
			return false
		}
	}
	return true
}

// isICD10CMSystem is [order.Diagnosis.IsICD10CM] without allocating; a test keeps the
// two in step.
func isICD10CMSystem(s string) bool {
	s = strings.TrimSpace(s)
	for _, name := range [...]string{"I10", "I10C", "ICD10", "ICD-10", "ICD10CM", "ICD-10-CM",
		"http://hl7.org/fhir/sid/icd-10-cm", "urn:oid:2.16.840.1.113883.6.90"} {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

// systemName names a diagnosis coding system for people.
func systemName(system string) string {
	switch strings.ToLower(strings.TrimSpace(system)) {
	case "i9", "i9c", "i9cdx", "icd9", "icd-9", "icd9cm", "icd-9-cm",
		"http://hl7.org/fhir/sid/icd-9-cm", "urn:oid:2.16.840.1.113883.6.103":
		return "ICD-9-CM"
	case "sct", "snm", "sno", "snomed", "snomedct", "snomed-ct", "snomed ct",
		"http://snomed.info/sct", "urn:oid:2.16.840.1.113883.6.96":
		return "SNOMED CT"
	}
	return "the coding system " + quote(system)
}
