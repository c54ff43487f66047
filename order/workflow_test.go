package order

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOrder_Settle(t *testing.T) {
	errFinding := Finding{Code: "dx-missing", Severity: SeverityError, Location: "DG1-3"}
	warnFinding := Finding{Code: "reason-missing", Severity: SeverityWarning}
	tests := []struct {
		name      string
		findings  []Finding
		auth      Authorization
		want      Status
		wantAuth  AuthStatus
		wantCause string
	}{
		{name: "clean, no auth needed", want: StatusReady, wantAuth: AuthNotRequired,
			wantCause: "checks: 0 findings, authorization not-required"},
		{name: "warning only", findings: []Finding{warnFinding}, want: StatusReady, wantAuth: AuthNotRequired,
			wantCause: "checks: 1 finding, authorization not-required"},
		{name: "error finding", findings: []Finding{errFinding, warnFinding}, want: StatusIncomplete, wantAuth: AuthNotRequired,
			wantCause: "checks: 2 findings (1 error), authorization not-required"},
		{name: "errors and auth needed", findings: []Finding{errFinding, errFinding}, auth: Authorization{Required: true},
			want: StatusIncomplete, wantAuth: AuthPending,
			wantCause: "checks: 2 findings (2 errors), authorization pending"},
		{name: "auth needed", auth: Authorization{Required: true}, want: StatusPendingAuth, wantAuth: AuthPending,
			wantCause: "checks: 0 findings, authorization pending"},
		{name: "records required", auth: Authorization{Required: true, RecordsRequired: true},
			want: StatusPendingAuth, wantAuth: AuthPending, wantCause: "checks: 0 findings, authorization pending"},
		{name: "exempt", auth: Authorization{Required: true, Exempt: true}, want: StatusReady, wantAuth: AuthExempt,
			wantCause: "checks: 0 findings, authorization exempt"},
		{name: "number sent", auth: Authorization{Required: true, Number: "A1"}, want: StatusReady, wantAuth: AuthApproved,
			wantCause: "checks: 0 findings, authorization approved"},
		{name: "approved earlier", auth: Authorization{Required: true, Status: AuthApproved}, want: StatusReady,
			wantAuth: AuthApproved, wantCause: "checks: 0 findings, authorization approved"},
		{name: "denied earlier", auth: Authorization{Required: true, Status: AuthDenied, Number: "D1"}, want: StatusDenied,
			wantAuth: AuthDenied, wantCause: "checks: 0 findings, authorization denied"},
		{name: "was pending, no longer required", auth: Authorization{Status: AuthPending}, want: StatusReady,
			wantAuth: AuthNotRequired, wantCause: "checks: 0 findings, authorization not-required"},
		{name: "was pending, now exempt", auth: Authorization{Required: true, Exempt: true, Status: AuthPending},
			want: StatusReady, wantAuth: AuthExempt, wantCause: "checks: 0 findings, authorization exempt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := orderAt(StatusReceived)
			o.Findings, o.Authorization = tc.findings, tc.auth
			if err := o.Settle(t0, "", "msg-1"); err != nil {
				t.Fatalf("Settle() = %v", err)
			}
			if o.Status != tc.want || o.Authorization.Status != tc.wantAuth {
				t.Errorf("Settle(): status %q, auth %q; want %q, %q", o.Status, o.Authorization.Status, tc.want, tc.wantAuth)
			}
			want := Transition{At: t0, From: StatusReceived, To: tc.want, Cause: tc.wantCause, MessageID: "msg-1"}
			if got := o.History[len(o.History)-1]; got != want {
				t.Errorf("Settle() recorded %+v, want %+v", got, want)
			}
		})
	}
}

func TestOrder_Settle_cause(t *testing.T) {
	o := orderAt(StatusReceived)
	if err := o.Settle(t0, "checks: custom", ""); err != nil {
		t.Fatal(err)
	}
	if got := o.History[len(o.History)-1].Cause; got != "checks: custom" {
		t.Errorf("cause = %q, want the one given", got)
	}
}

func TestOrder_Settle_notReceived(t *testing.T) {
	for _, from := range allStatuses() {
		if from == StatusReceived {
			continue
		}
		t.Run(from.name(), func(t *testing.T) {
			o := orderAt(from)
			before := o.Clone()
			if err := o.Settle(t0, "", ""); !errors.Is(err, ErrIllegalTransition) {
				t.Fatalf("Settle() from %s = %v, want ErrIllegalTransition", from.name(), err)
			}
			if diff := cmp.Diff(before, o); diff != "" {
				t.Errorf("failed Settle changed the order:\n%s", diff)
			}
		})
	}
}

func TestOrder_DecideAuthorization(t *testing.T) {
	required := Authorization{Required: true, Status: AuthPending, Number: ""}
	tests := []struct {
		name       string
		from       Status
		auth       Authorization
		approved   bool
		number     string
		want       Status
		wantAuth   AuthStatus
		wantNumber string
		wantErr    bool
	}{
		{name: "approved", from: StatusPendingAuth, auth: required, approved: true, number: "A1",
			want: StatusReady, wantAuth: AuthApproved, wantNumber: "A1"},
		{name: "approved without number", from: StatusPendingAuth, auth: required, approved: true,
			want: StatusReady, wantAuth: AuthApproved},
		{name: "denied", from: StatusPendingAuth, auth: required, number: "D1",
			want: StatusDenied, wantAuth: AuthDenied, wantNumber: "D1"},
		{name: "incomplete, approved", from: StatusIncomplete, auth: required, approved: true, number: "A2",
			want: StatusIncomplete, wantAuth: AuthApproved, wantNumber: "A2"},
		{name: "incomplete, denied", from: StatusIncomplete, auth: required,
			want: StatusIncomplete, wantAuth: AuthDenied},
		{name: "incomplete, not required", from: StatusIncomplete, auth: Authorization{Status: AuthNotRequired}, approved: true,
			want: StatusIncomplete, wantAuth: AuthNotRequired, wantErr: true},
		{name: "incomplete, exempt", from: StatusIncomplete, auth: Authorization{Required: true, Exempt: true, Status: AuthExempt},
			approved: true, want: StatusIncomplete, wantAuth: AuthExempt, wantErr: true},
		{name: "ready", from: StatusReady, auth: required, approved: true, want: StatusReady, wantAuth: AuthPending, wantErr: true},
		{name: "denied already", from: StatusDenied, auth: required, approved: true, want: StatusDenied, wantAuth: AuthPending, wantErr: true},
		{name: "received", from: StatusReceived, auth: required, approved: true, want: StatusReceived, wantAuth: AuthPending, wantErr: true},
		{name: "on hold", from: StatusOnHold, auth: required, approved: true, want: StatusOnHold, wantAuth: AuthPending, wantErr: true},
	}
	at := t0.Add(48 * time.Hour)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := orderAt(tc.from)
			o.Authorization = tc.auth
			before := o.Clone()
			err := o.DecideAuthorization(tc.approved, tc.number, at, "api-1")
			if tc.wantErr {
				if !errors.Is(err, ErrIllegalTransition) {
					t.Fatalf("DecideAuthorization() from %s = %v, want ErrIllegalTransition", tc.from, err)
				}
				if diff := cmp.Diff(before, o); diff != "" {
					t.Errorf("failed DecideAuthorization changed the order:\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecideAuthorization() = %v", err)
			}
			a := o.Authorization
			if o.Status != tc.want || a.Status != tc.wantAuth || a.Number != tc.wantNumber || !a.Decided.Equal(at) {
				t.Errorf("DecideAuthorization(): status %q, auth %+v; want %q, %q, number %q, decided %v",
					o.Status, a, tc.want, tc.wantAuth, tc.wantNumber, at)
			}
			cause := "authorization denied"
			if tc.approved {
				cause = "authorization approved"
			}
			want := Transition{At: at, From: tc.from, To: tc.want, Cause: cause, MessageID: "api-1"}
			if got := o.History[len(o.History)-1]; got != want {
				t.Errorf("recorded %+v, want %+v", got, want)
			}
		})
	}
}

// An approval recorded while the order is incomplete stands when the corrected order
// (XO) is checked again.
func TestOrder_DecideAuthorization_survivesChange(t *testing.T) {
	o := orderAt(StatusReceived)
	o.Authorization = Authorization{Required: true}
	o.Findings = []Finding{{Severity: SeverityError}}
	if err := o.Settle(t0, "", "m1"); err != nil {
		t.Fatal(err)
	}
	if err := o.DecideAuthorization(true, "A9", t0, "api"); err != nil {
		t.Fatal(err)
	}
	if err := o.ApplyControl(Control{Code: "XO"}, t0, "m2"); err != nil {
		t.Fatal(err)
	}
	o.Findings = nil
	if err := o.Settle(t0, "", "m2"); err != nil {
		t.Fatal(err)
	}
	if o.Status != StatusReady || o.Authorization.Status != AuthApproved {
		t.Errorf("after XO and Settle: status %q, auth %q; want ready, approved", o.Status, o.Authorization.Status)
	}
}

func TestOrder_AddResult_fromStatus(t *testing.T) {
	tests := []struct {
		from    Status
		want    Status
		wantErr bool
	}{
		{from: StatusNew, want: StatusNew, wantErr: true},
		{from: StatusReceived, want: StatusReceived, wantErr: true},
		{from: StatusIncomplete, want: StatusResulted},
		{from: StatusPendingAuth, want: StatusResulted},
		{from: StatusReady, want: StatusResulted},
		{from: StatusInProgress, want: StatusResulted},
		{from: StatusResulted, want: StatusResulted},
		{from: StatusDelivered, want: StatusResulted},
		{from: StatusOnHold, want: StatusResulted},
		{from: StatusDenied, want: StatusResulted},
		{from: StatusCancelled, want: StatusCancelled, wantErr: true},
		{from: StatusEnteredInError, want: StatusEnteredInError, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.from.name(), func(t *testing.T) {
			o := orderAt(tc.from)
			before := o.Clone()
			err := o.AddResult(Result{ID: "R1", Status: ResultFinal}, t0, "oru-1")
			if o.Status != tc.want {
				t.Errorf("AddResult() from %s: status %q, want %q", tc.from.name(), o.Status, tc.want)
			}
			if tc.wantErr {
				if !errors.Is(err, ErrIllegalTransition) {
					t.Errorf("AddResult() from %s = %v, want ErrIllegalTransition", tc.from.name(), err)
				}
				if diff := cmp.Diff(before, o); diff != "" {
					t.Errorf("failed AddResult changed the order:\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("AddResult() from %s = %v", tc.from.name(), err)
			}
			if len(o.Results) != 1 || o.Results[0].MessageID != "oru-1" {
				t.Errorf("Results = %+v, want one result from oru-1", o.Results)
			}
			if got := o.History[len(o.History)-1].Cause; got != "result final R1" {
				t.Errorf("cause = %q, want %q", got, "result final R1")
			}
		})
	}
}

func TestOrder_AddResult_sequence(t *testing.T) {
	type step struct {
		id      string
		status  ResultStatus
		want    Status // order status after the step
		wantErr error
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "P F C", steps: []step{
			{id: "R1", status: ResultPreliminary, want: StatusResulted},
			{id: "R1", status: ResultFinal, want: StatusResulted},
			{id: "R1", status: ResultCorrected, want: StatusResulted},
		}},
		{name: "P P F", steps: []step{
			{id: "R1", status: ResultPreliminary, want: StatusResulted},
			{id: "R1", status: ResultPreliminary, want: StatusResulted},
			{id: "R1", status: ResultFinal, want: StatusResulted},
		}},
		{name: "C without original", steps: []step{
			{id: "R1", status: ResultCorrected, want: StatusResulted},
		}},
		{name: "F F", steps: []step{
			{id: "R1", status: ResultFinal, want: StatusResulted},
			{id: "R1", status: ResultFinal, want: StatusResulted},
		}},
		{name: "P after F", steps: []step{
			{id: "R1", status: ResultFinal, want: StatusResulted},
			{id: "R1", status: ResultPreliminary, want: StatusResulted, wantErr: ErrInvalidResult},
		}},
		{name: "P after C", steps: []step{
			{id: "R1", status: ResultCorrected, want: StatusResulted},
			{id: "R1", status: ResultPreliminary, want: StatusResulted, wantErr: ErrInvalidResult},
		}},
		{name: "X after F", steps: []step{
			{id: "R1", status: ResultFinal, want: StatusResulted},
			{id: "R1", status: ResultCancelled, want: StatusResulted, wantErr: ErrInvalidResult},
		}},
		{name: "X after P", steps: []step{
			{id: "R1", status: ResultPreliminary, want: StatusResulted},
			{id: "R1", status: ResultCancelled, want: StatusResulted, wantErr: ErrIllegalTransition},
		}},
		{name: "P of another report after F", steps: []step{
			{id: "R1", status: ResultFinal, want: StatusResulted},
			{id: "R2", status: ResultPreliminary, want: StatusResulted},
		}},
		{name: "P after F without ids", steps: []step{
			{status: ResultFinal, want: StatusResulted},
			{status: ResultPreliminary, want: StatusResulted},
		}},
		{name: "X first cancels", steps: []step{
			{id: "R1", status: ResultCancelled, want: StatusCancelled},
			{id: "R1", status: ResultFinal, want: StatusCancelled, wantErr: ErrIllegalTransition},
		}},
		{name: "retraction", steps: []step{
			{id: "R1", status: ResultFinal, want: StatusResulted},
			{id: "R1", status: ResultEnteredInError, want: StatusResulted},
			{id: "R1", status: ResultCorrected, want: StatusResulted, wantErr: ErrInvalidResult},
		}},
		{name: "retraction of nothing", steps: []step{
			{id: "R1", status: ResultEnteredInError, want: StatusReady, wantErr: ErrInvalidResult},
		}},
		{name: "retraction without id", steps: []step{
			{status: ResultFinal, want: StatusResulted},
			{status: ResultEnteredInError, want: StatusResulted, wantErr: ErrInvalidResult},
		}},
		{name: "unknown status", steps: []step{
			{id: "R1", status: "amended", want: StatusReady, wantErr: ErrInvalidResult},
		}},
		{name: "no status", steps: []step{
			{id: "R1", want: StatusReady, wantErr: ErrInvalidResult},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := orderAt(StatusReady)
			kept := 0
			for i, s := range tc.steps {
				err := o.AddResult(Result{ID: s.id, Status: s.status}, t0, "")
				if !errors.Is(err, s.wantErr) {
					t.Fatalf("step %d: AddResult(%s %s) = %v, want %v", i, s.id, s.status, err, s.wantErr)
				}
				if err == nil {
					kept++
				}
				if o.Status != s.want {
					t.Errorf("step %d: status %q, want %q", i, o.Status, s.want)
				}
			}
			if len(o.Results) != kept {
				t.Errorf("len(Results) = %d, want %d (every accepted version kept)", len(o.Results), kept)
			}
		})
	}
}

func TestOrder_AddResult_deliveryCycle(t *testing.T) {
	o := orderAt(StatusReady)
	steps := []struct {
		name string
		do   func() error
		want Status
	}{
		{name: "preliminary", do: func() error { return o.AddResult(Result{ID: "R1", Status: ResultPreliminary}, t0, "m1") }, want: StatusResulted},
		{name: "deliver", do: func() error { return o.MarkDelivered(t0, "", "out-1") }, want: StatusDelivered},
		{name: "final", do: func() error { return o.AddResult(Result{ID: "R1", Status: ResultFinal}, t0, "m2") }, want: StatusResulted},
		{name: "deliver final", do: func() error { return o.MarkDelivered(t0, "", "out-2") }, want: StatusDelivered},
		{name: "corrected", do: func() error { return o.AddResult(Result{ID: "R1", Status: ResultCorrected}, t0, "m3") }, want: StatusResulted},
		{name: "deliver correction", do: func() error { return o.MarkDelivered(t0, "", "out-3") }, want: StatusDelivered},
		{name: "receipt again", do: func() error { return o.MarkDelivered(t0, "", "out-3") }, want: StatusDelivered},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if o.Status != s.want {
			t.Fatalf("%s: status %q, want %q", s.name, o.Status, s.want)
		}
	}
	if got, want := len(o.History), 1+6; got != want {
		t.Errorf("History has %d entries, want %d (a repeated receipt records nothing)", got, want)
	}
	if got := o.CurrentResults(); len(got) != 1 || got[0].Status != ResultCorrected || got[0].MessageID != "m3" {
		t.Errorf("CurrentResults() = %+v, want the corrected version only", got)
	}
}

func TestOrder_AddResult_copies(t *testing.T) {
	o := orderAt(StatusReady)
	r := Result{
		ID: "R1", Status: ResultFinal, MessageID: "orig",
		Observations: []Observation{{Value: "a"}},
		Presented:    []Attachment{{Data: []byte("pdf")}},
	}
	if err := o.AddResult(r, t0, "m1"); err != nil {
		t.Fatal(err)
	}
	r.Observations[0].Value = "changed"
	r.Presented[0].Data[0] = 'X'
	got := o.Results[0]
	if got.Observations[0].Value != "a" || string(got.Presented[0].Data) != "pdf" {
		t.Errorf("AddResult kept the caller's slices: %+v", got)
	}
	if got.MessageID != "orig" {
		t.Errorf("MessageID = %q, want the result's own %q", got.MessageID, "orig")
	}
}

func TestOrder_CurrentResults(t *testing.T) {
	o := &Order{Results: []Result{
		{ID: "R1", Status: ResultPreliminary},
		{ID: "R2", Status: ResultPreliminary},
		{Status: ResultFinal, Text: "a"},
		{ID: "R1", Status: ResultFinal},
		{Status: ResultFinal, Text: "b"},
		{ID: "R2", Status: ResultEnteredInError},
	}}
	want := []Result{
		{ID: "R1", Status: ResultFinal},
		{ID: "R2", Status: ResultEnteredInError},
		{Status: ResultFinal, Text: "a"},
		{Status: ResultFinal, Text: "b"},
	}
	if diff := cmp.Diff(want, o.CurrentResults()); diff != "" {
		t.Errorf("CurrentResults() (-want +got):\n%s", diff)
	}
	if got := (&Order{}).CurrentResults(); got != nil {
		t.Errorf("CurrentResults() of no results = %v, want nil", got)
	}
}

func TestOrder_MarkDelivered(t *testing.T) {
	tests := []struct {
		from     Status
		want     Status
		recorded bool
		wantErr  bool
	}{
		{from: StatusResulted, want: StatusDelivered, recorded: true},
		{from: StatusDelivered, want: StatusDelivered},
		{from: StatusReady, want: StatusReady, wantErr: true},
		{from: StatusInProgress, want: StatusInProgress, wantErr: true},
		{from: StatusCancelled, want: StatusCancelled, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.from.name(), func(t *testing.T) {
			o := orderAt(tc.from)
			n := len(o.History)
			err := o.MarkDelivered(t0, "", "out-1")
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrIllegalTransition)) {
				t.Fatalf("MarkDelivered() from %s = %v, wantErr %v", tc.from, err, tc.wantErr)
			}
			if o.Status != tc.want {
				t.Errorf("status %q, want %q", o.Status, tc.want)
			}
			if tc.recorded {
				if got := o.History[len(o.History)-1]; got.Cause != "results delivered" || got.MessageID != "out-1" {
					t.Errorf("recorded %+v", got)
				}
			} else if len(o.History) != n {
				t.Errorf("History grew by %d, want 0", len(o.History)-n)
			}
		})
	}
}
