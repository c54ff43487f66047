package fhir

import (
	"net/http/httptest"
	"testing"
)

// The scope each FHIR request needs, written out again independently of need.
func TestNeed(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/fhir/ServiceRequest", "system/ServiceRequest.s"},
		{"HEAD", "/fhir/ServiceRequest", "system/ServiceRequest.s"},
		{"POST", "/fhir/ServiceRequest/_search", "system/ServiceRequest.s"},
		{"POST", "/fhir/ServiceRequest", "system/ServiceRequest.c"},
		{"GET", "/fhir/ServiceRequest/7", "system/ServiceRequest.r"},
		{"GET", "/fhir/ServiceRequest/7/_history/2", "system/ServiceRequest.r"},
		{"PUT", "/fhir/ServiceRequest/7", "system/ServiceRequest.u"},
		{"PATCH", "/fhir/ServiceRequest/7", "system/ServiceRequest.u"},
		{"DELETE", "/fhir/ServiceRequest/7", "system/ServiceRequest.d"},
		{"GET", "/fhir/Task", "system/Task.s"},
		{"POST", "/fhir/Subscription", "system/Subscription.c"},
		{"GET", "/fhir/DiagnosticReport/1", "system/DiagnosticReport.r"},
		{"POST", "/fhir/ServiceRequest/$validate", "system/ServiceRequest.c"},
		{"OPTIONS", "/fhir/ServiceRequest", "system/ServiceRequest.r"},
		{"POST", "/fhir", "a system/ scope"},
		{"POST", "/fhir/", "a system/ scope"},
		{"GET", "/fhir", "a system/ scope"},
	} {
		if got := need(httptest.NewRequest(tc.method, tc.path, nil)).String(); got != tc.want {
			t.Errorf("need(%s %s) = %s, want %s", tc.method, tc.path, got, tc.want)
		}
	}
}
