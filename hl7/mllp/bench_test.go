package mllp

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

func BenchmarkReader(b *testing.B) {
	for _, bc := range []struct {
		name    string
		payload []byte
	}{
		{name: "orm", payload: []byte(sampleORM)},
		{name: "256KiB", payload: bytes.Repeat([]byte("OBX|1|ED|PDF^Report||"), 256<<10/21)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			frames := bytes.Repeat(AppendFrame(nil, bc.payload), max(1, (1<<20)/len(bc.payload)))
			r := NewReader(&repeatReader{data: frames}, 0)
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.payload)))
			for b.Loop() {
				if _, err := r.ReadFrame(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRoundTrip measures Client.Send against a Server on loopback with a
// handler returning a fixed ACK, over 1 and 16 connections.
func BenchmarkRoundTrip(b *testing.B) {
	ack := []byte("MSH|^~\\&|RADBRIDGE|HOSP_A|RIS|HOSP_A|20250101120001||ACK^O01|ACK00001|P|2.3\rMSA|AA|MSG00001\r")
	h := HandlerFunc(func(context.Context, []byte, ConnInfo) ([]byte, error) { return ack, nil })
	msg := []byte(sampleORM)
	for _, conns := range []int{1, 16} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			addr := startServer(b, &Server{Handler: h})
			clients := make([]*Client, conns)
			for i := range clients {
				clients[i] = newClient(b, &Client{Addr: addr})
				if _, err := clients[i].Send(b.Context(), msg); err != nil { // connect outside the timing
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for _, c := range clients {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if _, err := c.Send(b.Context(), msg); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}
