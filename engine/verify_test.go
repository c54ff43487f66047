package engine_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
	"github.com/radbridge/radbridge/store"
)

// verifyingChecker is the rules checker with a Verify that records an active
// eligibility answer, counting the questions.
type verifyingChecker struct {
	*rules.Checker
	mu    sync.Mutex
	asked []string // placer numbers
}

func (v *verifyingChecker) Verify(_ context.Context, o *order.Order, now time.Time) {
	v.mu.Lock()
	v.asked = append(v.asked, o.Placer)
	v.mu.Unlock()
	o.Eligibility = order.Eligibility{Status: order.EligibilityActive, Checked: now, Payer: "AETNA01"}
}

// TestEngine_Verify: a checker that asks other services is asked before every check of
// a new or changed order, and what it recorded is stored with the order and read by
// the check (ready_to_schedule).
func TestEngine_Verify(t *testing.T) {
	v := &verifyingChecker{Checker: enginetest.Checker(t)}
	f := newFixture(t, v)
	if got := f.Send(t, enginetest.RadiologyORM("V1", "P900", nil)).Get("MSA-1"); got != "AA" {
		t.Fatalf("NW: MSA-1 = %q, want AA", got)
	}
	xo := enginetest.RadiologyORM("V2", "P900", func(s string) string { return strings.Replace(s, "ORC|NW|", "ORC|XO|", 1) })
	if got := f.Send(t, xo).Get("MSA-1"); got != "AA" {
		t.Fatalf("XO: MSA-1 = %q, want AA", got)
	}
	if len(v.asked) != 2 {
		t.Errorf("Verify called for %v, want once for the NW and once for the XO", v.asked)
	}
	os := f.Orders(t, store.OrderQuery{Placer: "P900"})
	if len(os) != 1 {
		t.Fatalf("%d orders", len(os))
	}
	o := os[0]
	if o.Eligibility.Status != order.EligibilityActive || !o.Eligibility.Checked.Equal(enginetest.Clock) {
		t.Errorf("stored Eligibility = %+v, want active at the engine's clock", o.Eligibility)
	}
	if !o.ReadyToSchedule.Ready || !strings.HasPrefix(o.ReadyToSchedule.Reasons[0], "coverage active: verified with AETNA01") {
		t.Errorf("stored ReadyToSchedule = %+v, want ready, coverage active first", o.ReadyToSchedule)
	}
}
