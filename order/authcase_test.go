package order

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAuthStatus_Decided(t *testing.T) {
	decided := map[AuthStatus]bool{AuthApproved: true, AuthPartiallyApproved: true, AuthOverturned: true,
		AuthDenied: true, AuthUpheld: true}
	authorizes := map[AuthStatus]bool{AuthApproved: true, AuthPartiallyApproved: true, AuthOverturned: true}
	for _, s := range []AuthStatus{AuthNotEvaluated, AuthNotRequired, AuthExempt, AuthUndetermined, AuthPending,
		AuthApproved, AuthDenied, AuthSubmitted, AuthPended, AuthPartiallyApproved, AuthAppealed, AuthOverturned,
		AuthUpheld, AuthCancelled, AuthExpired} {
		if got := s.Decided(); got != decided[s] {
			t.Errorf("%q.Decided() = %v, want %v", s, got, decided[s])
		}
		if got := s.Authorizes(); got != authorizes[s] {
			t.Errorf("%q.Authorizes() = %v, want %v", s, got, authorizes[s])
		}
	}
}

func TestOrder_RecordDecision(t *testing.T) {
	required := Authorization{Required: true, Status: AuthPended}
	appealed := Authorization{Required: true, Status: AuthAppealed, DecisionReason: "not medically necessary"}
	from := t0.Add(time.Hour)
	to := t0.Add(30 * 24 * time.Hour)
	tests := []struct {
		name     string
		status   Status
		auth     Authorization
		d        Decision
		want     Status
		wantAuth AuthStatus
		wantErr  bool
	}{
		{name: "approved", status: StatusPendingAuth, auth: required,
			d: Decision{Status: AuthApproved, Number: "AUTH1", ValidFrom: from, ValidTo: to}, want: StatusReady, wantAuth: AuthApproved},
		{name: "partially approved", status: StatusPendingAuth, auth: required,
			d: Decision{Status: AuthPartiallyApproved, Number: "AUTH2", Reason: "fewer units"}, want: StatusReady, wantAuth: AuthPartiallyApproved},
		{name: "denied", status: StatusPendingAuth, auth: required,
			d: Decision{Status: AuthDenied, Reason: "not medically necessary"}, want: StatusDenied, wantAuth: AuthDenied},
		{name: "overturned", status: StatusPendingAuth, auth: appealed,
			d: Decision{Status: AuthOverturned, Number: "AUTH3"}, want: StatusReady, wantAuth: AuthOverturned},
		{name: "upheld", status: StatusPendingAuth, auth: appealed,
			d: Decision{Status: AuthUpheld, Reason: "criteria not met"}, want: StatusDenied, wantAuth: AuthUpheld},
		{name: "incomplete stays incomplete", status: StatusIncomplete, auth: required,
			d: Decision{Status: AuthApproved}, want: StatusIncomplete, wantAuth: AuthApproved},
		{name: "overturned without appeal", status: StatusPendingAuth, auth: required,
			d: Decision{Status: AuthOverturned}, wantErr: true},
		{name: "approved under appeal", status: StatusPendingAuth, auth: appealed,
			d: Decision{Status: AuthApproved}, wantErr: true},
		{name: "not a decision", status: StatusPendingAuth, auth: required,
			d: Decision{Status: AuthPended}, wantErr: true},
		{name: "ready", status: StatusReady, auth: Authorization{Required: true, Status: AuthApproved},
			d: Decision{Status: AuthDenied}, wantErr: true},
	}
	at := t0.Add(48 * time.Hour)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := orderAt(tc.status)
			o.Authorization = tc.auth
			o.Authorization.NextInquiry = t0
			before := o.Clone()
			err := o.RecordDecision(tc.d, at, "msg-5")
			if tc.wantErr {
				var te *TransitionError
				if !errors.As(err, &te) || !errors.Is(err, ErrIllegalTransition) {
					t.Fatalf("RecordDecision(%+v) = %v, want *TransitionError", tc.d, err)
				}
				if diff := cmp.Diff(before, o); diff != "" {
					t.Errorf("failed RecordDecision changed the order (-before +after):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("RecordDecision(%+v) = %v", tc.d, err)
			}
			a := o.Authorization
			if o.Status != tc.want || a.Status != tc.wantAuth || !a.Decided.Equal(at) || !a.NextInquiry.IsZero() {
				t.Errorf("RecordDecision: status %q, auth %+v; want %q, %q, decided %v, no inquiry", o.Status, a, tc.want, tc.wantAuth, at)
			}
			if a.Number != tc.d.Number || !a.ValidFrom.Equal(tc.d.ValidFrom) || !a.ValidTo.Equal(tc.d.ValidTo) || a.DecisionReason != tc.d.Reason {
				t.Errorf("RecordDecision recorded %+v, want the number, validity and reason of %+v", a, tc.d)
			}
			want := Transition{At: at, From: tc.status, To: tc.want, Cause: "authorization " + string(tc.d.Status), MessageID: "msg-5"}
			if got := o.History[len(o.History)-1]; got != want {
				t.Errorf("recorded %+v, want %+v", got, want)
			}
		})
	}
}

func TestOrder_RecordAuthorization(t *testing.T) {
	for _, s := range []AuthStatus{AuthSubmitted, AuthPended, AuthPending} {
		o := orderAt(StatusPendingAuth)
		if err := o.RecordAuthorization(s, t0, "payer acme: "+string(s), "msg-1"); err != nil {
			t.Fatalf("RecordAuthorization(%q) = %v", s, err)
		}
		last := o.History[len(o.History)-1]
		if o.Status != StatusPendingAuth || o.Authorization.Status != s || last.From != StatusPendingAuth ||
			last.To != StatusPendingAuth || last.Cause != "payer acme: "+string(s) {
			t.Errorf("RecordAuthorization(%q): order %q, auth %q, last %+v", s, o.Status, o.Authorization.Status, last)
		}
	}
	for _, tc := range []struct {
		status Status
		auth   AuthStatus
	}{{StatusReady, AuthSubmitted}, {StatusPendingAuth, AuthApproved}, {StatusDenied, AuthPended}} {
		o := orderAt(tc.status)
		before := o.Clone()
		if err := o.RecordAuthorization(tc.auth, t0, "x", ""); !errors.Is(err, ErrIllegalTransition) {
			t.Errorf("RecordAuthorization(%q) on %s = %v, want ErrIllegalTransition", tc.auth, tc.status, err)
		}
		if diff := cmp.Diff(before, o); diff != "" {
			t.Errorf("failed RecordAuthorization changed the order:\n%s", diff)
		}
	}
}

func TestOrder_Appeal(t *testing.T) {
	for _, s := range []AuthStatus{AuthDenied, AuthUpheld} {
		o := orderAt(StatusDenied)
		o.Authorization = Authorization{Required: true, Status: s, DecisionReason: "criteria not met"}
		if err := o.Appeal(t0, "", "api"); err != nil {
			t.Fatalf("Appeal from %q = %v", s, err)
		}
		if o.Status != StatusPendingAuth || o.Authorization.Status != AuthAppealed || o.Authorization.DenialReason != "criteria not met" ||
			o.History[len(o.History)-1].Cause != "appeal started" {
			t.Errorf("Appeal from %q: %q, %q, %+v", s, o.Status, o.Authorization.Status, o.History[len(o.History)-1])
		}
	}
	for _, tc := range []struct {
		status Status
		auth   AuthStatus
	}{{StatusPendingAuth, AuthPended}, {StatusDenied, AuthApproved}, {StatusReady, AuthApproved}, {StatusCancelled, AuthDenied}} {
		o := orderAt(tc.status)
		o.Authorization.Status = tc.auth
		before := o.Clone()
		if err := o.Appeal(t0, "", ""); !errors.Is(err, ErrIllegalTransition) {
			t.Errorf("Appeal on %s/%s = %v, want ErrIllegalTransition", tc.status, tc.auth, err)
		}
		if diff := cmp.Diff(before, o); diff != "" {
			t.Errorf("failed Appeal changed the order:\n%s", diff)
		}
	}
}

func TestOrder_ExpireAuthorization(t *testing.T) {
	o := orderAt(StatusReady)
	o.Authorization = Authorization{Required: true, Status: AuthApproved, Number: "AUTH1", ValidTo: t0}
	if err := o.ExpireAuthorization(t0.Add(25*time.Hour), "", ""); err != nil {
		t.Fatal(err)
	}
	a := o.Authorization
	if o.Status != StatusPendingAuth || a.Status != AuthExpired || a.Number != "" || !a.Outstanding() {
		t.Errorf("after ExpireAuthorization: %q, %+v; want pending-authorization, expired, no number, outstanding", o.Status, a)
	}
	if got := o.History[len(o.History)-1].Cause; got != "authorization AUTH1 expired" {
		t.Errorf("cause %q, want %q", got, "authorization AUTH1 expired")
	}
	for _, tc := range []struct {
		status Status
		auth   AuthStatus
	}{{StatusInProgress, AuthApproved}, {StatusReady, AuthNotRequired}, {StatusPendingAuth, AuthApproved}} {
		o := orderAt(tc.status)
		o.Authorization.Status = tc.auth
		before := o.Clone()
		if err := o.ExpireAuthorization(t0, "", ""); !errors.Is(err, ErrIllegalTransition) {
			t.Errorf("ExpireAuthorization on %s/%s = %v, want ErrIllegalTransition", tc.status, tc.auth, err)
		}
		if diff := cmp.Diff(before, o); diff != "" {
			t.Errorf("failed ExpireAuthorization changed the order:\n%s", diff)
		}
	}
}

func TestAuthorization_Keep(t *testing.T) {
	decided := Authorization{Required: true, Status: AuthPartiallyApproved, Number: "AUTH1", Decided: t0,
		ValidFrom: t0, ValidTo: t0.Add(time.Hour), DecisionReason: "fewer units",
		Payer: "acme", Claim: "ord-1-1", Attempt: 1, Submitted: t0, ReviewAction: "A2", Response: "ClaimResponse/ord-1-1/_history/1"}
	fresh := Authorization{Required: true, Reason: "CPT 70553 requires prior authorization"}

	got := fresh
	got.Keep(decided)
	want := decided
	want.Reason = fresh.Reason
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Keep(decided) (-want +got):\n%s", diff)
	}

	// A number sent with the change wins over the decision; the case is still kept.
	got = fresh
	got.Number = "NEW"
	got.Keep(decided)
	if got.Status != "" || got.Number != "NEW" || got.Claim != "ord-1-1" || got.Attempt != 1 {
		t.Errorf("Keep with a new number = %+v", got)
	}

	// An open case (pended) is not carried as a status: the order is settled afresh.
	pended := decided
	pended.Status, pended.Number = AuthPended, ""
	got = fresh
	got.Keep(pended)
	if got.Status != "" || got.Number != "" || got.DecisionReason != "" || got.Claim != "ord-1-1" || got.Payer != "acme" {
		t.Errorf("Keep(pended) = %+v", got)
	}
}

// A decision stands through Settle whatever it is; upheld settles denied.
func TestOrder_Settle_decisionsStand(t *testing.T) {
	for _, tc := range []struct {
		auth AuthStatus
		want Status
	}{{AuthPartiallyApproved, StatusReady}, {AuthOverturned, StatusReady}, {AuthUpheld, StatusDenied}} {
		o := orderAt(StatusReceived)
		o.Authorization = Authorization{Required: true, Status: tc.auth}
		if err := o.Settle(t0, "", ""); err != nil {
			t.Fatal(err)
		}
		if o.Status != tc.want || o.Authorization.Status != tc.auth {
			t.Errorf("Settle with %q: %q, %q; want %q", tc.auth, o.Status, o.Authorization.Status, tc.want)
		}
	}
}

func TestAuthorization_Outstanding_caseStates(t *testing.T) {
	want := map[AuthStatus]bool{AuthPending: true, AuthSubmitted: true, AuthPended: true, AuthAppealed: true, AuthExpired: true}
	for _, s := range []AuthStatus{AuthPending, AuthSubmitted, AuthPended, AuthAppealed, AuthExpired,
		AuthPartiallyApproved, AuthOverturned, AuthUpheld, AuthCancelled} {
		a := Authorization{Required: true, Status: s}
		if got := a.Outstanding(); got != want[s] {
			t.Errorf("Outstanding() with status %q = %v, want %v", s, got, want[s])
		}
	}
}
