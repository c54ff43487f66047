package order

import (
	"strings"
	"time"
)

// Identifier is one identifier of a patient or an order.
type Identifier struct {
	Value string `json:"value,omitempty"`
	// System is the assigning authority (v2 CX-4) or the FHIR Identifier.system.
	System string `json:"system,omitempty"`
	// Type is the identifier type (HL7 table 0203), e.g. "MR", "PLAC", "FILL".
	Type string `json:"type,omitempty"`
}

// Patient is the subject of an order (PID / Patient).
type Patient struct {
	Identifiers []Identifier `json:"identifiers,omitempty"`
	Family      string       `json:"family,omitempty"`
	Given       string       `json:"given,omitempty"`
	Middle      string       `json:"middle,omitempty"`
	// BirthDate is "YYYY", "YYYY-MM" or "YYYY-MM-DD" (FHIR date precision).
	BirthDate string `json:"birth_date,omitempty"`
	// Sex is a FHIR administrative-gender code: male, female, other or unknown.
	Sex string `json:"sex,omitempty"`
}

// Provider is a clinician: the ordering provider of an order or the interpreter of a
// result (XCN / Practitioner).
type Provider struct {
	// NPI is the US National Provider Identifier, 10 digits.
	NPI string `json:"npi,omitempty"`
	// ID is another identifier when the provider is not known by NPI.
	ID string `json:"id,omitempty"`
	// IDSystem is the assigning authority or FHIR system of ID.
	IDSystem string `json:"id_system,omitempty"`
	Family   string `json:"family,omitempty"`
	Given    string `json:"given,omitempty"`
	Prefix   string `json:"prefix,omitempty"`
	Suffix   string `json:"suffix,omitempty"`
}

// Procedure is the exam ordered (OBR-4 / ServiceRequest.code, bodySite).
type Procedure struct {
	// Code is the procedure code as sent.
	Code string `json:"code,omitempty"`
	// System is the coding system as sent: a v2 table 0396 name ("CPT", "C4", "LN") or a
	// FHIR system URI.
	System string `json:"system,omitempty"`
	// CPT is the CPT code when the procedure is coded in CPT (see [Procedure.IsCPT]),
	// or when a local code was mapped to one.
	CPT  string `json:"cpt,omitempty"`
	Text string `json:"text,omitempty"`
	// Modality is a DICOM-style modality: CT, MR, PET, US, XR (CR/DX), MG, NM, FL...
	Modality string `json:"modality,omitempty"`
	BodySite string `json:"body_site,omitempty"`
}

// IsCPT reports whether System names CPT (case-insensitive): v2 table 0396 "CPT",
// "C4", "C5", "CPT4", "CPT-4", the FHIR system http://www.ama-assn.org/go/cpt, or its
// OID urn:oid:2.16.840.1.113883.6.12.
func (p Procedure) IsCPT() bool {
	switch strings.ToLower(strings.TrimSpace(p.System)) {
	case "cpt", "c4", "c5", "cpt4", "cpt-4",
		"http://www.ama-assn.org/go/cpt", "urn:oid:2.16.840.1.113883.6.12":
		return true
	}
	return false
}

// Diagnosis is one coded reason for the exam (DG1-3 / ServiceRequest.reasonCode).
type Diagnosis struct {
	Code   string `json:"code,omitempty"`
	System string `json:"system,omitempty"`
	Text   string `json:"text,omitempty"`
}

// IsICD10CM reports whether System names ICD-10-CM (case-insensitive): the v2 names
// "I10", "I10C", "ICD10", "ICD-10", "ICD10CM" and "ICD-10-CM", the FHIR system
// http://hl7.org/fhir/sid/icd-10-cm, or its OID urn:oid:2.16.840.1.113883.6.90. (Table
// 0396 says I10 is ICD-10 and I10C ICD-10-CM; US senders use both for ICD-10-CM.) It
// does not check the code itself.
func (d Diagnosis) IsICD10CM() bool {
	switch strings.ToLower(strings.TrimSpace(d.System)) {
	case "i10", "i10c", "icd10", "icd-10", "icd10cm", "icd-10-cm",
		"http://hl7.org/fhir/sid/icd-10-cm", "urn:oid:2.16.840.1.113883.6.90":
		return true
	}
	return false
}

// Signature is the ordering provider's signature. In v2 it comes from ORC-30 (enterer
// authorization mode), ORC-12 (signer) and ORC-9 (time); in FHIR from a Provenance
// signature or, failing that, ServiceRequest.requester and authoredOn.
type Signature struct {
	// Mode is the authorization mode (v2 table 0483, e.g. "EL" electronic, "WR" written).
	Mode      string    `json:"mode,omitempty"`
	Signer    string    `json:"signer,omitempty"`
	SignerNPI string    `json:"signer_npi,omitempty"`
	Time      time.Time `json:"time,omitzero"`
	// Present reports whether the message carried a signature at all.
	Present bool `json:"present,omitempty"`
}

// Coverage is one insurance coverage (IN1 / Coverage).
type Coverage struct {
	// Payer is the payer identifier (IN1-3 / Coverage.payor).
	Payer     string `json:"payer,omitempty"`
	PayerName string `json:"payer_name,omitempty"`
	Plan      string `json:"plan,omitempty"`
	// PlanType is e.g. "HMO", "PPO", "MEDICARE" (IN1-15 / Coverage.type).
	PlanType string `json:"plan_type,omitempty"`
	// MemberID is the subscriber or member id (IN1-36 / Coverage.subscriberId).
	MemberID string `json:"member_id,omitempty"`
	Group    string `json:"group,omitempty"`
	// Start and End are the coverage period as ISO dates (YYYY-MM-DD), IN1-12 plan
	// effective date and IN1-13 plan expiration date / Coverage.period; empty when not
	// sent (End empty: open-ended).
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Severity is how serious a [Finding] is, with the FHIR OperationOutcome issue severity
// codes.
type Severity string

// The finding severities.
const (
	// SeverityError makes an order incomplete ([Order.Settle]).
	SeverityError       Severity = "error"
	SeverityWarning     Severity = "warning"
	SeverityInformation Severity = "information"
)

// FindingClass says what kind of problem a finding reports. Each door reports a finding
// in its own vocabulary by its class: HL7 v2 as an ERR with a table 0357 code, FHIR as
// an OperationOutcome issue type.
type FindingClass string

// Finding classes.
const (
	// FindingMissing: a required element is absent (HL7 0357 101; FHIR required).
	FindingMissing FindingClass = "missing"
	// FindingInvalid: an element is present but malformed (102 data type error; FHIR
	// value).
	FindingInvalid FindingClass = "invalid"
	// FindingUnknown: a well-formed code that is not in the table it must come from, or
	// from a code system that cannot be used here (103 table value not found; FHIR
	// code-invalid).
	FindingUnknown FindingClass = "unknown"
	// FindingInformational: nothing to fix; a note such as an outstanding prior
	// authorization (an informational ERR; FHIR informational).
	FindingInformational FindingClass = "informational"
)

// Finding is one result of the completeness and prior-authorization checks. The rules
// package produces findings; the order stores the latest set.
type Finding struct {
	Code     string   `json:"code,omitempty"`
	Severity Severity `json:"severity,omitempty"`
	// Class is what kind of problem it is. Findings stored before classes existed
	// have none: read them with [Finding.Kind].
	Class FindingClass `json:"class,omitempty"`
	// Location is the v2 position of the element, e.g. "DG1-3".
	Location string `json:"location,omitempty"`
	// FHIRPath is the FHIR path of the element, e.g. "ServiceRequest.reasonCode".
	FHIRPath string `json:"fhir_path,omitempty"`
	Text     string `json:"text,omitempty"`
}

// Kind is the finding's class; for a finding stored without one, informational when its
// severity is information and missing otherwise.
func (f Finding) Kind() FindingClass {
	switch {
	case f.Class != "":
		return f.Class
	case f.Severity == SeverityInformation:
		return FindingInformational
	}
	return FindingMissing
}
