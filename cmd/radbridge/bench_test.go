package main

import (
	"testing"
	"time"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

// TestBenchMessage_Complete: the load generator's order passes every check, so a bench
// measures the accepted path (AA), not the error path.
func TestBenchMessage_Complete(t *testing.T) {
	m, err := hl7.Parse(benchMessage("T", 7, "20261122100000"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Get("ORC-9"); got != benchOrderTime {
		t.Errorf("ORC-9 = %q", got)
	}
	vos, issues := mapping.FromV2(m)
	if len(vos) != 1 || len(issues) != 0 {
		t.Fatalf("FromV2: %d orders, issues %+v", len(vos), issues)
	}
	checker, err := rules.New(rules.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var _ engine.Checker = checker
	o := vos[0].Order
	checker.Check(o, time.Now())
	for _, f := range o.Findings {
		if f.Severity == order.SeverityError {
			t.Errorf("finding %+v", f)
		}
	}
	if o.Placer != "T7" || o.Authorization.Number != "AUTH778899" {
		t.Errorf("placer %q, authorization %+v", o.Placer, o.Authorization)
	}
	// A later run with the same prefix resends the same message: only MSH-7 differs.
	again, _ := hl7.Parse(benchMessage("T", 7, "20261122110000"))
	for i, s := range m.Segments()[1:] {
		if string(s.Bytes()) != string(again.Segments()[i+1].Bytes()) {
			t.Errorf("segment %d differs between runs: %q", i+2, s.Bytes())
		}
	}
}
