package mapping_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
)

// BenchmarkResultToDiagnosticReportJSON maps a result (the 1.5 KB radiology ORU^R01
// of BenchmarkMapORU: five OBX, TX narrative, CWE) of an order to a DiagnosticReport and
// its Observations and writes them as JSON, as the FHIR API and the delivery worker do.
// Reading the ORU is outside the loop.
func BenchmarkResultToDiagnosticReportJSON(b *testing.B) {
	raw, err := os.ReadFile(goldenDir + "/oru_r01_radiology_tx.hl7")
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
		dr, obs := mapping.ToDiagnosticReport(o, r.Result)
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

// BenchmarkV2ToBundle converts the 1.5 KB radiology ORM^O01 of BenchmarkMapORM to a
// transaction Bundle (radbridge convert); parsing is outside the loop.
func BenchmarkV2ToBundle(b *testing.B) {
	raw, err := os.ReadFile(goldenDir + "/orm_o01_v251_radiology.hl7")
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
		if doc, _ := mapping.V2ToBundle(m); doc == nil {
			b.Fatal("no Bundle")
		}
	}
}

// benchServiceRequest is a 2 KB MRI order with its patient, requester, payer and
// coverage contained, the shape radbridge bench fhir posts.
const benchServiceRequest = `{"resourceType":"ServiceRequest","status":"active","intent":"order","priority":"routine",
 "meta":{"source":"urn:radbridge:bench"},
 "contained":[{"resourceType":"Patient","id":"p","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"urn:radbridge:bench:mrn","value":"X1"}],
   "name":[{"family":"Doe","given":["Jane","Q"]}],"birthDate":"1980-01-02","gender":"female",
   "address":[{"line":["1 Main St"],"city":"Springfield","state":"IL","postalCode":"62701"}]},
  {"resourceType":"Practitioner","id":"dr","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}],"name":[{"family":"Smith","given":["John"],"prefix":["Dr"]}]},
  {"resourceType":"Organization","id":"payer","identifier":[{"value":"AETNA01"}],"name":"AETNA"},
  {"resourceType":"Coverage","id":"cov","status":"active","subscriberId":"W123456789","beneficiary":{"reference":"#p"},"payor":[{"reference":"#payer"}],
   "class":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/coverage-class","code":"plan"}]},"value":"PPO1"}]}],
 "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"PLAC"}]},"system":"urn:radbridge:bench:orders","value":"X1"}],
 "code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"70553","display":"MRI brain without then with contrast"}],"text":"MRI brain without then with contrast"},
 "orderDetail":[{"coding":[{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"MR","display":"Magnetic Resonance"}]}],
 "subject":{"reference":"#p"},"requester":{"reference":"#dr"},"authoredOn":"2026-11-01T08:00:00Z",
 "reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R51.9","display":"Headache, unspecified"}],"text":"Headache"}],
 "insurance":[{"reference":"#cov"}],
 "supportingInfo":[{"type":"ClaimResponse","identifier":{"value":"AUTH778899"},"display":"Prior authorization AUTH778899"}]}`

// BenchmarkFromFHIRServiceRequestJSON maps benchServiceRequest as the FHIR API does on a
// create: one decode, the contained resources resolved.
func BenchmarkFromFHIRServiceRequestJSON(b *testing.B) {
	raw := []byte(benchServiceRequest)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, sr, issues := mapping.FromFHIRServiceRequestJSON(raw); sr == nil {
			b.Fatal(issues)
		}
	}
}
