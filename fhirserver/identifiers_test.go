package fhirserver

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	fhirmodels "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

func TestIdentifiers_AsIdentifierIndex(t *testing.T) {
	for _, in := range []string{
		`{"resourceType":"ServiceRequest"}`,
		`{"resourceType":"ServiceRequest","identifier":[{"system":"urn:x"}]}`,
		`{"resourceType":"ServiceRequest","identifier":[{"value":"P1"},{"value":""},{"system":"urn:y","value":"é 1"}]}`,
	} {
		sr, err := fhirmodels.UnmarshalServiceRequest([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(identifierIndex([]byte(in)), identifiers(&sr)); diff != "" {
			t.Errorf("identifiers(%s) (-identifierIndex +got):\n%s", in, diff)
		}
	}
}
