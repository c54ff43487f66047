package fhirmap

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/radbridge/radbridge/order"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// FHIRResource is a resource that a ServiceRequest may refer to, with the URL that names
// it. References are resolved against a list of them (see [FromFHIRServiceRequest]).
type FHIRResource struct {
	// FullURL names the resource: the Bundle entry's fullUrl (an absolute URL or a
	// urn:uuid:), or "#id" for a resource contained in the ServiceRequest. Empty when the
	// resource is known only by its type and id, which relative references match.
	FullURL string
	// Resource is a pointer to a samply FHIR struct. The mapping reads *fhir.Patient,
	// *fhir.Practitioner, *fhir.PractitionerRole, *fhir.Organization, *fhir.Encounter,
	// *fhir.Location, *fhir.Coverage, *fhir.Condition, *fhir.Provenance,
	// *fhir.ClaimResponse, *fhir.Observation and *fhir.ServiceRequest; other values are
	// ignored.
	Resource any
}

// FHIROrder is one order read from a FHIR ServiceRequest.
type FHIROrder struct {
	// Order holds the mapped fields; its Status is zero, as for v2 orders: the engine
	// applies Control.
	Order *order.Order `json:"order"`
	// Control is the request's status as an order control: active NW, on-hold HD,
	// revoked CA, completed SC with order status CM; empty for draft, entered-in-error
	// and unknown (an issue says so).
	Control order.Control `json:"control"`
	// ResourceID is ServiceRequest.id as sent, "" when absent.
	ResourceID string `json:"resource_id,omitempty"`
	// FullURL is the Bundle entry's fullUrl, "" for a ServiceRequest sent alone.
	FullURL string `json:"full_url,omitempty"`
	// Entry is the index of the ServiceRequest's Bundle entry (0 when sent alone).
	Entry int `json:"entry"`
}

// FromFHIR maps a FHIR R4 JSON document to orders: a ServiceRequest (its contained
// resources resolved by "#id" references) or a Bundle of any type (transaction, batch,
// collection...), in which every ServiceRequest entry becomes an order and references are
// resolved against the other entries by fullUrl (urn:uuid: or absolute URL), by
// relative "Type/id" reference or absolute URL ending in it, and against the
// ServiceRequest's own contained resources. DELETE entries are skipped. It never fails:
// input that is not JSON, or a resource that is not a ServiceRequest or Bundle, gives no
// orders and an issue. The field map is at [FromFHIRServiceRequest]. It does not
// validate the resources against the FHIR specification (package fhir does that
// first); it is pure and safe for concurrent use.
func FromFHIR(data []byte) ([]FHIROrder, []FHIRIssue) {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, []FHIRIssue{{Severity: FHIRFatal, Code: FHIRCodeStructure,
			Diagnostics: "input is not a JSON object: " + err.Error()}}
	}
	switch head.ResourceType {
	case "ServiceRequest":
		fo, sr, is := FromFHIRServiceRequestJSON(data)
		if sr == nil {
			return nil, is
		}
		return []FHIROrder{fo}, is
	case "Bundle":
		return fromBundle(data)
	case "":
		return nil, []FHIRIssue{{Severity: FHIRFatal, Code: FHIRCodeStructure,
			Diagnostics: "input has no resourceType: not a FHIR resource"}}
	}
	return nil, []FHIRIssue{{Severity: FHIRError, Code: FHIRCodeNotSupported, Expression: head.ResourceType,
		Diagnostics: "resource type " + quote(head.ResourceType) + " is not an order: send a ServiceRequest or a Bundle"}}
}

// FromFHIRServiceRequestJSON maps one ServiceRequest given as JSON (its contained
// resources resolved by "#id" references), as [FromFHIR] does for a ServiceRequest sent
// alone, and returns the decoded ServiceRequest too. The JSON is decoded once (FromFHIR
// first reads the resource type), so callers that know the type (the FHIR API, whose
// validation gate has checked it) use this. When data does not decode as a
// ServiceRequest, sr is nil, fo is zero and an issue says why. It is pure and safe for
// concurrent use.
func FromFHIRServiceRequestJSON(data []byte) (fo FHIROrder, sr *fhir.ServiceRequest, issues []FHIRIssue) {
	res, sr, is := decodeWithContained(data, "ServiceRequest")
	if sr == nil {
		return FHIROrder{}, nil, is
	}
	o, more := FromFHIRServiceRequest(sr, res...)
	return fhirOrder(o, sr, "", 0), sr, append(is, more...)
}

func fhirOrder(o *order.Order, sr *fhir.ServiceRequest, fullURL string, entry int) FHIROrder {
	c := requestControl(sr.Status)
	o.ControlCode = c.Code
	return FHIROrder{Order: o, Control: c, ResourceID: deref(sr.Id), FullURL: fullURL, Entry: entry}
}

// requestControl maps ServiceRequest.status to an order control (the v2-to-FHIR IG's
// order control map read backwards).
func requestControl(s fhir.RequestStatus) order.Control {
	switch s {
	case fhir.RequestStatusActive:
		return order.Control{Code: "NW"}
	case fhir.RequestStatusOnHold:
		return order.Control{Code: "HD"}
	case fhir.RequestStatusRevoked:
		return order.Control{Code: "CA"}
	case fhir.RequestStatusCompleted:
		return order.Control{Code: "SC", OrderStatus: "CM"}
	}
	return order.Control{}
}

// fromBundle maps every ServiceRequest entry of a Bundle.
func fromBundle(data []byte) ([]FHIROrder, []FHIRIssue) {
	b, err := fhir.UnmarshalBundle(data)
	if err != nil {
		return nil, []FHIRIssue{{Severity: FHIRFatal, Code: FHIRCodeStructure, Expression: "Bundle",
			Diagnostics: "Bundle does not decode: " + err.Error()}}
	}
	var all []FHIRResource
	var out []FHIROrder
	var list []FHIRIssue
	type srEntry struct {
		i         int
		sr        *fhir.ServiceRequest
		contained []FHIRResource
	}
	var srs []srEntry
	for i, e := range b.Entry {
		base := "Bundle.entry[" + strconv.Itoa(i) + "]"
		if len(e.Resource) == 0 || (e.Request != nil && e.Request.Method == fhir.HTTPVerbDELETE) {
			continue
		}
		typ := resourceType(e.Resource)
		if typ == "ServiceRequest" {
			contained, sr, is := decodeWithContained(e.Resource, base+".resource")
			list = append(list, is...)
			if sr != nil {
				all = append(all, FHIRResource{FullURL: deref(e.FullUrl), Resource: sr})
				srs = append(srs, srEntry{i, sr, contained})
			}
			continue
		}
		r, err := decodeResource(typ, e.Resource)
		if err != nil {
			list = append(list, FHIRIssue{Severity: FHIRWarning, Code: FHIRCodeStructure, Expression: base + ".resource",
				Diagnostics: typ + " does not decode (" + err.Error() + "): references to it are not resolved"})
			continue
		}
		if r != nil {
			all = append(all, FHIRResource{FullURL: deref(e.FullUrl), Resource: r})
		}
	}
	if len(srs) == 0 {
		list = append(list, FHIRIssue{Severity: FHIRError, Code: FHIRCodeRequired, Expression: "Bundle.entry",
			Diagnostics: "Bundle holds no ServiceRequest: no order"})
	}
	for _, s := range srs {
		rel := append(append(make([]FHIRResource, 0, len(all)+len(s.contained)), s.contained...), all...)
		o, is := FromFHIRServiceRequest(s.sr, rel...)
		base := "Bundle.entry[" + strconv.Itoa(s.i) + "].resource"
		list = append(list, rebase(is, "ServiceRequest", base)...)
		out = append(out, fhirOrder(o, s.sr, deref(b.Entry[s.i].FullUrl), s.i))
	}
	return out, list
}

// serviceRequestJSON is a ServiceRequest with its contained resources, which the samply
// struct leaves out, so that one decode reads both.
type serviceRequestJSON struct {
	fhir.ServiceRequest
	Contained []json.RawMessage `json:"contained"`
}

// decodeWithContained decodes a ServiceRequest and its contained resources, which it
// returns named "#id". base is the FHIRPath of the resource, for issues.
func decodeWithContained(raw []byte, base string) ([]FHIRResource, *fhir.ServiceRequest, []FHIRIssue) {
	var doc serviceRequestJSON
	if json.Unmarshal(raw, &doc) != nil {
		// Either the ServiceRequest does not decode, or only its contained element
		// (not an array), which is then ignored.
		sr, err := fhir.UnmarshalServiceRequest(raw)
		if err != nil {
			return nil, nil, []FHIRIssue{{Severity: FHIRError, Code: FHIRCodeStructure, Expression: base,
				Diagnostics: "ServiceRequest does not decode: " + err.Error()}}
		}
		doc = serviceRequestJSON{ServiceRequest: sr}
	}
	var res []FHIRResource
	var list []FHIRIssue
	for i, raw := range doc.Contained {
		typ := resourceType(raw)
		r, err := decodeResource(typ, raw)
		if err != nil {
			list = append(list, FHIRIssue{Severity: FHIRWarning, Code: FHIRCodeStructure,
				Expression:  base + ".contained[" + strconv.Itoa(i) + "]",
				Diagnostics: "contained " + typ + " does not decode (" + err.Error() + "): references to it are not resolved"})
			continue
		}
		if _, id := resourceInfo(r); id != "" {
			res = append(res, FHIRResource{FullURL: "#" + id, Resource: r})
		}
	}
	return res, &doc.ServiceRequest, list
}

// decodeResource decodes the resource types the order mapping reads; (nil, nil) for
// others.
func decodeResource(typ string, raw []byte) (any, error) {
	switch typ {
	case "Patient":
		return decodeAs[fhir.Patient](raw)
	case "Practitioner":
		return decodeAs[fhir.Practitioner](raw)
	case "PractitionerRole":
		return decodeAs[fhir.PractitionerRole](raw)
	case "Organization":
		return decodeAs[fhir.Organization](raw)
	case "Encounter":
		return decodeAs[fhir.Encounter](raw)
	case "Location":
		return decodeAs[fhir.Location](raw)
	case "Coverage":
		return decodeAs[fhir.Coverage](raw)
	case "Condition":
		return decodeAs[fhir.Condition](raw)
	case "Provenance":
		return decodeAs[fhir.Provenance](raw)
	case "ClaimResponse":
		return decodeAs[fhir.ClaimResponse](raw)
	case "Observation":
		return decodeAs[fhir.Observation](raw)
	case "ServiceRequest":
		return decodeAs[fhir.ServiceRequest](raw)
	}
	return nil, nil
}

func decodeAs[T any](raw []byte) (any, error) {
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, err
	}
	return v, nil
}

// resourceInfo returns the type and id of a resource the mapping reads.
func resourceInfo(r any) (typ, id string) {
	switch v := r.(type) {
	case *fhir.Patient:
		return "Patient", deref(v.Id)
	case *fhir.Practitioner:
		return "Practitioner", deref(v.Id)
	case *fhir.PractitionerRole:
		return "PractitionerRole", deref(v.Id)
	case *fhir.Organization:
		return "Organization", deref(v.Id)
	case *fhir.Encounter:
		return "Encounter", deref(v.Id)
	case *fhir.Location:
		return "Location", deref(v.Id)
	case *fhir.Coverage:
		return "Coverage", deref(v.Id)
	case *fhir.Condition:
		return "Condition", deref(v.Id)
	case *fhir.Provenance:
		return "Provenance", deref(v.Id)
	case *fhir.ClaimResponse:
		return "ClaimResponse", deref(v.Id)
	case *fhir.Observation:
		return "Observation", deref(v.Id)
	case *fhir.ServiceRequest:
		return "ServiceRequest", deref(v.Id)
	}
	return "", ""
}

// resolver finds the targets of references among the resources given with a
// ServiceRequest.
type resolver struct {
	res []FHIRResource
}

// find returns the resource a reference string names: an exact fullUrl ("#id" for a
// contained resource, urn:uuid:, absolute URL), else by "Type/id" (relative, or the tail
// of an absolute URL), version history ignored. It returns nil when nothing matches.
func (rv *resolver) find(ref string) any {
	ref = strings.TrimSpace(ref)
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	if ref == "" || ref == "#" {
		return nil
	}
	for _, r := range rv.res {
		if r.FullURL != "" && r.FullURL == ref {
			return r.Resource
		}
	}
	if strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "urn:") {
		return nil
	}
	typ, id := typeAndID(ref)
	if id == "" {
		return nil
	}
	tail := "/" + typ + "/" + id
	for _, r := range rv.res {
		t, i := resourceInfo(r.Resource)
		if (t == typ && i == id && !strings.HasPrefix(r.FullURL, "#")) || strings.HasSuffix(r.FullURL, tail) {
			return r.Resource
		}
	}
	return nil
}

// typeAndID splits "Type/id" or ".../Type/id".
func typeAndID(ref string) (typ, id string) {
	parts := strings.Split(strings.TrimRight(ref, "/"), "/")
	if len(parts) < 2 {
		return "", ""
	}
	return parts[len(parts)-2], parts[len(parts)-1]
}

// resolve returns the target of r, or nil when r has no reference or it resolves to
// nothing given.
func (rv *resolver) resolve(r *fhir.Reference) any {
	if r == nil || r.Reference == nil {
		return nil
	}
	return rv.find(*r.Reference)
}

// targets reports whether ref names the ServiceRequest sr: "#" (the container of a
// contained Provenance), its fullUrl, or ServiceRequest/{id} relative or absolute.
func (rv *resolver) targets(ref string, sr *fhir.ServiceRequest) bool {
	ref = strings.TrimSpace(ref)
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	if ref == "#" {
		return true
	}
	for _, r := range rv.res {
		if r.Resource == sr && r.FullURL != "" && r.FullURL == ref {
			return true
		}
	}
	if id := deref(sr.Id); id != "" {
		typ, rid := typeAndID(ref)
		return typ == "ServiceRequest" && rid == id
	}
	return false
}
