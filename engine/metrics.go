package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the engine's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	messages *prometheus.CounterVec
	latency  prometheus.Histogram
	commit   prometheus.Histogram
	flush    prometheus.Histogram
	batch    prometheus.Histogram
	corrupts *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "radbridge_messages_total",
			Help: "Inbound messages by type and answer: the acknowledgment code of an HL7 v2 message (resend: answered from the store), the HTTP status of a FHIR write.",
		}, []string{"type", "ack"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "radbridge_message_seconds",
			Help:    "Time from receipt of a message to its acknowledgment being ready.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "radbridge_store_commit_seconds",
			Help:    "Duration of each durable store commit (a group of updates written to the write-ahead log), fsync included.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}),
		flush: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "radbridge_store_flush_seconds",
			Help:    "Duration of each flush of acknowledged writes from the write-ahead log's transaction to the B+tree file, its two fsyncs included.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "radbridge_store_commit_updates",
			Help:    "Updates group-committed per store transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		corrupts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "radbridge_store_corrupt_records_total",
			Help: "Stored records found unreadable (their bytes fail to decode or verify) and quarantined, by kind (order, message); each counted once per process.",
		}, []string{"kind"}),
	}
	reg.MustRegister(m.messages, m.latency, m.commit, m.flush, m.batch, m.corrupts)
	return m
}

// corrupt counts one record of the kind newly quarantined.
func (m *Metrics) corrupt(kind string) {
	if m == nil {
		return
	}
	m.corrupts.WithLabelValues(kind).Inc()
}

// knownTypes bounds the type label: a sender controls MSH-9, so anything else is "other".
var knownTypes = map[string]bool{
	"ORM^O01": true, "OMI^O23": true, "OML^O21": true, "ORU^R01": true,
	"ServiceRequest": true, "DiagnosticReport": true, "Bundle": true, "Subscription": true,
}

func (m *Metrics) observe(typ, ack string, d time.Duration) {
	if m == nil {
		return
	}
	if !knownTypes[typ] {
		typ = "other"
	}
	m.messages.WithLabelValues(typ, ack).Inc()
	m.latency.Observe(d.Seconds())
}

// ObserveCommit records one store commit; it fits bolt.Config.Observe.
func (m *Metrics) ObserveCommit(updates int, took time.Duration) {
	if m == nil {
		return
	}
	m.commit.Observe(took.Seconds())
	m.batch.Observe(float64(updates))
}

// ObserveFlush records one flush of the store's write-ahead log to its B+tree file; it
// fits bolt.Config.ObserveFlush.
func (m *Metrics) ObserveFlush(took time.Duration) {
	if m == nil {
		return
	}
	m.flush.Observe(took.Seconds())
}
