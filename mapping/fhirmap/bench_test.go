package fhirmap_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/mapping/fhirmap"
	"github.com/radbridge/radbridge/order"
)

// benchServiceRequestFile is what radbridge bench fhir posts (cmd/radbridge checks
// that it is).
const benchServiceRequestFile = "../../testdata/fhir/radbridge__servicerequest-bench.json"

// v2Dir holds the HL7 v2 messages the mapping benchmarks read.
const v2Dir = "../../testdata/mapping"

// BenchmarkResultToDiagnosticReportJSON maps a result (the 1.5 KB radiology ORU^R01
// of package mapping's BenchmarkMapORU: five OBX, TX narrative, CWE) of an order to a
// DiagnosticReport and its Observations and writes them as JSON, as the FHIR API and
// the delivery worker do. Reading the ORU is outside the loop.
func BenchmarkResultToDiagnosticReportJSON(b *testing.B) {
	raw, err := os.ReadFile(v2Dir + "/oru_r01_radiology_tx.hl7")
	if err != nil {
		b.Fatal(err)
	}
	m, err := hl7.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	rs, _ := mapping.ResultsFromV2(m)
	if len(rs) != 1 {
		b.Fatalf("ResultsFromV2 = %d results", len(rs))
	}
	r := rs[0]
	o := &order.Order{ID: "ord-1", Placer: r.Placer, Filler: r.Filler, Accession: r.Accession,
		Source:  order.Source{Kind: order.SourceV2, SendingFacility: "HOSP_A"},
		Patient: order.Patient{Identifiers: r.PatientIDs, Family: "SAMPLE", Given: "PATIENT"}}
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		dr, obs := fhirmap.ToDiagnosticReport(o, r.Result)
		out, err := json.Marshal(dr)
		if err != nil {
			b.Fatal(err)
		}
		n = int64(len(out))
		for i := range obs {
			ob, err := json.Marshal(&obs[i])
			if err != nil {
				b.Fatal(err)
			}
			n += int64(len(ob))
		}
	}
	b.SetBytes(n)
}

// BenchmarkV2ToBundle converts the 1.5 KB radiology ORM^O01 of package mapping's
// BenchmarkMapORM to a transaction Bundle (radbridge convert); parsing is outside the
// loop.
func BenchmarkV2ToBundle(b *testing.B) {
	raw, err := os.ReadFile(v2Dir + "/orm_o01_v251_radiology.hl7")
	if err != nil {
		b.Fatal(err)
	}
	m, err := hl7.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if doc, _ := fhirmap.V2ToBundle(m); doc == nil {
			b.Fatal("no Bundle")
		}
	}
}

// BenchmarkFromFHIRServiceRequestJSON maps the 2 KB ServiceRequest radbridge bench fhir
// posts (four contained resources) as the FHIR API does on a create: one decode, the
// contained resources resolved.
func BenchmarkFromFHIRServiceRequestJSON(b *testing.B) {
	raw, err := os.ReadFile(benchServiceRequestFile)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, sr, issues := fhirmap.FromFHIRServiceRequestJSON(raw); sr == nil {
			b.Fatal(issues)
		}
	}
}
