package payer

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/radbridge/radbridge/mapping/fhirmap"
	"github.com/radbridge/radbridge/order"
	samply "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// The Da Vinci PAS (2.2.1) profiles, extensions and X12 code systems radbridge writes.
const (
	pasSD                     = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
	profileRequestBundle      = pasSD + "profile-pas-request-bundle"
	profileInquiryBundle      = pasSD + "profile-pas-inquiry-request-bundle"
	profileClaim              = pasSD + "profile-claim"
	profileClaimUpdate        = pasSD + "profile-claim-update"
	profileClaimInquiry       = pasSD + "profile-claim-inquiry"
	extCertificationType      = pasSD + "extension-certificationType"
	extServiceItemRequestType = pasSD + "extension-serviceItemRequestType"
	extRequestedService       = pasSD + "extension-requestedService"
	extInfoCancelled          = pasSD + "modifierextension-infoCancelled"

	systemCertificationType = "https://codesystem.x12.org/005010/1322"
	systemRequestType       = "https://codesystem.x12.org/005010/1525"
	systemServiceType       = "https://codesystem.x12.org/005010/1365"
	systemCPT               = "http://www.ama-assn.org/go/cpt"
	systemICD10CM           = "http://hl7.org/fhir/sid/icd-10-cm"
	systemNPI               = "http://hl7.org/fhir/sid/us-npi"
	systemV20203            = "http://terminology.hl7.org/CodeSystem/v2-0203"
)

// requestKind is what a PAS request asks.
type requestKind int

const (
	submitRequest  requestKind = iota // Claim/$submit: a new request, or an update of a prior one
	cancelRequest                     // Claim/$submit: a Claim update that cancels the prior request
	inquiryRequest                    // Claim/$inquire: what became of a request
)

// claimRequest is what a PAS request Bundle is built from.
type claimRequest struct {
	kind   requestKind
	o      *order.Order
	claim  string // Claim.identifier value, also the Claim's id
	system string // Claim.identifier system
	prior  string // the identifier of the request this one updates or cancels
	at     time.Time
	payer  string // the payer profile's ID and name, for the insurer Organization
	name   string
}

// claimResource is a PAS Claim (profile-claim, -claim-update or -claim-inquiry).
type claimResource struct {
	ResourceType string         `json:"resourceType"`
	ID           string         `json:"id"`
	Meta         meta           `json:"meta"`
	Identifier   []identifier   `json:"identifier"`
	Status       string         `json:"status"`
	Type         concept        `json:"type"`
	Use          string         `json:"use"`
	Patient      reference      `json:"patient"`
	Created      string         `json:"created"`
	Insurer      reference      `json:"insurer"`
	Provider     reference      `json:"provider"`
	Priority     concept        `json:"priority"`
	Related      []claimRelated `json:"related,omitempty"`
	Diagnosis    []claimDiag    `json:"diagnosis,omitempty"`
	Insurance    []claimIns     `json:"insurance"`
	Item         []claimItem    `json:"item"`
}

type claimRelated struct {
	Claim        reference `json:"claim"`
	Relationship concept   `json:"relationship"`
}

type claimDiag struct {
	Sequence                 int     `json:"sequence"`
	DiagnosisCodeableConcept concept `json:"diagnosisCodeableConcept"`
}

type claimIns struct {
	Sequence int       `json:"sequence"`
	Focal    bool      `json:"focal"`
	Coverage reference `json:"coverage"`
}

type claimItem struct {
	Extension         []extension `json:"extension,omitempty"`
	ModifierExtension []extension `json:"modifierExtension,omitempty"`
	Sequence          int         `json:"sequence"`
	DiagnosisSequence []int       `json:"diagnosisSequence,omitempty"`
	Category          *concept    `json:"category,omitempty"`
	ProductOrService  concept     `json:"productOrService"`
	ServicedDate      string      `json:"servicedDate,omitempty"`
}

type patientResource struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Identifier   []identifier `json:"identifier,omitempty"`
	Name         []humanName  `json:"name,omitempty"`
	Gender       string       `json:"gender,omitempty"`
	BirthDate    string       `json:"birthDate,omitempty"`
}

type practitionerResource struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Identifier   []identifier `json:"identifier,omitempty"`
	Name         []humanName  `json:"name,omitempty"`
}

type organizationResource struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Identifier   []identifier `json:"identifier,omitempty"`
	Name         string       `json:"name,omitempty"`
}

type coverageResource struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id"`
	Status       string        `json:"status"`
	Type         *concept      `json:"type,omitempty"`
	SubscriberID string        `json:"subscriberId,omitempty"`
	Beneficiary  reference     `json:"beneficiary"`
	Payor        []reference   `json:"payor"`
	Class        []coverageCls `json:"class,omitempty"`
}

type coverageCls struct {
	Type  concept `json:"type"`
	Value string  `json:"value"`
}

type requestBundle struct {
	ResourceType string        `json:"resourceType"`
	Meta         meta          `json:"meta"`
	Identifier   identifier    `json:"identifier"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp"`
	Entry        []bundleEntry `json:"entry"`
}

// buildRequest writes the PAS request Bundle of r: the Claim first, then the Patient,
// the Coverage, the insurer and the requesting Practitioner, and the ServiceRequest the
// Claim item asks for (named by the item's requestedService extension). The fullUrls
// are urn:uuid names derived from the claim identifier, so that a request built again
// is the same request. It also returns the Claim alone, to store.
func buildRequest(r claimRequest) (bundle, claim []byte, err error) {
	o := r.o
	url := func(kind string) string { return nameUUID(r.claim + "/" + kind) }
	patientURL, coverageURL, insurerURL, providerURL, srURL := url("Patient"), url("Coverage"), url("Organization"), url("Practitioner"), url("ServiceRequest")

	c := claimResource{
		ResourceType: "Claim", ID: r.claim,
		Meta:       meta{Profile: []string{profileClaim}},
		Identifier: []identifier{{System: r.system, Value: r.claim}},
		Status:     "active",
		Type:       *codingOf("http://terminology.hl7.org/CodeSystem/claim-type", "professional", "Professional"),
		Use:        "preauthorization",
		Patient:    reference{Reference: patientURL},
		Created:    r.at.UTC().Format(time.RFC3339),
		Insurer:    reference{Reference: insurerURL},
		Provider:   reference{Reference: providerURL},
		Priority:   *codingOf("http://terminology.hl7.org/CodeSystem/processpriority", priority(o), ""),
		Insurance:  []claimIns{{Sequence: 1, Focal: true, Coverage: reference{Reference: coverageURL}}},
	}
	if r.prior != "" {
		c.Meta.Profile = []string{profileClaimUpdate}
		c.Related = []claimRelated{{
			Claim:        reference{Identifier: &identifier{System: r.system, Value: r.prior}},
			Relationship: *codingOf("http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship", "prior", "Prior Claim"),
		}}
	}
	var diagSeq []int
	for _, d := range o.Diagnoses {
		if d.Code == "" || !d.IsICD10CM() {
			continue
		}
		n := len(c.Diagnosis) + 1
		c.Diagnosis = append(c.Diagnosis, claimDiag{Sequence: n, DiagnosisCodeableConcept: *codingOf(systemICD10CM, d.Code, d.Text)})
		diagSeq = append(diagSeq, n)
	}
	item := claimItem{
		Sequence:          1,
		DiagnosisSequence: diagSeq,
		Category:          serviceType(o),
		ProductOrService:  *codingOf(systemCPT, cptOf(o), o.Procedure.Text),
		Extension: []extension{
			{URL: extRequestedService, ValueReference: &reference{Reference: srURL}},
			{URL: extServiceItemRequestType, ValueCodeableConcept: codingOf(systemRequestType, "HS", "Health Services Review")},
			{URL: extCertificationType, ValueCodeableConcept: codingOf(systemCertificationType, "I", "Initial")},
		},
	}
	switch r.kind {
	case cancelRequest:
		c.Status = "cancelled"
		item.Extension[2].ValueCodeableConcept = codingOf(systemCertificationType, "3", "Cancel")
		yes := true
		item.ModifierExtension = []extension{{URL: extInfoCancelled, ValueBoolean: &yes}}
	case inquiryRequest:
		c.Meta.Profile = []string{profileClaimInquiry}
		c.Related = nil
	}
	c.Item = []claimItem{item}
	claim, err = json.Marshal(c)
	if err != nil {
		return nil, nil, err
	}

	sr, err := serviceRequest(o, patientURL, providerURL, coverageURL)
	if err != nil {
		return nil, nil, err
	}
	profile := profileRequestBundle
	if r.kind == inquiryRequest {
		profile = profileInquiryBundle
	}
	b := requestBundle{
		ResourceType: "Bundle", Meta: meta{Profile: []string{profile}},
		Identifier: identifier{System: r.system, Value: r.claim + bundleSuffix(r.kind)},
		Type:       "collection", Timestamp: r.at.UTC().Format(time.RFC3339),
		Entry: []bundleEntry{
			{FullURL: url("Claim"), Resource: json.RawMessage(claim)},
			{FullURL: patientURL, Resource: patient(o.Patient)},
			{FullURL: coverageURL, Resource: coverage(o, patientURL, insurerURL)},
			{FullURL: insurerURL, Resource: insurer(o, r.payer, r.name)},
			{FullURL: providerURL, Resource: practitioner(o.Provider)},
			{FullURL: srURL, Resource: json.RawMessage(sr)},
		},
	}
	bundle, err = json.Marshal(b)
	return bundle, claim, err
}

func bundleSuffix(k requestKind) string {
	if k == inquiryRequest {
		return "-inquiry"
	}
	return ""
}

// priority is the Claim priority (processpriority): stat for an expedited order.
func priority(o *order.Order) string {
	if o.Priority.Expedited() {
		return "stat"
	}
	return "normal"
}

// serviceType is the X12 service type (code list 1365) of the exam: MRI/CAT Scan for
// CT and MR, Diagnostic X-Ray otherwise.
func serviceType(o *order.Order) *concept {
	switch strings.ToUpper(o.Procedure.Modality) {
	case "CT", "CTA", "MR", "MRI", "MRA":
		return codingOf(systemServiceType, "62", "MRI/CAT Scan")
	}
	return codingOf(systemServiceType, "4", "Diagnostic X-Ray")
}

// cptOf is the order's CPT code: Procedure.CPT, else a code in a CPT system.
func cptOf(o *order.Order) string {
	if o.Procedure.CPT != "" {
		return o.Procedure.CPT
	}
	if o.Procedure.IsCPT() {
		return o.Procedure.Code
	}
	return ""
}

func patient(p order.Patient) patientResource {
	r := patientResource{ResourceType: "Patient", ID: "patient", BirthDate: p.BirthDate, Gender: gender(p.Sex)}
	for _, id := range p.Identifiers {
		r.Identifier = append(r.Identifier, identifier{System: uriOrEmpty(id.System), Value: id.Value, Type: typeOf(id.Type)})
	}
	if p.Family != "" || p.Given != "" {
		n := humanName{Family: p.Family}
		if p.Given != "" {
			n.Given = append(n.Given, p.Given)
		}
		if p.Middle != "" {
			n.Given = append(n.Given, p.Middle)
		}
		r.Name = []humanName{n}
	}
	return r
}

func practitioner(p order.Provider) practitionerResource {
	r := practitionerResource{ResourceType: "Practitioner", ID: "requester"}
	if p.NPI != "" {
		r.Identifier = append(r.Identifier, identifier{System: systemNPI, Value: p.NPI})
	}
	if p.ID != "" {
		r.Identifier = append(r.Identifier, identifier{System: uriOrEmpty(p.IDSystem), Value: p.ID})
	}
	if p.Family != "" || p.Given != "" {
		n := humanName{Family: p.Family}
		if p.Given != "" {
			n.Given = []string{p.Given}
		}
		r.Name = []humanName{n}
	}
	return r
}

func insurer(o *order.Order, id, name string) organizationResource {
	r := organizationResource{ResourceType: "Organization", ID: "insurer", Name: name}
	if len(o.Coverage) > 0 {
		c := o.Coverage[0]
		if c.Payer != "" {
			r.Identifier = []identifier{{Value: c.Payer}}
		}
		if c.PayerName != "" {
			r.Name = c.PayerName
		}
	}
	if r.Name == "" {
		r.Name = id
	}
	return r
}

func coverage(o *order.Order, patientURL, insurerURL string) coverageResource {
	r := coverageResource{ResourceType: "Coverage", ID: "coverage", Status: "active",
		Beneficiary: reference{Reference: patientURL}, Payor: []reference{{Reference: insurerURL}}}
	if len(o.Coverage) == 0 {
		return r
	}
	c := o.Coverage[0]
	r.SubscriberID = c.MemberID
	if c.PlanType != "" {
		r.Type = &concept{Text: c.PlanType}
	}
	cls := func(code, value string) {
		if value != "" {
			r.Class = append(r.Class, coverageCls{Type: *codingOf("http://terminology.hl7.org/CodeSystem/coverage-class", code, ""), Value: value})
		}
	}
	cls("plan", c.Plan)
	cls("group", c.Group)
	return r
}

// serviceRequest is the order as a ServiceRequest (fhirmap.ToServiceRequest) whose
// patient, requester and insurance name the Bundle's entries.
func serviceRequest(o *order.Order, patientURL, providerURL, coverageURL string) ([]byte, error) {
	sr := fhirmap.ToServiceRequest(o)
	sr.Subject = samply.Reference{Reference: &patientURL}
	if sr.Requester != nil {
		sr.Requester = &samply.Reference{Reference: &providerURL}
	}
	if len(sr.Insurance) > 0 {
		sr.Insurance = []samply.Reference{{Reference: &coverageURL}}
	}
	return json.Marshal(sr)
}

func gender(sex string) string {
	switch strings.ToUpper(sex) {
	case "F", "FEMALE":
		return "female"
	case "M", "MALE":
		return "male"
	case "O", "OTHER":
		return "other"
	case "U", "UNKNOWN":
		return "unknown"
	}
	return ""
}

func typeOf(code string) *concept {
	if code == "" {
		return nil
	}
	return codingOf(systemV20203, code, "")
}

// uriOrEmpty keeps an identifier system that is a URI; a v2 namespace is not one.
func uriOrEmpty(s string) string {
	if strings.Contains(s, ":") {
		return s
	}
	return ""
}

// nameUUID is a urn:uuid: derived from name (an RFC 9562 version 8 UUID over SHA-256),
// so that the same name always gives the same fullUrl.
func nameUUID(name string) string {
	h := sha256.Sum256([]byte(name))
	h[6] = h[6]&0x0f | 0x80
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// requestClaim returns the Claim identifier of a request Bundle radbridge wrote: its
// first entry's identifier value.
func requestClaim(bundle []byte) string {
	var b struct {
		Entry []struct {
			Resource struct {
				Identifier []identifier `json:"identifier"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if json.Unmarshal(bundle, &b) != nil || len(b.Entry) == 0 || len(b.Entry[0].Resource.Identifier) == 0 {
		return ""
	}
	return b.Entry[0].Resource.Identifier[0].Value
}
