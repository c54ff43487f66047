package delivery_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// answering is an Exchanger that POSTs items to a FHIR server and keeps its answers as
// stored resources; its Commit fails while failCommits is positive (a store failure
// the bbolt store cannot be made to produce on demand).
type answering struct {
	client      *fhir.Client
	mu          sync.Mutex
	failCommits int
}

var _ delivery.Exchanger = (*answering)(nil)

func (a *answering) Send(ctx context.Context, it *store.OutboxItem) (string, error) {
	r, _, err := a.Exchange(ctx, it)
	return r, err
}

func (a *answering) Exchange(ctx context.Context, it *store.OutboxItem) (string, []byte, error) {
	resp, body, err := a.client.Exchange(ctx, http.MethodPost, "Claim/$submit", it.Payload, http.Header{"Idempotency-Key": {it.Key}}, 1<<20)
	if err != nil {
		return "", nil, err
	}
	return resp.StatusLine, body, nil
}

func (a *answering) Commit(tx store.Tx, it *store.OutboxItem, answer []byte) error {
	a.mu.Lock()
	fail := a.failCommits > 0
	a.failCommits--
	a.mu.Unlock()
	if fail {
		return errors.New("synthetic store failure")
	}
	return tx.PutResource(&store.Resource{Type: "ClaimResponse", ID: it.Key, JSON: answer, OrderID: it.OrderID})
}

// TestWorker_Exchanger: an Exchanger's answer is recorded by its Commit in the
// transaction that delivers the item, and the item's order is not marked delivered;
// when Commit fails, nothing is recorded and the same item (same key) is sent again.
func TestWorker_Exchanger(t *testing.T) {
	checkGoroutines(t)
	var (
		mu   sync.Mutex
		keys []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
		io.WriteString(w, `{"resourceType":"ClaimResponse","outcome":"complete"}`)
	}))
	defer srv.Close()
	st := openStore(t, t.TempDir())
	clk := newFakeClock()
	o := &order.Order{ID: "ord-1", Status: order.StatusResulted}
	if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.PutOrder(o) }); err != nil {
		t.Fatal(err)
	}
	ids := putItems(t, st, clk.Now(), "payer", "pas", "ord-1", []byte(`{"resourceType":"Bundle"}`))
	ex := &answering{client: &fhir.Client{Base: srv.URL, HTTP: srv.Client()}, failCommits: 1}
	w := newWorker(t, st, clk, delivery.Config{Destinations: []delivery.Destination{{Name: "payer", FHIR: srv.URL}}},
		delivery.Deps{Senders: map[string]delivery.Sender{"payer": ex}})
	stop := run(t, w)

	// The first Commit fails: the worker backs off as after a store failure.
	tm := clk.next(t)
	if it := item(t, st, ids[0]); it.State != store.OutboxPending || it.Attempts != 0 {
		t.Fatalf("after a failed Commit the item is %s with %d attempts, want pending, 0", it.State, it.Attempts)
	}
	clk.fire(tm)
	clk.waitIdle(t)
	stop()

	it := item(t, st, ids[0])
	if it.State != store.OutboxDelivered || it.Attempts != 1 || it.Receipt != "200 OK" {
		t.Errorf("item after the exchange: %s, %d attempts, receipt %q; want delivered, 1, 200 OK", it.State, it.Attempts, it.Receipt)
	}
	mu.Lock()
	if len(keys) != 2 || keys[0] != it.Key || keys[1] != it.Key {
		t.Errorf("requests carried keys %q, want the item's key %q twice", keys, it.Key)
	}
	mu.Unlock()
	err := st.View(t.Context(), func(tx store.ReadTx) error {
		r, err := tx.Resource("ClaimResponse", it.Key)
		if err != nil {
			return err
		}
		if r.Version != 1 || string(r.JSON) != `{"resourceType":"ClaimResponse","outcome":"complete"}` {
			t.Errorf("recorded answer v%d %s", r.Version, r.JSON)
		}
		o, err := tx.Order("ord-1")
		if err != nil {
			return err
		}
		if o.Status != order.StatusResulted {
			t.Errorf("the order is %s, want it left resulted", o.Status)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
