package delivery_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// BenchmarkDeliverMLLP measures how many items per second one destination drains from
// a backlog to a loopback MLLP provider that parses each ORU and answers AA: one View,
// one exchange and one store Update per item. The store skips fsync ("nosync", the
// worker's own cost) or not ("fsync", one commit per item on this machine's disk).
//
// It pre-fills b.N items before timing, so it counts iterations with b.N rather than
// b.Loop.
func BenchmarkDeliverMLLP(b *testing.B) {
	for _, sync := range []bool{false, true} {
		name := "nosync"
		if sync {
			name = "fsync"
		}
		b.Run(name, func(b *testing.B) { benchDeliverMLLP(b, sync) })
	}
}

func benchDeliverMLLP(b *testing.B, sync bool) {
	st, err := bolt.Open(bolt.Config{Dir: b.TempDir(), NoSync: !sync})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var acked atomic.Int64
	done := make(chan struct{})
	n := int64(b.N)
	addr := serveMLLP(b, "127.0.0.1:0", mllp.HandlerFunc(func(_ context.Context, msg []byte, _ mllp.ConnInfo) ([]byte, error) {
		m, err := hl7.Parse(msg)
		if err != nil {
			return nil, err
		}
		ack := hl7.AppendAck(nil, m.Header(), hl7.Ack{Code: hl7.AA, ControlID: "A1", Time: time.Unix(1893499200, 0)})
		if acked.Add(1) == n {
			close(done)
		}
		return ack, nil
	}))
	payload := oru("C0000000")
	created := time.Now()
	for start := 0; start < b.N; start += 1000 {
		err := st.Update(b.Context(), func(tx store.Tx) error {
			for i := start; i < min(start+1000, b.N); i++ {
				it := &store.OutboxItem{Destination: "ehr", Kind: delivery.KindHL7v2, Payload: payload,
					State: store.OutboxPending, Key: fmt.Sprint("k", i), Created: created}
				if err := tx.PutOutbox(it); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	w, err := delivery.New(delivery.Config{Destinations: []delivery.Destination{{Name: "ehr", MLLP: addr}}}, st, nil, delivery.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(b.Context())
	ran := make(chan error, 1)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	go func() { ran <- w.Run(ctx) }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("delivered %d of %d items", acked.Load(), b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
	cancel()
	if err := <-ran; err != nil {
		b.Fatal(err)
	}
}
