package delivery_test

import (
	"testing"
	"time"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// putOrder stores an order with placer number placer moved through statuses.
func putOrder(t testing.TB, st store.Store, at time.Time, placer string, statuses ...order.Status) string {
	t.Helper()
	o := &order.Order{Placer: placer, Source: order.Source{Kind: order.SourceV2, SendingFacility: "HOSP_A"}}
	for _, s := range statuses {
		if err := o.Transition(s, at, "test", ""); err != nil {
			t.Fatal(err)
		}
	}
	err := st.Update(t.Context(), func(tx store.Tx) error {
		o.ID = ""
		return tx.PutOrder(o)
	})
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

func getOrder(t testing.TB, st store.Store, id string) *order.Order {
	t.Helper()
	var o *order.Order
	err := st.View(t.Context(), func(tx store.ReadTx) (err error) {
		o, err = tx.Order(id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// An order is marked delivered once its last queued result is acknowledged; an order
// whose lifecycle has moved on, or that is gone, does not stop the delivery.
func TestWorker_Run_MarksOrderDelivered(t *testing.T) {
	checkGoroutines(t)
	clk := newFakeClock()
	st := openStore(t, t.TempDir())
	resulted := []order.Status{order.StatusReceived, order.StatusReady, order.StatusResulted}
	o1 := putOrder(t, st, clk.Now(), "P1", resulted...)
	o2 := putOrder(t, st, clk.Now(), "P2", order.StatusReceived, order.StatusCancelled)
	// o1's preliminary, then its final; o2's item; an item for an order that is gone.
	prelim := putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, o1, oru("P"))
	final := putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, o1, oru("F"))
	other := putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, o2, oru("X"))
	gone := putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, "ord-999999", oru("G"))
	// o3's result, then another result a second later whose item is not queued here.
	o3 := putOrder(t, st, clk.Now(), "P3", resulted...)
	putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, o3, oru("R"))
	err := st.Update(t.Context(), func(tx store.Tx) error {
		o, err := tx.Order(o3)
		if err != nil {
			return err
		}
		if err := o.Transition(order.StatusResulted, clk.Now().Add(time.Second), "result final", ""); err != nil {
			return err
		}
		return tx.PutOrder(o)
	})
	if err != nil {
		t.Fatal(err)
	}

	firstF := true
	p := &provider{codeFor: func(id string) hl7.AckCode {
		if id == "F" && firstF {
			firstF = false
			return hl7.AE
		}
		return hl7.AA
	}}
	addr := serveMLLP(t, "127.0.0.1:0", p)
	w := newWorker(t, st, clk, delivery.Config{Destinations: []delivery.Destination{{Name: "ehr", MLLP: addr}}}, delivery.Deps{})
	stop := run(t, w)

	tm := clk.next(t) // P delivered, F refused once
	wantWait(t, tm, time.Second)
	if got := item(t, st, prelim[0]); got.State != store.OutboxDelivered {
		t.Fatalf("preliminary item is %s, want delivered", got.State)
	}
	if got := getOrder(t, st, o1); got.Status != order.StatusResulted {
		t.Errorf("order with its final result still queued is %s, want resulted", got.Status)
	}
	clk.fire(tm)
	clk.waitIdle(t)
	stop()

	got := getOrder(t, st, o1)
	if got.Status != order.StatusDelivered {
		t.Fatalf("order is %s after its final result was acknowledged, want delivered", got.Status)
	}
	last := got.History[len(got.History)-1]
	if last.Cause != "delivered to ehr" || !last.At.Equal(clk.Now()) {
		t.Errorf("last transition = %+v, want cause %q at %v", last, "delivered to ehr", clk.Now())
	}
	if got := getOrder(t, st, o2); got.Status != order.StatusCancelled {
		t.Errorf("cancelled order became %s", got.Status)
	}
	if got := getOrder(t, st, o3); got.Status != order.StatusResulted {
		t.Errorf("order resulted again after its item was queued became %s, want resulted", got.Status)
	}
	for _, id := range []string{final[0], other[0], gone[0]} {
		if got := item(t, st, id); got.State != store.OutboxDelivered {
			t.Errorf("item %s is %s, want delivered", id, got.State)
		}
	}
}
