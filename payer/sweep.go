package payer

import (
	"context"
	"log/slog"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// Run sweeps every SweepInterval until ctx ends, and returns nil then.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("payer sweep failed", slog.String("err", err.Error()))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sweep looks at the orders waiting for a payer or ready on an approval, as of the
// service's clock:
//   - a request the payer pended (or submitted with no readable answer) whose
//     NextInquiry has come gets a Claim/$inquire queued, and the next inquiry is
//     scheduled;
//   - a case past its decision deadline (Authorization.DueBy, counted from the
//     submission) gets a payer.decision-overdue finding, once;
//   - an approval whose validity has ended before the exam expires
//     (order.Order.ExpireAuthorization).
//
// It reads at most store.MaxLimit orders of each status.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.now()
	var waiting, ready []*order.Order
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		if waiting, _, err = tx.Orders(store.OrderQuery{Status: order.StatusPendingAuth, Limit: store.MaxLimit}); err != nil {
			return err
		}
		ready, _, err = tx.Orders(store.OrderQuery{Status: order.StatusReady, Limit: store.MaxLimit})
		return err
	})
	if err != nil {
		return err
	}
	var ids []string
	for _, o := range waiting {
		if s.inquiryDue(o, now) || overdueUnflagged(o, now) {
			ids = append(ids, o.ID)
		}
	}
	for _, o := range ready {
		if expired(o.Authorization, now) {
			ids = append(ids, o.ID)
		}
	}
	for _, id := range ids {
		if err := s.sweepOne(ctx, id, now); err != nil {
			return err
		}
	}
	return nil
}

// sweepOne does what Sweep found due for order id, reading it again in the write
// transaction.
func (s *Service) sweepOne(ctx context.Context, id string, now time.Time) error {
	var notify []string
	err := s.st.Update(ctx, func(tx store.Tx) error {
		notify = nil
		o, err := tx.Order(id)
		if err != nil {
			return err
		}
		changed := false
		if s.inquiryDue(o, now) {
			au := &o.Authorization
			p := s.profiles[au.Payer]
			w := s.request(o, p, inquiryRequest, au.Claim, "", now)
			for _, it := range w.Outbox {
				// Each inquiry is a request of its own: its key must not be the Claim's.
				it.Key = au.Claim + "-inquiry-" + now.UTC().Format("20060102T150405.000000000Z")
				if err := tx.PutOutbox(it); err != nil {
					return err
				}
				notify = append(notify, it.Destination)
			}
			s.scheduleInquiry(au, p, now)
			changed = true
		}
		if overdueUnflagged(o, now) {
			o.Findings = append(o.Findings, payerFinding(CodeDecisionOverdue, order.FindingInformational,
				"the payer's decision was due by "+o.Authorization.DueBy.UTC().Format(time.RFC3339)+" and has not come"))
			changed = true
		}
		if expired(o.Authorization, now) {
			if err := o.ExpireAuthorization(now, "", ""); err != nil {
				return err
			}
			changed = true
		}
		if !changed {
			return nil
		}
		return tx.PutOrder(o)
	})
	if err != nil {
		return err
	}
	s.notify(notify)
	return nil
}

// inquiryDue reports whether o's request should be inquired about now.
func (s *Service) inquiryDue(o *order.Order, now time.Time) bool {
	a := o.Authorization
	switch a.Status {
	case order.AuthSubmitted, order.AuthPended, order.AuthAppealed:
	default:
		return false
	}
	return o.Status == order.StatusPendingAuth && a.Claim != "" && !a.NextInquiry.IsZero() &&
		!now.Before(a.NextInquiry) && s.profiles[a.Payer].pas()
}

// Overdue reports whether o waits for a payer's decision past its deadline: the order is
// pending-authorization, its authorization outstanding, and now after DueBy (the
// submission plus the payer's decision window once submitted; the check's due-by
// before).
func Overdue(o *order.Order, now time.Time) bool {
	a := o.Authorization
	return o.Status == order.StatusPendingAuth && a.Outstanding() && !a.DueBy.IsZero() && now.After(a.DueBy)
}

func overdueUnflagged(o *order.Order, now time.Time) bool {
	if !Overdue(o, now) {
		return false
	}
	for _, f := range o.Findings {
		if f.Code == CodeDecisionOverdue {
			return false
		}
	}
	return true
}

// expired reports whether an approval's validity ended before now: ValidTo is the last
// day covered when it is a date (midnight UTC), else the instant it ends.
func expired(a order.Authorization, now time.Time) bool {
	if !a.Status.Authorizes() || a.ValidTo.IsZero() {
		return false
	}
	end := a.ValidTo
	if end.Equal(end.Truncate(24*time.Hour)) && end.Location() == time.UTC {
		end = end.Add(24 * time.Hour)
	}
	return !now.Before(end)
}
