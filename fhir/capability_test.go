package fhir_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/radbridge/radbridge/fhir"
)

type testCapability struct {
	ResourceType string
	FHIRVersion  string
	Format       []string
	Rest         []struct {
		Mode        string
		Interaction []struct{ Code string }
		Resource    []struct {
			Type        string
			Interaction []struct{ Code string }
			SearchParam []struct{ Name, Type string }
		}
	}
}

// TestHandler_Metadata checks the CapabilityStatement and probes the routes with
// it: every declared interaction is routed, every undeclared one is 405, and types
// it does not list are 404.
func TestHandler_Metadata(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	r := s.do(t, http.MethodGet, "/fhir/metadata", nil)
	var cs testCapability
	if err := json.Unmarshal(r.body, &cs); err != nil || r.status != http.StatusOK {
		t.Fatalf("metadata: %d %v %s", r.status, err, r.body)
	}
	if cs.ResourceType != "CapabilityStatement" || cs.FHIRVersion != "4.0.1" || len(cs.Rest) != 1 || cs.Rest[0].Mode != "server" {
		t.Fatalf("CapabilityStatement header wrong: %s", r.body)
	}
	for _, f := range cs.Format {
		if f != "json" && f != "application/fhir+json" {
			t.Errorf("format %q declared; the server speaks JSON only", f)
		}
	}
	var system []string
	for _, in := range cs.Rest[0].Interaction {
		system = append(system, in.Code)
	}
	if !slices.Equal(system, []string{"transaction", "batch"}) {
		t.Errorf("system interactions = %v, want transaction and batch", system)
	}
	wantTypes := []string{"ServiceRequest", "DiagnosticReport", "Task", "Subscription",
		// read-only: kept as sent in the transactions that bring them with their orders
		"Patient", "Practitioner", "PractitionerRole", "Organization", "Encounter", "Coverage",
		"Condition", "Observation", "Provenance", "ClaimResponse", "Consent"}
	var types []string
	for _, res := range cs.Rest[0].Resource {
		types = append(types, res.Type)
		declared := map[string]bool{}
		for _, in := range res.Interaction {
			declared[in.Code] = true
		}
		probes := []struct{ code, method, path string }{
			{"create", "POST", "/fhir/" + res.Type},
			{"search-type", "GET", "/fhir/" + res.Type},
			{"read", "GET", "/fhir/" + res.Type + "/nope"},
			{"update", "PUT", "/fhir/" + res.Type + "/nope"},
		}
		for _, p := range probes {
			got := s.do(t, p.method, p.path, []byte(`{}`))
			routed := got.status != http.StatusMethodNotAllowed && got.status != http.StatusNotFound ||
				got.status == http.StatusNotFound && p.code == "read"
			if routed != declared[p.code] {
				t.Errorf("%s %s: status %d, but %s declared = %v", p.method, p.path, got.status, p.code, declared[p.code])
			}
		}
		if declared["search-type"] != (len(res.SearchParam) > 0) {
			t.Errorf("%s: search-type %v with %d search params", res.Type, declared["search-type"], len(res.SearchParam))
		}
	}
	if !slices.Equal(types, wantTypes) {
		t.Errorf("resources = %v, want %v", types, wantTypes)
	}
	if got := s.do(t, http.MethodGet, "/fhir/Medication", nil); got.status != http.StatusNotFound {
		t.Errorf("GET /fhir/Medication = %d, want 404", got.status)
	}
}
