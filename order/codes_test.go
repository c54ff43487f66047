package order_test

import (
	"testing"

	"github.com/radbridge/radbridge/order"
)

func TestParseEncounterClass(t *testing.T) {
	tests := []struct {
		in     string
		want   order.EncounterClass
		wantOK bool
	}{
		{in: "emergency", want: order.ClassEmergency, wantOK: true},
		{in: "inpatient", want: order.ClassInpatient, wantOK: true},
		{in: "outpatient", want: order.ClassOutpatient, wantOK: true},
		{in: "urgent-care", want: order.ClassUrgentCare, wantOK: true},
		{in: "Urgent Care", want: order.ClassUrgentCare, wantOK: true},
		{in: "urgent_care", want: order.ClassUrgentCare, wantOK: true},
		{in: "ambulatory-surgery", want: order.ClassAmbulatorySurgery, wantOK: true},
		{in: "AMBULATORY SURGERY", want: order.ClassAmbulatorySurgery, wantOK: true},
		{in: "hospital-urgent-care", want: order.ClassHospitalUrgentCare, wantOK: true},
		{in: "Hospital Urgent Care", want: order.ClassHospitalUrgentCare, wantOK: true},
		// HL7 v2 PV1-2, table 0004
		{in: "E", want: order.ClassEmergency, wantOK: true},
		{in: "e", want: order.ClassEmergency, wantOK: true},
		{in: "I", want: order.ClassInpatient, wantOK: true},
		{in: "O", want: order.ClassOutpatient, wantOK: true},
		{in: "P", want: order.ClassOutpatient, wantOK: true},
		{in: "R", want: order.ClassOutpatient, wantOK: true},
		// B (obstetrics) names a service, not a setting: the v2-to-FHIR IG maps it to
		// no Encounter.class. It was read as inpatient, with no source for it.
		{in: "B", want: order.ClassUnknown, wantOK: true},
		{in: "U", want: order.ClassUnknown, wantOK: true},
		{in: "N", want: order.ClassUnknown, wantOK: true},
		{in: "C", want: order.ClassUnknown},
		// FHIR v3 ActCode
		{in: "EMER", want: order.ClassEmergency, wantOK: true},
		{in: "IMP", want: order.ClassInpatient, wantOK: true},
		{in: "ACUTE", want: order.ClassInpatient, wantOK: true},
		{in: "NONAC", want: order.ClassInpatient, wantOK: true},
		{in: "AMB", want: order.ClassOutpatient, wantOK: true},
		{in: "amb", want: order.ClassOutpatient, wantOK: true},
		{in: "SS", want: order.ClassAmbulatorySurgery, wantOK: true},
		{in: "OBSENC", want: order.ClassOutpatient, wantOK: true},
		{in: "PRENC", want: order.ClassOutpatient, wantOK: true},
		{in: "HH", want: order.ClassOutpatient, wantOK: true},
		{in: "FLD", want: order.ClassOutpatient, wantOK: true},
		{in: "VR", want: order.ClassOutpatient, wantOK: true},
		{in: "unknown", want: order.ClassUnknown, wantOK: true},
		{in: "UNK", want: order.ClassUnknown, wantOK: true},
		{in: "", want: order.ClassUnknown},
		{in: "hospice", want: order.ClassUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := order.ParseEncounterClass(tc.in)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("ParseEncounterClass(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestParsePriority(t *testing.T) {
	tests := []struct {
		in            string
		want          order.Priority
		wantOK        bool
		wantExpedited bool
	}{
		{in: "routine", want: order.PriorityRoutine, wantOK: true},
		{in: "urgent", want: order.PriorityUrgent, wantOK: true, wantExpedited: true},
		{in: "asap", want: order.PriorityASAP, wantOK: true, wantExpedited: true},
		{in: "STAT", want: order.PriorityStat, wantOK: true, wantExpedited: true},
		{in: "S", want: order.PriorityStat, wantOK: true, wantExpedited: true},
		{in: "A", want: order.PriorityASAP, wantOK: true, wantExpedited: true},
		{in: "R", want: order.PriorityRoutine, wantOK: true},
		{in: "r", want: order.PriorityRoutine, wantOK: true},
		{in: "T", want: order.PriorityUrgent, wantOK: true, wantExpedited: true},
		{in: "P", want: order.PriorityUrgent, wantOK: true, wantExpedited: true},
		{in: "C", want: order.PriorityRoutine, wantOK: true},
		{in: "PRN", want: order.PriorityRoutine, wantOK: true},
		{in: "", want: order.PriorityUnset},
		{in: "whenever", want: order.PriorityUnset},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := order.ParsePriority(tc.in)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("ParsePriority(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
			if got.Expedited() != tc.wantExpedited {
				t.Errorf("%q.Expedited() = %v, want %v", got, got.Expedited(), tc.wantExpedited)
			}
		})
	}
}

func TestDiagnosis_IsICD10CM(t *testing.T) {
	tests := []struct {
		system string
		want   bool
	}{
		{system: "I10", want: true},
		{system: "i10c", want: true},
		{system: "ICD10", want: true},
		{system: "ICD-10", want: true},
		{system: "ICD-10-CM", want: true},
		{system: "ICD10CM", want: true},
		{system: "http://hl7.org/fhir/sid/icd-10-cm", want: true},
		{system: "HTTP://HL7.ORG/FHIR/SID/ICD-10-CM", want: true},
		{system: "urn:oid:2.16.840.1.113883.6.90", want: true},
		{system: "http://hl7.org/fhir/sid/icd-10"},
		{system: "I9"},
		{system: "I10P"},
		{system: "SNOMED"},
		{system: ""},
	}
	for _, tc := range tests {
		t.Run(tc.system, func(t *testing.T) {
			if got := (order.Diagnosis{Code: "R51.9", System: tc.system}).IsICD10CM(); got != tc.want {
				t.Errorf("Diagnosis{System: %q}.IsICD10CM() = %v, want %v", tc.system, got, tc.want)
			}
		})
	}
}

func TestProcedure_IsCPT(t *testing.T) {
	tests := []struct {
		system string
		want   bool
	}{
		{system: "CPT", want: true},
		{system: "C4", want: true},
		{system: "c5", want: true},
		{system: "CPT-4", want: true},
		{system: "http://www.ama-assn.org/go/cpt", want: true},
		{system: "urn:oid:2.16.840.1.113883.6.12", want: true},
		{system: "LN"},
		{system: "HCPCS"},
		{system: ""},
	}
	for _, tc := range tests {
		t.Run(tc.system, func(t *testing.T) {
			if got := (order.Procedure{Code: "70553", System: tc.system}).IsCPT(); got != tc.want {
				t.Errorf("Procedure{System: %q}.IsCPT() = %v, want %v", tc.system, got, tc.want)
			}
		})
	}
}

func TestParseResultStatus(t *testing.T) {
	tests := []struct {
		in     string
		want   order.ResultStatus
		wantOK bool
	}{
		{in: "P", want: order.ResultPreliminary, wantOK: true},
		{in: "A", want: order.ResultPreliminary, wantOK: true},
		{in: "R", want: order.ResultPreliminary, wantOK: true},
		{in: "partial", want: order.ResultPreliminary, wantOK: true},
		{in: "preliminary", want: order.ResultPreliminary, wantOK: true},
		{in: "F", want: order.ResultFinal, wantOK: true},
		{in: "f", want: order.ResultFinal, wantOK: true},
		{in: "U", want: order.ResultFinal, wantOK: true},
		{in: "final", want: order.ResultFinal, wantOK: true},
		{in: "C", want: order.ResultCorrected, wantOK: true},
		{in: "corrected", want: order.ResultCorrected, wantOK: true},
		{in: "amended", want: order.ResultCorrected, wantOK: true},
		{in: "appended", want: order.ResultCorrected, wantOK: true},
		{in: "X", want: order.ResultCancelled, wantOK: true},
		{in: "cancelled", want: order.ResultCancelled, wantOK: true},
		{in: "W", want: order.ResultEnteredInError, wantOK: true},
		{in: "D", want: order.ResultEnteredInError, wantOK: true},
		{in: "entered-in-error", want: order.ResultEnteredInError, wantOK: true},
		{in: "S"},
		{in: "O"},
		{in: "I"},
		{in: "Y"},
		{in: "registered"},
		{in: ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := order.ParseResultStatus(tc.in)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("ParseResultStatus(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestStatus_mappings(t *testing.T) {
	tests := []struct {
		status   order.Status
		terminal bool
		request  string
		task     string
	}{
		{status: order.StatusNew, request: "draft", task: "draft"},
		{status: order.StatusReceived, request: "active", task: "received"},
		{status: order.StatusIncomplete, request: "active", task: "received"},
		{status: order.StatusPendingAuth, request: "active", task: "received"},
		{status: order.StatusReady, request: "active", task: "accepted"},
		{status: order.StatusInProgress, request: "active", task: "in-progress"},
		{status: order.StatusResulted, request: "completed", task: "completed"},
		{status: order.StatusDelivered, terminal: true, request: "completed", task: "completed"},
		{status: order.StatusCancelled, terminal: true, request: "revoked", task: "cancelled"},
		{status: order.StatusOnHold, request: "on-hold", task: "on-hold"},
		{status: order.StatusDenied, terminal: true, request: "revoked", task: "rejected"},
		{status: order.StatusEnteredInError, terminal: true, request: "entered-in-error", task: "entered-in-error"},
		{status: "bogus", request: "unknown", task: "unknown"},
	}
	for _, tc := range tests {
		t.Run(string(tc.status), func(t *testing.T) {
			if got := tc.status.Terminal(); got != tc.terminal {
				t.Errorf("%q.Terminal() = %v, want %v", tc.status, got, tc.terminal)
			}
			if got := tc.status.ServiceRequestStatus(); got != tc.request {
				t.Errorf("%q.ServiceRequestStatus() = %q, want %q", tc.status, got, tc.request)
			}
			if got := tc.status.TaskStatus(); got != tc.task {
				t.Errorf("%q.TaskStatus() = %q, want %q", tc.status, got, tc.task)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	all := []order.Status{
		order.StatusReceived, order.StatusIncomplete, order.StatusPendingAuth, order.StatusReady, order.StatusInProgress,
		order.StatusResulted, order.StatusDelivered, order.StatusCancelled, order.StatusOnHold, order.StatusDenied,
		order.StatusEnteredInError,
	}
	for _, s := range all {
		if got, ok := order.ParseStatus(string(s)); got != s || !ok {
			t.Errorf("ParseStatus(%q) = %q, %v; want %q, true", s, got, ok, s)
		}
	}
	tests := []struct {
		in     string
		want   order.Status
		wantOK bool
	}{
		{in: " Pending-Authorization ", want: order.StatusPendingAuth, wantOK: true},
		{in: ""},
		{in: "new"},
		{in: "pending"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got, ok := order.ParseStatus(tc.in); got != tc.want || ok != tc.wantOK {
				t.Errorf("ParseStatus(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestAuthorization_Outstanding(t *testing.T) {
	tests := []struct {
		name string
		auth order.Authorization
		want bool
	}{
		{name: "not required", auth: order.Authorization{}, want: false},
		{name: "required", auth: order.Authorization{Required: true}, want: true},
		{name: "required, pending", auth: order.Authorization{Required: true, Status: order.AuthPending}, want: true},
		{name: "exempt", auth: order.Authorization{Required: true, Exempt: true}, want: false},
		{name: "number", auth: order.Authorization{Required: true, Number: "A1"}, want: false},
		{name: "approved", auth: order.Authorization{Required: true, Status: order.AuthApproved}, want: false},
		{name: "denied", auth: order.Authorization{Required: true, Status: order.AuthDenied}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.auth.Outstanding(); got != tc.want {
				t.Errorf("%+v.Outstanding() = %v, want %v", tc.auth, got, tc.want)
			}
		})
	}
}
