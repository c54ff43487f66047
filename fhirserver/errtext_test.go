package fhirserver_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/internal/enginetest"
)

// issues reads the issues of an OperationOutcome answer as "expression: diagnostics".
func issues(t *testing.T, r enginetest.Response) []string {
	t.Helper()
	var oo struct {
		ResourceType string
		Issue        []struct {
			Diagnostics string
			Expression  []string
		}
	}
	if err := json.Unmarshal(r.Raw, &oo); err != nil || oo.ResourceType != "OperationOutcome" {
		t.Fatalf("not an OperationOutcome: %d %s", r.Status, r.Raw)
	}
	var out []string
	for _, is := range oo.Issue {
		out = append(out, strings.Join(is.Expression, ",")+": "+is.Diagnostics)
		if strings.HasPrefix(is.Diagnostics, "order: ") || strings.Contains(is.Diagnostics, "->") || strings.Contains(is.Diagnostics, "invalid result") {
			t.Errorf("diagnostics is a Go error: %q", is.Diagnostics)
		}
	}
	return out
}

// TestFHIR_RefusalTexts: a report that matches no order says what was looked for, or
// that it names no order; what the lifecycle refuses is said in a sentence; a report
// whose status the mapping could not read is refused once, at its status.
func TestFHIR_RefusalTexts(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	srv := fhirServer(t, f)
	created := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", enginetest.MRIRequest("RT-1"))
	if created.Status != http.StatusCreated {
		t.Fatalf("POST: %d %s", created.Status, created.Raw)
	}
	id := created.Body["id"].(string)
	report := func(status, basedOn string) []byte {
		return []byte(`{"resourceType":"DiagnosticReport","status":"` + status + `","code":{"text":"MRI brain"}` + basedOn + `,"conclusion":"Normal."}`)
	}
	for _, tc := range []struct {
		name string
		body []byte
		want []string
	}{
		{"names no order", report("final", ""),
			[]string{"DiagnosticReport.basedOn: The report names no order: give basedOn its ServiceRequest (ServiceRequest/[id]), or an identifier that is the order's placer number. The report is kept."}},
		{"matches no order", report("final", `,"basedOn":[{"reference":"ServiceRequest/nope"},{"identifier":{"value":"X1"}}]`),
			[]string{`DiagnosticReport.basedOn: No order matches basedOn ServiceRequest/nope or the placer number "X1". The report is kept.`}},
		{"status not a result", report("unknown", `,"basedOn":[{"reference":"ServiceRequest/`+id+`"}]`),
			[]string{`DiagnosticReport.status: status "unknown" is not a result status`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.Do(t, "POST", srv.URL+"/fhir/DiagnosticReport", tc.body)
			if got := issues(t, r); r.Status != http.StatusUnprocessableEntity || strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("POST: %d %q, want 422 %q", r.Status, got, tc.want)
			}
		})
	}
	final := report("final", `,"identifier":[{"value":"REP-1"}],"basedOn":[{"reference":"ServiceRequest/`+id+`"}]`)
	if r := f.Do(t, "POST", srv.URL+"/fhir/DiagnosticReport", final); r.Status != http.StatusCreated {
		t.Fatalf("final report: %d %s", r.Status, r.Raw)
	}
	prelim := bytes.Replace(final, []byte(`"final"`), []byte(`"preliminary"`), 1)
	r := f.Do(t, "POST", srv.URL+"/fhir/DiagnosticReport", prelim)
	want := `DiagnosticReport.status: The result "REP-1" is already final: a preliminary version cannot follow it; send a corrected version instead.`
	if got := issues(t, r); r.Status != http.StatusUnprocessableEntity || len(got) != 1 || got[0] != want {
		t.Errorf("preliminary after final: %d %q, want 422 %q", r.Status, got, want)
	}
	held := bytes.Replace(enginetest.MRIRequest("RT-1"), []byte(`"status":"active"`), []byte(`"status":"on-hold","id":"`+id+`"`), 1)
	r = f.Do(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+id, held)
	want = "ServiceRequest.status: The order is resulted: it cannot become on-hold (ORC-1=HD)."
	if got := issues(t, r); r.Status != http.StatusConflict || len(got) != 1 || got[0] != want {
		t.Errorf("hold after the result: %d %q, want 409 %q", r.Status, got, want)
	}
}
