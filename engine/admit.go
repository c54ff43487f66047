package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// A NewOrder is an order made ready for admission: mapped from whichever door it came
// through (an HL7 v2 NW, a FHIR create, an entry of a transaction Bundle, a reprocessed
// message), checked, its lifecycle begun and its record encoded, all outside the write
// transaction, so that admitting it inside only looks up its key and writes.
type NewOrder struct {
	// Order is the order as it will be stored. It must not be changed once prepared.
	Order  *order.Order
	data   []byte // Order, encoded
	writes Writes // what the Authorizer stores with it
}

// Queued returns the delivery destinations of the outbox items admitted with the order
// (its prior-authorization request), to pass to [Engine.Notify] once the transaction
// that admitted it is committed.
func (n *NewOrder) Queued() []string {
	var dests []string
	for _, it := range n.writes.Outbox {
		dests = append(dests, it.Destination)
	}
	return dests
}

// DuplicateError means that a new order's key (its sender and placer number) belongs to
// an order already stored: that one is Existing, and nothing was stored. A new order
// never replaces another; changing one is an update (ORC-1=XO, FHIR PUT).
type DuplicateError struct {
	Existing *order.Order
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("engine: order %s already has placer number %q from this sender", e.Existing.ID, e.Existing.Placer)
}

// orderJSONSize is the capacity of the buffer an order is encoded into: a typical
// order (about 1.5 KB of JSON) fits without the buffer growing.
const orderJSONSize = 2048

// PrepareNew makes o a new order created by message msgID at at, ready to be admitted:
// the engine's checks run on it (Verify, then Check), it gets an ID from the store (unless it has one), the
// control code ctl is applied to it as a new order (NW or RO; an empty code is NW), it
// is settled by its findings and authorization (incomplete, pending-authorization or
// ready), and then, when then.Code is set, that control is applied too (a FHIR
// ServiceRequest created on hold or revoked), and the Authorizer (SetAuthorizer)
// prepares its authorization case, whose records Admit writes with it. o becomes the
// NewOrder's.
//
// The error is an *order.TransitionError or order.ErrUnknownControlCode when the codes
// cannot make a new order, or the store's failure to hand out an ID.
func (e *Engine) PrepareNew(ctx context.Context, o *order.Order, ctl, then order.Control, at time.Time, msgID string) (*NewOrder, error) {
	if ctl.Code == "" {
		ctl.Code = "NW"
	}
	e.Verify(ctx, o, at)
	e.check.Check(o, at)
	if o.ID == "" {
		id, err := e.store.ReserveID(ctx, store.KindOrder)
		if err != nil {
			return nil, err
		}
		o.ID = id
	}
	o.Source.MessageID = msgID
	if err := o.ApplyControl(ctl, at, msgID); err != nil {
		return nil, err
	}
	if o.Status != order.StatusReceived {
		// Only NW and RO begin an order; any other code is refused above (no such order).
		return nil, &order.TransitionError{From: order.StatusNew, To: o.Status, Cause: "ORC-1=" + ctl.Code, Reason: "not a new order"}
	}
	if err := o.Settle(at, "", msgID); err != nil {
		return nil, err
	}
	if then.Code != "" {
		if err := o.ApplyControl(then, at, msgID); err != nil {
			return nil, err
		}
	}
	w := e.follow(o, order.StatusNew, order.Authorization{}, at)
	data, err := o.AppendJSON(make([]byte, 0, orderJSONSize))
	if err != nil {
		return nil, err
	}
	return &NewOrder{Order: o, data: data, writes: w}, nil
}

// Admit stores the new order, and what its authorization case needs stored with it, in
// tx unless another order has its key: then it returns a *DuplicateError and stores
// nothing. It only reads the NewOrder, so a transaction
// that runs again may admit it again.
func (n *NewOrder) Admit(tx store.Tx) error {
	if key := n.Order.Key(); key != "" {
		cur, err := tx.OrderByKey(key)
		if err == nil {
			return &DuplicateError{Existing: cur}
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if err := tx.PutOrderJSON(n.Order, n.data); err != nil {
		return err
	}
	_, err := n.writes.put(tx)
	return err
}
