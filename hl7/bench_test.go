package hl7_test

import (
	"os"
	"testing"

	"github.com/radbridge/radbridge/hl7"
)

func loadRadiologyORU(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile("../testdata/hl7v2/radbridge__oru_r01_radiology.hl7")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// readTypical parses msg and reads what a router reads: 10 fields and every OBX-5.
func readTypical(msg []byte) (n int, err error) {
	m, err := hl7.Parse(msg)
	if err != nil {
		return 0, err
	}
	msh := m.Segments()[0]
	n += len(msh.Field(9).Component(1).Unescaped()) + len(msh.Field(9).Component(2).Unescaped()) +
		len(msh.Field(10).Unescaped()) + len(msh.Field(12).Unescaped()) + len(msh.Field(4).Component(1).Unescaped())
	if pid, ok := m.Segment("PID"); ok {
		n += len(pid.Field(3).Component(1).Unescaped()) + len(pid.Field(5).Component(1).Unescaped())
	}
	if obr, ok := m.Segment("OBR"); ok {
		n += len(obr.Field(2).Component(1).Unescaped()) + len(obr.Field(4).Component(1).Unescaped()) + len(obr.Field(25).Unescaped())
	}
	for obx := range m.All("OBX") {
		n += len(obx.Field(5).Unescaped())
	}
	return n, nil
}

// BenchmarkParse: parse a 1.5 KB radiology ORU^R01 (MSH, PID, PV1, ORC, OBR, 5 OBX) and
// read 10 fields plus every OBX-5.
func BenchmarkParse(b *testing.B) {
	msg := loadRadiologyORU(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := readTypical(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseOnly measures Parse alone on the same message.
func BenchmarkParseOnly(b *testing.B) {
	msg := loadRadiologyORU(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := hl7.Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendAck builds an AE acknowledgment with one ERR segment into a reused buffer.
func BenchmarkAppendAck(b *testing.B) {
	m, err := hl7.Parse(loadRadiologyORU(b))
	if err != nil {
		b.Fatal(err)
	}
	h := m.Header()
	ack := hl7.Ack{Code: hl7.AE, ControlID: "ACK1", Issues: []hl7.Issue{{Location: hl7.Location{Segment: "DG1", Field: 3}, Code: 101, Severity: 'E', Text: "missing"}}}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = hl7.AppendAck(buf[:0], h, ack)
	}
}

// BenchmarkCheckAck checks an AA against the 1.5 KB message it acknowledges, as a
// sender does after every message.
func BenchmarkCheckAck(b *testing.B) {
	msg := loadRadiologyORU(b)
	m, err := hl7.Parse(msg)
	if err != nil {
		b.Fatal(err)
	}
	ack := hl7.AppendAck(nil, m.Header(), hl7.Ack{Code: hl7.AA, ControlID: "ACK1"})
	b.ReportAllocs()
	for b.Loop() {
		if err := hl7.CheckAck(msg, ack); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParse_Allocs guards the zero-copy design: parsing and reading a typical message
// costs one allocation (the Message, which holds the index of a typical message), however
// many fields are read, plus one per value read that holds an escape sequence (one OBX-5
// here has \.br\).
func TestParse_Allocs(t *testing.T) {
	msg := loadRadiologyORU(t)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := readTypical(msg); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Errorf("parse + reads = %.0f allocations, want at most 2", allocs)
	}
}
