package engine_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/store"
)

// serveMLLP serves the fixture's engine on a loopback MLLP listener for the test and
// returns a client connected to it.
func serveMLLP(t *testing.T, f *fixture) *mllp.Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &mllp.Server{Handler: engine.MLLPHandler{Engine: f.Engine}}
	done := make(chan struct{})
	go func() { srv.Serve(l); close(done) }()
	cl := &mllp.Client{Addr: l.Addr().String()}
	t.Cleanup(func() { cl.Close(); srv.Close(); <-done })
	return cl
}

// batchAcks reads a response batch: its envelope and the ACKs inside, parsed.
func batchAcks(t *testing.T, raw []byte) (*hl7.BatchFile, []*hl7.Message) {
	t.Helper()
	if !hl7.IsBatch(raw) {
		t.Fatalf("answer is not a batch: %q", raw)
	}
	f, err := hl7.ParseBatch(raw)
	if err != nil {
		t.Fatal(err)
	}
	var acks []*hl7.Message
	for m := range f.Messages() {
		ack, err := hl7.Parse(m.Bytes)
		if err != nil {
			t.Fatalf("ACK %d of the response batch does not parse: %v\n%q", m.Index, err, m.Bytes)
		}
		acks = append(acks, ack)
	}
	return f, acks
}

func storedMessages(t *testing.T, f *fixture) []*store.Message {
	t.Helper()
	var msgs []*store.Message
	f.View(t, func(tx store.ReadTx) error {
		var err error
		msgs, _, err = tx.Messages(store.MessageQuery{})
		return err
	})
	return msgs
}

// A batch of three orders in one frame, the last with an unsupported version, gets a
// response batch of three ACKs; each message is stored as its own record; the same
// batch sent again is answered from the store and makes no new order.
func TestMLLPHandler_Batch(t *testing.T) {
	f := newFixture(t, nil)
	cl := serveMLLP(t, f)
	bad := bytes.Replace(orm("NW", "BM3", "P303", ""), []byte("|P|2.5.1"), []byte("|P|3.0"), 1)
	batch := bytes.Join([][]byte{
		[]byte("BHS|^~\\&|EHR|HOSP_A|RADBRIDGE|IMG|20261122093000||||B1\r"),
		orm("NW", "BM1", "P301", ""), orm("NW", "BM2", "P302", ""), bad,
		[]byte("BTS|3\r"),
	}, nil)

	raw, err := cl.Send(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	env, acks := batchAcks(t, raw)
	if len(env.Batches) != 1 || len(acks) != 3 {
		t.Fatalf("response: %d batches, %d ACKs, want 1 and 3:\n%q", len(env.Batches), len(acks), raw)
	}
	if h := env.Batches[0].Header; h == nil || h.ReferenceID != "B1" || h.SendingFacility != "IMG" || h.ReceivingFacility != "HOSP_A" {
		t.Errorf("response BHS = %+v, want BHS-12 B1 and the sender and receiver swapped", h)
	}
	if tr := env.Batches[0].Trailer; tr == nil || tr.Count != 3 {
		t.Errorf("response BTS = %+v, want BTS-1 3", tr)
	}
	if len(env.Issues) != 0 || env.Batches[0].Header.Comment != "" {
		t.Errorf("envelope issues %v, comment %q; want none", env.Issues, env.Batches[0].Header.Comment)
	}
	want := []struct{ code, control string }{{"AA", "BM1"}, {"AA", "BM2"}, {"AR", "BM3"}}
	for i, w := range want {
		if got := acks[i].Get("MSA-1"); got != w.code || acks[i].Get("MSA-2") != w.control {
			t.Errorf("ACK %d: MSA-1 %s MSA-2 %s, want %s %s", i+1, got, acks[i].Get("MSA-2"), w.code, w.control)
		}
	}
	if is := hl7.ReadIssues(acks[2]); len(is) != 1 || is[0].Code != hl7.CodeUnsupportedVersion {
		t.Errorf("ACK 3 ERR = %+v, want 203", is)
	}

	msgs := storedMessages(t, f)
	if len(msgs) != 3 {
		t.Fatalf("%d messages stored, want 3 (one record per message of the batch)", len(msgs))
	}
	for _, m := range msgs {
		var raw []byte
		f.View(t, func(tx store.ReadTx) error {
			var err error
			raw, err = tx.Raw(m.ID)
			return err
		})
		if !bytes.HasPrefix(raw, []byte("MSH|")) || bytes.Contains(raw, []byte("BHS")) || bytes.Contains(raw, []byte("BTS")) ||
			!bytes.Contains(batch, raw) || !strings.Contains(string(raw), "|"+m.ControlID+"|") {
			t.Errorf("message %s (%s) stored as %q, want its own span of the batch", m.ID, m.ControlID, raw)
		}
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 2 {
		t.Fatalf("%d orders, want 2", n)
	}

	// The same batch again: the accepted messages get their ACKs from the store.
	again, err := cl.Send(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	_, acks2 := batchAcks(t, again)
	if len(acks2) != 3 {
		t.Fatalf("resent batch: %d ACKs, want 3", len(acks2))
	}
	for i := range 2 {
		if !bytes.Equal(acks2[i].Bytes(), acks[i].Bytes()) {
			t.Errorf("resent batch, ACK %d differs:\n%q\n%q", i+1, acks[i].Bytes(), acks2[i].Bytes())
		}
	}
	if got := acks2[2].Get("MSA-1"); got != "AR" {
		t.Errorf("resent batch, ACK 3: MSA-1 %s, want AR", got)
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 2 {
		t.Errorf("%d orders after the resend, want 2", n)
	}
}

// A batch whose trailers miscount is processed all the same, every message stored and
// acknowledged; the response says what is wrong in BHS-10, and the file envelope is
// answered with one.
func TestMLLPHandler_BatchCountMismatch(t *testing.T) {
	f := newFixture(t, nil)
	cl := serveMLLP(t, f)
	batch := bytes.Join([][]byte{
		[]byte("FHS|^~\\&|EHR|HOSP_A|RADBRIDGE|IMG|20261122093000||||F1\r"),
		[]byte("BHS|^~\\&|EHR|HOSP_A|RADBRIDGE|IMG|20261122093000||||B7\r"),
		orm("NW", "BC1", "P401", ""), orm("NW", "BC2", "P402", ""),
		[]byte("BTS|3\rFTS|1\r"),
	}, nil)
	raw, err := cl.Send(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	env, acks := batchAcks(t, raw)
	if env.Header == nil || env.Header.ReferenceID != "F1" || env.Trailer == nil || env.Trailer.Count != 1 {
		t.Errorf("response file envelope FHS %+v FTS %+v, want FHS-12 F1 and FTS-1 1", env.Header, env.Trailer)
	}
	if len(acks) != 2 || acks[0].Get("MSA-1") != "AA" || acks[1].Get("MSA-1") != "AA" {
		t.Fatalf("ACKs %v, want two AA:\n%q", acks, raw)
	}
	comment := env.Batches[0].Header.Comment
	if !strings.Contains(comment, "BTS-1 declares 3 messages; the batch holds 2") {
		t.Errorf("response BHS-10 = %q, want the count mismatch", comment)
	}
	if n := len(storedMessages(t, f)); n != 2 {
		t.Errorf("%d messages stored, want 2", n)
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 2 {
		t.Errorf("%d orders, want 2", n)
	}
}

// flakyStore fails the updates fail says to, as a disk that fills up and is freed would.
type flakyStore struct {
	store.Store
	n    atomic.Int32
	fail func(n int32) bool // called with the 1-based number of the update
}

func (s *flakyStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if s.fail(s.n.Add(1)) {
		return errors.New("disk full")
	}
	return s.Store.Update(ctx, fn)
}

// A batch is durable message by message: when the store fails on its second message,
// the first is committed and the batch gets no answer; sent again once the store works,
// the first message is answered from the store and the others are processed.
func TestEngine_HandleBatch_StoreFailure(t *testing.T) {
	f := newFixture(t, nil)
	st := &flakyStore{Store: f.DB, fail: func(n int32) bool { return n == 2 }}
	eng, err := engine.New(engine.Config{}, st, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	batch := bytes.Join([][]byte{[]byte("BHS|^~\\&|EHR|HOSP_A\r"),
		orm("NW", "BF1", "P501", ""), orm("NW", "BF2", "P502", ""), orm("NW", "BF3", "P503", ""), []byte("BTS|3\r")}, nil)
	if ack, err := eng.HandleBatch(t.Context(), batch); err == nil || ack != nil {
		t.Fatalf("store failing on message 2: answer %q, err %v; want no answer and the error", ack, err)
	}
	if msgs := storedMessages(t, f); len(msgs) != 1 || msgs[0].ControlID != "BF1" {
		t.Fatalf("stored %v, want message BF1 alone", msgs)
	}
	raw, err := eng.HandleBatch(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	_, acks := batchAcks(t, raw)
	if len(acks) != 3 {
		t.Fatalf("%d ACKs, want 3", len(acks))
	}
	for i, a := range acks {
		if a.Get("MSA-1") != "AA" {
			t.Errorf("ACK %d: %q", i+1, a.Bytes())
		}
	}
	if n := len(storedMessages(t, f)); n != 3 {
		t.Errorf("%d messages stored, want 3 (BF1 once)", n)
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 3 {
		t.Errorf("%d orders, want 3", n)
	}
}

// Two messages in one frame without a batch envelope are refused, with a text that
// says how to send them instead.
func TestMLLPHandler_TwoMessagesInAFrame(t *testing.T) {
	f := newFixture(t, nil)
	cl := serveMLLP(t, f)
	raw, err := cl.Send(t.Context(), append(orm("NW", "TM1", "P601", ""), orm("NW", "TM2", "P602", "")...))
	if err != nil {
		t.Fatal(err)
	}
	ack, err := hl7.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	is := hl7.ReadIssues(ack)
	if ack.Get("MSA-1") != "AR" || len(is) != 1 || !strings.Contains(is[0].Text, "as a batch (BHS ... BTS)") {
		t.Errorf("ACK %q, want AR saying how to send several messages", raw)
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 0 {
		t.Errorf("%d orders, want none", n)
	}
}
