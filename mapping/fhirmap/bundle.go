package fhirmap

import (
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/radbridge/radbridge/internal/jsontext"
	"github.com/radbridge/radbridge/order"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// bundleBuilder assembles a transaction Bundle. Each resource's fullUrl is the urn:uuid:
// of a name-based UUID of its type and JSON, so the same input always gives the same
// Bundle, and a resource two orders share (their Patient) is sent once.
type bundleBuilder struct {
	entries []fhir.BundleEntry
	seen    map[string]bool
	err     error
}

func newBundleBuilder() *bundleBuilder { return &bundleBuilder{seen: map[string]bool{}} }

// add appends a POST entry for res (a pointer to a samply resource of type typ) and
// returns a reference to it. salt tells apart resources whose JSON may be equal but that
// are distinct (two identical OBX of one report). ifNoneExist, when not empty, makes
// the create conditional.
func (b *bundleBuilder) add(typ string, res any, salt, ifNoneExist string) fhir.Reference {
	raw, err := json.Marshal(res)
	if err != nil {
		if b.err == nil {
			b.err = err
		}
		return absentRef()
	}
	full := "urn:uuid:" + nameUUID(typ, string(raw), salt)
	if !b.seen[full] {
		b.seen[full] = true
		b.entries = append(b.entries, fhir.BundleEntry{
			FullUrl:  ptr(full),
			Resource: raw,
			Request:  &fhir.BundleEntryRequest{Method: fhir.HTTPVerbPOST, Url: typ, IfNoneExist: ptr(ifNoneExist)},
		})
	}
	return fhir.Reference{Reference: ptr(full)}
}

// bytes returns the Bundle as JSON.
func (b *bundleBuilder) bytes() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	data, err := json.Marshal(fhir.Bundle{Type: fhir.BundleTypeTransaction, Entry: b.entries})
	return jsontext.ReplaceControls(data), err
}

// identifierQuery is a conditional-create query for the first identifier with a system:
// "identifier=system|value"; "" when none has a system.
func identifierQuery(ids []fhir.Identifier) string {
	for _, id := range ids {
		if s, v := deref(id.System), deref(id.Value); s != "" && v != "" {
			return "identifier=" + url.QueryEscape(s) + "|" + url.QueryEscape(v)
		}
	}
	return ""
}

// orderEntries are what the entries of one order were referred to by.
type orderEntries struct {
	links srLinks
	sr    fhir.Reference
}

// addOrder adds an order's Patient, Encounter, Practitioner, Coverages, Conditions, its
// ServiceRequest (with status, a request-status code) and, when signed, the Provenance
// that targets it.
func (b *bundleBuilder) addOrder(o *order.Order, status string) orderEntries {
	var l srLinks
	l.subject = absentRef()
	if pt := patientResource(o.Patient); pt != nil {
		l.subject = b.add("Patient", pt, "", identifierQuery(pt.Identifier))
	}
	if enc := encounterResource(o, l.subject); enc != nil {
		r := b.add("Encounter", enc, "", "")
		l.encounter = &r
	}
	l.requester = b.addPractitioner(o.Provider)
	for _, c := range o.Coverage {
		cv := coverageResource(c, l.subject)
		l.insurance = append(l.insurance, b.add("Coverage", &cv, "", ""))
	}
	for _, d := range o.Diagnoses {
		cd := conditionResource(d, l.subject, l.encounter)
		l.conditions = append(l.conditions, b.add("Condition", &cd, "", ""))
	}
	sr := b.add("ServiceRequest", serviceRequest(o, status, l), "", "")
	if pv := provenanceResource(o.Signature, sr, signerRef(o.Signature, signerIsRequester(o, l.requester))); pv != nil {
		b.add("Provenance", pv, "", "")
	}
	return orderEntries{links: l, sr: sr}
}

// addPractitioner adds a provider's Practitioner; nil for an empty provider.
func (b *bundleBuilder) addPractitioner(p order.Provider) *fhir.Reference {
	pr := practitionerResource(p)
	if pr == nil {
		return nil
	}
	r := b.add("Practitioner", pr, "", identifierQuery(pr.Identifier))
	return &r
}

// addResult adds a result's Observations and DiagnosticReport, based on the order's
// ServiceRequest.
func (b *bundleBuilder) addResult(o *order.Order, r order.Result, oe orderEntries) {
	l := drLinks{subject: oe.links.subject, basedOn: oe.sr, interpreter: b.addPractitioner(r.Interpreter)}
	dr, obs := diagnosticReport(o, r, l)
	key := nameUUID("DiagnosticReport", o.Key(), r.ID)
	for i := range obs {
		dr.Result = append(dr.Result, b.add("Observation", &obs[i], key+"#"+strconv.Itoa(i), ""))
	}
	b.add("DiagnosticReport", dr, "", "")
}
