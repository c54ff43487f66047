package rules

import (
	"strings"

	"github.com/radbridge/radbridge/order"
)

// The v2 locations and FHIR path of the patient's identity. The FHIR path is the
// ServiceRequest's subject, the reference through which the Patient is identified.
const (
	locPatientID   = "PID-3"
	locPatientName = "PID-5"
	locBirthDate   = "PID-7"
	fhirPatient    = "ServiceRequest.subject"
)

// checkPatient requires the patient's identity: at least one identifier (a medical
// record number...) and a name or a birth date. The Joint Commission's patient-safety
// goal NPSG.01.01.01 asks for two identifiers (e.g. name and birth date) before any
// procedure, so the imaging facility needs something besides the record number to
// verify the patient: missing both name and birth date is an error each, missing one
// of them a warning.
func checkPatient(fs []order.Finding, p *order.Patient) []order.Finding {
	if !hasIdentifier(p.Identifiers) {
		fs = append(fs, finding(CodePatientIDMissing, order.SeverityError, locPatientID, fhirPatient,
			"The patient has no identifier: send the medical record number (or another patient identifier)."))
	}
	hasName := strings.TrimSpace(p.Family) != "" || strings.TrimSpace(p.Given) != ""
	hasBirth := strings.TrimSpace(p.BirthDate) != ""
	sev := order.SeverityWarning
	if !hasName && !hasBirth {
		sev = order.SeverityError
	}
	if !hasName {
		fs = append(fs, finding(CodePatientNameMissing, sev, locPatientName, fhirPatient,
			"The patient's name is missing: send it so the patient can be identified at the exam."))
	}
	if !hasBirth {
		fs = append(fs, finding(CodeBirthDateMissing, sev, locBirthDate, fhirPatient,
			"The patient's birth date is missing: send it so the patient can be identified at the exam."))
	}
	return fs
}

func hasIdentifier(ids []order.Identifier) bool {
	for i := range ids {
		if strings.TrimSpace(ids[i].Value) != "" {
			return true
		}
	}
	return false
}
