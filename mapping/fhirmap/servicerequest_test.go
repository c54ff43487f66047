package fhirmap

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/radbridge/radbridge/order"
)

// TestToFHIR_Sparse maps orders that know little or nothing: every resource must still
// validate and hold no empty element (required elements get data-absent-reason).
func TestToFHIR_Sparse(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		o    *order.Order
		r    order.Result
	}{
		{name: "zero order", o: &order.Order{}},
		{name: "placer only", o: &order.Order{Placer: "P1"}, r: order.Result{Status: order.ResultFinal, Issued: at}},
		{name: "coverage without payer, urgent care", o: &order.Order{ID: "o1", Placer: "P2",
			EncounterClass: order.ClassUrgentCare, Coverage: []order.Coverage{{MemberID: "M9"}, {}},
			Diagnoses: []order.Diagnosis{{Text: "cough"}}, Procedure: order.Procedure{CPT: "71046", Text: "chest"},
			Signature: order.Signature{Signer: "Someone Else", SignerNPI: "1234567893", Time: at, Present: true},
			Status:    order.StatusDenied, History: []order.Transition{{At: at, To: order.StatusDenied, Cause: "authorization denied"}},
			Findings:      []order.Finding{{Code: "missing-npi", Severity: order.SeverityError, Location: "ORC-12", FHIRPath: "ServiceRequest.requester", Text: "no NPI"}},
			Authorization: order.Authorization{Required: true, Status: order.AuthDenied}},
			r: order.Result{ID: "R1", Status: order.ResultCorrected, Issued: at,
				Observations: []order.Observation{{ValueType: "NM", Value: "abc"}, {ValueType: "CWE", Value: "^^"}, {ValueType: "ED"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs := map[string]any{"ServiceRequest": ToServiceRequest(tc.o), "Task": ToTask(tc.o)}
			dr, obs := ToDiagnosticReport(tc.o, tc.r)
			docs["DiagnosticReport"] = dr
			for i := range obs {
				docs["Observation"+strconv.Itoa(i)] = &obs[i]
			}
			for name, res := range docs {
				b, err := json.Marshal(res)
				if err != nil {
					t.Fatal(err)
				}
				checkFHIR(t, name, b)
			}
			sr, err := ServiceRequestJSON(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			checkFHIR(t, "ServiceRequestJSON", sr)
			got, _ := FromFHIR(sr)
			if len(got) != 1 || got[0].Order.Placer != tc.o.Placer || len(got[0].Order.Coverage) != len(tc.o.Coverage) {
				t.Errorf("FromFHIR(ServiceRequestJSON) = %+v", got)
			}
			if tc.o.Signature.Present && got[0].Order.Signature.Signer != tc.o.Signature.Signer {
				t.Errorf("signer %q, want %q", got[0].Order.Signature.Signer, tc.o.Signature.Signer)
			}
		})
	}
}

// TestServiceRequestRef_ClientID: an order whose client gave its ServiceRequest an id
// (PUT ServiceRequest/{id}) is referred to by that id from its Task and its
// DiagnosticReports, which keep the order's own ids.
func TestServiceRequestRef_ClientID(t *testing.T) {
	o := &order.Order{ID: "ord-3", Placer: "P1", Source: order.Source{Kind: order.SourceFHIR, ResourceID: "d765ef90-6bb0-11ed-a340-acde48001122"}}
	want := "ServiceRequest/d765ef90-6bb0-11ed-a340-acde48001122"
	task := ToTask(o)
	if len(task.BasedOn) != 1 || *task.BasedOn[0].Reference != want || *task.Focus.Reference != want || *task.Id != "ord-3" {
		t.Errorf("Task id %v basedOn %v focus %v, want ord-3 and %s", *task.Id, *task.BasedOn[0].Reference, *task.Focus.Reference, want)
	}
	data, _, _, err := DiagnosticReportJSON(o, order.Result{ID: "R1", Status: order.ResultFinal, Text: "normal"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var dr struct {
		ID      string `json:"id"`
		BasedOn []struct{ Reference string }
	}
	if err := json.Unmarshal(data, &dr); err != nil || len(dr.BasedOn) != 1 || dr.BasedOn[0].Reference != want || dr.ID != ReportID("ord-3", 1) {
		t.Errorf("DiagnosticReport %s, want id %s based on %s", data, ReportID("ord-3", 1), want)
	}
}

// The fulfillment Task names the prior-authorization case's status in its
// businessStatus text and notes the approval's validity and the payer's reason.
func TestToTask_authorizationCase(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		auth     order.Authorization
		status   order.Status
		wantText string
		wantNote string
	}{
		{auth: order.Authorization{Required: true, Status: order.AuthPending}, status: order.StatusPendingAuth,
			wantText: "pending-authorization (prior authorization required)", wantNote: "prior authorization pending"},
		{auth: order.Authorization{Required: true, Status: order.AuthPended}, status: order.StatusPendingAuth,
			wantText: "pending-authorization (prior authorization pended)", wantNote: "prior authorization pended"},
		{auth: order.Authorization{Required: true, Status: order.AuthApproved, Number: "AUTH1", ValidTo: at}, status: order.StatusReady,
			wantText: "ready (prior authorization approved)", wantNote: "prior authorization approved, number AUTH1, valid to 2026-03-01T10:00:00Z"},
		{auth: order.Authorization{Required: true, Status: order.AuthDenied, DecisionReason: "not medically necessary"}, status: order.StatusDenied,
			wantText: "denied (prior authorization denied)", wantNote: "prior authorization denied, reason: not medically necessary"},
		{status: order.StatusReady, wantText: "ready"},
	}
	for _, tc := range tests {
		tk := ToTask(&order.Order{ID: "ord-1", Status: tc.status, Authorization: tc.auth})
		if got := *tk.BusinessStatus.Text; got != tc.wantText || *tk.BusinessStatus.Coding[0].Code != string(tc.status) {
			t.Errorf("businessStatus %q (%s), want %q (%s)", got, *tk.BusinessStatus.Coding[0].Code, tc.wantText, tc.status)
		}
		var notes []string
		for _, n := range tk.Note {
			notes = append(notes, n.Text)
		}
		if tc.wantNote != "" && !slices.Contains(notes, tc.wantNote) {
			t.Errorf("notes %q lack %q", notes, tc.wantNote)
		}
	}
}
