package order

import "time"

// Setting is what an order's encounter says about where the patient is and where the
// exam is to be provided, beyond the encounter class: the fields the
// prior-authorization exemptions read. Values are kept as sent; package rules resolves
// them, with the site's codes, into a setting (its doc comment has the table).
type Setting struct {
	// PointOfCare is the assigned patient location's point of care (PV1-3.1), e.g.
	// "ED" or "UC".
	PointOfCare string `json:"point_of_care,omitempty"`
	// Facility is the namespace ID of the location's facility (PV1-3.4.1), or for FHIR
	// the display of Encounter.serviceProvider.
	Facility string `json:"facility,omitempty"`
	// FacilityID is the facility's universal ID (PV1-3.4.2), or for FHIR the value of
	// Encounter.serviceProvider's identifier.
	FacilityID string `json:"facility_id,omitempty"`
	// AdmissionType is PV1-4 (HL7 table 0007: E emergency, U urgent, L labor and
	// delivery...).
	AdmissionType string `json:"admission_type,omitempty"`
	// HospitalService is PV1-10 (user-defined table 0069).
	HospitalService string `json:"hospital_service,omitempty"`
	// PatientType is PV1-18 (user-defined table 0018).
	PatientType string `json:"patient_type,omitempty"`
	// LocationCode is where the exam is to be performed, as a code: FHIR
	// ServiceRequest.locationCode (v3 ServiceDeliveryLocationRoleType, e.g. ER).
	LocationCode string `json:"location_code,omitempty"`
	// Start and End bound the encounter: PV1-44 admit and PV1-45 discharge date/time,
	// Encounter.period. Zero when not sent.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
}

// Facility is an organization where exams are performed: the performing facility of
// an order (v2: MSH-6 or PV1-3.4 as an HD name^NPI^NPI; FHIR: ServiceRequest.performer).
type Facility struct {
	Name string `json:"name,omitempty"`
	// NPI is the facility's (type 2, organization) National Provider Identifier.
	NPI string `json:"npi,omitempty"`
}

// EligibilityStatus is what the payer said about the coverage.
type EligibilityStatus string

// The eligibility statuses. The zero value means no one asked.
const (
	EligibilityUnchecked EligibilityStatus = ""
	// EligibilityActive: the payer's eligibility response says the coverage is in
	// force.
	EligibilityActive EligibilityStatus = "active"
	// EligibilityInactive: the payer's eligibility response says it is not.
	EligibilityInactive EligibilityStatus = "inactive"
	// EligibilityUnverified: the question was asked but not answered (an error, a
	// timeout, an answer that says neither): coverage could not be verified. It is
	// never read as active.
	EligibilityUnverified EligibilityStatus = "unverified"
)

// Eligibility is the payer's last answer on whether the order's primary coverage is
// in force (a CoverageEligibilityRequest with purpose validation).
type Eligibility struct {
	Status EligibilityStatus `json:"status,omitempty"`
	// Checked is when the question was asked.
	Checked time.Time `json:"checked,omitzero"`
	// Payer is the ID of the payer profile whose eligibility service was asked.
	Payer string `json:"payer,omitempty"`
	// Detail is the payer's words, or why the answer could not be had.
	Detail string `json:"detail,omitempty"`
}

// ReadyToSchedule is the verdict on whether an order can be scheduled: coverage
// active, facility in network, authorization not needed or approved for the date and
// the procedure, documentation complete. Reasons says why, one line per part, in that
// order. Package rules sets it on every check.
type ReadyToSchedule struct {
	Ready   bool     `json:"ready"`
	Reasons []string `json:"reasons,omitempty"`
}
