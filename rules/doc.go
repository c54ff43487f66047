// Package rules checks imaging orders for completeness and prior authorization, and
// decides whether they are ready to schedule.
//
// An imaging facility cannot proceed on an incomplete order, and an advanced imaging
// exam (CT, MRI, MRA, PET, nuclear cardiology) performed without a required prior
// authorization is a denied claim. Every [order.Order], from HL7 v2 or FHIR, is checked
// the moment it arrives:
//
//	c, err := rules.NewWith(cfg, deps) // once: parses the tables, resolves payer profiles
//	c.Verify(ctx, o, now)              // per order, outside transactions: asks the payer
//	c.Check(o, now)                    // per order: sets o.Findings, o.Authorization, o.ReadyToSchedule
//	o.Settle(now, "", msgID)           // the engine moves the order on
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
//	preauth.payer-unknown       information       IN1-3   ServiceRequest.insurance
//	preauth.required            information       IN1-14  ServiceRequest.insurance
//	preauth.records-required    information       IN1-14  ServiceRequest.insurance
//	coverage.out-of-period      warning           IN1-13  ServiceRequest.insurance
//	coverage.inactive           warning           IN1-3   ServiceRequest.insurance
//	coverage.unverified         information       IN1-3   ServiceRequest.insurance
//	network.out-of-network      warning           MSH-6   ServiceRequest.performer
//	network.unknown             warning           MSH-6   ServiceRequest.performer
//
// # Prior authorization
//
// The code table (data/imaging-codes.csv, embedded; provenance per row in its source
// column and in data/SOURCES.md) lists CPT codes with their modality, body site,
// category and prior_auth: required, records_required (authorization and the patient's
// medical records) or not_required. Its requirements come from the payers' radiology
// prior-authorization programmes named in the source column (Kaiser Permanente
// Washington first, whose rules this project follows; UnitedHealthcare, Priority Health,
// the AIM code list) and the CMS/MIPPA definition of advanced diagnostic imaging. An
// order's verdict ([Checker.Check], and [Checker.Preauth] for one code) is decided in
// this order:
//
//  1. The payer profile: the one matching the primary coverage's payer ID, plan ID and
//     plan type most specifically ([Match]); none, or no coverage, is an unknown payer
//     (Authorization.PayerUnknown, a preauth.payer-unknown finding when profiles are
//     configured), and the defaults apply.
//  2. The code's requirement: the profile's most specific rule, else the table's. A code
//     the table does not list is advanced imaging when its CPT range (advancedRanges:
//     CT, MR, PET and SPECT families of the Radiology section) or the order's modality
//     (CT, MR, PET from OBR-24, IPC-5, ServiceRequest.orderDetail or category) says
//     so: required (records for PET), "not in the imaging code table" in the reason.
//     Anything else is undetermined.
//  3. Screening vs diagnostic: a screening code (category screening: 71271 LDCT, 74263
//     CT colonography, 77067 mammography, 76706 AAA ultrasound) whose diagnoses are
//     screening codes only (Z11-Z13, with Z00-Z99 history and F17.2 nicotine dependence)
//     gets the profile's screening_prior_auth (default not required); with a
//     diagnostic indication it keeps the table's rule. An exact-CPT or range rule of
//     the profile comes first.
//  4. Medical records: SPECT and MRA for a behavioural-health indication (ICD-10-CM
//     F01-F99, plus the profile's behavioral_health_dx), and CT of the whole body (its
//     body site or text says so; CPT has no code for it), need records.
//  5. Exemption: the profile's exempt settings (default emergency, inpatient,
//     hospital-urgent-care and ambulatory-surgery) exempt an order ordered and provided
//     there, as resolved below.
//
// # Settings
//
// Where an order was placed comes from the first of these that names a setting:
//
//	source                          v2                       FHIR
//	site code (setting_codes)       PV1-18, PV1-10, PV1-3.1, -
//	                                PV1-4, in that order
//	encounter class                 PV1-2 (table 0004): E    Encounter.class (v3 ActCode):
//	                                emergency, I inpatient,  EMER emergency, IMP/ACUTE/
//	                                O/P/R outpatient, B U N  NONAC inpatient, SS ambulatory
//	                                unknown                  surgery, AMB... outpatient
//	built-in codes, for an          PV1-18, PV1-10, PV1-3.1  (the same fields as read into
//	outpatient or unknown class     ER/ED/EMER/EMERGENCY     order.Setting: Encounter.type
//	                                emergency, UC/URGENT     v2-0018, serviceType v2-0069,
//	                                CARE urgent care, ASC/   location)
//	                                SDS/AMBULATORY SURGERY
//	                                ambulatory surgery
//
// Urgent care is hospital-based (hospital-urgent-care) when a site code says so, or when
// the encounter's facility, PV1-3.4 (namespace or universal ID) or
// Encounter.serviceProvider (name or identifier), is in hospital_facilities; otherwise
// it is urgent care that may be freestanding, which Kaiser WA does not exempt. The
// sending facility (MSH-4) is not read: health systems send orders from freestanding
// centres through the hospital's interface.
//
// The exam is provided in the setting, the second half of "ordered and provided
// during", when: the location code (FHIR ServiceRequest.locationCode; site codes, v3
// RoleCode ER/ETU and HSL 1108-0 as emergency) names that setting; else the requested
// date (TQ1-7, ORC-7.4, OBR-27.4, OBR-6 / occurrence[x]) is before the encounter's end
// (PV1-45 / Encounter.period.end) or, with no end known, within the setting's window of
// the order's authored time (default 24 hours, inpatient 72); else, with no requested
// date, an expedited priority says so, and otherwise the exam is presumed provided
// during the encounter. The reason says which.
//
// # Ready to schedule
//
// Check sets o.ReadyToSchedule: ready when the coverage is in force (its dates,
// IN1-12/IN1-13 or Coverage.period, cover the date of service; the payer's eligibility
// answer, from [Checker.Verify], is active), the performing facility is in the payer's
// network on the date (the networks table), the authorization is not needed or approved
// with a window covering the date and for the ordered CPT, and the order has no error
// finding. Parts the site has not configured (no eligibility service, no networks
// table) do not block, and their reason says they were not checked; an eligibility
// question that failed does ("could not verify", never eligible). The date of service is
// the requested date, else the authored date.
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
//     warning. Payer lists change yearly: re-verify the table and keep payer
//     differences in profiles.
//   - Only the primary coverage (o.Coverage[0]) selects a payer profile.
//   - The setting windows are heuristics for encounters whose end is not sent; a sender
//     that sends PV1-45 or Encounter.period.end gets the exact answer.
//   - The eligibility answer is what the payer said at Verify time; Check does not ask
//     again.
//
// A [Checker] is immutable after [New] and safe for concurrent use; the package has no
// mutable state.
package rules
