package order

import (
	"bytes"
	"slices"
	"strings"
	"time"
)

// Order is one imaging order: what was asked for, for whom, by whom, under which
// coverage, what the checks found, which results came back, and how its status changed.
// HL7 v2 orders and FHIR ServiceRequests both normalize into it. There is one Order per
// placer order number per sender ([Order.Key]).
//
// An Order is a plain value with no internal locking: it is not safe for concurrent
// mutation. Use [Order.Clone] to hand a copy to another goroutine. It marshals to JSON
// with snake_case keys; zero fields are omitted.
type Order struct {
	// ID is assigned by the engine when the order is first stored.
	ID string `json:"id,omitempty"`
	// Source says which message and sender created the order.
	Source Source `json:"source,omitzero"`
	// Placer is the placer order number (ORC-2 / ServiceRequest.identifier PLAC).
	Placer string `json:"placer,omitempty"`
	// Filler is the filler order number (ORC-3 / identifier FILL).
	Filler string `json:"filler,omitempty"`
	// Accession is the imaging accession number (OBR-18 or IPC-1 / identifier ACSN).
	Accession string `json:"accession,omitempty"`
	// PlacerGroup is the placer group number (ORC-4 / ServiceRequest.requisition).
	PlacerGroup string `json:"placer_group,omitempty"`
	// ControlCode is the last order control code applied (ORC-1, HL7 table 0119).
	ControlCode string `json:"control_code,omitempty"`
	// Patient is who the exam is for.
	Patient Patient `json:"patient,omitzero"`
	// EncounterClass is the patient class (PV1-2 / Encounter.class).
	EncounterClass EncounterClass `json:"encounter_class,omitempty"`
	// Setting is what else the encounter says about the setting (PV1-3, PV1-4, PV1-10,
	// PV1-18, PV1-44/45 / Encounter, ServiceRequest.locationCode).
	Setting Setting `json:"setting,omitzero"`
	// Provider is the ordering provider (ORC-12 or OBR-16 / ServiceRequest.requester).
	Provider Provider `json:"provider,omitzero"`
	// Procedure is the exam ordered (OBR-4 / ServiceRequest.code).
	Procedure Procedure `json:"procedure,omitzero"`
	// Performer is the facility that is to perform the exam (MSH-6 or PV1-3.4 /
	// ServiceRequest.performer).
	Performer Facility `json:"performer,omitzero"`
	// Diagnoses are the coded reasons for the exam (DG1-3 / ServiceRequest.reasonCode).
	Diagnoses []Diagnosis `json:"diagnoses,omitempty"`
	// Reason is the reason for exam as text (OBR-31 / reasonCode.text).
	Reason string `json:"reason,omitempty"`
	// Priority is the requested urgency (TQ1-9 or ORC-7.6 / ServiceRequest.priority).
	Priority Priority `json:"priority,omitempty"`
	// Requested is when the exam is asked for (TQ1-7, ORC-7.4, OBR-27.4 or OBR-6 /
	// ServiceRequest.occurrence[x]); zero when not said.
	Requested time.Time `json:"requested,omitzero"`
	// Authored is when the order was placed (ORC-9 / ServiceRequest.authoredOn).
	Authored time.Time `json:"authored,omitzero"`
	// Signature is the ordering provider's signature on the order.
	Signature Signature `json:"signature,omitzero"`
	// Coverage lists the patient's insurance, primary first (IN1 / Coverage).
	Coverage []Coverage `json:"coverage,omitempty"`
	// Eligibility is the payer's last answer on the primary coverage.
	Eligibility Eligibility `json:"eligibility,omitzero"`
	// Authorization is the prior-authorization state.
	Authorization Authorization `json:"authorization,omitzero"`
	// ReadyToSchedule is the checks' verdict on whether the exam can be scheduled.
	ReadyToSchedule ReadyToSchedule `json:"ready_to_schedule,omitzero"`
	// Findings are the completeness and prior-authorization findings of the last check.
	Findings []Finding `json:"findings,omitempty"`
	// Results are every result received, in arrival order, every version kept; see
	// [Order.CurrentResults] for the latest version of each.
	Results []Result `json:"results,omitempty"`
	// Status is the current lifecycle status; change it only through the lifecycle
	// methods so that History stays complete.
	Status Status `json:"status,omitempty"`
	// History lists every status change, oldest first.
	History []Transition `json:"history,omitempty"`
	// Created is the time of the first transition (to received).
	Created time.Time `json:"created,omitzero"`
	// Updated is the time of the last change made through a lifecycle method.
	Updated time.Time `json:"updated,omitzero"`
}

// SourceKind says which dialect an order arrived in.
type SourceKind string

// The source kinds.
const (
	SourceV2   SourceKind = "v2"
	SourceFHIR SourceKind = "fhir"
)

// Source identifies the sender of an order and the message that created it. The v2
// fields come from MSH, the fhir fields from the HTTP client and the resource.
type Source struct {
	Kind SourceKind `json:"kind,omitempty"`
	// SendingApp is MSH-3 (v2).
	SendingApp string `json:"sending_app,omitempty"`
	// SendingFacility is MSH-4; the mapping stores its first component (namespace ID).
	SendingFacility string `json:"sending_facility,omitempty"`
	// ReceivingApp is MSH-5 (v2).
	ReceivingApp string `json:"receiving_app,omitempty"`
	// ReceivingFacility is MSH-6 (v2).
	ReceivingFacility string `json:"receiving_facility,omitempty"`
	// Version is MSH-12, e.g. "2.5.1" (v2).
	Version string `json:"version,omitempty"`
	// ClientID is the authenticated HTTP client (fhir).
	ClientID string `json:"client_id,omitempty"`
	// FHIRSource is ServiceRequest.meta.source (fhir).
	FHIRSource string `json:"fhir_source,omitempty"`
	// ResourceID is the id the FHIR client gave the order's ServiceRequest when it
	// created it with PUT ServiceRequest/{id} (fhir); empty when the ServiceRequest's id
	// is the order's ID. See [Order.ServiceRequestID].
	ResourceID string `json:"resource_id,omitempty"`
	// MessageID is the engine's id of the stored inbound message that created the order.
	MessageID string `json:"message_id,omitempty"`
}

// ServiceRequestID is the id of the order's FHIR ServiceRequest: the one its client
// gave it (Source.ResourceID), else the order's ID.
func (o *Order) ServiceRequestID() string {
	if o.Source.ResourceID != "" {
		return o.Source.ResourceID
	}
	return o.ID
}

// Key identifies the sender as a namespace for placer numbers: "v2|" and the sending
// facility for v2, "fhir|" and the client id and FHIR source for FHIR (both, so that one
// client cannot claim another's orders by copying its meta.source). Each part is escaped
// ("%" as "%25", "|" as "%7C") so that distinct senders never share a key. It returns ""
// for an unknown Kind.
func (s Source) Key() string {
	switch s.Kind {
	case SourceV2:
		return "v2|" + escapeKey(s.SendingFacility)
	case SourceFHIR:
		return "fhir|" + escapeKey(s.ClientID) + "|" + escapeKey(s.FHIRSource)
	}
	return ""
}

// Key identifies the order among all orders: the sender's [Source.Key], "|", and the
// escaped placer number, e.g. "v2|HOSP_A|PL1234". It returns "" when the order has no
// placer number or no known source kind: such an order can only be found by ID.
func (o *Order) Key() string {
	sk := o.Source.Key()
	if sk == "" || o.Placer == "" {
		return ""
	}
	return sk + "|" + escapeKey(o.Placer)
}

func escapeKey(s string) string {
	if !strings.ContainsAny(s, "%|") {
		return s
	}
	return strings.NewReplacer("%", "%25", "|", "%7C").Replace(s)
}

// Transition is one entry of an order's status history.
type Transition struct {
	At   time.Time `json:"at,omitzero"`
	From Status    `json:"from,omitempty"`
	To   Status    `json:"to,omitempty"`
	// Cause says what moved the order, e.g. "ORC-1=CA", "checks: 2 findings (1 error)",
	// "authorization approved", "result final R1".
	Cause string `json:"cause,omitempty"`
	// MessageID is the engine's id of the message that caused the change, if any.
	MessageID string `json:"message_id,omitempty"`
}

// Clone returns a deep copy of o: no slice or byte buffer is shared with o. Clone of nil
// is nil.
func (o *Order) Clone() *Order {
	if o == nil {
		return nil
	}
	c := *o
	c.Patient.Identifiers = slices.Clone(o.Patient.Identifiers)
	c.Diagnoses = slices.Clone(o.Diagnoses)
	c.Coverage = slices.Clone(o.Coverage)
	c.Findings = slices.Clone(o.Findings)
	c.ReadyToSchedule.Reasons = slices.Clone(o.ReadyToSchedule.Reasons)
	c.History = slices.Clone(o.History)
	if o.Results != nil {
		c.Results = make([]Result, len(o.Results))
		for i, r := range o.Results {
			c.Results[i] = r.clone()
		}
	}
	return &c
}

func (r Result) clone() Result {
	r.Observations = slices.Clone(r.Observations)
	r.Presented = slices.Clone(r.Presented)
	for i := range r.Presented {
		r.Presented[i].Data = bytes.Clone(r.Presented[i].Data)
	}
	return r
}
