package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
)

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	relaxGC() // the load generator shares the machine with the server it measures
	switch {
	case len(args) > 0 && args[0] == "mllp":
		return benchMLLP(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "fhir":
		return benchFHIR(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, "usage: radbridge bench mllp --addr HOST:PORT [--conns N] [--count M] [flags]\n"+
		"       radbridge bench fhir --url http://HOST:PORT/fhir [--clients N] [--count M] [flags]")
	return 2
}

// benchOrder is the message bench sends: a complete radiology ORM^O01 whose control ID
// and placer number are unique per message, so that each creates one order.
const benchOrder = "MSH|^~\\&|BENCH|BENCH_FAC|RADBRIDGE|IMG|%s||ORM^O01^ORM_O01|%s|P|2.5.1\r" +
	"PID|1||%s^^^BENCH_FAC^MR||DOE^JANE^Q||19800102|F|||1 MAIN ST^^SPRINGFIELD^IL^62701\r" +
	"PV1|1|O|RAD^^^BENCH_FAC\r" +
	"ORC|NW|%s^BENCH|||||^^^^^R||%s|||1234567893^SMITH^JOHN^^^DR^^^NPI^L^^^NPI\r" +
	"TQ1|1||||||||R\r" +
	"OBR|1|%s^BENCH||70553^MRI BRAIN WITHOUT THEN WITH CONTRAST^C4|||%s|||||||||1234567893^SMITH^JOHN^^^DR^^^NPI^L^^^NPI||||||||MR|||||||R51.9^Headache^I10\r" +
	"DG1|1||R51.9^Headache, unspecified^I10|||A\r" +
	"IN1|1|PPO1^Plan|AETNA01|AETNA||||||||||AUTH778899\r"

// benchOrderTime is when every bench order was placed: fixed, so that running bench again
// with the same prefix resends identical messages (only MSH-7 changes, as it may on a
// real resend).
const benchOrderTime = "20261101080000"

func benchMessage(prefix string, i int, now string) []byte {
	return appendBenchMessage(nil, prefix, i, now)
}

// benchOrderParts is benchOrder cut at its verbs, so that building a message is a few
// appends: the load generator shares the machine with the server it measures.
var benchOrderParts = strings.Split(benchOrder, "%s")

// appendBenchMessage appends message i to dst.
func appendBenchMessage(dst []byte, prefix string, i int, now string) []byte {
	var idBuf [64]byte
	id := strconv.AppendInt(append(idBuf[:0], prefix...), int64(i), 10)
	p := benchOrderParts
	dst = append(append(dst, p[0]...), now...)
	dst = append(append(dst, p[1]...), id...)
	dst = append(append(append(dst, p[2]...), "MRN"...), id...)
	dst = append(append(dst, p[3]...), id...)
	dst = append(append(dst, p[4]...), benchOrderTime...)
	dst = append(append(dst, p[5]...), id...)
	dst = append(append(dst, p[6]...), benchOrderTime...)
	return append(dst, p[7]...)
}

// benchRecord is one line of --acked output.
type benchRecord struct {
	ControlID string `json:"control_id"`
	Ack       string `json:"ack"`
}

func benchMLLP(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench mllp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "HOST:PORT of the MLLP listener (required)")
	conns := fs.Int("conns", 1, "connections, each with one message in flight")
	count := fs.Int("count", 1000, "messages to send in all")
	prefix := fs.String("prefix", "B"+strconv.FormatInt(time.Now().Unix(), 36), "control ID and placer number prefix (reuse it to resend the same messages)")
	ackedPath := fs.String("acked", "", "write one JSON line {control_id, ack} per positive ACK to this file")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for each ACK")
	var tf tlsFlags
	tf.register(fs)
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if *addr == "" || *conns < 1 || *count < 1 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: radbridge bench mllp --addr HOST:PORT [--conns N] [--count M] [--prefix P] [--acked FILE]")
		return 2
	}
	tlsConfig, err := tf.config()
	if err != nil {
		fmt.Fprintf(stderr, "radbridge bench: %v\n", err)
		return 2
	}
	var acked *json.Encoder
	var mu sync.Mutex
	if *ackedPath != "" {
		f, err := os.Create(*ackedPath)
		if err != nil {
			fmt.Fprintf(stderr, "radbridge bench: %v\n", err)
			return 1
		}
		defer f.Close()
		w := bufio.NewWriter(f)
		// Flush after every record, so that a record exists exactly for every ACK received
		// even if this process is stopped.
		acked = json.NewEncoder(flushWriter{w})
	}
	now := hl7.FormatTime(time.Now(), hl7.PrecisionSecond)
	res := runLoad(ctx, *conns, *count, 0, stderr, func() (func(i int) error, func()) {
		cl := &mllp.Client{Addr: *addr, TLSConfig: tlsConfig, AckTimeout: *timeout, CheckAck: hl7.CheckAck}
		var msg []byte // Send keeps no reference to it
		send := func(i int) error {
			msg = appendBenchMessage(msg[:0], *prefix, i, now)
			ack, err := cl.Send(ctx, msg)
			if err != nil {
				return fmt.Errorf("message %s%d: %w", *prefix, i, err)
			}
			if acked != nil {
				mu.Lock()
				acked.Encode(benchRecord{ControlID: *prefix + strconv.Itoa(i), Ack: string(ack)})
				mu.Unlock()
			}
			return nil
		}
		return send, func() { cl.Close() }
	})
	return res.report(stdout, "messages", "msg/s", "connections", *count)
}

// loadResult is what a bounded load run measured.
type loadResult struct {
	workers int
	elapsed time.Duration
	lat     []time.Duration // sorted
	failed  int64
}

// runLoad performs count operations (numbered from 1) over workers goroutines, one
// operation in flight each. newWorker gives each worker its operation and what to close
// at the end; the first five failures are written to stderr.
func runLoad(ctx context.Context, workers, count int, pause time.Duration, stderr io.Writer, newWorker func() (op func(i int) error, done func())) loadResult {
	var next, failed atomic.Int64
	var mu sync.Mutex // stderr need not be safe for concurrent use
	lat := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		op, done := newWorker()
		wg.Go(func() {
			defer done()
			for {
				i := int(next.Add(1))
				if i > count || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				if err := op(i); err != nil {
					if failed.Add(1) <= 5 {
						mu.Lock()
						fmt.Fprintf(stderr, "radbridge bench: %v\n", err)
						mu.Unlock()
					}
				} else {
					lat[w] = append(lat[w], time.Since(t0))
				}
				if pause > 0 { // a paced worker; its latencies are the operations' own
					select {
					case <-time.After(pause):
					case <-ctx.Done():
					}
				}
			}
		})
	}
	wg.Wait()
	r := loadResult{workers: workers, elapsed: time.Since(start), lat: slices.Concat(lat...), failed: failed.Load()}
	slices.Sort(r.lat)
	return r
}

// report prints the summary line and returns the exit code: 1 when any operation
// failed or fewer than count were done. The rate and the latencies are those of the
// operations that succeeded; failures are counted apart.
func (r loadResult) report(w io.Writer, what, rate, workers string, count int) int {
	n := len(r.lat)
	fmt.Fprintf(w, "sent %d %s over %d %s in %v: %.0f %s; latency p50 %v p99 %v max %v; failed %d\n",
		n+int(r.failed), what, r.workers, workers, r.elapsed.Round(time.Millisecond), float64(n)/r.elapsed.Seconds(), rate,
		pct(r.lat, 50), pct(r.lat, 99), pct(r.lat, 100), r.failed)
	if r.failed > 0 || n < count {
		return 1
	}
	return 0
}

// pct returns the p-th percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)].Round(time.Microsecond)
}

// flushWriter flushes after every write.
type flushWriter struct{ w *bufio.Writer }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = f.w.Flush()
	}
	return n, err
}
