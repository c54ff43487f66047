package order

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2025, 3, 4, 9, 30, 0, 0, time.UTC)

// fullOrder returns an order with every field set, so that JSON and Clone tests cover
// the whole model; TestFullOrder_everyFieldSet keeps it that way.
func fullOrder() *Order {
	return &Order{
		ID: "ord-1",
		Source: Source{
			Kind: SourceV2, SendingApp: "EPIC", SendingFacility: "HOSP_A",
			ReceivingApp: "RADBRIDGE", ReceivingFacility: "RAD", Version: "2.5.1",
			ClientID: "client-1", FHIRSource: "https://app.example.org", ResourceID: "d765ef90-6bb0-11ed-a340-acde48001122", MessageID: "msg-1",
		},
		Placer: "PL1234", Filler: "FL9", Accession: "ACC77", PlacerGroup: "GRP1",
		ControlCode: "NW",
		Patient: Patient{
			Identifiers: []Identifier{{Value: "MRN001", System: "HOSP_A", Type: "MR"}},
			Family:      "Testpatient", Given: "Alex", Middle: "Q",
			BirthDate: "1970-01-02", Sex: "female",
		},
		EncounterClass: ClassOutpatient,
		Setting: Setting{
			PointOfCare: "ED", Facility: "HOSP_A", FacilityID: "1234567893", AdmissionType: "E",
			HospitalService: "MED", PatientType: "ER", LocationCode: "ER",
			Start: t0.Add(-2 * time.Hour), End: t0.Add(6 * time.Hour),
		},
		Provider: Provider{
			NPI: "1234567893", ID: "D42", IDSystem: "HOSP_A", Family: "Doctor",
			Given: "Dana", Prefix: "Dr", Suffix: "MD",
		},
		Procedure: Procedure{
			Code: "70553", System: "CPT", CPT: "70553", Text: "MRI brain w/o & w/ contrast",
			Modality: "MR", BodySite: "Brain",
		},
		Performer: Facility{Name: "RAD", NPI: "1245319599"},
		Diagnoses: []Diagnosis{{Code: "G43.909", System: "I10", Text: "Migraine"}},
		Reason:    "headache",
		Priority:  PriorityRoutine,
		Requested: t0.Add(24 * time.Hour),
		Authored:  t0.Add(-time.Hour),
		Signature: Signature{
			Mode: "EL", Signer: "Doctor^Dana", SignerNPI: "1234567893",
			Time: t0.Add(-time.Hour), Present: true,
		},
		Coverage: []Coverage{{
			Payer: "P01", PayerName: "Acme Health", Plan: "Gold", PlanType: "HMO",
			MemberID: "M123", Group: "G9", Start: "2025-01-01", End: "2025-12-31",
		}},
		Eligibility: Eligibility{Status: EligibilityActive, Checked: t0, Payer: "P01", Detail: "in force"},
		Authorization: Authorization{
			Required: true, RecordsRequired: true, Exempt: true, Undetermined: true, PayerUnknown: true,
			Status: AuthApproved, Number: "AUTH1", CPT: "70553", DueBy: t0.Add(72 * time.Hour),
			Decided: t0.Add(time.Hour), ValidFrom: t0, ValidTo: t0.Add(30 * 24 * time.Hour),
			Reason: "CPT 70553 requires prior authorization",
			Payer:  "acme", Claim: "ord-1-2", Attempt: 2, OriginalClaim: "ord-1-1", Expedited: true,
			Submitted: t0, DecisionReason: "meets criteria",
			ReviewAction: "A1", Response: "ClaimResponse/ord-1-2/_history/1", NextInquiry: t0.Add(time.Hour),
			Appeal: "Task/ord-1-appeal-1", AppealBy: t0.Add(180 * 24 * time.Hour), DenialReason: "not medically necessary",
		},
		ReadyToSchedule: ReadyToSchedule{Ready: true, Reasons: []string{"coverage active", "authorization approved"}},
		Findings: []Finding{{
			Code: "reason-missing", Severity: SeverityWarning, Class: FindingMissing, Location: "OBR-31",
			FHIRPath: "ServiceRequest.reasonCode", Text: "no reason for exam",
		}},
		Results: []Result{{
			ID: "R1", Status: ResultFinal, Text: "No acute intracranial abnormality.",
			Observations: []Observation{{
				ID: "1", Code: "59776-5", System: "LN", Text: "Impression",
				ValueType: "TX", Value: "Normal", Units: "n/a", Status: "F",
			}},
			Interpreter: Provider{
				NPI: "1245319599", ID: "R7", IDSystem: "RIS", Family: "Reader",
				Given: "Rae", Prefix: "Dr", Suffix: "MD",
			},
			Issued:    t0.Add(2 * time.Hour),
			MessageID: "msg-2",
			Presented: []Attachment{{
				ContentType: "application/pdf", Title: "Report", Data: []byte("%PDF-1.4\x00\xff"),
			}},
		}},
		Status: StatusResulted,
		History: []Transition{{
			At: t0, From: StatusNew, To: StatusReceived, Cause: "ORC-1=NW", MessageID: "msg-1",
		}},
		Created: t0,
		Updated: t0.Add(2 * time.Hour),
	}
}

// TestFullOrder_everyFieldSet fails when a field is added to the model but not to
// fullOrder, which would leave it out of the JSON and Clone tests. The only fields
// allowed to be zero are a Transition's From (StatusNew is meaningful).
func TestOrder_ServiceRequestID(t *testing.T) {
	o := &Order{ID: "ord-7"}
	if got := o.ServiceRequestID(); got != "ord-7" {
		t.Errorf("ServiceRequestID() = %q, want the order ID", got)
	}
	o.Source.ResourceID = "d765ef90-6bb0-11ed-a340-acde48001122"
	if got := o.ServiceRequestID(); got != o.Source.ResourceID {
		t.Errorf("ServiceRequestID() = %q, want the client's %q", got, o.Source.ResourceID)
	}
}

func TestFullOrder_everyFieldSet(t *testing.T) {
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[time.Time]() {
				if v.Interface().(time.Time).IsZero() {
					t.Errorf("fullOrder: %s is zero", path)
				}
				return
			}
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if path == "Order.History[0]" && f.Name == "From" {
					continue
				}
				walk(path+"."+f.Name, v.Field(i))
			}
		case reflect.Slice:
			if v.Len() == 0 {
				t.Errorf("fullOrder: %s is empty", path)
			}
			if v.Type().Elem().Kind() == reflect.Struct {
				for i := range v.Len() {
					walk(path+"["+strconv.Itoa(i)+"]", v.Index(i))
				}
			}
		default:
			if v.IsZero() {
				t.Errorf("fullOrder: %s is zero", path)
			}
		}
	}
	walk("Order", reflect.ValueOf(fullOrder()).Elem())
}

func TestOrder_JSON_roundTrip(t *testing.T) {
	want := fullOrder()
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var got Order
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
	for _, key := range []string{
		`"placer_group"`, `"control_code"`, `"encounter_class"`, `"sending_facility"`,
		`"fhir_source"`, `"birth_date"`, `"signer_npi"`, `"member_id"`, `"records_required"`,
		`"due_by"`, `"fhir_path"`, `"value_type"`, `"presented_form"`, `"content_type"`,
		`"message_id"`, `"point_of_care"`, `"facility_id"`, `"admission_type"`, `"hospital_service"`,
		`"patient_type"`, `"location_code"`, `"performer"`, `"requested"`, `"eligibility"`,
		`"payer_unknown"`, `"valid_from"`, `"valid_to"`, `"ready_to_schedule"`, `"reasons"`,
	} {
		if !strings.Contains(string(b), key) {
			t.Errorf("Marshal(fullOrder()) has no key %s:\n%s", key, b)
		}
	}
}

func TestOrder_JSON_zeroOmitted(t *testing.T) {
	b, err := json.Marshal(&Order{})
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if got, want := string(b), "{}"; got != want {
		t.Errorf("Marshal(Order{}) = %s, want %s", got, want)
	}
}

func TestOrder_Clone_independent(t *testing.T) {
	orig := fullOrder()
	c := orig.Clone()
	if diff := cmp.Diff(orig, c); diff != "" {
		t.Fatalf("Clone differs (-orig +clone):\n%s", diff)
	}

	c.Patient.Identifiers[0].Value = "X"
	c.Diagnoses[0].Code = "X"
	c.Coverage[0].Payer = "X"
	c.Findings[0].Code = "X"
	c.ReadyToSchedule.Reasons[0] = "X"
	c.History[0].Cause = "X"
	c.Results[0].Text = "X"
	c.Results[0].Observations[0].Value = "X"
	c.Results[0].Presented[0].Title = "X"
	c.Results[0].Presented[0].Data[0] = 'X'
	c.Diagnoses = append(c.Diagnoses, Diagnosis{Code: "Y"})
	c.Results = append(c.Results, Result{ID: "Y"})
	c.Status = StatusDelivered

	if diff := cmp.Diff(fullOrder(), orig); diff != "" {
		t.Errorf("changing the clone changed the original (-want +got):\n%s", diff)
	}
}

func TestOrder_Clone_nilAndEmpty(t *testing.T) {
	var o *Order
	if got := o.Clone(); got != nil {
		t.Errorf("(*Order)(nil).Clone() = %v, want nil", got)
	}
	empty := &Order{}
	if diff := cmp.Diff(empty, empty.Clone()); diff != "" {
		t.Errorf("Order{}.Clone() differs:\n%s", diff)
	}
}

func TestOrder_Key(t *testing.T) {
	tests := []struct {
		name   string
		source Source
		placer string
		want   string
	}{
		{name: "v2", source: Source{Kind: SourceV2, SendingApp: "EPIC", SendingFacility: "HOSP_A"},
			placer: "PL1", want: "v2|HOSP_A|PL1"},
		{name: "v2 app does not matter", source: Source{Kind: SourceV2, SendingApp: "OTHER", SendingFacility: "HOSP_A"},
			placer: "PL1", want: "v2|HOSP_A|PL1"},
		{name: "fhir", source: Source{Kind: SourceFHIR, ClientID: "c1", FHIRSource: "https://app.example.org"},
			placer: "SR-9", want: "fhir|c1|https://app.example.org|SR-9"},
		{name: "fhir without meta.source", source: Source{Kind: SourceFHIR, ClientID: "c1"},
			placer: "SR-9", want: "fhir|c1||SR-9"},
		{name: "separators escaped", source: Source{Kind: SourceV2, SendingFacility: "A|B%"},
			placer: "P|1", want: "v2|A%7CB%25|P%7C1"},
		{name: "no placer", source: Source{Kind: SourceV2, SendingFacility: "HOSP_A"}, want: ""},
		{name: "no kind", source: Source{SendingFacility: "HOSP_A"}, placer: "PL1", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := &Order{Source: tc.source, Placer: tc.placer}
			if got := o.Key(); got != tc.want {
				t.Errorf("Key() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSource_Key_distinct(t *testing.T) {
	a := Source{Kind: SourceFHIR, ClientID: "a|b", FHIRSource: "c"}
	b := Source{Kind: SourceFHIR, ClientID: "a", FHIRSource: "b|c"}
	if a.Key() == b.Key() {
		t.Errorf("Key() of %+v and %+v are both %q", a, b, a.Key())
	}
}
