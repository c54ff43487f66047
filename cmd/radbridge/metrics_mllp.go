package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/radbridge/radbridge/hl7/mllp"
)

// The MLLP metrics that carry a label; each label value is a row of mllpMetrics.
var (
	descMLLPRefused = prometheus.NewDesc("radbridge_mllp_connections_refused_total",
		"MLLP connections closed at once because a cap was reached: mllp.max_conns or mllp.max_conns_per_addr.", []string{"cap"}, nil)
	descMLLPTimeouts = prometheus.NewDesc("radbridge_mllp_timeouts_total",
		"MLLP connections closed by a timeout: idle (mllp.idle_timeout) or read (mllp.read_timeout, a frame not finished in time).", []string{"timeout"}, nil)
)

// mllpMetric is one metric read from mllp.Stats.
type mllpMetric struct {
	desc   *prometheus.Desc
	kind   prometheus.ValueType
	labels []string
	value  func(mllp.Stats) float64
}

// mllpMetrics are the MLLP listener's metrics: connections, refusals by the cap that
// refused them, frames, bytes, timeouts and the frame budget.
var mllpMetrics = []mllpMetric{
	{desc: prometheus.NewDesc("radbridge_mllp_connections_open", "MLLP connections open now.", nil, nil),
		kind: prometheus.GaugeValue, value: func(s mllp.Stats) float64 { return float64(s.ConnsOpen) }},
	{desc: prometheus.NewDesc("radbridge_mllp_connections_accepted_total", "MLLP connections accepted and served.", nil, nil),
		kind: prometheus.CounterValue, value: func(s mllp.Stats) float64 { return float64(s.ConnsAccepted) }},
	{desc: descMLLPRefused,
		kind: prometheus.CounterValue, labels: []string{"max_conns"}, value: func(s mllp.Stats) float64 { return float64(s.ConnsRefused) }},
	{desc: descMLLPRefused,
		kind: prometheus.CounterValue, labels: []string{"max_conns_per_addr"}, value: func(s mllp.Stats) float64 { return float64(s.ConnsRefusedPerAddr) }},
	{desc: prometheus.NewDesc("radbridge_mllp_tls_handshake_errors_total", "MLLP TLS handshakes that failed, mTLS rejections included.", nil, nil),
		kind: prometheus.CounterValue, value: func(s mllp.Stats) float64 { return float64(s.HandshakeErrors) }},
	{desc: prometheus.NewDesc("radbridge_mllp_frames_total", "MLLP frames read and handed to the engine.", nil, nil),
		kind: prometheus.CounterValue, value: func(s mllp.Stats) float64 { return float64(s.Frames) }},
	{desc: prometheus.NewDesc("radbridge_mllp_received_bytes_total", "Payload bytes of the MLLP frames read.", nil, nil),
		kind: prometheus.CounterValue, value: func(s mllp.Stats) float64 { return float64(s.BytesIn) }},
	{desc: prometheus.NewDesc("radbridge_mllp_acks_total", "MLLP answers written.", nil, nil),
		kind: prometheus.CounterValue, value: func(s mllp.Stats) float64 { return float64(s.Acks) }},
	{desc: prometheus.NewDesc("radbridge_mllp_sent_bytes_total", "Payload bytes of the MLLP answers written.", nil, nil),
		kind: prometheus.CounterValue, value: func(s mllp.Stats) float64 { return float64(s.BytesOut) }},
	{desc: prometheus.NewDesc("radbridge_mllp_discarded_bytes_total", "Bytes received outside any delivered MLLP frame (junk, abandoned frames).", nil, nil),
		kind: prometheus.CounterValue, value: func(s mllp.Stats) float64 { return float64(s.Discarded) }},
	{desc: prometheus.NewDesc("radbridge_mllp_frames_oversized_total", "MLLP frames rejected for exceeding mllp.max_message_size.", nil, nil),
		kind: prometheus.CounterValue, value: func(s mllp.Stats) float64 { return float64(s.Oversized) }},
	{desc: prometheus.NewDesc("radbridge_mllp_frames_over_budget_total",
		"MLLP connections closed because their frame needed more of mllp.frame_budget than was left.", nil, nil),
		kind: prometheus.CounterValue, value: func(s mllp.Stats) float64 { return float64(s.FramesOverBudget) }},
	{desc: prometheus.NewDesc("radbridge_mllp_frame_budget_bytes", "Bytes of mllp.frame_budget that MLLP frames being read hold now.", nil, nil),
		kind: prometheus.GaugeValue, value: func(s mllp.Stats) float64 { return float64(s.FrameBytes) }},
	{desc: prometheus.NewDesc("radbridge_mllp_handler_errors_total", "MLLP messages the engine could not answer (the connection was closed).", nil, nil),
		kind: prometheus.CounterValue, value: func(s mllp.Stats) float64 { return float64(s.HandlerErrors) }},
	{desc: descMLLPTimeouts,
		kind: prometheus.CounterValue, labels: []string{"idle"}, value: func(s mllp.Stats) float64 { return float64(s.IdleTimeouts) }},
	{desc: descMLLPTimeouts,
		kind: prometheus.CounterValue, labels: []string{"read"}, value: func(s mllp.Stats) float64 { return float64(s.ReadTimeouts) }},
}

// mllpCollector exports an MLLP server's Stats, read once per scrape.
type mllpCollector struct{ stats func() mllp.Stats }

var _ prometheus.Collector = mllpCollector{}

// Describe implements prometheus.Collector.
func (c mllpCollector) Describe(ch chan<- *prometheus.Desc) {
	for i, m := range mllpMetrics {
		if i == 0 || m.desc != mllpMetrics[i-1].desc {
			ch <- m.desc
		}
	}
}

// Collect implements prometheus.Collector.
func (c mllpCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	for _, m := range mllpMetrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(st), m.labels...)
	}
}
