package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

type fixture = enginetest.Fixture

func newFixture(t *testing.T, check engine.Checker) *fixture {
	return enginetest.New(t, enginetest.Options{Checker: check})
}

// countMessages is the number of messages stored.
func countMessages(t *testing.T, f *fixture) int {
	t.Helper()
	var total int
	if err := f.DB.View(t.Context(), func(tx store.ReadTx) error {
		var err error
		_, total, err = tx.Messages(store.MessageQuery{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return total
}

func orm(control, ctl, placer, extra string) []byte {
	return enginetest.CR(fmt.Sprintf(`
MSH|^~\&|EHR|HOSP_A|RADBRIDGE|IMG|20261122093000||ORM^O01^ORM_O01|%s|P|2.5.1
PID|1||MRN123^^^HOSP_A^MR||DOE^JANE||19800102|F
PV1|1|O
ORC|%s|%s^EHR||||||||||1234567893^SMITH^JOHN^^^^^^NPI^L^^^NPI
OBR|1|%s^EHR||70553^MRI BRAIN W/WO^C4|||||||||||1234567893^SMITH^JOHN|||||||||MR
%s`, ctl, control, placer, placer, extra))
}

func TestHandleV2_NewOrder(t *testing.T) {
	f := newFixture(t, nil)
	ack := f.Send(t, orm("NW", "C1", "P100", "DG1|1||R51.9^Headache^I10"))
	if got := ack.Get("MSA-1"); got != "AA" {
		t.Fatalf("MSA-1 = %q, want AA; ack %q", got, ack.Bytes())
	}
	if got := ack.Get("MSA-2"); got != "C1" {
		t.Errorf("MSA-2 = %q, want C1", got)
	}
	if got := ack.Get("MSH-5"); got != "EHR" {
		t.Errorf("ACK MSH-5 = %q, want the sender EHR", got)
	}
	if got := ack.Get("MSH-12"); got != "2.5.1" {
		t.Errorf("ACK version = %q", got)
	}
	list := f.Orders(t, store.OrderQuery{Placer: "P100"})
	if len(list) != 1 {
		t.Fatalf("%d orders stored, want 1", len(list))
	}
	o := list[0]
	if o.Status != order.StatusReady || o.Procedure.Code != "70553" || o.Provider.NPI != "1234567893" || o.Source.SendingFacility != "HOSP_A" {
		t.Errorf("stored order = %+v", o)
	}
	if len(o.History) < 2 || o.History[0].MessageID == "" {
		t.Errorf("history = %+v, want received then ready with the message ID", o.History)
	}
}

func TestHandleV2_Resend(t *testing.T) {
	f := newFixture(t, nil)
	raw := orm("NW", "C1", "P100", "")
	first, err := f.Engine.HandleV2(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	// The same message again, even with a fresh MSH-7, gets the very same ACK.
	again := []byte(strings.Replace(string(raw), "20261122093000", "20261122093500", 1))
	for _, r := range [][]byte{raw, again} {
		second, err := f.Engine.HandleV2(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		if string(second) != string(first) {
			t.Errorf("resend ACK differs:\n%q\n%q", first, second)
		}
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 1 {
		t.Errorf("%d orders after resends, want 1", n)
	}
	total := countMessages(t, f)
	if total != 1 {
		t.Errorf("%d messages stored after resends, want 1", total)
	}
	// Another message reusing the control ID is processed, with a warning.
	ack := f.Send(t, orm("NW", "C1", "P200", ""))
	if ack.Get("MSA-1") != "AA" || !strings.Contains(string(ack.Bytes()), "|205^") {
		t.Errorf("reused control ID: ACK %q, want AA with a 205 warning", ack.Bytes())
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 2 {
		t.Errorf("%d orders, want 2", n)
	}
}

func TestHandleV2_ConcurrentResends(t *testing.T) {
	f := newFixture(t, nil)
	raw := orm("NW", "C7", "P700", "")
	acks := make([]string, 20)
	var wg sync.WaitGroup
	for i := range acks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := f.Engine.HandleV2(context.Background(), raw)
			if err != nil {
				t.Error(err)
			}
			acks[i] = string(a)
		}()
	}
	wg.Wait()
	for _, a := range acks {
		if a != acks[0] {
			t.Fatalf("concurrent identical messages got different ACKs:\n%q\n%q", acks[0], a)
		}
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
}

func TestHandleV2_Rejections(t *testing.T) {
	tests := []struct {
		name     string
		raw      []byte
		wantCode string
		wantErr  string // ERR-3.1
		wantLoc  string // ERR-2 as segment^seq^field
	}{
		{name: "garbage", raw: []byte("hello"), wantCode: "AR", wantErr: "100"},
		{name: "bad delimiters", raw: []byte("MSH|^^^^|EHR|HOSP_A|RB|IMG|2026||ORM^O01|X1|P|2.5.1\r"), wantCode: "AR", wantErr: "102", wantLoc: "MSH^1^2"},
		{name: "ADT", raw: []byte("MSH|^~\\&|EHR|HOSP_A|RB|IMG|2026||ADT^A01|X2|P|2.5.1\rPID|1\r"), wantCode: "AR", wantErr: "200", wantLoc: "MSH^1^9"},
		{name: "ORM^O02", raw: []byte("MSH|^~\\&|EHR|HOSP_A|RB|IMG|2026||ORM^O02|X3|P|2.5.1\r"), wantCode: "AR", wantErr: "201", wantLoc: "MSH^1^9"},
		{name: "no control id", raw: []byte("MSH|^~\\&|EHR|HOSP_A|RB|IMG|2026||ORM^O01||P|2.5.1\r"), wantCode: "AR", wantErr: "101", wantLoc: "MSH^1^10"},
		{name: "bad version", raw: []byte("MSH|^~\\&|EHR|HOSP_A|RB|IMG|2026||ORM^O01|X4|P|3.0\r"), wantCode: "AR", wantErr: "203", wantLoc: "MSH^1^12"},
		{name: "bad processing id", raw: []byte("MSH|^~\\&|EHR|HOSP_A|RB|IMG|2026||ORM^O01|X5|Q|2.5.1\r"), wantCode: "AR", wantErr: "202", wantLoc: "MSH^1^11"},
		{name: "enhanced mode reject", raw: []byte("MSH|^~\\&|EHR|HOSP_A|RB|IMG|2026||ADT^A01|X6|P|2.5.1|||AL|NE\r"), wantCode: "CR", wantErr: "200"},
		{name: "no order", raw: []byte("MSH|^~\\&|EHR|HOSP_A|RB|IMG|2026||ORM^O01|X7|P|2.5.1\rPID|1||M\r"), wantCode: "AE", wantErr: "101"},
		{name: "cancel unknown order", raw: orm("CA", "X8", "NOPE", ""), wantCode: "AE", wantErr: "204", wantLoc: "ORC^1^2"},
		{name: "result before order", raw: enginetest.CR(`
MSH|^~\&|RIS|RAD|EHR|HOSP_A|2026||ORU^R01|X9|P|2.5.1
PID|1||MRN123
OBR|1|UNKNOWN1||70553^MRI^C4|||||||||||||||||||||F
OBX|1|TX|18782-3^Report^LN||Normal.||||||F`), wantCode: "AE", wantErr: "204", wantLoc: "OBR^1^2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			ack := f.Send(t, tc.raw)
			if got := ack.Get("MSA-1"); got != tc.wantCode {
				t.Fatalf("MSA-1 = %q, want %s; ack %q", got, tc.wantCode, ack.Bytes())
			}
			errs := hl7.ReadIssues(ack)
			found := false
			for _, is := range errs {
				if fmt.Sprint(is.Code) == tc.wantErr {
					found = true
					if tc.wantLoc != "" {
						loc := fmt.Sprintf("%s^%d^%d", is.Location.Segment, max(is.Location.Occurrence, 1), is.Location.Field)
						if loc != tc.wantLoc {
							t.Errorf("ERR location %s, want %s", loc, tc.wantLoc)
						}
					}
					if is.Text == "" {
						t.Error("ERR has no text")
					}
				}
			}
			if !found {
				t.Errorf("no ERR with code %s in %q", tc.wantErr, ack.Bytes())
			}
			// Every message is kept for audit, even those rejected.
			total := countMessages(t, f)
			if total != 1 {
				t.Errorf("%d messages stored, want 1", total)
			}
		})
	}
}

func TestHandleV2_EnhancedModeNE(t *testing.T) {
	f := newFixture(t, nil)
	raw := []byte(strings.Replace(string(orm("NW", "E1", "P1", "")), "|P|2.5.1", "|P|2.5.1|||NE|AL", 1))
	ack, err := f.Engine.HandleV2(t.Context(), raw)
	if err != nil || ack != nil {
		t.Fatalf("MSH-15=NE: ack %q, err %v; want no acknowledgment", ack, err)
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 1 {
		t.Errorf("%d orders, want 1 (the message is processed even when no ACK is wanted)", n)
	}
	raw = []byte(strings.Replace(string(orm("NW", "E2", "P2", "")), "|P|2.5.1", "|P|2.5.1|||AL|AL", 1))
	if got := f.Send(t, raw).Get("MSA-1"); got != "CA" {
		t.Errorf("MSH-15=AL: MSA-1 = %q, want CA", got)
	}
}

// In enhanced mode the accept acknowledgment says whether the message was stored: an
// order stored with findings is CA, the findings riding along as ERR segments; CR is a
// message refused and not processed.
func TestHandleV2_EnhancedModeFindings(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	incomplete := enginetest.RadiologyORM("EF1", "P4200", func(s string) string {
		s = strings.Replace(s, "|P|2.5.1\n", "|P|2.5.1|||AL|AL\n", 1)
		return strings.Replace(s, "DG1|1||R51.9^Headache, unspecified^I10", "DG1|1||ZZZ^nonsense^I10", 1)
	})
	ack := f.Send(t, incomplete)
	if got := ack.Get("MSA-1"); got != "CA" {
		t.Errorf("stored with findings: MSA-1 %q, want CA: %q", got, ack.Bytes())
	}
	errs := 0
	for _, is := range hl7.ReadIssues(ack) {
		if is.Severity == hl7.SeverityError {
			errs++
		}
	}
	if errs == 0 {
		t.Errorf("the findings are not on the CA: %q", ack.Bytes())
	}
	if o := f.Orders(t, store.OrderQuery{Placer: "P4200"}); len(o) != 1 || o[0].Status != order.StatusIncomplete {
		t.Errorf("orders %+v, want one incomplete", o)
	}
	unsupported := []byte(strings.Replace(string(orm("NW", "EF2", "P4201", "")), "ORM^O01^ORM_O01|EF2|P|2.5.1", "ADT^A01^ADT_A01|EF2|P|2.5.1|||AL|AL", 1))
	if got := f.Send(t, unsupported).Get("MSA-1"); got != "CR" {
		t.Errorf("unsupported type: MSA-1 %q, want CR", got)
	}
}

func TestHandleV2_Lifecycle(t *testing.T) {
	f := newFixture(t, nil)
	f.Send(t, orm("NW", "L1", "P9", ""))
	steps := []struct {
		ctl, code string
		want      order.Status
		wantAck   string
	}{
		{ctl: "L2", code: "HD", want: order.StatusOnHold, wantAck: "AA"},
		{ctl: "L3", code: "RL", want: order.StatusReady, wantAck: "AA"},
		{ctl: "L4", code: "XO", want: order.StatusReady, wantAck: "AA"},
		{ctl: "L5", code: "CA", want: order.StatusCancelled, wantAck: "AA"},
		{ctl: "L6", code: "HD", want: order.StatusCancelled, wantAck: "AE"},
		{ctl: "L7", code: "ZZ", want: order.StatusCancelled, wantAck: "AE"},
	}
	for _, s := range steps {
		ack := f.Send(t, orm(s.code, s.ctl, "P9", ""))
		if got := ack.Get("MSA-1"); got != s.wantAck {
			t.Errorf("ORC-1 %s: MSA-1 = %q, want %s (%q)", s.code, got, s.wantAck, ack.Bytes())
		}
		o := f.Orders(t, store.OrderQuery{Placer: "P9"})
		if len(o) != 1 || o[0].Status != s.want {
			t.Fatalf("after ORC-1 %s: orders %v, want one in %s", s.code, o, s.want)
		}
	}
}

// failingStore fails every update, as a full disk would.
type failingStore struct{ store.Store }

func (failingStore) Update(context.Context, func(store.Tx) error) error {
	return errors.New("disk full")
}

func TestHandleV2_StoreFailure(t *testing.T) {
	f := newFixture(t, nil)
	eng, err := engine.New(engine.Config{}, failingStore{f.DB}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := eng.HandleV2(t.Context(), orm("NW", "F1", "P1", ""))
	if err == nil {
		t.Fatal("HandleV2 reported no error while the store failed")
	}
	m, perr := hl7.Parse(ack)
	if perr != nil || m.Get("MSA-1") != "AR" || !strings.Contains(string(ack), "|207^") {
		t.Errorf("ACK while the store fails = %q, want AR with ERR 207", ack)
	}
}

// TestMLLPHandler_Oversize: a frame over the server's cap is answered AR with ERR 104,
// addressed to the sender's control ID, and kept for audit with its real size.
func TestMLLPHandler_Oversize(t *testing.T) {
	f := newFixture(t, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &mllp.Server{Handler: engine.MLLPHandler{Engine: f.Engine}, MaxMessageSize: 1024}
	go srv.Serve(l)
	defer srv.Close()
	big := append(orm("NW", "BIG1", "P1", ""), []byte("NTE|1||"+strings.Repeat("x", 4000)+"\r")...)
	cl := &mllp.Client{Addr: l.Addr().String()}
	defer cl.Close()
	raw, err := cl.Send(t.Context(), big)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := hl7.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	issues := hl7.ReadIssues(ack)
	if ack.Get("MSA-1") != "AR" || ack.Get("MSA-2") != "BIG1" || len(issues) != 1 || issues[0].Code != hl7.CodeValueTooLong {
		t.Fatalf("ACK = %q", raw)
	}
	var msgs []*store.Message
	if err := f.DB.View(t.Context(), func(tx store.ReadTx) error {
		var err error
		msgs, _, err = tx.Messages(store.MessageQuery{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].AckCode != "AR" || msgs[0].Size != len(big) || msgs[0].ControlID != "BIG1" {
		t.Errorf("stored %+v", msgs)
	}
}

// Four public samples share placer number 1101 from GHHSFacility, each an ORC-1 NW. A
// new order never replaces another: the first is stored, the others are refused with
// ERR 205 at ORC-2 and leave it as it was.
func TestHandleV2_NewOrderReusingPlacer(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	files := []string{"ms-fhir-converter__ORM-O01-01.hl7", "ms-fhir-converter__OML-O21-01.hl7",
		"ms-fhir-converter__ORM-O01-02.hl7", "ms-fhir-converter__ORM-O01-04.hl7"}
	var first *order.Order
	for i, name := range files {
		raw, err := os.ReadFile(filepath.Join("../testdata/hl7v2", name))
		if err != nil {
			t.Fatal(err)
		}
		raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\r"))
		raw = bytes.ReplaceAll(raw, []byte("\n"), []byte("\r"))
		ack := f.Send(t, raw)
		orders := f.Orders(t, store.OrderQuery{Placer: "1101"})
		if len(orders) != 1 {
			t.Fatalf("after %s: %d orders with placer 1101, want 1", name, len(orders))
		}
		if i == 0 {
			if code := ack.Get("MSA-1"); code == "AR" {
				t.Fatalf("%s: MSA-1 AR: %q", name, ack.Bytes())
			}
			first = orders[0]
			continue
		}
		if code := ack.Get("MSA-1"); code != "AE" {
			t.Errorf("%s: MSA-1 %s, want AE", name, code)
		}
		dup := false
		for _, is := range hl7.ReadIssues(ack) {
			if is.Code == hl7.CodeDuplicateKey && is.Location.Segment == "ORC" && is.Location.Field == 2 && is.Severity == hl7.SeverityError {
				dup = true
			}
		}
		if !dup {
			t.Errorf("%s: no ERR 205 at ORC-2: %q", name, ack.Bytes())
		}
		if got := orders[0]; got.ID != first.ID || got.Procedure != first.Procedure || len(got.History) != len(first.History) || !got.Updated.Equal(first.Updated) {
			t.Errorf("%s changed the order: procedure %+v -> %+v, history %d -> %d", name, first.Procedure, got.Procedure, len(first.History), len(got.History))
		}
	}
}

// Reprocessing the NW that created an order re-runs it on that order (checked again, as
// an XO would); it never makes a second order.
func TestEngine_Reprocess_NewOrder(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	if code := f.Send(t, enginetest.RadiologyORM("RP1", "P4100", nil)).Get("MSA-1"); code != "AA" {
		t.Fatalf("NW: MSA-1 %s", code)
	}
	var msgID string
	f.View(t, func(tx store.ReadTx) error {
		msgs, _, err := tx.Messages(store.MessageQuery{ControlID: "RP1"})
		if err == nil && len(msgs) == 1 {
			msgID = msgs[0].ID
		}
		return err
	})
	if msgID == "" {
		t.Fatal("the message was not stored")
	}
	res, err := f.Engine.Reprocess(t.Context(), msgID)
	if err != nil {
		t.Fatal(err)
	}
	if res.AckCode != "AA" || res.MessageID == msgID {
		t.Errorf("reprocess: %+v, want AA as a new message", res)
	}
	orders := f.Orders(t, store.OrderQuery{Placer: "P4100"})
	if len(orders) != 1 || len(res.OrderIDs) != 1 || res.OrderIDs[0] != orders[0].ID {
		t.Fatalf("after reprocess: %d orders, result %v", len(orders), res.OrderIDs)
	}
	if h := orders[0].History; h[len(h)-1].MessageID != res.MessageID {
		t.Errorf("the last history entry %+v is not the reprocessing's", h[len(h)-1])
	}
}
