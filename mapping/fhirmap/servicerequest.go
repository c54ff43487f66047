package fhirmap

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/radbridge/radbridge/internal/jsontext"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// srLinks are a ServiceRequest's references to the resources around it: logical
// references when the ServiceRequest goes alone, "#id" when they are contained, urn:uuid
// fullUrls in a Bundle.
type srLinks struct {
	subject    fhir.Reference
	encounter  *fhir.Reference
	requester  *fhir.Reference
	insurance  []fhir.Reference
	conditions []fhir.Reference // reasonReference; when nil the diagnoses go to reasonCode
	provenance *fhir.Reference  // relevantHistory
}

// ToServiceRequest maps an order to a FHIR R4 ServiceRequest that stands alone: the
// patient, requester and coverages are logical references (identifier and display), the
// diagnoses coded reasonCode entries. [ServiceRequestJSON] writes the same request with
// those resources contained, which loses nothing; [FromFHIRServiceRequest] reads either.
//
//	id                 Order.ID
//	meta.source        Source.FHIRSource
//	identifier         Placer (PLAC), Filler (FILL), Accession (ACSN), typed with
//	                   v2-0203 codings; a v2 sender's facility is the placer's authority
//	                   and the receiver's the filler's (see the identifier rules below)
//	requisition        PlacerGroup (PGN)
//	status             Status.ServiceRequestStatus()
//	intent             order
//	priority           Priority
//	code               Procedure: a coding for Code/System (system as a FHIR URI: C4 and
//	                   CPT are http://www.ama-assn.org/go/cpt, LN http://loinc.org...;
//	                   local systems are left out), a CPT coding when CPT differs from
//	                   Code, and Text as text
//	orderDetail        Modality as a DICOM (DCM) modality code: PET is PT, XR DX, FL RF
//	bodySite           BodySite as text
//	subject            the patient: first identifier and "Family, Given Middle"; the
//	                   data-absent-reason extension when the order has no patient data
//	requester          Provider: NPI (us-npi) or ID, and name
//	authoredOn         Authored
//	reasonCode         one per diagnosis (ICD-10-CM as http://hl7.org/fhir/sid/icd-10-cm)
//	                   and Reason as text
//	insurance          one per coverage: member ID (MB) and payer name
//	occurrenceDateTime Requested
//	performer          Performer: an Organization reference by NPI (us-npi) and name
//	locationCode       Setting.LocationCode (v3 RoleCode)
//	supportingInfo     Authorization.Number as a logical reference to the ClaimResponse
//	                   that granted it (type ClaimResponse, identifier the number)
//
// Identifier authorities: a URI is the system, an OID a urn:oid: system (and the
// assigner's display), a v2 namespace only the assigner's display: no system is invented.
// The status, findings, results and history are the fulfillment Task's ([ToTask]).
func ToServiceRequest(o *order.Order) *fhir.ServiceRequest {
	l := srLinks{subject: patientRef(o.Patient), requester: providerRef(o.Provider)}
	for _, c := range o.Coverage {
		l.insurance = append(l.insurance, coverageRef(c))
	}
	return serviceRequest(o, o.Status.ServiceRequestStatus(), l)
}

// ServiceRequestJSON writes the order as a ServiceRequest JSON document (as
// [ToServiceRequest] maps it) that contains its Patient, Encounter, Practitioner,
// Coverage, Condition (one per diagnosis, named in reasonReference) and, for a signed
// order, the Provenance with the signature (named in relevantHistory). Reading it back
// with [FromFHIR] gives the order's fields again, within the limits listed at
// [FromFHIRServiceRequest]. Control characters in the order's text become U+FFFD (see
// the package comment).
func ServiceRequestJSON(o *order.Order) ([]byte, error) {
	var contained []any
	add := func(id string, r any) *fhir.Reference {
		contained = append(contained, r)
		return &fhir.Reference{Reference: ptr("#" + id)}
	}
	l := srLinks{subject: patientRef(o.Patient)}
	if pt := patientResource(o.Patient); pt != nil {
		pt.Id = ptr("patient")
		l.subject = *add("patient", pt)
	}
	if enc := encounterResource(o, l.subject); enc != nil {
		enc.Id = ptr("encounter")
		l.encounter = add("encounter", enc)
	}
	if pr := practitionerResource(o.Provider); pr != nil {
		pr.Id = ptr("requester")
		l.requester = add("requester", pr)
	}
	for i, c := range o.Coverage {
		cv := coverageResource(c, l.subject)
		id := "coverage-" + strconv.Itoa(i+1)
		cv.Id = ptr(id)
		l.insurance = append(l.insurance, *add(id, &cv))
	}
	for i, d := range o.Diagnoses {
		cd := conditionResource(d, l.subject, l.encounter)
		id := "condition-" + strconv.Itoa(i+1)
		cd.Id = ptr(id)
		l.conditions = append(l.conditions, *add(id, &cd))
	}
	if pv := provenanceResource(o.Signature, fhir.Reference{Reference: ptr("#")},
		signerRef(o.Signature, signerIsRequester(o, l.requester))); pv != nil {
		pv.Id = ptr("signature")
		l.provenance = add("signature", pv)
	}
	sr, err := json.Marshal(serviceRequest(o, o.Status.ServiceRequestStatus(), l))
	if err != nil || len(contained) == 0 {
		return jsontext.ReplaceControls(sr), err
	}
	c, err := json.Marshal(contained)
	if err != nil {
		return nil, err
	}
	// The samply structs have no contained element: splice it in after the brace.
	var b bytes.Buffer
	b.Grow(len(sr) + len(c) + 16)
	b.WriteString(`{"contained":`)
	b.Write(c)
	b.WriteByte(',')
	b.Write(sr[1:])
	return jsontext.ReplaceControls(b.Bytes()), nil
}

// signerIsRequester returns the requester reference when the order's signer is its
// ordering provider (always so for v2 orders), else nil.
func signerIsRequester(o *order.Order, requester *fhir.Reference) *fhir.Reference {
	s := o.Signature
	if requester == nil || s.SignerNPI != o.Provider.NPI || (s.Signer != "" && s.Signer != mapping.SignerName(o.Provider)) {
		return nil
	}
	return requester
}

// serviceRequest builds the ServiceRequest; status is a request-status code.
func serviceRequest(o *order.Order, status string, l srLinks) *fhir.ServiceRequest {
	st, ok := enumOf[fhir.RequestStatus](status)
	if !ok {
		st = fhir.RequestStatusUnknown
	}
	sr := &fhir.ServiceRequest{
		Id:          ptr(o.ID),
		Status:      st,
		Intent:      fhir.RequestIntentOrder,
		Identifier:  orderIdentifiers(o),
		Code:        procedureConcept(o.Procedure),
		Subject:     l.subject,
		Encounter:   l.encounter,
		AuthoredOn:  ptr(fhirTime(o.Authored)),
		Requester:   l.requester,
		Insurance:   l.insurance,
		ReasonCode:  reasonConcepts(o, l.conditions == nil),
		BodySite:    textConcepts(o.Procedure.BodySite),
		OrderDetail: modalityConcepts(o.Procedure.Modality),
		Performer:   performerRefs(o.Performer),
		// Setting.LocationCode: where the exam is to be performed.
		LocationCode:       locationCodes(o.Setting.LocationCode),
		OccurrenceDateTime: ptr(fhirTime(o.Requested)),
	}
	if o.Source.FHIRSource != "" {
		sr.Meta = &fhir.Meta{Source: ptr(o.Source.FHIRSource)}
	}
	if o.PlacerGroup != "" {
		sr.Requisition = &fhir.Identifier{Value: ptr(o.PlacerGroup), Type: identifierType("PGN")}
	}
	if p, ok := enumOf[fhir.RequestPriority](string(o.Priority)); ok {
		sr.Priority = &p
	}
	sr.ReasonReference = l.conditions
	if l.provenance != nil {
		sr.RelevantHistory = []fhir.Reference{*l.provenance}
	}
	if n := o.Authorization.Number; n != "" {
		sr.SupportingInfo = []fhir.Reference{{Type: ptr("ClaimResponse"),
			Identifier: &fhir.Identifier{Value: ptr(n)}, Display: ptr("Prior authorization " + n)}}
	}
	return sr
}

// orderIdentifiers maps the placer, filler and accession numbers.
func orderIdentifiers(o *order.Order) []fhir.Identifier {
	var placerAuth, fillerAuth string
	if o.Source.Kind == order.SourceV2 {
		placerAuth, fillerAuth = o.Source.SendingFacility, o.Source.ReceivingFacility
	}
	var ids []fhir.Identifier
	for _, id := range [...]struct{ value, auth, typ string }{
		{o.Placer, placerAuth, "PLAC"}, {o.Filler, fillerAuth, "FILL"}, {o.Accession, fillerAuth, "ACSN"},
	} {
		if id.value != "" {
			ids = append(ids, fhirIdentifier(id.value, id.auth, id.typ))
		}
	}
	return ids
}

// procedureConcept maps the procedure to ServiceRequest.code; nil when there is none.
func procedureConcept(p order.Procedure) *fhir.CodeableConcept {
	cc := &fhir.CodeableConcept{Text: ptr(p.Text)}
	if c := fhirCoding(p.Code, p.System, p.Text); c != nil {
		cc.Coding = append(cc.Coding, *c)
	}
	if p.CPT != "" && (p.CPT != p.Code || !p.IsCPT()) {
		cc.Coding = append(cc.Coding, fhir.Coding{System: ptr(systemCPT), Code: ptr(p.CPT)})
	}
	if cc.Text == nil && len(cc.Coding) == 0 {
		return nil
	}
	return cc
}

// reasonConcepts maps the diagnoses (when withCodes) and the reason text.
func reasonConcepts(o *order.Order, withCodes bool) []fhir.CodeableConcept {
	var out []fhir.CodeableConcept
	if withCodes {
		for _, d := range o.Diagnoses {
			out = append(out, diagnosisConcept(d))
		}
	}
	return append(out, textConcepts(o.Reason)...)
}

func textConcepts(s string) []fhir.CodeableConcept {
	if s == "" {
		return nil
	}
	return []fhir.CodeableConcept{{Text: ptr(s)}}
}

// modalityConcepts maps the model's modality to a DICOM modality coding (CID 29).
func modalityConcepts(m string) []fhir.CodeableConcept {
	if m == "" {
		return nil
	}
	code := strings.ToUpper(m)
	switch code {
	case "PET":
		code = "PT"
	case "XR":
		code = "DX"
	case "FL":
		code = "RF"
	}
	if !dicomModality(code) {
		return textConcepts(m)
	}
	return []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: ptr(systemDICOM), Code: ptr(code)}}}}
}

// dicomModality reports whether code is a DICOM acquisition modality (PS3.16 CID 29).
func dicomModality(code string) bool {
	switch code {
	case "AR", "BDUS", "BMD", "CR", "CT", "DG", "DX", "ECG", "EPS", "ES", "GM", "HD", "IO", "IVOCT",
		"IVUS", "KER", "LEN", "MG", "MR", "NM", "OAM", "OCT", "OP", "OPM", "OPT", "OPV", "OSS", "PT",
		"PX", "RF", "RG", "SM", "SRF", "TG", "US", "VA", "XA", "XC":
		return true
	}
	return false
}

// ToTask maps an order's fulfillment status to a FHIR R4 Task: the FHIR API exposes it at
// GET /fhir/Task?based-on=ServiceRequest/{id}.
//
//	id              Order.ID (the Task and its ServiceRequest share it)
//	basedOn, focus  ServiceRequest/{Order.ID}; a logical reference by the placer number
//	                (PLAC) when the order has no ID yet
//	status          Status.TaskStatus(); intent order
//	businessStatus  the radbridge status ("pending-authorization"...), code and text;
//	                and, once checked, the ready-to-schedule verdict as a second coding,
//	                like the first without a system (no code system has these codes):
//	                code ready-to-schedule or not-ready-to-schedule, display the reasons
//	                joined by "; "
//	                the text also names the prior-authorization case's status when it
//	                is evaluated, "pending-authorization (prior authorization pended)"
//	                (the model's pending as "required"; no code system is invented)
//	statusReason    the cause of the last status change, for cancelled, on-hold, denied
//	                and entered-in-error orders
//	for             the patient (logical reference)
//	requester       the ordering provider (logical reference)
//	authoredOn      Created; lastModified Updated
//	note            one per finding: "[severity] code at location (fhir path): text";
//	                and the authorization state when it is evaluated
func ToTask(o *order.Order) *fhir.Task {
	sr := serviceRequestRef(o)
	st, ok := enumOf[fhir.TaskStatus](o.Status.TaskStatus())
	if !ok {
		st = fhir.TaskStatusDraft
	}
	subject := patientRef(o.Patient)
	t := &fhir.Task{
		Id:           ptr(o.ID),
		BasedOn:      []fhir.Reference{sr},
		Focus:        &sr,
		Status:       st,
		Intent:       "order",
		For:          &subject,
		Requester:    providerRef(o.Provider),
		AuthoredOn:   ptr(fhirTime(o.Created)),
		LastModified: ptr(fhirTime(o.Updated)),
	}
	if o.Status != order.StatusNew {
		t.BusinessStatus = &fhir.CodeableConcept{
			Coding: []fhir.Coding{{Code: ptr(string(o.Status))}}, Text: ptr(string(o.Status))}
		if r := o.ReadyToSchedule; r.Ready || r.Reasons != nil {
			code := "not-ready-to-schedule"
			if r.Ready {
				code = "ready-to-schedule"
			}
			t.BusinessStatus.Coding = append(t.BusinessStatus.Coding, fhir.Coding{Code: ptr(code),
				Display: ptr(strings.Join(r.Reasons, "; "))})
		}
		if a := o.Authorization.Status; a != order.AuthNotEvaluated {
			t.BusinessStatus.Text = ptr(string(o.Status) + " (prior authorization " + authorizationCode(a) + ")")
		}
	}
	switch o.Status {
	case order.StatusCancelled, order.StatusOnHold, order.StatusDenied, order.StatusEnteredInError:
		if n := len(o.History); n > 0 && o.History[n-1].Cause != "" {
			t.StatusReason = &fhir.CodeableConcept{Text: ptr(o.History[n-1].Cause)}
		}
	}
	for _, f := range o.Findings {
		t.Note = append(t.Note, fhir.Annotation{Text: findingNote(f)})
	}
	if a := o.Authorization; a.Status != order.AuthNotEvaluated {
		note := "prior authorization " + string(a.Status)
		if a.Number != "" {
			note += ", number " + a.Number
		}
		if !a.DueBy.IsZero() {
			note += ", due by " + fhirTime(a.DueBy)
		}
		if !a.ValidTo.IsZero() {
			note += ", valid to " + fhirTime(a.ValidTo)
		}
		if a.DecisionReason != "" {
			note += ", reason: " + a.DecisionReason
		}
		t.Note = append(t.Note, fhir.Annotation{Text: note})
	}
	return t
}

// TaskJSON writes the order's fulfillment Task ([ToTask]) as JSON, control characters
// in its text replaced by U+FFFD.
func TaskJSON(o *order.Order) ([]byte, error) {
	data, err := json.Marshal(ToTask(o))
	return jsontext.ReplaceControls(data), err
}

// authorizationCode names an authorization status as the engine API does: the model's
// pending (required, not submitted) is "required".
func authorizationCode(s order.AuthStatus) string {
	if s == order.AuthPending {
		return "required"
	}
	return string(s)
}

// serviceRequestRef refers to the order's ServiceRequest: by its id (the one its client
// gave it, else the order's), else by placer number.
func serviceRequestRef(o *order.Order) fhir.Reference {
	if id := o.ServiceRequestID(); id != "" {
		return fhir.Reference{Reference: ptr("ServiceRequest/" + id)}
	}
	r := fhir.Reference{Type: ptr("ServiceRequest")}
	if o.Placer != "" {
		id := fhirIdentifier(o.Placer, "", "PLAC")
		r.Identifier = &id
		return r
	}
	return absentRef()
}

func findingNote(f order.Finding) string {
	var b strings.Builder
	if f.Severity != "" {
		b.WriteString("[" + string(f.Severity) + "] ")
	}
	b.WriteString(f.Code)
	switch {
	case f.Location != "" && f.FHIRPath != "":
		b.WriteString(" at " + f.Location + " (" + f.FHIRPath + ")")
	case f.Location != "" || f.FHIRPath != "":
		b.WriteString(" at " + f.Location + f.FHIRPath)
	}
	if f.Text != "" {
		b.WriteString(": " + f.Text)
	}
	return strings.TrimSpace(b.String())
}
