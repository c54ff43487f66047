package fhirserver

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"

	fhirmodels "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/radbridge/radbridge/fhir"
)

// Limits on the values of a ServiceRequest that key stored records: its identifier
// values (the identifier index; the placer number is one of them) and meta.source (with
// the client, the namespace of its placer numbers). They are checked before anything
// reaches the store, so that a value no store takes as a key (bbolt's keys end at
// 32 KiB) is a 400 that says which element, never a 500. FHIR R4 bounds a string only
// at 1 MB; the limits come from the standards these values travel between:
const (
	// maxIdentifierValue is the length, in characters, of an HL7 v2 EI (Entity
	// Identifier, v2.5.1 section 2.A.28), the type of the order numbers a FHIR
	// identifier carries to and from HL7 v2: 427.
	maxIdentifierValue = 427
	// maxSourceBytes bounds meta.source, a uri: the 8000 octets RFC 9110 section 4.1
	// recommends every recipient support in a URI.
	maxSourceBytes = 8000
)

// keyLimitError returns a 400 for a ServiceRequest (at FHIRPath base) whose identifier
// values or meta.source exceed the limits above, nil when none does. values holds
// identifier[i].value at i.
func keyLimitError(base string, values []string, source string) *fhir.Error {
	var issues []fhir.Issue
	for i, v := range values {
		if len(v) > maxIdentifierValue && utf8.RuneCountInString(v) > maxIdentifierValue {
			issues = append(issues, fhir.Issue{Severity: "error", Code: "too-long", Expression: base + ".identifier[" + strconv.Itoa(i) + "].value",
				Diagnostics: "identifier value of " + strconv.Itoa(utf8.RuneCountInString(v)) + " characters: an identifier holds at most " +
					strconv.Itoa(maxIdentifierValue)})
		}
	}
	if len(source) > maxSourceBytes {
		issues = append(issues, fhir.Issue{Severity: "error", Code: "too-long", Expression: base + ".meta.source",
			Diagnostics: "meta.source of " + strconv.Itoa(len(source)) + " bytes: a source URI holds at most " + strconv.Itoa(maxSourceBytes)})
	}
	if len(issues) == 0 {
		return nil
	}
	return &fhir.Error{Status: http.StatusBadRequest, Issues: issues}
}

// identifierValues returns identifier[i].value of a resource's JSON at i.
func identifierValues(resource []byte) []string {
	var r struct {
		Identifier []struct {
			Value string `json:"value"`
		} `json:"identifier"`
	}
	if json.Unmarshal(resource, &r) != nil {
		return nil
	}
	out := make([]string, len(r.Identifier))
	for i, id := range r.Identifier {
		out[i] = id.Value
	}
	return out
}

// srIdentifierValues returns sr.identifier[i].value at i.
func srIdentifierValues(sr *fhirmodels.ServiceRequest) []string {
	out := make([]string, len(sr.Identifier))
	for i, id := range sr.Identifier {
		if id.Value != nil {
			out[i] = *id.Value
		}
	}
	return out
}

// tooManyOrders returns a 400 for a transaction with more ServiceRequests than max
// (engine.Config.MaxOrdersPerMessage).
func tooManyOrders(max int) *fhir.Error {
	return &fhir.Error{Status: http.StatusBadRequest, Issues: []fhir.Issue{{Severity: "error", Code: "too-costly", Expression: "Bundle.entry",
		Diagnostics: "the transaction holds more than " + strconv.Itoa(max) + " ServiceRequests: radbridge takes at most that many " +
			"orders in one transaction; send them in several"}}}
}
