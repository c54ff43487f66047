package fhir

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/auth"
)

// cannedBackend answers every call with one fixed ServiceRequest and a finding.
type cannedBackend struct{}

var cannedSR = json.RawMessage(`{"resourceType":"ServiceRequest","id":"7","meta":{"versionId":"2","lastUpdated":"2026-03-01T12:00:00Z"},` +
	`"status":"active","intent":"order","subject":{"reference":"Patient/1"}}`)

func (cannedBackend) result() Result {
	return Result{Type: "ServiceRequest", ID: "7", VersionID: "2", LastUpdated: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Resource: cannedSR, Created: true, Issues: []Issue{{Severity: "warning", Code: "required",
			Expression: "ServiceRequest.reasonCode", Diagnostics: "no reason for exam", Details: "reason-missing"}}}
}
func (c cannedBackend) Create(context.Context, CreateRequest) (Result, error) { return c.result(), nil }
func (c cannedBackend) Update(context.Context, UpdateRequest) (Result, error) { return c.result(), nil }
func (c cannedBackend) Read(context.Context, string, string) (Result, error)  { return c.result(), nil }
func (c cannedBackend) VRead(context.Context, string, string, string) (Result, error) {
	return c.result(), nil
}
func (cannedBackend) Observe(string, int, time.Time) {}
func (cannedBackend) Search(context.Context, string, Query) (SearchResult, error) {
	return SearchResult{Total: 3, Resources: []json.RawMessage{cannedSR}}, nil
}
func (c cannedBackend) Transaction(_ context.Context, e []Entry) ([]Result, error) {
	out := make([]Result, len(e))
	for i := range out {
		out[i] = c.result()
	}
	return out, nil
}

// TestHandler_OutputsAreValidR4 runs what the server writes back through the gate:
// CapabilityStatement, searchset (with an outcome entry), transaction-response,
// OperationOutcomes of errors and of Prefer: return=OperationOutcome.
func TestHandler_OutputsAreValidR4(t *testing.T) {
	h, err := NewHandler(Config{}, cannedBackend{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx := `{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1","resource":` + string(cannedSR) +
		`,"request":{"method":"POST","url":"ServiceRequest"}}]}`
	batch := `{"resourceType":"Bundle","type":"batch","entry":[{"resource":` + string(cannedSR) +
		`,"request":{"method":"POST","url":"ServiceRequest"}},{"request":{"method":"GET","url":"ServiceRequest?status=active"}},` +
		`{"request":{"method":"DELETE","url":"ServiceRequest/7"}}]}`
	for _, tc := range []struct {
		name, method, target, body, prefer, wantType string
	}{
		{"capability", "GET", "/fhir/metadata", "", "", "CapabilityStatement"},
		{"searchset", "GET", "/fhir/ServiceRequest?status=active&colour=red&_count=1&_offset=1", "", "", "Bundle"},
		{"transaction-response", "POST", "/fhir", tx, "", "Bundle"},
		{"transaction-response outcome", "POST", "/fhir", tx, "return=OperationOutcome", "Bundle"},
		{"batch-response", "POST", "/fhir", batch, "", "Bundle"},
		{"create outcome", "POST", "/fhir/ServiceRequest", string(cannedSR), "return=OperationOutcome", "OperationOutcome"},
		{"error outcome", "POST", "/fhir/ServiceRequest", `{"resourceType":"ServiceRequest","status":"x"}`, "", "OperationOutcome"},
		{"405 outcome", "DELETE", "/fhir/ServiceRequest/1", "", "", "OperationOutcome"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			req = req.WithContext(auth.NewContext(req.Context(), &auth.Principal{Scopes: auth.NewScopes(auth.AllScopes())}))
			req.Header.Set("Content-Type", "application/fhir+json")
			if tc.prefer != "" {
				req.Header.Set("Prefer", tc.prefer)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code == http.StatusInternalServerError {
				t.Fatalf("500: %s", rec.Body)
			}
			if _, e := h.gate.check(rec.Body.Bytes(), tc.wantType); e != nil {
				t.Fatalf("response is not a valid R4 %s: %+v\n%s", tc.wantType, e.Issues, rec.Body)
			}
		})
	}
}
