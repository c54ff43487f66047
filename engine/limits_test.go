package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/store"
)

// hasIssue reports whether ack has an ERR with the code at the location (as written by
// hl7.Location.String, e.g. "ORC-2.1").
func hasIssue(ack *hl7.Message, code int, loc string) bool {
	for _, is := range hl7.ReadIssues(ack) {
		if is.Code == code && is.Location.String() == loc && is.Severity == hl7.SeverityError && is.Text != "" {
			return true
		}
	}
	return false
}

// A value that keys stored records and is longer than HL7 allows is a rejection with
// ERR 104 at its place, over MLLP as anywhere: a placer number past bbolt's 32 KiB key
// limit once got no ACK at all, so that the sender resent it for ever.
func TestMLLPHandler_ValueTooLong(t *testing.T) {
	long := strings.Repeat("9", 40000)
	tests := []struct {
		name   string
		raw    []byte
		code   string
		wantAt string // ERR location with code 104; "" for none
	}{
		{name: "placer 40000", raw: orm("NW", "VL1", long, ""), code: "AR", wantAt: "ORC-2.1"},
		{name: "placer 200", raw: orm("NW", "VL2", strings.Repeat("p", 200), ""), code: "AR", wantAt: "ORC-2.1"},
		{name: "placer 199", raw: orm("NW", "VL3", strings.Repeat("p", 199), ""), code: "AA"},
		{name: "placer 199 characters in 398 bytes", raw: orm("NW", "VL4", strings.Repeat("é", 199), ""), code: "AA"},
		{name: "filler", raw: []byte(strings.Replace(string(orm("NW", "VL5", "P5", "")), "ORC|NW|P5^EHR|", "ORC|NW|P5^EHR|"+long, 1)),
			code: "AR", wantAt: "ORC-3.1"},
		{name: "accession", raw: orm("NW", "VL6", "P6", "IPC|"+strings.Repeat("A", 300)+"^RB"), code: "AR", wantAt: "IPC-1.1"},
		{name: "second OBR placer", raw: orm("NW", "VL7", "P7", "OBR|2|"+long+"^EHR||70553^MRI^C4"), code: "AR", wantAt: "OBR(2)-2.1"},
		{name: "result placer", raw: enginetest.CR("MSH|^~\\&|RIS|RAD|EHR|HOSP_A|2026||ORU^R01|VL8|P|2.5.1\nPID|1||MRN123\nOBR|1|" + long +
			"||70553^MRI^C4|||||||||||||||||||||F\nOBX|1|TX|18782-3^Report^LN||Normal.||||||F"), code: "AR", wantAt: "OBR-2.1"},
		{name: "sending facility", raw: []byte(strings.Replace(string(orm("NW", "VL9", "P9", "")), "|HOSP_A|", "|"+strings.Repeat("H", 228)+"|", 1)),
			code: "AR", wantAt: "MSH-4"},
		{name: "sending application", raw: []byte(strings.Replace(string(orm("NW", "VL10", "P10", "")), "|EHR|HOSP_A|", "|"+strings.Repeat("E", 40000)+"|HOSP_A|", 1)),
			code: "AR", wantAt: "MSH-3"},
		{name: "control id", raw: orm("NW", strings.Repeat("C", 200), "P11", ""), code: "AR", wantAt: "MSH-10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			cl := serveMLLP(t, f)
			raw, err := cl.Send(t.Context(), tc.raw)
			if err != nil {
				t.Fatalf("no ACK: %v", err)
			}
			ack, err := hl7.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := ack.Get("MSA-1"); got != tc.code {
				t.Fatalf("MSA-1 %s, want %s: %.300q", got, tc.code, raw)
			}
			if tc.wantAt != "" && !hasIssue(ack, hl7.CodeValueTooLong, tc.wantAt) {
				t.Errorf("no ERR 104 at %s: %.500q", tc.wantAt, raw)
			}
			wantOrders := 0
			if tc.code == "AA" {
				wantOrders = 1
			}
			if n := len(f.Orders(t, store.OrderQuery{})); n != wantOrders {
				t.Errorf("%d orders, want %d", n, wantOrders)
			}
			if msgs := storedMessages(t, f); len(msgs) != 1 || msgs[0].AckCode != tc.code {
				t.Errorf("stored %+v, want the message kept with %s", msgs, tc.code)
			}
		})
	}
}

// ordersMessage is an ORM with n orders, each its ORC and OBR.
func ordersMessage(ctl string, n int) []byte {
	var b strings.Builder
	b.WriteString("MSH|^~\\&|EHR|HOSP_A|RADBRIDGE|IMG|20261122093000||ORM^O01^ORM_O01|" + ctl + "|P|2.5.1\nPID|1||MRN123^^^HOSP_A^MR||DOE^JANE||19800102|F\n")
	for i := range n {
		fmt.Fprintf(&b, "ORC|NW|%s-%d^EHR\nOBR|%d|%s-%d^EHR||70553^MRI BRAIN^C4\n", ctl, i, i+1, ctl, i)
	}
	return enginetest.CR(b.String())
}

// One message makes at most Config.MaxOrdersPerMessage orders (default 100); one with
// more is rejected whole, ERR 100 at the first ORC past the cap.
func TestHandleV2_MaxOrdersPerMessage(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		orders int
		code   string
		at     string
	}{
		{name: "default, 100", orders: 100, code: "AA"},
		{name: "default, 101", orders: 101, code: "AR", at: "ORC(101)"},
		{name: "default, 5000", orders: 5000, code: "AR", at: "ORC(101)"},
		{name: "3 of 3", max: 3, orders: 3, code: "AA"},
		{name: "4 of 3", max: 3, orders: 4, code: "AR", at: "ORC(4)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := enginetest.New(t, enginetest.Options{Engine: engine.Config{MaxOrdersPerMessage: tc.max}})
			ack := f.Send(t, ordersMessage("MO1", tc.orders))
			if got := ack.Get("MSA-1"); got != tc.code {
				t.Fatalf("MSA-1 %s, want %s: %.500q", got, tc.code, ack.Bytes())
			}
			want := tc.orders
			if tc.at != "" {
				want = 0
				if !hasIssue(ack, hl7.CodeSegmentSequence, tc.at) {
					t.Errorf("no ERR 100 at %s: %.500q", tc.at, ack.Bytes())
				}
				if !strings.Contains(string(ack.Bytes()), "at most that many orders in one message") {
					t.Errorf("the ERR does not say why: %.500q", ack.Bytes())
				}
			}
			if n := len(f.Orders(t, store.OrderQuery{Limit: store.MaxLimit})); n != want {
				t.Errorf("%d orders, want %d", n, want)
			}
		})
	}
	if err := (engine.Config{MaxOrdersPerMessage: -1}).Validate(); err == nil {
		t.Error("a negative MaxOrdersPerMessage is valid")
	}
}
