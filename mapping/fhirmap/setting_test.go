package fhirmap

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/radbridge/radbridge/order"
)

// TestFromFHIR_Setting reads the setting, the requested date, the performing facility
// and the coverage period, each case naming the element it reads.
func TestFromFHIR_Setting(t *testing.T) {
	const head = `{"resourceType":"ServiceRequest","status":"active","intent":"order",` +
		`"identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"PLAC"}]},"value":"P1"}],` +
		`"subject":{"identifier":{"value":"M1"}},"code":{"text":"CT head"}`
	tests := []struct {
		name      string
		body      string // members after head
		class     order.EncounterClass
		setting   order.Setting
		requested time.Time
		performer order.Facility
		coverage  []order.Coverage
		modality  string
		issueAt   string // an expression the issues must name
	}{
		{
			name: "contained Encounter: class, location, serviceProvider, type, serviceType, period",
			body: `,"contained":[{"resourceType":"Encounter","id":"e","status":"in-progress",` +
				`"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},` +
				`"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0018","code":"UC"}]},` +
				`{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0007","code":"U"}]}],` +
				`"serviceType":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0069","code":"URG"}]},` +
				`"period":{"start":"2026-03-02T08:00:00Z","end":"2026-03-02T11:00:00Z"},` +
				`"location":[{"location":{"reference":"#l"}}],"serviceProvider":{"reference":"#o"}},` +
				`{"resourceType":"Location","id":"l","name":"UC North"},` +
				`{"resourceType":"Organization","id":"o","name":"North Urgent Care","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}]}],` +
				`"encounter":{"reference":"#e"}`,
			class: order.ClassOutpatient,
			setting: order.Setting{PointOfCare: "UC North", Facility: "North Urgent Care", FacilityID: "1234567893",
				AdmissionType: "U", PatientType: "UC", HospitalService: "URG",
				Start: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)},
		},
		{
			name:    "ServiceRequest.locationCode: where the exam is to be performed",
			body:    `,"locationCode":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"ER"}]}]`,
			setting: order.Setting{LocationCode: "ER"},
		},
		{
			name:     "ServiceRequest.category in DICOM gives the modality (read by the advanced-imaging rule)",
			body:     `,"category":[{"coding":[{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"MR"}]}]`,
			modality: "MR",
		},
		{
			name:      "occurrenceDateTime",
			body:      `,"occurrenceDateTime":"2026-03-16"`,
			requested: time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC),
		},
		{
			name:      "occurrencePeriod.start",
			body:      `,"occurrencePeriod":{"start":"2026-03-16T09:30:00-08:00"}`,
			requested: time.Date(2026, 3, 16, 17, 30, 0, 0, time.UTC),
		},
		{
			name:      "occurrenceTiming.repeat.boundsPeriod.start",
			body:      `,"occurrenceTiming":{"repeat":{"boundsPeriod":{"start":"2026-04-01"}}}`,
			requested: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		},
		{
			name:    "a malformed occurrenceDateTime is reported",
			body:    `,"occurrenceDateTime":"next week"`,
			issueAt: "ServiceRequest.occurrenceDateTime",
		},
		{
			name:      "performer: a logical Organization reference by NPI",
			body:      `,"performer":[{"display":"Dr Who"},{"type":"Organization","identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1245319599"},"display":"Imaging Center"}]`,
			performer: order.Facility{Name: "Imaging Center", NPI: "1245319599"},
		},
		{
			name: "Coverage.period as dates",
			body: `,"contained":[{"resourceType":"Coverage","id":"c","status":"active","beneficiary":{"display":"x"},` +
				`"payor":[{"identifier":{"value":"ACME"}}],"period":{"start":"2026-01-01","end":"2026-12-31T23:59:59-08:00"}}],` +
				`"insurance":[{"reference":"#c"}]`,
			coverage: []order.Coverage{{Payer: "ACME", Start: "2026-01-01", End: "2026-12-31"}},
		},
		{
			name: "a Coverage.period less precise than a day is reported",
			body: `,"contained":[{"resourceType":"Coverage","id":"c","status":"active","beneficiary":{"display":"x"},` +
				`"payor":[{"identifier":{"value":"ACME"}}],"period":{"start":"2026"}}],"insurance":[{"reference":"#c"}]`,
			coverage: []order.Coverage{{Payer: "ACME"}},
			issueAt:  "ServiceRequest.insurance[0].period.start",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orders, issues := FromFHIR([]byte(head + tc.body + "}"))
			if len(orders) != 1 {
				t.Fatalf("FromFHIR: %d orders, issues %v", len(orders), issues)
			}
			o := orders[0].Order
			if o.EncounterClass != tc.class {
				t.Errorf("EncounterClass = %q, want %q", o.EncounterClass, tc.class)
			}
			if diff := cmp.Diff(tc.setting, o.Setting); diff != "" {
				t.Errorf("Setting (-want +got):\n%s", diff)
			}
			if !o.Requested.Equal(tc.requested) {
				t.Errorf("Requested = %v, want %v", o.Requested, tc.requested)
			}
			if o.Performer != tc.performer {
				t.Errorf("Performer = %+v, want %+v", o.Performer, tc.performer)
			}
			if diff := cmp.Diff(tc.coverage, o.Coverage); diff != "" {
				t.Errorf("Coverage (-want +got):\n%s", diff)
			}
			if o.Procedure.Modality != tc.modality {
				t.Errorf("Procedure.Modality = %q, want %q", o.Procedure.Modality, tc.modality)
			}
			found := tc.issueAt == ""
			for _, is := range issues {
				found = found || strings.Contains(is.Expression, tc.issueAt)
			}
			if !found {
				t.Errorf("issues %v name no %s", issues, tc.issueAt)
			}
		})
	}
}

// TestServiceRequestJSON_SettingRoundTrip writes every setting field and reads it back,
// including an unknown class with a setting (Encounter.class UNK).
func TestServiceRequestJSON_SettingRoundTrip(t *testing.T) {
	o := &order.Order{Placer: "P1", Patient: order.Patient{Identifiers: []order.Identifier{{Value: "M1"}}},
		Procedure: order.Procedure{Code: "70553", System: systemCPT, CPT: "70553"},
		Setting: order.Setting{PointOfCare: "ED", Facility: "HOSP_A", FacilityID: "1234567893", AdmissionType: "E",
			HospitalService: "EM", PatientType: "ER", LocationCode: "ER",
			Start: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)},
		Requested: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		Performer: order.Facility{Name: "RAD", NPI: "1245319599"},
		Coverage:  []order.Coverage{{Payer: "ACME", Start: "2026-01-01", End: "2026-12-31"}},
	}
	doc, err := ServiceRequestJSON(o)
	if err != nil {
		t.Fatal(err)
	}
	checkFHIR(t, "setting", doc)
	got, issues := FromFHIR(doc)
	if len(got) != 1 {
		t.Fatalf("FromFHIR: %d orders, %v", len(got), issues)
	}
	g := got[0].Order
	if g.EncounterClass != order.ClassUnknown {
		t.Errorf("EncounterClass = %q, want unknown", g.EncounterClass)
	}
	if diff := cmp.Diff(o.Setting, g.Setting); diff != "" {
		t.Errorf("Setting (-want +got):\n%s", diff)
	}
	if !g.Requested.Equal(o.Requested) || g.Performer != o.Performer {
		t.Errorf("Requested %v, Performer %+v; want %v, %+v", g.Requested, g.Performer, o.Requested, o.Performer)
	}
	if diff := cmp.Diff(o.Coverage, g.Coverage); diff != "" {
		t.Errorf("Coverage (-want +got):\n%s", diff)
	}
}
