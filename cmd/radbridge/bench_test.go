package main

import (
	"fmt"
	"strconv"
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

// The appends that build bench messages fill benchOrder's verbs in order.
func TestAppendBenchMessage(t *testing.T) {
	for _, i := range []int{1, 42, 1234567} {
		id := "P" + strconv.Itoa(i)
		want := fmt.Sprintf(benchOrder, "20261122100000", id, "MRN"+id, id, benchOrderTime, id, benchOrderTime)
		if got := string(appendBenchMessage([]byte("junk"), "P", i, "20261122100000")); got != "junk"+want {
			t.Errorf("message %d:\n got %q\nwant %q", i, got, "junk"+want)
		}
	}
	if n := len(benchOrderParts); n != 8 {
		t.Errorf("benchOrder has %d verbs, the appends fill 7", n-1)
	}
}
