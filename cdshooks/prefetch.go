package cdshooks

import (
	"encoding/json"

	samply "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/radbridge/radbridge/mapping/fhirmap"
)

// coverageRef names the patient's coverage the verdict applies to.
type coverageRef struct {
	ref string // the Coverage's fullUrl, else Coverage/<id>
}

// prefetched reads the prefetched resources, whatever their keys: each value is a
// resource or a Bundle of them (a search). It returns those the mapping reads, to
// resolve the drafts' references, and the first active Coverage (the primary one, as
// the EHR lists them).
func prefetched(pf map[string]json.RawMessage) ([]fhirmap.FHIRResource, *coverageRef) {
	var out []fhirmap.FHIRResource
	var cov *coverageRef
	add := func(fullURL string, raw json.RawMessage) {
		typ, id := resourceTypeID(raw)
		r := decodeRelated(typ, raw)
		if r == nil {
			return
		}
		out = append(out, fhirmap.FHIRResource{FullURL: fullURL, Resource: r})
		if c, ok := r.(*samply.Coverage); ok && cov == nil && c.Status == samply.FinancialResourceStatusCodesActive {
			ref := fullURL
			if ref == "" {
				ref = "Coverage/" + id
			}
			cov = &coverageRef{ref: ref}
		}
	}
	// A map has no order: read the keys sorted, so that the same request gives the same
	// answer.
	for _, k := range sortedKeys(pf) {
		raw := pf[k]
		typ, _ := resourceTypeID(raw)
		if typ != "Bundle" {
			add("", raw)
			continue
		}
		var b bundle
		if json.Unmarshal(raw, &b) != nil {
			continue
		}
		for _, e := range b.Entry {
			add(e.FullURL, e.Resource)
		}
	}
	return out, cov
}

// decodeRelated decodes the resource types the order mapping reads; nil for others and
// for what does not decode.
func decodeRelated(typ string, raw json.RawMessage) any {
	var v any
	var err error
	switch typ {
	case "Patient":
		var r samply.Patient
		r, err = samply.UnmarshalPatient(raw)
		v = &r
	case "Practitioner":
		var r samply.Practitioner
		r, err = samply.UnmarshalPractitioner(raw)
		v = &r
	case "PractitionerRole":
		var r samply.PractitionerRole
		r, err = samply.UnmarshalPractitionerRole(raw)
		v = &r
	case "Organization":
		var r samply.Organization
		r, err = samply.UnmarshalOrganization(raw)
		v = &r
	case "Encounter":
		var r samply.Encounter
		r, err = samply.UnmarshalEncounter(raw)
		v = &r
	case "Coverage":
		var r samply.Coverage
		r, err = samply.UnmarshalCoverage(raw)
		v = &r
	case "Condition":
		var r samply.Condition
		r, err = samply.UnmarshalCondition(raw)
		v = &r
	default:
		return nil
	}
	if err != nil {
		return nil
	}
	return v
}

// resourceTypeID reads a resource's type and id; "" for what is not a resource.
func resourceTypeID(raw json.RawMessage) (typ, id string) {
	var h struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return "", ""
	}
	return h.ResourceType, h.ID
}
