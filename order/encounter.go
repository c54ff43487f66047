package order

import "strings"

// EncounterClass is the setting the patient is in, as far as prior authorization cares.
type EncounterClass string

// The encounter classes. By default the checks exempt emergency, inpatient,
// hospital-based urgent care and ambulatory surgery orders from prior authorization
// when the exam is also provided in that setting, but not outpatient ones, and not
// urgent care that is not known to be hospital-based (package rules).
const (
	ClassUnknown    EncounterClass = ""
	ClassEmergency  EncounterClass = "emergency"
	ClassInpatient  EncounterClass = "inpatient"
	ClassOutpatient EncounterClass = "outpatient"
	// ClassUrgentCare is urgent care, hospital-based or freestanding: the message does
	// not say which.
	ClassUrgentCare EncounterClass = "urgent-care"
	// ClassHospitalUrgentCare is urgent care known to be hospital-based (a hospital's
	// urgent care department, as opposed to a freestanding urgent care centre).
	ClassHospitalUrgentCare EncounterClass = "hospital-urgent-care"
	ClassAmbulatorySurgery  EncounterClass = "ambulatory-surgery"
)

// ParseEncounterClass reads an encounter class, case-insensitively, from any of:
//
//   - the class names themselves ("urgent care" and "urgent_care" are read as
//     "urgent-care", likewise for hospital urgent care and ambulatory surgery);
//   - HL7 v2 PV1-2 patient class (table 0004): E emergency, I inpatient, O outpatient,
//     P preadmit and R recurring patient as outpatient (the patient is not admitted);
//     B obstetrics names a service, not a setting (the HL7 v2-to-FHIR IG's
//     table-hl70004-to-v3-actcode ConceptMap maps it to no Encounter.class), so it is
//     read as unknown with ok true: an obstetric patient may be admitted for labour or
//     seen in a clinic;
//   - FHIR R4 Encounter.class codes (v3 ActCode): EMER emergency; IMP, ACUTE and NONAC
//     inpatient; SS short stay as ambulatory-surgery (same-day procedure stays); AMB
//     ambulatory, OBSENC observation (billed as outpatient), PRENC pre-admission, HH home
//     health, FLD field and VR virtual as outpatient.
//
// The settings that exempt from prior authorization are named exactly; every other
// setting maps to outpatient, which keeps the authorization rules in force.
// "unknown", "UNK", U (unknown), N (not applicable) and B give ClassUnknown with ok
// true.
// Anything else, including the empty string, gives ClassUnknown and false; C
// (commercial account) is an accounting class, not a setting, and is not accepted.
func ParseEncounterClass(s string) (EncounterClass, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = classSeparators.Replace(s)
	switch s {
	case "EMERGENCY", "E", "EMER":
		return ClassEmergency, true
	case "INPATIENT", "I", "IMP", "ACUTE", "NONAC":
		return ClassInpatient, true
	case "OUTPATIENT", "O", "P", "R", "AMB", "OBSENC", "PRENC", "HH", "FLD", "VR":
		return ClassOutpatient, true
	case "URGENT-CARE", "URGENTCARE":
		return ClassUrgentCare, true
	case "HOSPITAL-URGENT-CARE":
		return ClassHospitalUrgentCare, true
	case "AMBULATORY-SURGERY", "SS":
		return ClassAmbulatorySurgery, true
	case "UNKNOWN", "UNK", "U", "N", "B":
		return ClassUnknown, true
	}
	return ClassUnknown, false
}

// classSeparators spells the separators of multi-word settings one way.
var classSeparators = strings.NewReplacer(" ", "-", "_", "-")
