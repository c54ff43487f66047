package fhirmap

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// fhirView is what a v2 order is expected to look like after a trip through FHIR. The
// documented exceptions (see FromFHIRServiceRequest):
//   - Source: the v2 message header is not part of the ServiceRequest; the order comes
//     back as a FHIR order with no FHIR source.
//   - ControlCode: comes back as the control the request status gives (XO reads NW).
//   - Code systems come back as FHIR URIs (C4 as http://www.ama-assn.org/go/cpt), and
//     local systems, which have none, as "".
//   - A signature that v2 did not count (a signer but no ORC-9) comes back present at the
//     authored time, and an authorization mode without a signature is lost: in FHIR,
//     requester and authoredOn are a signature.
//   - The lifecycle (Status, History, Findings, Results, Created, Updated) is the Task's
//     and the DiagnosticReports', not the ServiceRequest's.
func fhirView(v mapping.V2Order, status string) *order.Order {
	o := v.Order.Clone()
	o.Source = order.Source{Kind: order.SourceFHIR}
	st, _ := enumOf[fhir.RequestStatus](status)
	o.ControlCode = requestControl(st).Code
	o.Procedure.System = mapping.CodeSystemURI(o.Procedure.System)
	for i := range o.Diagnoses {
		o.Diagnoses[i].System = mapping.CodeSystemURI(o.Diagnoses[i].System)
	}
	if !o.Signature.Present {
		o.Signature = order.Signature{Signer: mapping.SignerName(o.Provider), SignerNPI: o.Provider.NPI, Time: o.Authored}
		o.Signature.Present = o.Signature.Signer != "" && !o.Signature.Time.IsZero()
	}
	if o.Procedure.Code == "" && o.Procedure.CPT != "" {
		o.Procedure.Code, o.Procedure.System = o.Procedure.CPT, systemCPT // the CPT coding is the only one
	}
	return o
}

var orderCmp = cmp.Options{
	cmpopts.IgnoreFields(order.Order{}, "Status", "History", "Findings", "Results", "Created", "Updated"),
	cmpopts.EquateEmpty(),
}

// v2Orders maps every order message among the samples.
func v2Orders(t *testing.T) map[string][]mapping.V2Order {
	out := map[string][]mapping.V2Order{}
	for _, p := range v2SamplePaths(t) {
		m, ok := parseV2(t, p)
		if !ok {
			continue
		}
		switch m.Header().Type {
		case "ORM", "OMI", "OML":
			if vs, _ := mapping.FromV2(m); len(vs) > 0 {
				out[filepath.Base(p)] = vs
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no order samples")
	}
	return out
}

// TestServiceRequestJSON_RoundTrip maps every sample order to a ServiceRequest with
// contained resources and back, and checks that every field comes back (fhirView).
func TestServiceRequestJSON_RoundTrip(t *testing.T) {
	for name, vs := range v2Orders(t) {
		for i, v := range vs {
			o := v.Order.Clone()
			// Run the lifecycle as the engine would: an accepted NW order is active.
			_ = o.ApplyControl(v.Control, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "m1")
			doc, err := ServiceRequestJSON(o)
			if err != nil {
				t.Fatalf("%s order %d: ServiceRequestJSON: %v", name, i, err)
			}
			checkFHIR(t, name, doc)
			got, issues := FromFHIR(doc)
			if len(got) != 1 {
				t.Fatalf("%s order %d: FromFHIR = %d orders, %v", name, i, len(got), issues)
			}
			want := fhirView(v, o.Status.ServiceRequestStatus())
			if diff := cmp.Diff(want, got[0].Order, orderCmp); diff != "" {
				t.Errorf("%s order %d: v2 -> ServiceRequestJSON -> FromFHIR (-want +got):\n%s", name, i, diff)
			}
		}
	}
}

// TestV2ToBundle_RoundTrip converts every sample order message to a transaction Bundle
// and reads the Bundle back.
func TestV2ToBundle_RoundTrip(t *testing.T) {
	for _, p := range v2SamplePaths(t) {
		m, ok := parseV2(t, p)
		if !ok {
			continue
		}
		switch m.Header().Type {
		case "ORM", "OMI", "OML":
		default:
			continue
		}
		name := filepath.Base(p)
		vs, _ := mapping.FromV2(m)
		doc, _ := V2ToBundle(m)
		if len(vs) == 0 {
			if doc != nil {
				t.Errorf("%s: no orders, but V2ToBundle wrote a Bundle", name)
			}
			continue
		}
		got, issues := FromFHIR(doc)
		if len(got) != len(vs) {
			t.Fatalf("%s: FromFHIR(V2ToBundle) = %d orders, want %d (%v)", name, len(got), len(vs), issues)
		}
		for i, v := range vs {
			want := fhirView(v, controlRequestStatus(v.Control))
			if diff := cmp.Diff(want, got[i].Order, orderCmp); diff != "" {
				t.Errorf("%s order %d: v2 -> Bundle -> FromFHIR (-want +got):\n%s", name, i, diff)
			}
		}
	}
}

// TestToServiceRequest_Alone reads a ServiceRequest sent without its resources: the
// logical references carry the identifiers and names.
func TestToServiceRequest_Alone(t *testing.T) {
	vs := v2Orders(t)["orm_o01_v251_radiology.hl7"]
	if len(vs) != 1 {
		t.Fatal("orm_o01_v251_radiology.hl7: want one order")
	}
	o := vs[0].Order
	sr := ToServiceRequest(o)
	got, _ := FromFHIRServiceRequest(sr)
	checks := []struct {
		field     string
		got, want any
	}{
		{"Placer", got.Placer, o.Placer},
		{"Accession", got.Accession, o.Accession},
		{"PlacerGroup", got.PlacerGroup, o.PlacerGroup},
		{"Patient.Identifiers[0]", got.Patient.Identifiers[0], o.Patient.Identifiers[0]},
		{"Patient.Family", got.Patient.Family, o.Patient.Family},
		{"Patient.Given", got.Patient.Given, o.Patient.Given},
		{"Provider.NPI", got.Provider.NPI, o.Provider.NPI},
		{"Provider.Family", got.Provider.Family, o.Provider.Family},
		{"Procedure.Code", got.Procedure.Code, o.Procedure.Code},
		{"Procedure.CPT", got.Procedure.CPT, o.Procedure.CPT},
		{"Procedure.Modality", got.Procedure.Modality, o.Procedure.Modality},
		{"Procedure.BodySite", got.Procedure.BodySite, o.Procedure.BodySite},
		{"Diagnoses", len(got.Diagnoses), len(o.Diagnoses)},
		{"Reason", got.Reason, o.Reason},
		{"Priority", got.Priority, o.Priority},
		{"Authored", got.Authored.Equal(o.Authored), true},
		{"Coverage[0].MemberID", got.Coverage[0].MemberID, o.Coverage[0].MemberID},
		{"Authorization.Number", got.Authorization.Number, o.Authorization.Number},
	}
	for _, c := range checks {
		if !cmp.Equal(c.got, c.want) {
			t.Errorf("FromFHIRServiceRequest(ToServiceRequest(o)).%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	if !strings.HasPrefix(o.Reason, "Low back pain") {
		t.Errorf("sample changed: Reason %q", o.Reason)
	}
}
