package fhirmap

import (
	"bytes"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
)

// What the package renders holds U+FFFD where the order's text held a control
// character (see the package comment): the Bundle of a converted message, a
// ServiceRequest, a Task and a DiagnosticReport.
func TestRender_ControlCharacters(t *testing.T) {
	m, err := hl7.Parse([]byte("MSH|^~\\&|EHR|HOSP_A|RB|IMG|20261122||ORM^O01|C1|P|2.5.1\rPID|1||M1||DOE\x00^JANE\r" +
		"ORC|NW|P1\rOBR|1|P1||70553^MRI\x01BRAIN^C4\r"))
	if err != nil {
		t.Fatal(err)
	}
	bundle, issues := V2ToBundle(m)
	if bundle == nil {
		t.Fatal(issues)
	}
	o := &order.Order{ID: "ord-1", Placer: "P1\x00", Procedure: order.Procedure{CPT: "70553", Text: "MRI\x00BRAIN"},
		Findings: []order.Finding{{Code: "x", Text: "bad\x1fvalue", Severity: order.SeverityError}},
		Results:  []order.Result{{ID: "R1", Status: order.ResultFinal, Text: "No\x00acute\x0bfinding"}}}
	sr, err := ServiceRequestJSON(o)
	if err != nil {
		t.Fatal(err)
	}
	task, err := TaskJSON(o)
	if err != nil {
		t.Fatal(err)
	}
	dr, _, _, err := DiagnosticReportJSON(o, o.Results[0], 1)
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string][]byte{"V2ToBundle": bundle, "ServiceRequestJSON": sr, "TaskJSON": task, "DiagnosticReportJSON": dr} {
		if bytes.Contains(doc, []byte(`\u000`)) || bytes.Contains(doc, []byte(`\u001`)) || !strings.Contains(string(doc), `\ufffd`) {
			t.Errorf("%s = %s, want \\ufffd for each control character and none left", name, doc)
		}
	}
}
