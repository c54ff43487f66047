package delivery

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// attempt sends it once and records the outcome (an Exchanger's answer through its
// Commit); later are the pending items queued right behind it. It reports whether it was delivered, and returns an error only
// when the outcome could not be recorded. An attempt interrupted because ctx ended is
// not recorded: it is not the destination's failure, and the item is sent again
// later.
func (w *Worker) attempt(ctx context.Context, d *dest, s Sender, it *store.OutboxItem, later []*store.OutboxItem) (delivered bool, err error) {
	d.attempts.Add(1)
	sctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	var (
		receipt string
		answer  []byte
	)
	x, _ := s.(Exchanger)
	if x != nil {
		receipt, answer, err = x.Exchange(sctx, it)
	} else {
		receipt, err = s.Send(sctx, it)
	}
	cancel()
	if err != nil && ctx.Err() != nil {
		return false, nil
	}
	// Record the outcome even if ctx ends now: a delivery made is a delivery recorded.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err != nil {
		return false, w.failed(rctx, d, it, err)
	}
	if x != nil {
		return true, w.exchanged(rctx, d, it, x, receipt, answer)
	}
	return true, w.delivered(rctx, d, it, later, receipt)
}

// exchanged marks it delivered and, in the same transaction, records the answer with
// the Exchanger's Commit. If Commit fails, nothing is written and the item is sent again.
func (w *Worker) exchanged(ctx context.Context, d *dest, it *store.OutboxItem, x Exchanger, receipt string, answer []byte) error {
	now := w.now()
	var attempts int
	err := w.st.Update(ctx, func(tx store.Tx) error {
		cur := new(store.OutboxItem)
		*cur = *it
		cur.State, cur.Receipt, cur.Updated = store.OutboxDelivered, receipt, now
		cur.Attempts++
		cur.NextAttempt = time.Time{}
		attempts = cur.Attempts
		if err := x.Commit(tx, cur, answer); err != nil {
			return err
		}
		return tx.PutOutbox(cur)
	})
	if err != nil {
		return err
	}
	d.delivered.Add(1)
	w.log.Debug("outbox item delivered", slog.String("destination", d.Name), slog.String("outbox_id", it.ID),
		slog.String("order_id", it.OrderID), slog.Int("attempt", attempts), slog.String("receipt", receipt))
	return nil
}

// delivered marks it delivered and, in the same transaction, its order. If the order
// cannot be written for another reason than its lifecycle, the item is marked
// delivered without it: it must not be sent again because its order is broken.
func (w *Worker) delivered(ctx context.Context, d *dest, it *store.OutboxItem, later []*store.OutboxItem, receipt string) error {
	now := w.now()
	var (
		attempts int
		orderErr error
	)
	update := func(withOrder bool) error {
		return w.st.Update(ctx, func(tx store.Tx) error {
			// Only this worker changes a pending item of its destination but for Retry,
			// whose changes a delivery supersedes: no need to read it again.
			cur := new(store.OutboxItem)
			*cur = *it
			cur.State, cur.Receipt, cur.Updated = store.OutboxDelivered, receipt, now
			cur.Attempts++
			cur.NextAttempt = time.Time{}
			if err := tx.PutOutbox(cur); err != nil {
				return err
			}
			attempts, orderErr = cur.Attempts, nil
			if withOrder {
				orderErr = markOrder(tx, cur, later, now)
				if orderErr != nil && !isLifecycle(orderErr) {
					return &orderError{orderErr}
				}
			}
			return nil
		})
	}
	err := update(true)
	if oe := (*orderError)(nil); errors.As(err, &oe) {
		err, orderErr = update(false), oe.err
	}
	if err != nil {
		return err
	}
	d.delivered.Add(1)
	log := w.log.With(slog.String("destination", d.Name), slog.String("outbox_id", it.ID),
		slog.String("order_id", it.OrderID), slog.Int("attempt", attempts))
	log.Debug("outbox item delivered", slog.String("receipt", receipt))
	if orderErr != nil {
		log.Warn("order not marked delivered", slog.String("err", orderErr.Error()))
	}
	return nil
}

// orderError carries out of a transaction an error writing the order, which rolls the
// transaction back.
type orderError struct{ err error }

func (e *orderError) Error() string { return "order: " + e.err.Error() }

// markOrder marks the order of it delivered unless the order's latest result is still
// on its way: another item of the order is among later (queued right behind it), or
// the order was resulted again after it was queued. An error from the order's
// lifecycle (it has moved on) or a missing order leaves the order as it is and is
// returned for logging; isLifecycle reports it.
func markOrder(tx store.Tx, it *store.OutboxItem, later []*store.OutboxItem, now time.Time) error {
	if it.OrderID == "" {
		return nil
	}
	for _, n := range later {
		if n.OrderID == it.OrderID {
			return nil
		}
	}
	o, err := tx.Order(it.OrderID)
	if err != nil {
		return err
	}
	if !it.Created.IsZero() {
		for _, h := range o.History {
			if h.To == order.StatusResulted && h.At.After(it.Created) {
				return nil
			}
		}
	}
	if err := o.MarkDelivered(now, "delivered to "+it.Destination, ""); err != nil {
		return err
	}
	return tx.PutOrder(o)
}

// isLifecycle reports whether markOrder's error only means the order cannot be marked.
func isLifecycle(err error) bool {
	return errors.Is(err, order.ErrIllegalTransition) || errors.Is(err, store.ErrNotFound)
}

// failed records a failed attempt of it: Attempts, LastError and the next attempt, or
// the dead state once MaxAttempts is reached.
func (w *Worker) failed(ctx context.Context, d *dest, it *store.OutboxItem, sendErr error) error {
	now := w.now()
	var retryAfter time.Duration
	if ra := (*RetryAfterError)(nil); errors.As(sendErr, &ra) {
		retryAfter = min(max(ra.Wait, 0), w.cfg.RetryAfterCap)
	}
	msg := sendErr.Error()
	if len(msg) > maxLastError {
		msg = strings.ToValidUTF8(msg[:maxLastError], "")
	}
	var (
		attempts int
		wait     time.Duration
		dead     bool
		changed  bool
	)
	err := w.st.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.OutboxItem(it.ID)
		if err != nil {
			return err
		}
		attempts, wait, dead, changed = cur.Attempts, 0, false, false
		if cur.State != store.OutboxPending {
			changed = true
			return nil // moved on meanwhile; leave it
		}
		cur.Attempts++
		cur.LastError, cur.Updated = msg, now
		if dead = cur.Attempts >= w.cfg.MaxAttempts; dead {
			cur.State, cur.NextAttempt = store.OutboxDead, time.Time{}
		} else {
			wait = max(w.cfg.Backoff.wait(cur.Attempts, w.rand()), retryAfter)
			cur.NextAttempt = now.Add(wait)
		}
		attempts = cur.Attempts
		return tx.PutOutbox(cur)
	})
	if err != nil || changed {
		return err
	}
	log := w.log.With(slog.String("destination", d.Name), slog.String("outbox_id", it.ID),
		slog.Int("attempt", attempts), slog.String("err", msg))
	if dead {
		d.dead.Add(1)
		log.Error("outbox item dead")
		return nil
	}
	log.Warn("outbox delivery failed", slog.Duration("retry_in", wait))
	return nil
}
