package order

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// allStatuses is every status including StatusNew.
func allStatuses() []Status { return append([]Status{StatusNew}, statuses()...) }

// orderAt returns an order in status s with a plausible history. An on-hold order was
// held from ready.
func orderAt(s Status) *Order {
	o := &Order{Status: s}
	if s == StatusNew {
		return o
	}
	o.Created = t0
	o.Updated = t0
	o.History = []Transition{{At: t0, From: StatusNew, To: StatusReceived, Cause: "ORC-1=NW"}}
	if s == StatusOnHold {
		o.History = append(o.History,
			Transition{At: t0, From: StatusReceived, To: StatusReady, Cause: "checks"},
			Transition{At: t0, From: StatusReady, To: StatusOnHold, Cause: "ORC-1=HD"})
	}
	return o
}

// wantLegal is the transition table of the package documentation, written out again
// independently of next so that a change to either one fails this test.
func wantLegal() map[Status][]Status {
	return map[Status][]Status{
		StatusNew: {StatusReceived},
		StatusReceived: {StatusReceived, StatusIncomplete, StatusPendingAuth, StatusReady,
			StatusDenied, StatusOnHold, StatusCancelled, StatusEnteredInError},
		StatusIncomplete: {StatusIncomplete, StatusReceived, StatusResulted, StatusOnHold,
			StatusCancelled, StatusEnteredInError},
		StatusPendingAuth: {StatusPendingAuth, StatusReceived, StatusReady, StatusDenied, StatusResulted,
			StatusOnHold, StatusCancelled, StatusEnteredInError},
		StatusReady: {StatusReceived, StatusPendingAuth, StatusInProgress, StatusResulted, StatusOnHold,
			StatusCancelled, StatusEnteredInError},
		StatusInProgress: {StatusResulted, StatusOnHold, StatusCancelled, StatusEnteredInError},
		StatusResulted:   {StatusResulted, StatusDelivered, StatusEnteredInError},
		StatusDelivered:  {StatusResulted, StatusEnteredInError},
		// on-hold: plus ready, the status orderAt held it from.
		StatusOnHold:         {StatusReceived, StatusResulted, StatusCancelled, StatusEnteredInError, StatusReady},
		StatusDenied:         {StatusPendingAuth, StatusResulted, StatusCancelled, StatusEnteredInError},
		StatusCancelled:      {StatusEnteredInError},
		StatusEnteredInError: nil,
	}
}

func TestOrder_Transition_everyPair(t *testing.T) {
	at := t0.Add(time.Minute)
	for _, from := range allStatuses() {
		for _, to := range append(allStatuses(), Status("bogus")) {
			legal := slices.Contains(wantLegal()[from], to)
			t.Run(from.name()+"->"+to.name(), func(t *testing.T) {
				o := orderAt(from)
				before := o.Clone()
				err := o.Transition(to, at, "test", "msg-9")
				if !legal {
					var te *TransitionError
					if !errors.As(err, &te) || !errors.Is(err, ErrIllegalTransition) {
						t.Fatalf("Transition(%s -> %s) = %v, want *TransitionError", from.name(), to.name(), err)
					}
					if te.From != from || te.To != to || te.Cause != "test" {
						t.Errorf("TransitionError = %+v, want From %q To %q Cause test", te, from, to)
					}
					if diff := cmp.Diff(before, o); diff != "" {
						t.Errorf("rejected Transition changed the order (-before +after):\n%s", diff)
					}
					return
				}
				if err != nil {
					t.Fatalf("Transition(%s -> %s) = %v, want nil", from.name(), to.name(), err)
				}
				want := Transition{At: at, From: from, To: to, Cause: "test", MessageID: "msg-9"}
				if got := o.History[len(o.History)-1]; got != want {
					t.Errorf("last History = %+v, want %+v", got, want)
				}
				if len(o.History) != len(before.History)+1 {
					t.Errorf("History grew by %d, want 1", len(o.History)-len(before.History))
				}
				if o.Status != to || !o.Updated.Equal(at) {
					t.Errorf("Status, Updated = %q, %v; want %q, %v", o.Status, o.Updated, to, at)
				}
			})
		}
	}
}

func TestNext_matchesDocumentedTable(t *testing.T) {
	for _, from := range allStatuses() {
		want := slices.DeleteFunc(wantLegal()[from], func(s Status) bool {
			return from == StatusOnHold && s == StatusReady // allowed through History, not the table
		})
		got := next(from)
		slices.Sort(got)
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("next(%s) (-want +got):\n%s", from.name(), diff)
		}
	}
}

func TestOrder_Transition_createdOnce(t *testing.T) {
	o := &Order{}
	if err := o.Transition(StatusReceived, t0, "ORC-1=NW", "m1"); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	if err := o.Transition(StatusReady, later, "checks", "m1"); err != nil {
		t.Fatal(err)
	}
	if !o.Created.Equal(t0) || !o.Updated.Equal(later) {
		t.Errorf("Created, Updated = %v, %v; want %v, %v", o.Created, o.Updated, t0, later)
	}
}

func TestOrder_Release(t *testing.T) {
	tests := []struct {
		name string
		from Status
	}{
		{name: "received", from: StatusReceived},
		{name: "incomplete", from: StatusIncomplete},
		{name: "pending authorization", from: StatusPendingAuth},
		{name: "ready", from: StatusReady},
		{name: "in progress", from: StatusInProgress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := orderAt(StatusReceived)
			o.Status, o.History = tc.from, append(o.History, Transition{From: StatusReceived, To: tc.from})
			if err := o.Transition(StatusOnHold, t0, "ORC-1=HD", "m2"); err != nil {
				t.Fatalf("hold from %s: %v", tc.from, err)
			}
			// Moving anywhere else that only a release allows is rejected.
			for _, s := range []Status{StatusReady, StatusInProgress, StatusIncomplete, StatusPendingAuth} {
				if s == tc.from {
					continue
				}
				if err := o.Clone().Transition(s, t0, "x", ""); !errors.Is(err, ErrIllegalTransition) {
					t.Errorf("held from %s: Transition(%s) = %v, want ErrIllegalTransition", tc.from, s, err)
				}
			}
			if err := o.Release(t0.Add(time.Minute), "ORC-1=RL", "m3"); err != nil {
				t.Fatalf("Release() = %v", err)
			}
			if o.Status != tc.from {
				t.Errorf("Release() status = %q, want %q", o.Status, tc.from)
			}
			last := o.History[len(o.History)-1]
			if last.From != StatusOnHold || last.To != tc.from || last.MessageID != "m3" {
				t.Errorf("last History = %+v", last)
			}
		})
	}
}

func TestOrder_Release_latestHold(t *testing.T) {
	o := orderAt(StatusOnHold) // held from ready
	if err := o.Release(t0, "ORC-1=RL", ""); err != nil {
		t.Fatal(err)
	}
	for _, to := range []Status{StatusInProgress, StatusOnHold} {
		if err := o.Transition(to, t0, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Release(t0, "ORC-1=RL", ""); err != nil {
		t.Fatal(err)
	}
	if o.Status != StatusInProgress {
		t.Errorf("after a second hold, Release() status = %q, want in-progress", o.Status)
	}
}

func TestOrder_Release_errors(t *testing.T) {
	tests := []struct {
		name  string
		order *Order
	}{
		{name: "not on hold", order: orderAt(StatusReady)},
		{name: "new", order: orderAt(StatusNew)},
		{name: "no hold in history", order: &Order{Status: StatusOnHold}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.order.Clone()
			err := tc.order.Release(t0, "ORC-1=RL", "")
			var te *TransitionError
			if !errors.As(err, &te) || te.Reason == "" {
				t.Fatalf("Release() = %v, want *TransitionError with a Reason", err)
			}
			if diff := cmp.Diff(before, tc.order); diff != "" {
				t.Errorf("failed Release changed the order:\n%s", diff)
			}
		})
	}
}

func TestTransitionError_Error(t *testing.T) {
	tests := []struct {
		name string
		err  *TransitionError
		want string
	}{
		{name: "table", err: &TransitionError{From: StatusResulted, To: StatusCancelled, Cause: "ORC-1=CA"},
			want: "order: illegal transition resulted -> cancelled (ORC-1=CA)"},
		{name: "reason", err: &TransitionError{From: StatusReady, To: StatusReady, Cause: "ORC-1=RL", Reason: "order is not on hold"},
			want: "order: illegal transition ready -> ready (ORC-1=RL): order is not on hold"},
		{name: "new, no cause", err: &TransitionError{From: StatusNew, To: StatusReady},
			want: "order: illegal transition new -> ready"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}
