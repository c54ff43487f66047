package engine

import (
	"context"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// DecideAuthorization records a payer's prior-authorization decision on an order:
// approved (with the payer's authorization number) moves a pending order to ready,
// denied moves it to denied; the order is checked again, so that its findings and
// ready-to-schedule verdict follow the decision. It returns the order as stored; an order that is not
// awaiting a decision is an *order.TransitionError and nothing changes.
func (e *Engine) DecideAuthorization(ctx context.Context, id string, approved bool, number string) (*order.Order, error) {
	var out *order.Order
	at := e.now()
	err := e.store.Update(ctx, func(tx store.Tx) error {
		o, err := tx.Order(id)
		if err != nil {
			return err
		}
		if err := o.DecideAuthorization(approved, number, at, ""); err != nil {
			return err
		}
		// The decision changes the verdicts (the pending finding, ready_to_schedule):
		// check again, on the data as stored (no Verify: its answer is on the order).
		e.check.Check(o, at)
		out = o
		return tx.PutOrder(o)
	})
	return out, err
}

// Overdue lists orders awaiting prior authorization past their due-by time, at most
// limit of them, and how many there are.
func Overdue(tx store.ReadTx, now time.Time, limit int) ([]*order.Order, int, error) {
	pending, _, err := tx.Orders(store.OrderQuery{Status: order.StatusPendingAuth, Limit: store.MaxLimit})
	if err != nil {
		return nil, 0, err
	}
	var out []*order.Order
	for _, o := range pending {
		if !o.Authorization.DueBy.IsZero() && now.After(o.Authorization.DueBy) {
			out = append(out, o)
		}
	}
	total := len(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, total, nil
}

// OverdueCount counts orders awaiting prior authorization past their due-by time, for
// the radbridge_authorizations_overdue gauge.
func (e *Engine) OverdueCount(ctx context.Context) int {
	n := 0
	e.store.View(ctx, func(tx store.ReadTx) error {
		_, n, _ = Overdue(tx, e.now(), 0)
		return nil
	})
	return n
}
