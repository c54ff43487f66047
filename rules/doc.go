// Package rules checks imaging orders for completeness and prior authorization.
//
// An imaging facility cannot proceed on an incomplete order, and an advanced imaging
// exam (CT, MRI, MRA, PET, nuclear cardiology) performed without a required prior
// authorization is a denied claim. Every [order.Order], from HL7 v2 or FHIR, is checked
// the moment it arrives:
//
//	c, err := rules.New(cfg)       // once: parses the code table, resolves payer profiles
//	c.Check(o, now)                // per order: sets o.Findings and o.Authorization
//	o.Settle(now, "", msgID)       // the engine moves the order on
//
// Findings are data, never Go errors: a check never fails on its input, however
// malformed. Each [order.Finding] has a stable Code (see the Code... constants), a
// Severity (error blocks the imaging facility and makes the order incomplete; warning
// does not; information reports pending prior authorization), the v2 Location and the
// FHIR path of the element, and a Text for the sender's order desk (it is returned in
// the ACK or OperationOutcome, so it names the offending value, never more).
//
//	code                        severity          v2      FHIR path
//	procedure.cpt-missing       error             OBR-4   ServiceRequest.code
//	procedure.not-cpt           error             OBR-4   ServiceRequest.code
//	procedure.cpt-invalid       error             OBR-4   ServiceRequest.code
//	procedure.cpt-unknown       warning           OBR-4   ServiceRequest.code
//	procedure.modality-missing  warning           OBR-24  ServiceRequest.category
//	procedure.body-site-missing warning           OBR-15  ServiceRequest.bodySite
//	reason.missing              error             OBR-31  ServiceRequest.reasonCode
//	diagnosis.missing           error             DG1-3   ServiceRequest.reasonCode
//	diagnosis.icd10-missing     error             DG1-3   ServiceRequest.reasonCode
//	diagnosis.icd10-invalid     error             DG1-3   ServiceRequest.reasonCode
//	provider.missing            error             ORC-12  ServiceRequest.requester
//	provider.npi-missing        error             ORC-12  ServiceRequest.requester
//	provider.npi-invalid        error             ORC-12  ServiceRequest.requester
//	patient.identifier-missing  error             PID-3   ServiceRequest.subject
//	patient.name-missing        error or warning  PID-5   ServiceRequest.subject
//	patient.birth-date-missing  error or warning  PID-7   ServiceRequest.subject
//	signature.missing           error             ORC-9   ServiceRequest.authoredOn
//	                                              ORC-12  ServiceRequest.requester
//	                                              ORC-30  Provenance.signature
//	preauth.required            information       IN1-14  ServiceRequest.insurance
//	preauth.records-required    information       IN1-14  ServiceRequest.insurance
//
// # Prior authorization
//
// The code table (data/imaging-codes.csv, embedded; provenance per row in its source
// column and in data/SOURCES.md) lists CPT codes with their modality, body site,
// category and prior_auth: required, records_required (authorization and the patient's
// medical records) or not_required. Its requirements come from the payers' radiology
// prior-authorization programmes named in the source column (UnitedHealthcare, Priority
// Health, Kaiser Permanente Washington, the AIM code list) and the CMS/MIPPA definition
// of advanced diagnostic imaging. Orders in the emergency, inpatient, hospital urgent
// care and ambulatory surgery settings are exempt. Payer profiles ([PayerProfile])
// override the table by exact CPT, CPT range, modality or category, the most specific
// rule winning. [Checker.Preauth] answers for one code; [Checker.Check] applies it to an
// order, with a due-by time of 72 hours for expedited orders and 7 days otherwise
// ([Config]).
//
// # Formats checked
//
//   - CPT: five characters, five digits or four digits and F or T (AMA CPT Category
//     I, II and III).
//   - ICD-10-CM ([ValidICD10CM]): the code structure of the ICD-10-CM Official
//     Guidelines for Coding and Reporting (CMS and NCHS), section I.A: a 3-character
//     category (letter, digit, letter or digit), up to 4 more characters after an
//     optional dot, including the placeholder X and 7th-character extensions.
//   - NPI ([ValidNPI]): CMS, "Requirements for NPI Check Digit" (NPI final rule, 45
//     CFR 162.406): 10 digits, the last the Luhn mod-10 check digit computed with the
//     80840 prefix.
//
// # Caveats
//
//   - The checks are about form. They cannot tell whether an ICD-10-CM code exists or is
//     billable, whether an NPI was issued, or whether the diagnosis supports the exam.
//   - The code table is a curated subset of imaging CPT codes; a code outside it is a
//     warning and its prior authorization is reported as not determined. Payer lists
//     change yearly: re-verify the table and keep payer differences in profiles.
//   - Only the primary coverage (o.Coverage[0]) selects a payer profile.
//
// A [Checker] is immutable after [New] and safe for concurrent use; the package has no
// mutable state.
package rules
