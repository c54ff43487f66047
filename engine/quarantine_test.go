package engine_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/store"
)

// corruptCount reads radbridge_store_corrupt_records_total{kind} from reg.
func corruptCount(t *testing.T, reg *prometheus.Registry, kind string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "radbridge_store_corrupt_records_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// A stored order whose bytes no longer decode (a real bbolt file, the record written
// over while the store is closed) once made every later message for it close the
// connection without an ACK, blocking its sender for good. Now such a message is kept
// and answered AE with ERR 207, the sender's other orders go on, and the record is
// listed in /api/quarantine and counted in radbridge_store_corrupt_records_total.
func TestMLLPHandler_CorruptOrderQuarantined(t *testing.T) {
	dir := t.TempDir()
	f := enginetest.New(t, enginetest.Options{Dir: dir})
	for _, m := range [][]byte{orm("NW", "Q1", "PQ1", ""), orm("NW", "Q2", "PQ2", "")} {
		if ack := f.Send(t, m); ack.Get("MSA-1") != "AA" {
			t.Fatalf("NW: %q", ack.Bytes())
		}
	}
	f.View(t, func(store.ReadTx) error { return nil }) // the B+tree file has both
	if err := f.DB.Close(); err != nil {
		t.Fatal(err)
	}
	enginetest.CorruptOrder(t, dir, "PQ1")

	reg := prometheus.NewRegistry()
	f = enginetest.New(t, enginetest.Options{Dir: dir, Metrics: engine.NewMetrics(reg)})
	cl := serveMLLP(t, f)
	send := func(raw []byte) *hl7.Message {
		t.Helper()
		b, err := cl.Send(t.Context(), raw)
		if err != nil {
			t.Fatalf("no ACK: %v", err)
		}
		ack, err := hl7.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		return ack
	}
	quarantined := func(ack *hl7.Message, loc string) bool {
		t.Helper()
		for _, is := range hl7.ReadIssues(ack) {
			if is.Code == hl7.CodeInternal && is.Location.String() == loc && strings.Contains(is.Text, "cannot be read; it is quarantined") {
				return true
			}
		}
		return false
	}

	change := orm("XO", "Q3", "PQ1", "")
	ack := send(change)
	if ack.Get("MSA-1") != "AE" || !quarantined(ack, "ORC-2") {
		t.Fatalf("XO for the damaged order: %q, want AE with ERR 207 at ORC-2", ack.Bytes())
	}
	if again := send(change); string(again.Bytes()) != string(ack.Bytes()) {
		t.Errorf("resend: %q, want the first answer again", again.Bytes())
	}
	if ack := send(orm("NW", "Q4", "PQ1", "")); ack.Get("MSA-1") != "AE" || !quarantined(ack, "ORC-2") {
		t.Errorf("NW reusing the damaged order's placer: %q, want AE with ERR 207", ack.Bytes())
	}
	result := enginetest.CR("MSH|^~\\&|RIS|RAD|RADBRIDGE|HOSP_A|2026||ORU^R01|Q5|P|2.5.1\nPID|1||MRN123\n" +
		"OBR|1|PQ1^EHR||70553^MRI^C4|||||||||||||||||||||F\nOBX|1|TX|18782-3^Report^LN||Normal.||||||F")
	if ack := send(result); ack.Get("MSA-1") != "AE" || !quarantined(ack, "OBR-2") {
		t.Errorf("ORU for the damaged order: %q, want AE with ERR 207 at OBR-2", ack.Bytes())
	}
	// The sender's other orders are not held up.
	if ack := send(orm("XO", "Q6", "PQ2", "")); ack.Get("MSA-1") != "AA" {
		t.Errorf("XO for another order of the sender: %q, want AA", ack.Bytes())
	}
	if ack := send(orm("NW", "Q7", "PQ3", "")); ack.Get("MSA-1") != "AA" {
		t.Errorf("NW from the sender: %q, want AA", ack.Bytes())
	}
	var kept []*store.Message
	f.View(t, func(tx store.ReadTx) error {
		var err error
		kept, _, err = tx.Messages(store.MessageQuery{ControlID: "Q3"})
		return err
	})
	if len(kept) != 1 || kept[0].AckCode != "AE" {
		t.Errorf("the XO's records: %+v, want it kept once with AE", kept)
	}

	r := f.Do(t, http.MethodGet, f.Server(t, nil).URL+"/api/quarantine", nil)
	var list struct {
		Total int                  `json:"total"`
		Items []engine.Quarantined `json:"items"`
	}
	if err := json.Unmarshal(r.Raw, &list); err != nil || r.Status != http.StatusOK {
		t.Fatalf("/api/quarantine: %d %s %v", r.Status, r.Raw, err)
	}
	if list.Total != 1 || len(list.Items) != 1 {
		t.Fatalf("/api/quarantine = %+v, want the one order", list)
	}
	q := list.Items[0]
	if q.Kind != "order" || q.Key != "v2|HOSP_A|PQ1" || q.Hits != 3 || len(q.MessageIDs) != 3 || !strings.Contains(q.Error, store.ErrCorrupt.Error()) {
		t.Errorf("quarantined %+v, want order v2|HOSP_A|PQ1 hit by the XO, the NW and the ORU", q)
	}
	if n := corruptCount(t, reg, "order"); n != 1 {
		t.Errorf("radbridge_store_corrupt_records_total{kind=order} = %v, want 1", n)
	}
}

// A resend whose first receipt's record cannot be read is not processed again (it
// might be applied twice): it is kept and answered AE with ERR 207 at MSH-10.
func TestHandleV2_ResendOfCorruptMessage(t *testing.T) {
	dir := t.TempDir()
	f := enginetest.New(t, enginetest.Options{Dir: dir})
	raw := orm("NW", "QM1", "PQM", "")
	if ack := f.Send(t, raw); ack.Get("MSA-1") != "AA" {
		t.Fatalf("NW: %q", ack.Bytes())
	}
	f.View(t, func(store.ReadTx) error { return nil })
	if err := f.DB.Close(); err != nil {
		t.Fatal(err)
	}
	enginetest.CorruptMessage(t, dir, "QM1")

	f = enginetest.New(t, enginetest.Options{Dir: dir})
	for range 2 {
		ack := f.Send(t, raw)
		if is := hl7.ReadIssues(ack); ack.Get("MSA-1") != "AE" || len(is) != 1 || is[0].Code != hl7.CodeInternal || is[0].Location.String() != "MSH-10" {
			t.Fatalf("resend: %q, want AE with ERR 207 at MSH-10", ack.Bytes())
		}
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
	q := f.Engine.Quarantine()
	if len(q) != 1 || q[0].Kind != "message" || q[0].Key != "HOSP_A/QM1" || q[0].Hits != 2 {
		t.Errorf("quarantine %+v, want the message HOSP_A/QM1 hit twice", q)
	}
}
