package delivery

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	descPending = prometheus.NewDesc("radbridge_outbox_pending",
		"Outbox items waiting for delivery, at the worker's last read of the queue.", []string{"destination"}, nil)
	descOldest = prometheus.NewDesc("radbridge_outbox_oldest_pending_seconds",
		"Age of the oldest pending outbox item; 0 when none is pending.", []string{"destination"}, nil)
	descAttempts = prometheus.NewDesc("radbridge_outbox_attempts_total",
		"Delivery attempts made, successful or not.", []string{"destination"}, nil)
	descDelivered = prometheus.NewDesc("radbridge_outbox_delivered_total",
		"Outbox items delivered.", []string{"destination"}, nil)
	descDead = prometheus.NewDesc("radbridge_outbox_dead_total",
		"Outbox items given up after the configured attempts.", []string{"destination"}, nil)
)

// Collector returns a prometheus.Collector of the Worker's metrics, labelled by
// destination: radbridge_outbox_pending, radbridge_outbox_oldest_pending_seconds,
// radbridge_outbox_attempts_total, radbridge_outbox_delivered_total and
// radbridge_outbox_dead_total. The counters count from the Worker's creation; the
// gauges reflect the queue as the worker last read it (on every wake-up, and at
// least every PollInterval while Run runs).
func (w *Worker) Collector() prometheus.Collector { return collector{w} }

type collector struct{ w *Worker }

var _ prometheus.Collector = collector{}

// Describe implements prometheus.Collector.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPending, descOldest, descAttempts, descDelivered, descDead} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	now := c.w.now()
	c.w.mu.RLock()
	dests := append([]*dest(nil), c.w.dests...)
	c.w.mu.RUnlock()
	for _, d := range dests {
		age := 0.0
		if created := d.oldest.Load(); created != 0 {
			age = max(now.Sub(time.Unix(0, created)).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(d.pending.Load()), d.Name)
		ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, age, d.Name)
		ch <- prometheus.MustNewConstMetric(descAttempts, prometheus.CounterValue, float64(d.attempts.Load()), d.Name)
		ch <- prometheus.MustNewConstMetric(descDelivered, prometheus.CounterValue, float64(d.delivered.Load()), d.Name)
		ch <- prometheus.MustNewConstMetric(descDead, prometheus.CounterValue, float64(d.dead.Load()), d.Name)
	}
}
