package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// recordingAuthorizer queues one outbox item per call for an order waiting for an
// authorization, named after the order and the stored status it changed from, and
// records what it was called with.
type recordingAuthorizer struct {
	calls []string
}

func (a *recordingAuthorizer) Follow(o *order.Order, was order.Status, had order.Authorization, at time.Time) engine.Writes {
	a.calls = append(a.calls, string(was)+">"+string(o.Status)+" had "+string(had.Status))
	if o.Status != order.StatusPendingAuth {
		return engine.Writes{}
	}
	o.Authorization.Attempt = had.Attempt + 1
	key := o.ID + "-" + string(rune('0'+o.Authorization.Attempt))
	return engine.Writes{
		Outbox: []*store.OutboxItem{{Destination: "pas:test", Kind: "pas", OrderID: o.ID, Key: key,
			Payload: []byte(`{"resourceType":"Bundle"}`), State: store.OutboxPending, Created: at, NextAttempt: at}},
		Resources: []*store.Resource{{Type: "Claim", ID: key, JSON: []byte(`{"resourceType":"Claim"}`), OrderID: o.ID}},
	}
}

// TestEngine_Authorizer: the Authorizer follows a new order that needs authorization
// and its change (XO), and what it returns is stored with the order.
func TestEngine_Authorizer(t *testing.T) {
	f := enginetest.New(t, enginetest.Options{Checker: enginetest.Checker(t)})
	a := &recordingAuthorizer{}
	f.Engine.SetAuthorizer(a)
	noAuth := func(s string) string { return s[:len(s)-len("|||||||||||AUTH-1")] }
	if ack := f.Send(t, enginetest.RadiologyORM("C1", "PA1", noAuth)); ack.Get("MSA-1") != "AA" {
		t.Fatalf("ACK %q", ack.Bytes())
	}
	xo := func(s string) string { return noAuth(strings.Replace(s, "\nORC|NW|", "\nORC|XO|", 1)) }
	if ack := f.Send(t, enginetest.RadiologyORM("C2", "PA1", xo)); ack.Get("MSA-1") != "AA" {
		t.Fatalf("XO ACK %q", ack.Bytes())
	}
	want := []string{">pending-authorization had ", "pending-authorization>pending-authorization had pending"}
	if len(a.calls) != 2 || a.calls[0] != want[0] || a.calls[1] != want[1] {
		t.Errorf("Follow calls %q, want %q", a.calls, want)
	}
	o := f.Orders(t, store.OrderQuery{Placer: "PA1"})[0]
	if o.Status != order.StatusPendingAuth || o.Authorization.Attempt != 2 {
		t.Errorf("order %s, attempt %d; want pending-authorization, 2", o.Status, o.Authorization.Attempt)
	}
	f.View(t, func(tx store.ReadTx) error {
		items, n, err := tx.Outbox(store.OutboxQuery{Destination: "pas:test"})
		if err != nil {
			return err
		}
		if n != 2 || items[0].Key != o.ID+"-1" || items[1].Key != o.ID+"-2" || items[0].ID == "" {
			t.Errorf("outbox: %d items %+v", n, items)
		}
		if _, err := tx.Resource("Claim", o.ID+"-2"); err != nil {
			t.Errorf("Claim resource: %v", err)
		}
		return nil
	})
}
