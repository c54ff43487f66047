package mapping_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
)

// ExampleFromV2 maps a two-order ORM^O01 and locates a finding on the second order.
func ExampleFromV2() {
	msg := strings.Join([]string{
		`MSH|^~\&|EHR|HOSP_A|RB|RIS|20261122083000||ORM^O01|C1|P|2.3`,
		`PID|1||MRN1^^^HOSP_A^MR||DOE^JANE||19800101|F`,
		`PV1|1|E`,
		`ORC|NW|P1|||||^^^^^S||20261122082000|||1234567893^DOC^DANA^^^^^^NPI`,
		`OBR|1|P1||71046^XR CHEST 2 VIEWS^CPT`,
		`ORC|NW|P2|||||||20261122082100|||1234567893^DOC^DANA^^^^^^NPI`,
		`OBR|2|P2||LOC9^CT HEAD^L`,
	}, "\r")
	m, err := hl7.Parse([]byte(msg))
	if err != nil {
		panic(err)
	}
	orders, issues := mapping.FromV2(m)
	for _, o := range orders {
		fmt.Printf("%s %s cpt=%q priority=%q class=%s npi=%s signed=%t\n", o.Control.Code, o.Order.Key(),
			o.Order.Procedure.CPT, o.Order.Priority, o.Order.EncounterClass, o.Order.Provider.NPI,
			o.Order.Signature.Present)
	}
	fmt.Println(len(issues), "issues")
	fmt.Println(orders[1].Occurrence.Locate(hl7.Location{Segment: "OBR", Field: 4}))
	// Output:
	// NW v2|HOSP_A|P1 cpt="71046" priority="stat" class=emergency npi=1234567893 signed=true
	// NW v2|HOSP_A|P2 cpt="" priority="" class=emergency npi=1234567893 signed=true
	// 0 issues
	// OBR(2)-4
}

// ExampleBuildORU reports a result back to the order's sender.
func ExampleBuildORU() {
	o := &order.Order{
		Source: order.Source{Kind: order.SourceV2, SendingApp: "EHR", SendingFacility: "HOSP_A", Version: "2.3"},
		Placer: "PL-1", Filler: "F-1",
	}
	r := order.Result{ID: "F-1", Status: order.ResultFinal, Text: "No acute findings.",
		Issued: time.Date(2026, 3, 12, 16, 0, 0, 0, time.UTC)}
	msg := mapping.BuildORU(o, r, mapping.ORUOptions{SendingApp: "RADBRIDGE", SendingFacility: "RB", ControlID: "RB-1"})
	fmt.Println(strings.ReplaceAll(string(msg), "\r", "\n"))
	// Output:
	// MSH|^~\&|RADBRIDGE|RB|EHR|HOSP_A|20260312160000+0000||ORU^R01|RB-1|P|2.3
	// PID|1
	// ORC|RE|PL-1|F-1
	// OBR|1|PL-1|F-1||||20260312160000+0000|||||||||||||||20260312160000+0000||RAD|F
	// OBX|1|FT|18782-3^Radiology Study observation^LN||No acute findings.||||||F
}

func TestOccurrence_Locate(t *testing.T) {
	tests := []struct {
		name string
		occ  mapping.Occurrence
		in   hl7.Location
		want string
	}{
		{name: "OBR", occ: mapping.Occurrence{ORC: 2, OBR: 3}, in: hl7.Location{Segment: "OBR", Field: 4}, want: "OBR(3)-4"},
		{name: "ORC", occ: mapping.Occurrence{ORC: 2, OBR: 3}, in: hl7.Location{Segment: "ORC", Field: 12}, want: "ORC(2)-12"},
		{name: "detail", occ: mapping.Occurrence{ORC: 2, Detail: "RXO", DetailOccurrence: 2},
			in: hl7.Location{Segment: "RXO", Field: 1}, want: "RXO(2)-1"},
		{name: "other segment unchanged", occ: mapping.Occurrence{ORC: 2, OBR: 3},
			in: hl7.Location{Segment: "DG1", Field: 3}, want: "DG1-3"},
		{name: "absent segment unchanged", occ: mapping.Occurrence{ORC: 2},
			in: hl7.Location{Segment: "OBR", Field: 4}, want: "OBR-4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.occ.Locate(tc.in).String(); got != tc.want {
				t.Errorf("%+v.Locate(%v) = %s, want %s", tc.occ, tc.in, got, tc.want)
			}
		})
	}
}

// TestFromV2_OwnsItsText: the orders do not refer to the bytes the message was parsed
// from, so the caller may reuse its buffer.
func TestFromV2_OwnsItsText(t *testing.T) {
	raw := []byte(strings.Join([]string{
		`MSH|^~\&|EHR|HOSP_A|RB|RIS|20261122083000||ORM^O01|C1|P|2.5.1`,
		`PID|1||MRN1^^^HOSP_A^MR||DOE^JANE||19800101|F`,
		`ORC|NW|P1|||||||20261122082000|||1234567893^DOC^DANA^^^^^^NPI`,
		`OBR|1|P1||71046^XR CHEST 2 VIEWS^CPT`,
	}, "\r"))
	m, err := hl7.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	orders, _ := mapping.FromV2(m)
	for i := range raw {
		raw[i] = 'x'
	}
	o := orders[0].Order
	got := []string{o.Placer, o.Patient.Identifiers[0].Value, o.Patient.Family, o.Procedure.CPT,
		o.Provider.NPI, o.Source.SendingFacility}
	want := []string{"P1", "MRN1", "DOE", "71046", "1234567893", "HOSP_A"}
	if !slices.Equal(got, want) {
		t.Errorf("after reusing the input buffer, FromV2 fields = %q, want %q", got, want)
	}
}
