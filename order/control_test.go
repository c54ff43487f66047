package order

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type controlCase struct {
	name     string
	from     Status
	control  Control
	want     Status // status afterwards
	wantErr  error  // sentinel; nil for success
	recorded bool   // whether a History entry was added
}

// controlCases covers every order control code of table 0119.
func controlCases() []controlCase {
	cc := []controlCase{
		{name: "NW new", from: StatusNew, control: Control{Code: "NW"}, want: StatusReceived, recorded: true},
		{name: "RO new", from: StatusNew, control: Control{Code: "RO"}, want: StatusReceived, recorded: true},
		{name: "nw lower case", from: StatusNew, control: Control{Code: " nw "}, want: StatusReceived, recorded: true},
		{name: "NW existing", from: StatusReceived, control: Control{Code: "NW"}, want: StatusReceived, wantErr: ErrIllegalTransition},
		{name: "NW cancelled", from: StatusCancelled, control: Control{Code: "NW"}, want: StatusCancelled, wantErr: ErrIllegalTransition},
		{name: "XO new", from: StatusNew, control: Control{Code: "XO"}, want: StatusNew, wantErr: ErrIllegalTransition},
		{name: "OK new", from: StatusNew, control: Control{Code: "OK"}, want: StatusNew, wantErr: ErrIllegalTransition},

		{name: "CA resulted", from: StatusResulted, control: Control{Code: "CA"}, want: StatusResulted, wantErr: ErrIllegalTransition},
		{name: "OC delivered", from: StatusDelivered, control: Control{Code: "OC"}, want: StatusDelivered, wantErr: ErrIllegalTransition},
		{name: "DC resulted", from: StatusResulted, control: Control{Code: "DC"}, want: StatusResulted, wantErr: ErrIllegalTransition},
		{name: "CA entered in error", from: StatusEnteredInError, control: Control{Code: "CA"}, want: StatusEnteredInError, wantErr: ErrIllegalTransition},
		{name: "CA cancelled again", from: StatusCancelled, control: Control{Code: "CA"}, want: StatusCancelled},
		{name: "CR confirms cancel", from: StatusCancelled, control: Control{Code: "CR"}, want: StatusCancelled},

		{name: "HD in progress", from: StatusInProgress, control: Control{Code: "HD"}, want: StatusOnHold, recorded: true},
		{name: "HD on hold again", from: StatusOnHold, control: Control{Code: "HD"}, want: StatusOnHold},
		{name: "HD resulted", from: StatusResulted, control: Control{Code: "HD"}, want: StatusResulted, wantErr: ErrIllegalTransition},
		{name: "HD cancelled", from: StatusCancelled, control: Control{Code: "HD"}, want: StatusCancelled, wantErr: ErrIllegalTransition},
		{name: "RL not held", from: StatusReady, control: Control{Code: "RL"}, want: StatusReady, wantErr: ErrIllegalTransition},

		{name: "SC IP", from: StatusReady, control: Control{Code: "SC", OrderStatus: "IP"}, want: StatusInProgress, recorded: true},
		{name: "SC ip lower case", from: StatusReady, control: Control{Code: "sc", OrderStatus: "ip"}, want: StatusInProgress, recorded: true},
		{name: "SC SC scheduled", from: StatusReady, control: Control{Code: "SC", OrderStatus: "SC"}, want: StatusInProgress, recorded: true},
		{name: "SC CM before report", from: StatusReady, control: Control{Code: "SC", OrderStatus: "CM"}, want: StatusInProgress, recorded: true},
		{name: "SC A in progress", from: StatusInProgress, control: Control{Code: "SC", OrderStatus: "A"}, want: StatusInProgress},
		{name: "SC IP again", from: StatusInProgress, control: Control{Code: "SC", OrderStatus: "IP"}, want: StatusInProgress},
		{name: "SC CM resulted", from: StatusResulted, control: Control{Code: "SC", OrderStatus: "CM"}, want: StatusResulted},
		{name: "SC IP delivered", from: StatusDelivered, control: Control{Code: "SC", OrderStatus: "IP"}, want: StatusDelivered},
		{name: "SC CA", from: StatusReady, control: Control{Code: "SC", OrderStatus: "CA"}, want: StatusCancelled, recorded: true},
		{name: "SC DC", from: StatusInProgress, control: Control{Code: "SC", OrderStatus: "DC"}, want: StatusCancelled, recorded: true},
		{name: "SC RP", from: StatusReady, control: Control{Code: "SC", OrderStatus: "RP"}, want: StatusCancelled, recorded: true},
		{name: "SC HD", from: StatusReady, control: Control{Code: "SC", OrderStatus: "HD"}, want: StatusOnHold, recorded: true},
		{name: "SC HD on hold", from: StatusOnHold, control: Control{Code: "SC", OrderStatus: "HD"}, want: StatusOnHold},
		{name: "SC IP pending auth", from: StatusPendingAuth, control: Control{Code: "SC", OrderStatus: "IP"}, want: StatusPendingAuth, wantErr: ErrIllegalTransition},
		{name: "SC IP on hold from ready", from: StatusOnHold, control: Control{Code: "SC", OrderStatus: "IP"}, want: StatusOnHold, wantErr: ErrIllegalTransition},
		{name: "SC CA resulted", from: StatusResulted, control: Control{Code: "SC", OrderStatus: "CA"}, want: StatusResulted, wantErr: ErrIllegalTransition},
		{name: "SC ER", from: StatusReady, control: Control{Code: "SC", OrderStatus: "ER"}, want: StatusReady, wantErr: ErrUnknownOrderStatus},
		{name: "SC without ORC-5", from: StatusReady, control: Control{Code: "SC"}, want: StatusReady, wantErr: ErrUnknownOrderStatus},

		{name: "RE resulted", from: StatusResulted, control: Control{Code: "RE"}, want: StatusResulted},
		{name: "empty code", from: StatusReady, control: Control{Code: ""}, want: StatusReady, wantErr: ErrUnknownControlCode},
		{name: "ZZ", from: StatusReady, control: Control{Code: "ZZ"}, want: StatusReady, wantErr: ErrUnknownControlCode},
	}
	for _, from := range []Status{StatusReceived, StatusIncomplete, StatusPendingAuth, StatusReady, StatusOnHold} {
		cc = append(cc, controlCase{name: "XO " + from.name(), from: from, control: Control{Code: "XO"}, want: StatusReceived, recorded: true})
	}
	for _, from := range []Status{StatusInProgress, StatusResulted, StatusDelivered, StatusCancelled, StatusDenied, StatusEnteredInError} {
		cc = append(cc, controlCase{name: "XO " + from.name(), from: from, control: Control{Code: "XO"}, want: from, wantErr: ErrIllegalTransition})
	}
	for _, code := range []string{"CA", "OC", "CR", "DC", "OD", "DR", "RP", "RU", "RQ", "UA"} {
		cc = append(cc, controlCase{name: code + " ready", from: StatusReady, control: Control{Code: code}, want: StatusCancelled, recorded: true})
	}
	for _, from := range []Status{StatusReceived, StatusIncomplete, StatusPendingAuth, StatusInProgress, StatusOnHold, StatusDenied} {
		cc = append(cc, controlCase{name: "CA " + from.name(), from: from, control: Control{Code: "CA"}, want: StatusCancelled, recorded: true})
	}
	for _, code := range []string{"HD", "OH", "HR"} {
		cc = append(cc, controlCase{name: code + " ready", from: StatusReady, control: Control{Code: code}, want: StatusOnHold, recorded: true})
	}
	for _, code := range []string{"RL", "OE", "OR"} {
		cc = append(cc, controlCase{name: code + " on hold", from: StatusOnHold, control: Control{Code: code}, want: StatusReady, recorded: true})
	}
	for _, code := range []string{"OK", "NA", "XX", "XR", "RE", "RR", "DE", "SN", "SS", "SR", "UC", "UD", "UH", "UR", "UX", "UM"} {
		cc = append(cc, controlCase{name: code + " informs", from: StatusReady, control: Control{Code: code}, want: StatusReady})
	}
	for _, code := range []string{"RF", "AF", "DF", "FU", "OF", "UF", "PA", "CH", "CN", "LI", "UN"} {
		cc = append(cc, controlCase{name: code + " unsupported", from: StatusReady, control: Control{Code: code}, want: StatusReady, wantErr: ErrUnknownControlCode})
	}
	return cc
}

func TestOrder_ApplyControl(t *testing.T) {
	at := t0.Add(time.Hour)
	for _, tc := range controlCases() {
		t.Run(tc.name, func(t *testing.T) {
			o := orderAt(tc.from)
			before := o.Clone()
			err := o.ApplyControl(tc.control, at, "msg-7")
			if o.Status != tc.want {
				t.Errorf("ApplyControl(%+v) from %s: status %q, want %q", tc.control, tc.from.name(), o.Status, tc.want)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ApplyControl(%+v) from %s = %v, want %v", tc.control, tc.from.name(), err, tc.wantErr)
				}
				if diff := cmp.Diff(before, o); diff != "" {
					t.Errorf("failed ApplyControl changed the order (-before +after):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyControl(%+v) from %s = %v, want nil", tc.control, tc.from.name(), err)
			}
			code := strings.ToUpper(strings.TrimSpace(tc.control.Code))
			if o.ControlCode != code || !o.Updated.Equal(at) {
				t.Errorf("ControlCode, Updated = %q, %v; want %q, %v", o.ControlCode, o.Updated, code, at)
			}
			grew := len(o.History) - len(before.History)
			want := 0
			if tc.recorded {
				want = 1
			}
			if grew != want {
				t.Fatalf("History grew by %d, want %d", grew, want)
			}
			if !tc.recorded {
				return
			}
			last := o.History[len(o.History)-1]
			if !strings.HasPrefix(last.Cause, "ORC-1="+code) || last.MessageID != "msg-7" || !last.At.Equal(at) {
				t.Errorf("last History = %+v, want cause ORC-1=%s, message msg-7, at %v", last, code, at)
			}
		})
	}
}

func TestOrder_ApplyControl_causeNamesORC5(t *testing.T) {
	o := orderAt(StatusReady)
	if err := o.ApplyControl(Control{Code: "SC", OrderStatus: "ip"}, t0, "m"); err != nil {
		t.Fatal(err)
	}
	if got, want := o.History[len(o.History)-1].Cause, "ORC-1=SC ORC-5=IP"; got != want {
		t.Errorf("cause = %q, want %q", got, want)
	}
}

func TestOrder_ApplyControl_filler(t *testing.T) {
	tests := []struct {
		name    string
		control Control
		want    string
	}{
		{name: "NA assigns", control: Control{Code: "NA", Filler: "F2"}, want: "F2"},
		{name: "SC carries", control: Control{Code: "SC", OrderStatus: "IP", Filler: "F3"}, want: "F3"},
		{name: "empty keeps", control: Control{Code: "OK"}, want: "F1"},
		{name: "rejected keeps", control: Control{Code: "ZZ", Filler: "F4"}, want: "F1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := orderAt(StatusReady)
			o.Filler = "F1"
			_ = o.ApplyControl(tc.control, t0, "m")
			if o.Filler != tc.want {
				t.Errorf("ApplyControl(%+v): Filler = %q, want %q", tc.control, o.Filler, tc.want)
			}
		})
	}
}

func TestOrder_ApplyControl_holdRelease(t *testing.T) {
	tests := []struct {
		name string
		path []Status // from received
	}{
		{name: "received"},
		{name: "incomplete", path: []Status{StatusIncomplete}},
		{name: "pending authorization", path: []Status{StatusPendingAuth}},
		{name: "ready", path: []Status{StatusReady}},
		{name: "in progress", path: []Status{StatusReady, StatusInProgress}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := orderAt(StatusReceived)
			walk(t, o, tc.path...)
			held := o.Status
			for _, code := range []string{"HD", "OH", "RL"} {
				if err := o.ApplyControl(Control{Code: code}, t0, "m-"+code); err != nil {
					t.Fatalf("ApplyControl(%s) = %v", code, err)
				}
			}
			if o.Status != held {
				t.Errorf("HD, OH, RL from %s: status %q, want %q", held, o.Status, held)
			}
			if got := len(o.History); got != 1+len(tc.path)+2 {
				t.Errorf("History has %d entries, want %d (OH on a held order records nothing)", got, 1+len(tc.path)+2)
			}
		})
	}
}

// walk moves o through the given statuses, failing the test on an illegal step.
func walk(t testing.TB, o *Order, path ...Status) {
	t.Helper()
	for _, s := range path {
		if err := o.Transition(s, t0, "setup", ""); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
}

func TestParseOrderStatus(t *testing.T) {
	tests := []struct {
		code   string
		want   Status
		wantOK bool
	}{
		{code: "A", want: StatusResulted, wantOK: true},
		{code: "CA", want: StatusCancelled, wantOK: true},
		{code: "CM", want: StatusResulted, wantOK: true},
		{code: "DC", want: StatusCancelled, wantOK: true},
		{code: "ER", want: StatusNew},
		{code: "HD", want: StatusOnHold, wantOK: true},
		{code: "IP", want: StatusInProgress, wantOK: true},
		{code: "RP", want: StatusCancelled, wantOK: true},
		{code: "SC", want: StatusInProgress, wantOK: true},
		{code: " ip ", want: StatusInProgress, wantOK: true},
		{code: "", want: StatusNew},
		{code: "XX", want: StatusNew},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			got, ok := ParseOrderStatus(tc.code)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("ParseOrderStatus(%q) = %q, %v; want %q, %v", tc.code, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
