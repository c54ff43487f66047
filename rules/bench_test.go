package rules_test

import (
	"testing"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

// BenchmarkCheck checks a complete order (outpatient brain MRI with its authorization
// number): the engine's common case. It must not allocate.
func BenchmarkCheck(b *testing.B) {
	c := newChecker(b, rules.Config{Payers: []rules.PayerProfile{ppoNoAuth, dxaPlan}})
	o := completeOrder()
	b.ReportAllocs()
	for b.Loop() {
		c.Check(o, checkTime)
	}
}

// BenchmarkCheck_PendingAuth checks an order that needs authorization: one
// information finding, written into the reused Findings array.
func BenchmarkCheck_PendingAuth(b *testing.B) {
	c := newChecker(b, rules.Config{Payers: []rules.PayerProfile{ppoNoAuth, dxaPlan}})
	o := pendingOrder()
	b.ReportAllocs()
	for b.Loop() {
		c.Check(o, checkTime)
	}
}

// BenchmarkCheck_Incomplete checks an order with several errors whose texts name the
// offending values (built on the error path, so they allocate).
func BenchmarkCheck_Incomplete(b *testing.B) {
	c := newChecker(b, rules.Config{})
	o := completeOrder()
	o.Provider.NPI = "1234567890"
	o.Diagnoses = []order.Diagnosis{{Code: "R5", System: "I10"}}
	o.Procedure = order.Procedure{Code: "24590-2", System: "LN"}
	b.ReportAllocs()
	for b.Loop() {
		c.Check(o, checkTime)
	}
}

func BenchmarkPreauth(b *testing.B) {
	c := newChecker(b, rules.Config{Payers: []rules.PayerProfile{ppoNoAuth}})
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Preauth("70553", order.ClassOutpatient, "ACME-PPO")
	}
}

func BenchmarkNew(b *testing.B) {
	cfg := rules.Config{Payers: []rules.PayerProfile{ppoNoAuth, dxaPlan, screeningFree}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rules.New(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
