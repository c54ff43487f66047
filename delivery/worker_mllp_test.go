package delivery_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/store"
)

// want checks that a wait the worker started is d.
func wantWait(t testing.TB, tm *fakeTimer, d time.Duration) {
	t.Helper()
	if tm.d != d {
		t.Fatalf("worker waits %v, want %v", tm.d, d)
	}
}

// The provider is down, then answers AE, then recovers: every item is accepted once,
// in order, and the first one's record tells the story.
func TestWorker_Run_MLLPRecovers(t *testing.T) {
	checkGoroutines(t)
	clk := newFakeClock()
	st := openStore(t, t.TempDir())
	addr := reserveAddr(t) // nothing listens: connections are refused
	ids := putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, "", oru("C1"), oru("C2"), oru("C3"))
	w := newWorker(t, st, clk, delivery.Config{Destinations: []delivery.Destination{{Name: "ehr", MLLP: addr}}}, delivery.Deps{})
	stop := run(t, w)

	tm := clk.next(t) // attempt 1: refused
	wantWait(t, tm, time.Second)
	p := &provider{code: hl7.AE}
	serveMLLP(t, addr, p)
	clk.fire(tm)
	tm = clk.next(t) // attempt 2: AE
	wantWait(t, tm, 2*time.Second)
	if got := item(t, st, ids[0]); got.State != store.OutboxPending || got.Attempts != 2 ||
		!strings.Contains(got.LastError, "refuses") || !strings.Contains(got.LastError, "AE") {
		t.Fatalf("after an AE: item = %+v, want pending, 2 attempts, LastError saying AE refuses it", got)
	}
	wantMetrics(t, w, "ehr", map[string]float64{
		"radbridge_outbox_pending": 3, "radbridge_outbox_oldest_pending_seconds": 1,
		"radbridge_outbox_attempts_total": 2, "radbridge_outbox_delivered_total": 0,
	})
	p.set(hl7.AA)
	clk.fire(tm)
	clk.waitIdle(t)
	stop()
	wantMetrics(t, w, "ehr", map[string]float64{
		"radbridge_outbox_pending": 0, "radbridge_outbox_oldest_pending_seconds": 0,
		"radbridge_outbox_attempts_total": 5, "radbridge_outbox_delivered_total": 3, "radbridge_outbox_dead_total": 0,
	})

	received, accepted, negative := p.counts()
	if want := []string{"C1", "C2", "C3"}; !slices.Equal(accepted, want) || negative != 1 {
		t.Errorf("provider accepted %q (and answered %d negatively), want %q (and 1)", accepted, negative, want)
	}
	if want := []string{"C1", "C1", "C2", "C3"}; !slices.Equal(received, want) {
		t.Errorf("provider received %q, want %q", received, want)
	}
	for i, id := range ids {
		got := item(t, st, id)
		wantAttempts := 1
		if i == 0 {
			wantAttempts = 3
		}
		if got.State != store.OutboxDelivered || got.Receipt != "AA" || got.Attempts != wantAttempts {
			t.Errorf("item %d = state %s, receipt %q, %d attempts; want delivered, AA, %d", i, got.State, got.Receipt, got.Attempts, wantAttempts)
		}
	}
}

// A Notify while the head item waits for its backoff does not cut the wait short; an
// item queued on an idle worker goes at once.
func TestWorker_Notify(t *testing.T) {
	checkGoroutines(t)
	clk := newFakeClock()
	st := openStore(t, t.TempDir())
	p := &provider{code: hl7.AR}
	addr := serveMLLP(t, "127.0.0.1:0", p)
	putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, "", oru("C1"))
	w := newWorker(t, st, clk, delivery.Config{Destinations: []delivery.Destination{{Name: "ehr", MLLP: addr}}}, delivery.Deps{})
	run(t, w)

	wantWait(t, clk.next(t), time.Second)
	p.set(hl7.AA)
	putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, "", oru("C2"))
	w.Notify("ehr")
	w.Notify("no-such-destination")
	tm := clk.next(t) // woken: the head is still C1, due in 1 s
	wantWait(t, tm, time.Second)
	if received, _, _ := p.counts(); len(received) != 1 {
		t.Fatalf("provider received %q, want only the first attempt of C1", received)
	}
	clk.fire(tm)
	clk.waitIdle(t)

	putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, "", oru("C3"))
	w.Notify("ehr")
	clk.waitIdle(t)
	if _, accepted, _ := p.counts(); !slices.Equal(accepted, []string{"C1", "C2", "C3"}) {
		t.Errorf("provider accepted %q, want C1 C2 C3", accepted)
	}
}

// MaxAttempts makes an item dead; the next item then goes; Retry brings the dead one
// back.
func TestWorker_Retry_Dead(t *testing.T) {
	checkGoroutines(t)
	clk := newFakeClock()
	st := openStore(t, t.TempDir())
	poison := true
	p := &provider{codeFor: func(id string) hl7.AckCode {
		if id == "C1" && poison {
			return hl7.AR
		}
		return hl7.AA
	}}
	addr := serveMLLP(t, "127.0.0.1:0", p)
	ids := putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, "", oru("C1"), oru("C2"))
	w := newWorker(t, st, clk, delivery.Config{
		Destinations: []delivery.Destination{{Name: "ehr", MLLP: addr}},
		MaxAttempts:  3,
	}, delivery.Deps{})
	run(t, w)

	for _, d := range []time.Duration{time.Second, 2 * time.Second} {
		tm := clk.next(t)
		wantWait(t, tm, d)
		clk.fire(tm)
	}
	clk.waitIdle(t)
	dead := item(t, st, ids[0])
	if dead.State != store.OutboxDead || dead.Attempts != 3 || !strings.Contains(dead.LastError, "AR") {
		t.Fatalf("item 0 = %+v, want dead after 3 attempts with an AR in LastError", dead)
	}
	if got := item(t, st, ids[1]); got.State != store.OutboxDelivered {
		t.Fatalf("item 1 is %s behind a dead item, want delivered", got.State)
	}
	wantMetrics(t, w, "ehr", map[string]float64{
		"radbridge_outbox_pending": 0, "radbridge_outbox_attempts_total": 4,
		"radbridge_outbox_delivered_total": 1, "radbridge_outbox_dead_total": 1,
	})

	p.mu.Lock()
	poison = false
	p.mu.Unlock()
	if err := w.Retry(t.Context(), ids[0]); err != nil {
		t.Fatalf("Retry(dead) = %v", err)
	}
	clk.waitIdle(t)
	got := item(t, st, ids[0])
	if got.State != store.OutboxDelivered || got.Attempts != 1 || got.LastError == "" {
		t.Errorf("retried item = %+v, want delivered at attempt 1, LastError kept", got)
	}
	if _, accepted, _ := p.counts(); !slices.Equal(accepted, []string{"C2", "C1"}) {
		t.Errorf("provider accepted %q, want C2 then the retried C1", accepted)
	}

	if err := w.Retry(t.Context(), ids[0]); !errors.Is(err, delivery.ErrDelivered) {
		t.Errorf("Retry(delivered) = %v, want ErrDelivered", err)
	}
	if err := w.Retry(t.Context(), "out-999999"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Retry(unknown) = %v, want store.ErrNotFound", err)
	}
	stray := putItems(t, st, clk.Now(), "gone", delivery.KindHL7v2, "", oru("C9"))
	if err := w.Retry(t.Context(), stray[0]); !errors.Is(err, delivery.ErrUnknownDestination) {
		t.Errorf("Retry(unconfigured destination) = %v, want ErrUnknownDestination", err)
	}
}

// Retry of a pending item waiting for its backoff sends it at once.
func TestWorker_Retry_Pending(t *testing.T) {
	checkGoroutines(t)
	clk := newFakeClock()
	start := clk.Now()
	st := openStore(t, t.TempDir())
	p := &provider{code: hl7.AR}
	addr := serveMLLP(t, "127.0.0.1:0", p)
	ids := putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, "", oru("C1"))
	w := newWorker(t, st, clk, delivery.Config{Destinations: []delivery.Destination{{Name: "ehr", MLLP: addr}}}, delivery.Deps{})
	run(t, w)

	wantWait(t, clk.next(t), time.Second)
	p.set(hl7.AA)
	if err := w.Retry(t.Context(), ids[0]); err != nil {
		t.Fatalf("Retry(pending) = %v", err)
	}
	clk.waitIdle(t)
	if got := item(t, st, ids[0]); got.State != store.OutboxDelivered || got.Attempts != 2 || !clk.Now().Equal(start) {
		t.Errorf("item = %s after %d attempts at %v; want delivered after 2 at once (%v)", got.State, got.Attempts, clk.Now(), start)
	}
}

// A worker stopped while an item is in flight leaves the rest pending; a new worker
// on the same file delivers them. Only the item in flight may arrive twice.
func TestWorker_Run_Restart(t *testing.T) {
	checkGoroutines(t)
	clk := newFakeClock()
	dir := t.TempDir()
	st, closeStore := openStoreCloser(t, dir)
	const n = 10
	var payloads [][]byte
	var want []string
	for i := range n {
		id := "C" + string(rune('A'+i))
		payloads, want = append(payloads, oru(id)), append(want, id)
	}
	ids := putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, "", payloads...)

	inFlight, release := make(chan struct{}), make(chan struct{})
	p := &provider{code: hl7.AA}
	p.hold = func(ctx context.Context, id string) {
		if id == want[3] {
			p.mu.Lock()
			p.hold = nil
			p.mu.Unlock()
			close(inFlight)
			<-release
		}
	}
	addr := serveMLLP(t, "127.0.0.1:0", p)
	cfg := delivery.Config{Destinations: []delivery.Destination{{Name: "ehr", MLLP: addr}}}
	stop := run(t, newWorker(t, st, clk, cfg, delivery.Deps{}))
	<-inFlight
	stop() // the fourth item is in flight: the provider has it, the worker no ACK
	close(release)
	if got := item(t, st, ids[3]); got.State != store.OutboxPending || got.Attempts != 0 {
		t.Fatalf("item in flight at the stop = %s after %d attempts, want pending after 0", got.State, got.Attempts)
	}
	closeStore()

	st = openStore(t, dir)
	stop = run(t, newWorker(t, st, clk, cfg, delivery.Deps{}))
	clk.waitIdle(t)
	stop()

	received, _, _ := p.counts()
	wantReceived := slices.Insert(slices.Clone(want), 4, want[3])
	if !slices.Equal(received, wantReceived) {
		t.Errorf("provider received %q, want %q: each once, in order, except the one in flight", received, wantReceived)
	}
	for i, id := range ids {
		if got := item(t, st, id); got.State != store.OutboxDelivered || got.Attempts != 1 {
			t.Errorf("item %d = %s after %d attempts, want delivered after 1", i, got.State, got.Attempts)
		}
	}
}

func TestWorker_Run_Twice(t *testing.T) {
	checkGoroutines(t)
	clk := newFakeClock()
	w := newWorker(t, openStore(t, t.TempDir()), clk, delivery.Config{Destinations: []delivery.Destination{{Name: "ehr", MLLP: "127.0.0.1:1"}}}, delivery.Deps{})
	stop := run(t, w)
	clk.waitIdle(t)
	if err := w.Run(t.Context()); !errors.Is(err, delivery.ErrRunning) {
		t.Errorf("second Run() = %v, want ErrRunning", err)
	}
	stop()
	stop = run(t, w) // may run again once stopped
	clk.waitIdle(t)
	stop()

	// With no destinations, Run still returns only when its context ends.
	w, err := delivery.New(delivery.Config{}, openStore(t, t.TempDir()), nil, delivery.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("Run() with no destinations = %v before its context ended", err)
	case <-time.After(10 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v, want nil", err)
	}
}

// cancelOnSend is a Sender whose destination accepts the item just as the worker is
// told to stop, a race a real provider cannot be made to hit reliably.
type cancelOnSend struct{ cancel context.CancelFunc }

func (s cancelOnSend) Send(context.Context, *store.OutboxItem) (string, error) {
	s.cancel()
	return "AA", nil
}

// A delivery made as Run's context ends is still recorded, so it is not sent again.
func TestWorker_Run_RecordsDeliveryAtStop(t *testing.T) {
	checkGoroutines(t)
	clk := newFakeClock()
	st := openStore(t, t.TempDir())
	ids := putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, "", oru("C1"), oru("C2"))
	ctx, cancel := context.WithCancel(t.Context())
	w := newWorker(t, st, clk, delivery.Config{Destinations: []delivery.Destination{{Name: "ehr", MLLP: "127.0.0.1:1"}}},
		delivery.Deps{Senders: map[string]delivery.Sender{"ehr": cancelOnSend{cancel}}})
	if err := w.Run(ctx); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if got := item(t, st, ids[0]); got.State != store.OutboxDelivered || got.Receipt != "AA" {
		t.Errorf("item sent as the worker stopped = %s, receipt %q; want delivered, AA", got.State, got.Receipt)
	}
	if got := item(t, st, ids[1]); got.State != store.OutboxPending || got.Attempts != 0 {
		t.Errorf("next item = %s after %d attempts, want pending, untouched", got.State, got.Attempts)
	}
}
