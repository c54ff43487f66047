package engine_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/rules"
	"github.com/radbridge/radbridge/store/bolt"
)

// BenchmarkHandleV2 measures durable ORM ingest through the engine (parse, map, checks,
// one group-committed bbolt transaction with fsync, ACK), without the transport, from 1
// and 16 concurrent senders. Each message is a new order.
func BenchmarkHandleV2(b *testing.B) {
	checker, err := rules.New(rules.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, senders := range []int{1, 16} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			db, err := bolt.Open(bolt.Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			eng, err := engine.New(engine.Config{}, db, checker, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(max(senders/2, 1)) // GOMAXPROCS is 2 here
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					raw := orm("NW", fmt.Sprint("B", i), fmt.Sprint("P", i), "DG1|1||R51.9^Headache^I10")
					if _, err := eng.HandleV2(b.Context(), raw); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
