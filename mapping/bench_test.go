package mapping_test

import (
	"os"
	"testing"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
)

// BenchmarkMapORM maps a parsed 1.5 KB radiology ORM^O01 v2.5.1 (MSH, PID, PV1, two IN1,
// two DG1, ORC with ORC-30, TQ1, OBR, NTE, two OBX). Parsing is BenchmarkParse's job
// (package hl7) and is outside the loop.
func BenchmarkMapORM(b *testing.B) {
	raw, err := os.ReadFile(goldenDir + "/orm_o01_v251_radiology.hl7")
	if err != nil {
		b.Fatal(err)
	}
	m, err := hl7.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		orders, issues := mapping.FromV2(m)
		if len(orders) != 1 || len(issues) != 0 {
			b.Fatalf("FromV2 = %d orders, %v", len(orders), issues)
		}
	}
}

// BenchmarkMapORU maps a parsed 1.5 KB radiology ORU^R01 (five OBX, TX narrative).
func BenchmarkMapORU(b *testing.B) {
	raw, err := os.ReadFile(goldenDir + "/oru_r01_radiology_tx.hl7")
	if err != nil {
		b.Fatal(err)
	}
	m, err := hl7.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if rs, _ := mapping.ResultsFromV2(m); len(rs) != 1 {
			b.Fatalf("ResultsFromV2 = %d results", len(rs))
		}
	}
}
