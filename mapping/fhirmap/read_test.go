package fhirmap

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// fhirSample is what a FHIR sample must map to.
type fhirSample struct {
	file string
	// shared marks files read from RADBRIDGE_CONFORMANCE_DIR/fhir (licences that keep them
	// out of testdata); the test skips them when the directory is absent.
	shared bool
	check  func(t *testing.T, orders []FHIROrder, issues []FHIRIssue)
}

func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

var fhirSamples = []fhirSample{
	{file: "fhir-r4-spec__servicerequest-example2.json", check: func(t *testing.T, os []FHIROrder, _ []FHIRIssue) {
		o := os[0].Order
		wantEqual(t, "Placer", o.Placer, "20170201-0001")
		// The contained Condition named in reasonReference.
		wantEqual(t, "Diagnoses", o.Diagnoses, []order.Diagnosis{{Code: "E84.0",
			System: "http://hl7.org/fhir/sid/icd-10-cm", Text: "Cystic fibrosis with pulmonary manifestations"}})
		// The contained Provenance, named in relevantHistory, targets ServiceRequest/physiotherapy/_history/1.
		wantEqual(t, "Signature", o.Signature, order.Signature{Signer: "Dr Adam Careful", Present: true,
			Time: time.Date(2017, 2, 1, 17, 23, 7, 0, time.UTC)})
		wantEqual(t, "Control", os[0].Control, order.Control{Code: "SC", OrderStatus: "CM"})
	}},
	{file: "fhir-r4-spec__servicerequest-example-lipid.json", check: func(t *testing.T, os []FHIROrder, _ []FHIRIssue) {
		o := os[0].Order
		wantEqual(t, "Placer", o.Placer, "2345234234234")
		wantEqual(t, "Procedure", o.Procedure, order.Procedure{Code: "LIPID", System: "http://acme.org/tests", Text: "Lipid Panel"})
		wantEqual(t, "Diagnoses", o.Diagnoses, []order.Diagnosis{{Code: "V173",
			System: "http://hl7.org/fhir/sid/icd-9", Text: "Fam hx-ischem heart dis"}})
	}},
	{file: "fhir-r4-spec__servicerequest-example-myringotomy.json", check: func(t *testing.T, os []FHIROrder, _ []FHIRIssue) {
		o := os[0].Order
		wantEqual(t, "numbers", []string{o.Placer, o.PlacerGroup}, []string{"ret4421", "1234"})
		wantEqual(t, "Priority", o.Priority, order.PriorityRoutine)
	}},
	{file: "fhir-r4-spec__diagnosticreport-example-f001-bloodexam.json", check: func(t *testing.T, os []FHIROrder, _ []FHIRIssue) {
		// A collection Bundle: its ServiceRequest entry is the order.
		wantEqual(t, "entry", []any{os[0].Entry, os[0].FullURL}, []any{1, "https://example.com/base/ServiceRequest/req"})
		wantEqual(t, "Procedure.Code", os[0].Order.Procedure.Code, "58410-2")
	}},
	{file: "hl7au-draft-diagnostic-orders__Bundle-d7661df8-6bb0-11ed-a340-acde48001122.json", shared: true,
		check: func(t *testing.T, os []FHIROrder, issues []FHIRIssue) {
			// A transaction Bundle (resourceType last), references to other entries by
			// Type/id and to contained resources by #id.
			o := os[0].Order
			wantEqual(t, "PlacerGroup", o.PlacerGroup, "GTU06816-A0275")
			wantEqual(t, "Patient", []string{o.Patient.Family, o.Patient.Given, o.Patient.BirthDate, o.Patient.Sex,
				o.Patient.Identifiers[0].Value, o.Patient.Identifiers[0].Type},
				[]string{"Thompson", "Stacey", "1935-05-03", "female", "31169597700", "MC"})
			wantEqual(t, "EncounterClass", o.EncounterClass, order.ClassOutpatient) // contained AMB encounter
			// PractitionerRole -> Practitioner; an HPI-I typed NPI is not a US NPI.
			wantEqual(t, "Provider", o.Provider, order.Provider{ID: "8003616961374504",
				IDSystem: "http://ns.electronichealth.net.au/id/hi/hpii/1.0", Family: "Wright", Given: "Trevor", Prefix: "Dr"})
			wantEqual(t, "Procedure.Code", o.Procedure.Code, "269820002")
			wantEqual(t, "Coverage", o.Coverage, []order.Coverage{{PayerName: "Department of Veterans' Affairs", PlanType: "DVA"}})
			wantEqual(t, "Priority", o.Priority, order.PriorityUrgent)
			wantEqual(t, "Signature.Present", o.Signature.Present, true) // requester + authoredOn
			if len(issues) != 1 || issues[0].Expression != "Bundle.entry[0].resource.identifier" {
				t.Errorf("issues = %v, want one: no placer number", issues)
			}
		}},
	{file: "ch-lab-order__ServiceRequest-2-pertussis.json", shared: true, check: func(t *testing.T, os []FHIROrder, _ []FHIRIssue) {
		o := os[0].Order
		wantEqual(t, "numbers", []string{o.Placer, o.Filler}, []string{"123", "456"})
		wantEqual(t, "Diagnoses", o.Diagnoses, []order.Diagnosis{{Code: "772146005", System: "http://snomed.info/sct",
			Text: "Pertussis suspected (situation)"}})
		wantEqual(t, "Reason", o.Reason, "Pertussis suspected (situation)")
		wantEqual(t, "Priority", o.Priority, order.PriorityUrgent)
	}},
	{file: "us-core__DiagnosticReport-chest-xray-report.json", shared: true, check: func(t *testing.T, os []FHIROrder, issues []FHIRIssue) {
		if len(os) != 0 || len(issues) != 1 || issues[0].Code != FHIRCodeNotSupported {
			t.Errorf("FromFHIR(DiagnosticReport) = %d orders, %v; want none and not-supported", len(os), issues)
		}
	}},
}

func TestFromFHIR_Samples(t *testing.T) {
	for _, tc := range fhirSamples {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("../../testdata/fhir", tc.file)
			if tc.shared {
				d := os.Getenv("RADBRIDGE_CONFORMANCE_DIR")
				if d == "" {
					t.Skip("set RADBRIDGE_CONFORMANCE_DIR to read the shared FHIR samples")
				}
				path = filepath.Join(d, "fhir", tc.file)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				if tc.shared {
					t.Skip(err)
				}
				t.Fatal(err)
			}
			orders, issues := FromFHIR(b)
			if len(orders) == 0 && !strings.HasPrefix(tc.file, "us-core") {
				t.Fatalf("FromFHIR(%s) = no orders, %v", tc.file, issues)
			}
			tc.check(t, orders, issues)
		})
	}
}

func TestFromFHIR_Input(t *testing.T) {
	tests := []struct {
		name, in string
		orders   int
		code     string // of the first issue; "" for none
	}{
		{name: "not JSON", in: "MSH|^~\\&|", code: FHIRCodeStructure},
		{name: "no resourceType", in: `{"id":"x"}`, code: FHIRCodeStructure},
		{name: "Patient", in: `{"resourceType":"Patient"}`, code: FHIRCodeNotSupported},
		{name: "bad status", in: `{"resourceType":"ServiceRequest","status":"bogus","intent":"order","subject":{"display":"x"}}`,
			code: FHIRCodeStructure},
		{name: "empty Bundle", in: `{"resourceType":"Bundle","type":"transaction"}`, code: FHIRCodeRequired},
		// Everything given is read; what is missing (requester, authoredOn, a diagnosis)
		// is the checks' to report, not the mapping's.
		{name: "minimal", in: `{"resourceType":"ServiceRequest","status":"active","intent":"order",` +
			`"identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"PLAC"}]},"value":"P1"}],` +
			`"subject":{"identifier":{"value":"M1"}},"code":{"text":"CT head"}}`, orders: 1},
		{name: "no placer number", in: `{"resourceType":"ServiceRequest","status":"active","intent":"order",` +
			`"subject":{"identifier":{"value":"M1"}},"code":{"text":"CT head"}}`, orders: 1, code: FHIRCodeRequired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orders, issues := FromFHIR([]byte(tc.in))
			if len(orders) != tc.orders || tc.code == "" && len(issues) != 0 || tc.code != "" && (len(issues) == 0 || issues[0].Code != tc.code) {
				t.Errorf("FromFHIR(%s) = %d orders, %v; want %d and first issue %s", tc.in, len(orders), issues, tc.orders, tc.code)
			}
		})
	}
}

func TestNameUUID(t *testing.T) {
	// RFC 9562 / Python's uuid.uuid5(uuid.NAMESPACE_DNS, "python.org").
	dns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	u := uuid5(dns, "python.org")
	if got, want := formatUUID(u), "886313e1-3b8a-5372-9b90-0c9aee199e5d"; got != want {
		t.Errorf("uuid5(DNS, python.org) = %s, want %s", got, want)
	}
	url := [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	if got, want := formatUUID(uuid5(url, "https://github.com/radbridge/radbridge")),
		"8aa60274-f362-521b-ab51-9ad41b9187fc"; got != want {
		t.Errorf("radbridge namespace = %s, want %s", got, want)
	}
	if a, b := nameUUID("a", "b"), nameUUID("a", "b"); a != b || a == nameUUID("ab") {
		t.Error("nameUUID is not a function of its parts")
	}
}

func TestSplitDisplay(t *testing.T) {
	tests := []struct {
		in   string
		want displayName
	}{
		{"DOE, JANE ANN", displayName{family: "DOE", given: "JANE", middle: "ANN"}},
		{"Dr Adam Careful", displayName{family: "Careful", given: "Adam", prefix: "Dr"}},
		{"Angela Care, MD", displayName{family: "Care", given: "Angela", suffix: "MD"}},
		{"Madonna", displayName{family: "Madonna"}},
		{"", displayName{}},
	}
	for _, tc := range tests {
		if got := splitDisplay(tc.in); got != tc.want {
			t.Errorf("splitDisplay(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestToDiagnosticReport_Validates maps the results of the ORU samples to standalone
// DiagnosticReports and Observations and validates each.
func TestToDiagnosticReport_Validates(t *testing.T) {
	n := 0
	for _, p := range v2SamplePaths(t) {
		m, ok := parseV2(t, p)
		if !ok || m.Header().Type != "ORU" {
			continue
		}
		rs, _ := mapping.ResultsFromV2(m)
		for _, r := range rs {
			o := resultOrder(m, r)
			dr, obs := ToDiagnosticReport(o, r.Result)
			if len(dr.Result) != len(obs) {
				t.Errorf("%s: %d result references for %d observations", filepath.Base(p), len(dr.Result), len(obs))
			}
			for _, res := range append([]any{dr}, anySlice(obs)...) {
				b, err := json.Marshal(res)
				if err != nil {
					t.Fatal(err)
				}
				checkFHIR(t, filepath.Base(p), b)
			}
			again, _ := ToDiagnosticReport(o, r.Result)
			if *again.Id != *dr.Id {
				t.Errorf("%s: DiagnosticReport id %s then %s: not stable", filepath.Base(p), *dr.Id, *again.Id)
			}
			n++
		}
	}
	t.Logf("%d reports validated", n)
}

func anySlice[T any](s []T) []any {
	out := make([]any, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// twoPassServiceRequest maps a ServiceRequest the way FromFHIR did before it decoded
// once: the samply struct, then the contained resources in a decode of their own.
func twoPassServiceRequest(t *testing.T, raw []byte) (*order.Order, []FHIRIssue) {
	t.Helper()
	sr, err := fhir.UnmarshalServiceRequest(raw)
	if err != nil {
		return nil, []FHIRIssue{{Severity: FHIRError, Code: FHIRCodeStructure, Expression: "ServiceRequest",
			Diagnostics: "ServiceRequest does not decode: " + err.Error()}}
	}
	var c struct {
		Contained []json.RawMessage `json:"contained"`
	}
	_ = json.Unmarshal(raw, &c)
	var res []FHIRResource
	var list []FHIRIssue
	for i, raw := range c.Contained {
		typ := resourceType(raw)
		r, err := decodeResource(typ, raw)
		if err != nil {
			list = append(list, FHIRIssue{Severity: FHIRWarning, Code: FHIRCodeStructure,
				Expression:  "ServiceRequest.contained[" + strconv.Itoa(i) + "]",
				Diagnostics: "contained " + typ + " does not decode (" + err.Error() + "): references to it are not resolved"})
			continue
		}
		if _, id := resourceInfo(r); id != "" {
			res = append(res, FHIRResource{FullURL: "#" + id, Resource: r})
		}
	}
	o, more := FromFHIRServiceRequest(&sr, res...)
	fo := fhirOrder(o, &sr, "", 0)
	return fo.Order, append(list, more...)
}

func TestFromFHIRServiceRequestJSON_SameAsTwoDecodes(t *testing.T) {
	inputs := map[string][]byte{
		"contained not an array": []byte(`{"resourceType":"ServiceRequest","status":"active","intent":"order",` +
			`"contained":{"resourceType":"Patient","id":"p"},"subject":{"reference":"#p","display":"Doe, Jane"}}`),
		"contained Patient of the wrong shape": []byte(`{"resourceType":"ServiceRequest","status":"active","intent":"order",` +
			`"contained":[{"resourceType":"Patient","id":"p","name":"Doe"},{"resourceType":"Practitioner","id":"dr","name":[{"family":"Smith"}]}],` +
			`"subject":{"reference":"#p"},"requester":{"reference":"#dr"}}`),
		"status of the wrong type": []byte(`{"resourceType":"ServiceRequest","status":7,"intent":"order","subject":{"display":"x"}}`),
		"not JSON":                 []byte(`{"resourceType":"ServiceRequest",`),
	}
	files, err := filepath.Glob("../../testdata/fhir/*servicerequest*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no ServiceRequest samples: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(f)] = b
	}
	for name, raw := range inputs {
		t.Run(name, func(t *testing.T) {
			wantOrder, wantIssues := twoPassServiceRequest(t, raw)
			fo, sr, issues := FromFHIRServiceRequestJSON(raw)
			if (sr == nil) != (wantOrder == nil) {
				t.Fatalf("FromFHIRServiceRequestJSON decoded = %v, want %v (issues %v)", sr != nil, wantOrder != nil, issues)
			}
			wantEqual(t, "issues", issues, wantIssues)
			if sr != nil {
				wantEqual(t, "order", fo.Order, wantOrder)
			}
		})
	}
}

// resourceTypeByDecode is what resourceType must agree with.
func resourceTypeByDecode(raw []byte) string {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	_ = json.Unmarshal(raw, &head)
	return head.ResourceType
}

var resourceTypeCases = []string{
	`{"resourceType":"Patient","id":"p"}`,
	` { "id" : "p" , "resourceType" : "Patient" } `,
	`{"id":"p","name":[{"family":"Doe","given":["a","b"]}],"resourceType":"Practitioner"}`,
	`{"resourceType":"Patient","resourceType":"Organization"}`,
	`{"resourcetype":"Patient"}`, `{"RESOURCETYPE":"Patient","resourceType":"Coverage"}`,
	`{"resourc\u0065Type":"Pati\u0065nt"}`, `{"resourceType":"Patient","resourceType":7}`,
	`{"resourceType":null}`, `{"resourceType":["Patient"]}`, `{"resourceType":{"x":"Patient"}}`,
	`{"contained":[{"resourceType":"Patient"}]}`, `{"a":{"resourceType":"Patient"}}`,
	`{"a":"}\"resourceType\":\"X","resourceType":"Condition"}`, `{"a":-1.5e3,"b":true,"c":null,"resourceType":"Encounter"}`,
	`{}`, `[]`, `"Patient"`, `12`, `null`, `[{"resourceType":"Patient"}]`,
}

func TestResourceType_AsDecode(t *testing.T) {
	for _, in := range resourceTypeCases {
		if got, want := resourceType([]byte(in)), resourceTypeByDecode([]byte(in)); got != want {
			t.Errorf("resourceType(%s) = %q, want %q", in, got, want)
		}
	}
}

func FuzzResourceType(f *testing.F) {
	for _, in := range resourceTypeCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return // resourceType reads only valid JSON
		}
		if got, want := resourceType(in), resourceTypeByDecode(in); got != want {
			t.Errorf("resourceType(%q) = %q, want %q", in, got, want)
		}
	})
}
