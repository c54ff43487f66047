package order

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
)

func TestError_Explain(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "illegal move", err: &TransitionError{From: StatusResulted, To: StatusCancelled, Cause: "ORC-1=CA"},
			want: "The order is resulted: it cannot become cancelled (ORC-1=CA)."},
		{name: "with a reason", err: &TransitionError{From: StatusReady, To: StatusReady, Cause: "ORC-1=RL", Reason: "order is not on hold"},
			want: "The change (ORC-1=RL) was refused: order is not on hold (the order is ready)."},
		{name: "no cause", err: &TransitionError{From: StatusNew, To: StatusReady},
			want: "The order is new: it cannot become ready."},
		{name: "control code", err: &CodeError{Field: "ORC-1", Code: "RF", Err: ErrUnknownControlCode},
			want: `The order control code "RF" (ORC-1) is not one this engine applies: send NW, RO, XO, CA, DC, HD, RL or SC (refills, child orders, combined results and problem links are not handled).`},
		{name: "no control code", err: &CodeError{Field: "ORC-1", Err: ErrUnknownControlCode},
			want: "The order control code (ORC-1) is missing: send NW for a new order, XO to change it, CA to cancel it."},
		{name: "order status", err: &CodeError{Field: "ORC-5", Code: "ER", Err: ErrUnknownOrderStatus},
			want: `The order status "ER" in ORC-5 is not one an order can take (HL7 table 0038: SC, IP, CM, A, CA, DC, HD...).`},
		{name: "result without status", err: &ResultError{ID: "ORD001#1"},
			want: `The result "ORD001#1" has no status: send preliminary, final, corrected, cancelled or entered-in-error.`},
		{name: "preliminary after final", err: &ResultError{ID: "R1", Status: ResultPreliminary, Prev: ResultFinal, problem: resultAfterFinal},
			want: `The result "R1" is already final: a preliminary version cannot follow it; send a corrected version instead.`},
		{name: "not an order error", err: errors.New("disk full"), want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Explain(tc.err); got != tc.want {
				t.Errorf("Explain(%v) =\n %q, want\n %q", tc.err, got, tc.want)
			}
		})
	}
}

// TestError_Explain_Everywhere makes every error the lifecycle methods return, from
// every status, and checks that each explains itself in a sentence for a sender, with
// none of the Go error's package prefix or notation.
func TestError_Explain_Everywhere(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var errs []error
	try := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	codes := []string{"NW", "RO", "XO", "CA", "DC", "HD", "RL", "SC", "OK", "RF", "ZZ", ""}
	results := []ResultStatus{ResultPreliminary, ResultFinal, ResultCorrected, ResultCancelled, ResultEnteredInError, "", "bogus"}
	for _, s := range allStatuses() {
		fresh := func() *Order {
			o := &Order{Status: s, History: []Transition{{To: s, From: StatusReady}}}
			o.Results = []Result{{ID: "R1", Status: ResultFinal}, {ID: "R2", Status: ResultEnteredInError}}
			return o
		}
		for _, c := range codes {
			for _, orc5 := range []string{"", "CM", "ER"} {
				try(fresh().ApplyControl(Control{Code: c, OrderStatus: orc5}, at, "m"))
			}
		}
		for _, id := range []string{"R1", "R2", "R3"} {
			for _, st := range results {
				try(fresh().AddResult(Result{ID: id, Status: st}, at, "m"))
			}
		}
		try(fresh().Release(at, "ORC-1=RL", "m"))
		try(fresh().Settle(at, "", "m"))
		try(fresh().DecideAuthorization(true, "A1", at, "m"))
		try(fresh().MarkDelivered(at, "", "m"))
	}
	if len(errs) < 50 {
		t.Fatalf("only %d errors made", len(errs))
	}
	for _, err := range errs {
		text := Explain(err)
		first := []rune(text + " ")[0]
		if text == "" || !unicode.IsUpper(first) || !strings.HasSuffix(text, ".") ||
			strings.HasPrefix(text, "order: ") || strings.Contains(text, "->") || strings.Contains(text, "illegal transition") {
			t.Errorf("%v explains itself as %q, want a sentence for a sender", err, text)
		}
	}
}
