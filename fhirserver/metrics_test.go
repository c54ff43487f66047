package fhirserver_test

import (
	"bytes"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/internal/enginetest"
)

// TestFHIR_Metrics_EveryWrite: radbridge_messages_total counts every answer to a FHIR
// write with its status, refusals by the gate (422), the handlers (412) and the backend
// (409, 422, 400) included, not only the creates that succeed.
func TestFHIR_Metrics_EveryWrite(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := enginetest.New(t, enginetest.Options{Checker: enginetest.Checker(t), Metrics: engine.NewMetrics(reg)})
	srv := fhirServer(t, f)
	post := func(path string, body []byte, hdr ...string) {
		t.Helper()
		f.Do(t, "POST", srv.URL+"/fhir"+path, body, hdr...)
	}
	post("/ServiceRequest", enginetest.MRIRequest("M-1"))                                                                       // 201
	post("/ServiceRequest", enginetest.MRIRequest("M-1"))                                                                       // 409: the placer number is taken
	post("/ServiceRequest", enginetest.MRIRequest("M-1"), "If-None-Exist", "identifier=M-1")                                    // 200: matched
	post("/ServiceRequest", enginetest.MRIRequest("M-2"), "If-None-Exist", "patient=Patient/p1")                                // 412: not indexed
	post("/ServiceRequest", bytes.Replace(enginetest.MRIRequest("M-3"), []byte(`"active"`), []byte(`"bogus"`), 1))              // 422: the gate
	post("/DiagnosticReport", []byte(`{"resourceType":"DiagnosticReport","status":"final","code":{"text":"x"}}`))               // 422: no order
	post("", orderBundle("M-4", "", ""))                                                                                        // 200
	post("", []byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET","url":"Patient/1"}}]}`)) // 400
	f.Do(t, "GET", srv.URL+"/fhir/ServiceRequest?identifier=M-1", nil)                                                          // a read: not counted

	got := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != "radbridge_messages_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["type"]+" "+labels["ack"]] += m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"ServiceRequest 201": 1, "ServiceRequest 409": 1, "ServiceRequest 200": 1, "ServiceRequest 412": 1,
		"ServiceRequest 422": 1, "DiagnosticReport 422": 1, "Bundle 200": 1, "Bundle 400": 1}
	if len(got) != len(want) {
		t.Errorf("radbridge_messages_total = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("radbridge_messages_total{%s} = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}
