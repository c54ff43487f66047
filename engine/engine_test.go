package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// cr turns a readable message into CR-terminated segments.
func cr(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimPrefix(s, "\n"), "\n", "\r"))
}

type fixture struct {
	eng *engine.Engine
	db  *bolt.DB
}

func newFixture(t *testing.T, check engine.Checker) *fixture {
	t.Helper()
	db, err := bolt.Open(bolt.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	eng, err := engine.New(engine.Config{}, db, check, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	eng.SetClock(func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) })
	return &fixture{eng: eng, db: db}
}

// send hands raw to the engine and returns the parsed acknowledgment.
func (f *fixture) send(t *testing.T, raw []byte) *hl7.Message {
	t.Helper()
	ack, err := f.eng.HandleV2(t.Context(), raw)
	if err != nil {
		t.Fatalf("HandleV2: %v", err)
	}
	if ack == nil {
		return nil
	}
	m, err := hl7.Parse(ack)
	if err != nil {
		t.Fatalf("ACK does not parse: %v\n%q", err, ack)
	}
	return m
}

func (f *fixture) orders(t *testing.T, q store.OrderQuery) []*order.Order {
	t.Helper()
	var out []*order.Order
	if err := f.db.View(t.Context(), func(tx store.ReadTx) error {
		var err error
		out, _, err = tx.Orders(q)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// countMessages is the number of messages stored.
func countMessages(t *testing.T, f *fixture) int {
	t.Helper()
	var total int
	if err := f.db.View(t.Context(), func(tx store.ReadTx) error {
		var err error
		_, total, err = tx.Messages(store.MessageQuery{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return total
}

func orm(control, ctl, placer, extra string) []byte {
	return cr(fmt.Sprintf(`
MSH|^~\&|EHR|HOSP_A|RADBRIDGE|IMG|20261122093000||ORM^O01^ORM_O01|%s|P|2.5.1
PID|1||MRN123^^^HOSP_A^MR||DOE^JANE||19800102|F
PV1|1|O
ORC|%s|%s^EHR||||||||||1234567893^SMITH^JOHN^^^^^^NPI^L^^^NPI
OBR|1|%s^EHR||70553^MRI BRAIN W/WO^C4|||||||||||1234567893^SMITH^JOHN|||||||||MR
%s`, ctl, control, placer, placer, extra))
}

func TestHandleV2_NewOrder(t *testing.T) {
	f := newFixture(t, nil)
	ack := f.send(t, orm("NW", "C1", "P100", "DG1|1||R51.9^Headache^I10"))
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
	list := f.orders(t, store.OrderQuery{Placer: "P100"})
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
	first, err := f.eng.HandleV2(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	// The same message again, even with a fresh MSH-7, gets the very same ACK.
	again := []byte(strings.Replace(string(raw), "20261122093000", "20261122093500", 1))
	for _, r := range [][]byte{raw, again} {
		second, err := f.eng.HandleV2(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		if string(second) != string(first) {
			t.Errorf("resend ACK differs:\n%q\n%q", first, second)
		}
	}
	if n := len(f.orders(t, store.OrderQuery{})); n != 1 {
		t.Errorf("%d orders after resends, want 1", n)
	}
	total := countMessages(t, f)
	if total != 1 {
		t.Errorf("%d messages stored after resends, want 1", total)
	}
	// Another message reusing the control ID is processed, with a warning.
	ack := f.send(t, orm("NW", "C1", "P200", ""))
	if ack.Get("MSA-1") != "AA" || !strings.Contains(string(ack.Bytes()), "|205^") {
		t.Errorf("reused control ID: ACK %q, want AA with a 205 warning", ack.Bytes())
	}
	if n := len(f.orders(t, store.OrderQuery{})); n != 2 {
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
			a, err := f.eng.HandleV2(context.Background(), raw)
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
	if n := len(f.orders(t, store.OrderQuery{})); n != 1 {
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
		{name: "result before order", raw: cr(`
MSH|^~\&|RIS|RAD|EHR|HOSP_A|2026||ORU^R01|X9|P|2.5.1
PID|1||MRN123
OBR|1|UNKNOWN1||70553^MRI^C4|||||||||||||||||||||F
OBX|1|TX|18782-3^Report^LN||Normal.||||||F`), wantCode: "AE", wantErr: "204", wantLoc: "OBR^1^2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			ack := f.send(t, tc.raw)
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
	ack, err := f.eng.HandleV2(t.Context(), raw)
	if err != nil || ack != nil {
		t.Fatalf("MSH-15=NE: ack %q, err %v; want no acknowledgment", ack, err)
	}
	if n := len(f.orders(t, store.OrderQuery{})); n != 1 {
		t.Errorf("%d orders, want 1 (the message is processed even when no ACK is wanted)", n)
	}
	raw = []byte(strings.Replace(string(orm("NW", "E2", "P2", "")), "|P|2.5.1", "|P|2.5.1|||AL|AL", 1))
	if got := f.send(t, raw).Get("MSA-1"); got != "CA" {
		t.Errorf("MSH-15=AL: MSA-1 = %q, want CA", got)
	}
}

func TestHandleV2_Lifecycle(t *testing.T) {
	f := newFixture(t, nil)
	f.send(t, orm("NW", "L1", "P9", ""))
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
		ack := f.send(t, orm(s.code, s.ctl, "P9", ""))
		if got := ack.Get("MSA-1"); got != s.wantAck {
			t.Errorf("ORC-1 %s: MSA-1 = %q, want %s (%q)", s.code, got, s.wantAck, ack.Bytes())
		}
		o := f.orders(t, store.OrderQuery{Placer: "P9"})
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
	eng, err := engine.New(engine.Config{}, failingStore{f.db}, nil, nil, nil)
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
	srv := &mllp.Server{Handler: engine.MLLPHandler{Engine: f.eng}, MaxMessageSize: 1024}
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
	if err := f.db.View(t.Context(), func(tx store.ReadTx) error {
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
