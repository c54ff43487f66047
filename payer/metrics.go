package payer

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// OtherPayer labels the overdue cases of orders whose payer has no profile.
const OtherPayer = "other"

var overdueDesc = prometheus.NewDesc("radbridge_pa_overdue",
	"Prior-authorization cases waiting for the payer's decision past its deadline, by payer profile (\"other\" for payers without one).",
	[]string{"payer"}, nil)

// OverdueByPayer counts the overdue cases (Overdue) by payer profile ID, every
// configured profile present (zero when none), OtherPayer for the rest.
func (s *Service) OverdueByPayer(ctx context.Context) (map[string]int, error) {
	now := s.now()
	counts := map[string]int{OtherPayer: 0}
	for _, id := range s.ids {
		counts[id] = 0
	}
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		list, _, err := tx.Orders(store.OrderQuery{Status: order.StatusPendingAuth, Limit: store.MaxLimit})
		for _, o := range list {
			if !Overdue(o, now) {
				continue
			}
			if _, ok := s.profiles[o.Authorization.Payer]; ok {
				counts[o.Authorization.Payer]++
			} else {
				counts[OtherPayer]++
			}
		}
		return err
	})
	return counts, err
}

// Collector exports radbridge_pa_overdue{payer} (OverdueByPayer, read at each scrape
// within ctx, the server's lifetime). Its label values are the configured profile IDs
// and "other", so the series are bounded by the configuration.
func (s *Service) Collector(ctx context.Context) prometheus.Collector {
	return overdueCollector{s: s, ctx: ctx}
}

type overdueCollector struct {
	s   *Service
	ctx context.Context // the serve context; a scrape has none of its own
}

func (c overdueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- overdueDesc }

func (c overdueCollector) Collect(ch chan<- prometheus.Metric) {
	counts, err := c.s.OverdueByPayer(c.ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(overdueDesc, err)
		return
	}
	for payer, n := range counts {
		ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(n), payer)
	}
}
