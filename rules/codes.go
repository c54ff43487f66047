package rules

import "github.com/radbridge/radbridge/order"

// The finding codes. They are stable: senders, the engine and tests may rely on them.
// Each names the element (before the dot) and the problem. What kind of problem it is
// (its order.FindingClass, which decides how each door reports it) is classOf's to
// say, not the spelling's.
const (
	// CodeCPTMissing (error, OBR-4, ServiceRequest.code): no procedure code at all.
	CodeCPTMissing = "procedure.cpt-missing"
	// CodeNotCPT (error, OBR-4, ServiceRequest.code): the procedure is coded, but not
	// in CPT (e.g. LOINC or a local code) and no CPT code was mapped.
	CodeNotCPT = "procedure.not-cpt"
	// CodeCPTInvalid (error, OBR-4, ServiceRequest.code): the CPT code is malformed.
	CodeCPTInvalid = "procedure.cpt-invalid"
	// CodeCPTUnknown (warning, OBR-4, ServiceRequest.code): a well-formed CPT code that
	// is not in the imaging code table.
	CodeCPTUnknown = "procedure.cpt-unknown"
	// CodeModalityMissing (warning, OBR-24, ServiceRequest.category): the modality is
	// neither in the order nor derivable from the code table.
	CodeModalityMissing = "procedure.modality-missing"
	// CodeBodySiteMissing (warning, OBR-15, ServiceRequest.bodySite): likewise for the
	// body part.
	CodeBodySiteMissing = "procedure.body-site-missing"

	// CodeReasonMissing (error, OBR-31, ServiceRequest.reasonCode): no reason for the
	// exam, neither as text nor as a diagnosis.
	CodeReasonMissing = "reason.missing"

	// CodeDiagnosisMissing (error, DG1-3, ServiceRequest.reasonCode): no coded
	// diagnosis.
	CodeDiagnosisMissing = "diagnosis.missing"
	// CodeICD10Missing (error, DG1-3, ServiceRequest.reasonCode): diagnoses are coded,
	// but only in other systems (ICD-9-CM, SNOMED CT...).
	CodeICD10Missing = "diagnosis.icd10-missing"
	// CodeICD10Invalid (error, DG1-3, ServiceRequest.reasonCode): a code sent as
	// ICD-10-CM (or with no system) is not a well-formed ICD-10-CM code. One finding
	// per code.
	CodeICD10Invalid = "diagnosis.icd10-invalid"

	// CodeProviderMissing (error, ORC-12, ServiceRequest.requester): no ordering
	// provider.
	CodeProviderMissing = "provider.missing"
	// CodeNPIMissing (error, ORC-12, ServiceRequest.requester): the ordering provider
	// has no NPI.
	CodeNPIMissing = "provider.npi-missing"
	// CodeNPIInvalid (error, ORC-12, ServiceRequest.requester): the NPI is not 10
	// digits or fails its check digit.
	CodeNPIInvalid = "provider.npi-invalid"

	// CodePatientIDMissing (error, PID-3, ServiceRequest.subject): no patient
	// identifier.
	CodePatientIDMissing = "patient.identifier-missing"
	// CodePatientNameMissing (PID-5, ServiceRequest.subject): no patient name; an
	// error when the birth date is missing too, else a warning.
	CodePatientNameMissing = "patient.name-missing"
	// CodeBirthDateMissing (PID-7, ServiceRequest.subject): no birth date; an error
	// when the name is missing too, else a warning.
	CodeBirthDateMissing = "patient.birth-date-missing"

	// CodeSignatureMissing (error): no evidence that the ordering provider signed the
	// order. Its location names what to send: ORC-9 / ServiceRequest.authoredOn when
	// there is no signature time, ORC-12 / ServiceRequest.requester when there is no
	// signer, else ORC-30 / Provenance.signature.
	CodeSignatureMissing = "signature.missing"

	// CodePreauthRequired (information, IN1-14, ServiceRequest.insurance): prior
	// authorization is outstanding.
	CodePreauthRequired = "preauth.required"
	// CodePreauthRecordsRequired (information, IN1-14, ServiceRequest.insurance): prior
	// authorization with medical records is outstanding.
	CodePreauthRecordsRequired = "preauth.records-required"
	// CodePayerUnknown (information, IN1-3, ServiceRequest.insurance): payer profiles
	// are configured, and none matches the primary coverage (or there is none): the
	// default rules applied.
	CodePayerUnknown = "preauth.payer-unknown"

	// CodeCoverageOutOfPeriod (warning, IN1-13, ServiceRequest.insurance): the
	// coverage's dates (IN1-12 to IN1-13 / Coverage.period) do not cover the date of
	// service.
	CodeCoverageOutOfPeriod = "coverage.out-of-period"
	// CodeCoverageInactive (warning, IN1-3, ServiceRequest.insurance): the payer's
	// eligibility service says the coverage is not in force.
	CodeCoverageInactive = "coverage.inactive"
	// CodeCoverageUnverified (information, IN1-3, ServiceRequest.insurance): the
	// eligibility question failed: coverage could not be verified.
	CodeCoverageUnverified = "coverage.unverified"

	// CodeOutOfNetwork (warning, MSH-6, ServiceRequest.performer): the networks table
	// does not put the performing facility in the payer's network on the date of
	// service.
	CodeOutOfNetwork = "network.out-of-network"
	// CodeNetworkUnknown (warning, MSH-6, ServiceRequest.performer): network
	// participation cannot be checked: no performing facility NPI, or no row for the
	// payer in the networks table.
	CodeNetworkUnknown = "network.unknown"
)

// classOf is the class of the findings with the given code.
func classOf(code string) order.FindingClass {
	switch code {
	case CodeCPTMissing, CodeModalityMissing, CodeBodySiteMissing, CodeReasonMissing, CodeDiagnosisMissing,
		CodeProviderMissing, CodeNPIMissing, CodePatientIDMissing, CodePatientNameMissing, CodeBirthDateMissing,
		CodeSignatureMissing, CodeICD10Missing:
		return order.FindingMissing
	case CodeCPTInvalid, CodeICD10Invalid, CodeNPIInvalid:
		return order.FindingInvalid
	case CodeNotCPT, CodeCPTUnknown:
		return order.FindingUnknown
	case CodePreauthRequired, CodePreauthRecordsRequired, CodePayerUnknown, CodeCoverageOutOfPeriod,
		CodeCoverageInactive, CodeCoverageUnverified, CodeOutOfNetwork, CodeNetworkUnknown:
		return order.FindingInformational
	}
	panic("rules: finding code " + code + " has no class") // a code added without one
}
