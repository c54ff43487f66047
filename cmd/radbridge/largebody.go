package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// largeBodyRetryAfter is the Retry-After of a request refused for want of a slot: a
// large create takes a few hundred milliseconds, so a slot is usually free by then.
const largeBodyRetryAfter = time.Second

// largeBodies is the state of the limitLargeBodies middleware.
type largeBodies struct {
	threshold int64
	slots     chan struct{} // one token per large body being served
	refused   prometheus.Counter
	log       *slog.Logger
}

// limitLargeBodies returns middleware that serves at most slots requests whose body is
// larger than threshold bytes at once, so that concurrent large FHIR creates, each of
// which holds many times its body in memory while it is decoded, validated, mapped and
// stored, cannot add up without bound. A body of declared length takes a slot before
// anything is read; a body of unknown length (chunked) is read up to threshold bytes
// first and takes a slot when it turns out longer. A request that finds every slot taken
// is answered 503 with Retry-After, as an OperationOutcome under /fhir and as the engine
// API's JSON error elsewhere; its body is not read. Small bodies are never held up.
// slots <= 0 means no limit. The metrics radbridge_http_large_bodies_in_flight and
// radbridge_http_large_bodies_refused_total are registered with reg.
func limitLargeBodies(threshold int64, slots int, reg prometheus.Registerer, log *slog.Logger) func(http.Handler) http.Handler {
	if slots <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	lb := &largeBodies{threshold: threshold, slots: make(chan struct{}, slots), log: log,
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "radbridge_http_large_bodies_refused_total",
			Help: "HTTP requests answered 503 because http.max_concurrent_large_bodies requests with a body over http.large_body were being served.",
		})}
	reg.MustRegister(lb.refused, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "radbridge_http_large_bodies_in_flight",
		Help: "HTTP requests with a body over http.large_body being served now.",
	}, func() float64 { return float64(len(lb.slots)) }))
	return lb.middleware
}

func (lb *largeBodies) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		large := r.ContentLength > lb.threshold
		if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
			var err error
			if large, err = lb.peek(r); err != nil {
				next.ServeHTTP(w, r) // the handler meets the read error and answers it
				return
			}
		}
		if !large {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case lb.slots <- struct{}{}:
		default:
			lb.refuse(w, r)
			return
		}
		defer func() { <-lb.slots }()
		next.ServeHTTP(w, r)
	})
}

// peek reads up to threshold+1 bytes of a body of unknown length and puts them back
// in front of the rest; it reports whether the body is longer than threshold. A body
// that fits is then known whole, and its length is set.
func (lb *largeBodies) peek(r *http.Request) (large bool, err error) {
	var head bytes.Buffer
	_, err = head.ReadFrom(io.LimitReader(r.Body, lb.threshold+1))
	rest := r.Body
	if err != nil {
		rest = io.NopCloser(errReader{err})
	}
	large = int64(head.Len()) > lb.threshold
	if !large && err == nil {
		r.ContentLength = int64(head.Len())
		rest = http.NoBody
	}
	r.Body = prefixedBody{Reader: io.MultiReader(&head, rest), Closer: r.Body}
	return large, err
}

// refuse answers 503 for want of a slot.
func (lb *largeBodies) refuse(w http.ResponseWriter, r *http.Request) {
	lb.refused.Inc()
	lb.log.DebugContext(r.Context(), "http request refused: too many large bodies", slog.Int64("content_length", r.ContentLength))
	wait := int(largeBodyRetryAfter / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(wait))
	msg := fmt.Sprintf("the server is serving as many requests with a body over %d bytes as it allows (%d); retry in %d s",
		lb.threshold, cap(lb.slots), wait)
	httpError(w, r, http.StatusServiceUnavailable, "throttled", msg)
}

// prefixedBody is a request body whose first bytes were read ahead.
type prefixedBody struct {
	io.Reader
	io.Closer
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
