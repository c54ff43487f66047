package delivery_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/store"
)

// TestWorker_Subscribe: a rest-hook destination added while the worker runs receives
// its items: as a PUT of the resource with a payload, as an empty POST without one, with
// the channel's headers.
func TestWorker_Subscribe(t *testing.T) {
	type call struct {
		method, path, auth string
		body               []byte
	}
	calls := make(chan call, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls <- call{r.Method, r.URL.Path, r.Header.Get("Authorization"), b}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	st := openStore(t, t.TempDir())
	w, err := delivery.New(delivery.Config{}, st, nil, delivery.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	run(t, w)
	if err := w.Subscribe("subscription/sub-1", srv.URL+"/hook", true, []string{"Authorization: Bearer k1", "bad header"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Subscribe("subscription/sub-2", srv.URL+"/ping", false, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Subscribe("subscription/sub-1", srv.URL+"/elsewhere", true, nil); err == nil {
		t.Error("a second destination under the same name with another endpoint was accepted")
	}
	now := time.Now()
	putItems(t, st, now, "subscription/sub-1", delivery.KindFHIR, "ord-1", []byte(`{"resourceType":"DiagnosticReport","id":"ord-1-r1","status":"final"}`))
	putItems(t, st, now, "subscription/sub-2", delivery.KindFHIR, "ord-1", []byte(`{"resourceType":"DiagnosticReport","id":"ord-1-r1","status":"final"}`))
	w.Notify("subscription/sub-1")
	w.Notify("subscription/sub-2")
	got := map[string]call{}
	for range 2 {
		select {
		case c := <-calls:
			got[c.path] = c
		case <-time.After(10 * time.Second):
			t.Fatalf("notifications received: %v", got)
		}
	}
	if c := got["/hook/DiagnosticReport/ord-1-r1"]; c.method != http.MethodPut || c.auth != "Bearer k1" || len(c.body) == 0 {
		t.Errorf("payload notification = %+v", c)
	}
	if c := got["/ping"]; c.method != http.MethodPost || len(c.body) != 0 {
		t.Errorf("empty notification = %+v", c)
	}
	checkOutboxIndex(t, st)
	var pending int
	countPending := func() {
		t.Helper()
		if err := st.View(t.Context(), func(tx store.ReadTx) error {
			var err error
			_, pending, err = tx.Outbox(store.OutboxQuery{State: store.OutboxPending})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	countPending()
	deadline := time.Now().Add(5 * time.Second)
	for pending > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		countPending()
	}
	if pending != 0 {
		t.Errorf("%d items still pending after their notifications were answered 200", pending)
	}
}

// A rest-hook sender adds the channel's header lines with canonical names, and leaves
// out lines that are not headers, hold control characters, or name a header the
// sender sets itself.
func TestHTTPSender_Send_HookHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- r.Header.Clone()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	s := delivery.NewHTTPSender(srv.URL+"/hook", nil)
	defer s.Close()
	s.Hook = &delivery.Hook{Headers: []string{
		"authorization: Bearer k1", "X-Trace-2: t", "Idempotency-Key: mine", "Content-Type: text/plain",
		"X-Bad: a\r\nX-Injected: b", "Bad Name: x", "no colon",
	}}
	if _, err := s.Send(t.Context(), &store.OutboxItem{ID: "o1", Kind: delivery.KindFHIR, Payload: []byte(`{"resourceType":"DiagnosticReport","id":"r1"}`)}); err != nil {
		t.Fatal(err)
	}
	h := <-got
	if h.Get("Authorization") != "Bearer k1" || h.Get("X-Trace-2") != "t" || h.Get("Idempotency-Key") != "o1" ||
		h.Get("X-Bad") != "" || h.Get("X-Injected") != "" || len(h.Values("Idempotency-Key")) != 1 {
		t.Errorf("headers sent: %v", h)
	}
}
