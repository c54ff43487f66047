package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// idle is the PollInterval of the tests' workers: a timer this long means the worker
// found its queue empty.
const idle = time.Hour

// checkGoroutines fails t if more goroutines run after the test's cleanups than
// before the test. Call it first so that its cleanup runs last. Goroutines end
// asynchronously after their connections close, so it polls, bounded.
func checkGoroutines(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		limit := time.After(10 * time.Second)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for runtime.NumGoroutine() > before {
			select {
			case <-tick.C:
			case <-limit:
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d running, %d before the test\n%s", runtime.NumGoroutine(), before, buf)
				return
			}
		}
	})
}

// openStore opens a bbolt store in dir and, on cleanup, closes it after checking that
// the outbox state index agrees with the items.
func openStore(t testing.TB, dir string) *bolt.DB {
	t.Helper()
	db, _ := openStoreCloser(t, dir)
	return db
}

// openStoreCloser is openStore that also returns a function to close the store
// earlier, with the same check.
func openStoreCloser(t testing.TB, dir string) (*bolt.DB, func()) {
	t.Helper()
	db, err := bolt.Open(bolt.Config{Dir: dir, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	closeDB := func() {
		once.Do(func() {
			checkOutboxIndex(t, db)
			if err := db.Close(); err != nil {
				t.Errorf("Close() = %v", err)
			}
		})
	}
	t.Cleanup(closeDB)
	return db, closeDB
}

func checkOutboxIndex(t testing.TB, st store.Store) {
	t.Helper()
	err := st.View(context.Background(), func(tx store.ReadTx) error {
		_, all, err := tx.Outbox(store.OutboxQuery{})
		if err != nil {
			return err
		}
		sum := 0
		for _, state := range []string{store.OutboxPending, store.OutboxDelivered, store.OutboxDead} {
			items, n, err := tx.Outbox(store.OutboxQuery{State: state, Limit: store.MaxLimit})
			if err != nil {
				return err
			}
			for _, it := range items {
				if it.State != state {
					return fmt.Errorf("item %s is %s but indexed as %s", it.ID, it.State, state)
				}
			}
			sum += n
		}
		if sum != all {
			return fmt.Errorf("%d items indexed by state, %d in all", sum, all)
		}
		return nil
	})
	if err != nil {
		t.Errorf("outbox index: %v", err)
	}
}

// putItems queues one item per payload for dest and returns their IDs.
func putItems(t testing.TB, st store.Store, now time.Time, dest, kind, orderID string, payloads ...[]byte) []string {
	t.Helper()
	var ids []string
	err := st.Update(t.Context(), func(tx store.Tx) error {
		ids = ids[:0]
		for i, p := range payloads {
			it := &store.OutboxItem{
				Destination: dest, Kind: kind, OrderID: orderID, Payload: p, State: store.OutboxPending,
				Key: fmt.Sprintf("key-%s-%d-%d", dest, now.UnixNano(), i), Created: now,
			}
			if err := tx.PutOutbox(it); err != nil {
				return err
			}
			ids = append(ids, it.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// item reads one outbox item.
func item(t testing.TB, st store.Store, id string) *store.OutboxItem {
	t.Helper()
	var it *store.OutboxItem
	err := st.View(t.Context(), func(tx store.ReadTx) (err error) {
		it, err = tx.OutboxItem(id)
		return err
	})
	if err != nil {
		t.Fatalf("OutboxItem(%s) = %v", id, err)
	}
	return it
}

// oru is a synthetic ORU^R01 with control ID id.
func oru(id string) []byte {
	return []byte("MSH|^~\\&|RADBRIDGE|RB|EHR|HOSP_A|20300101120000||ORU^R01^ORU_R01|" + id + "|P|2.5.1\r" +
		"PID|1||MRN0001^^^HOSP_A^MR||TEST^PATIENT\r" +
		"OBR|1|PLC1|FIL1|71046^XR CHEST 2V^CPT|||20300101110000|||||||||||ACC1||||||RAD|F\r" +
		"OBX|1|TX|71046^XR CHEST 2V^CPT||No acute findings.||||||F\r")
}

// newWorker returns a worker on a fake clock with no jitter, 1 s initial backoff and
// an hour-long poll interval.
func newWorker(t testing.TB, st store.Store, clk *fakeClock, cfg delivery.Config, deps delivery.Deps) *delivery.Worker {
	t.Helper()
	if cfg.Backoff.Initial == 0 {
		cfg.Backoff.Initial = time.Second
	}
	if cfg.Backoff.Jitter == 0 {
		cfg.Backoff.Jitter = -1
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = idle
	}
	deps.Now, deps.NewTimer = clk.Now, clk.NewTimer
	w, err := delivery.New(cfg, st, nil, deps)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// run runs w until the returned stop is called (or the test ends); stop waits for Run
// to return and checks its result.
func run(t testing.TB, w *delivery.Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run() = %v, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// reserveAddr returns a loopback address where nothing listens (yet).
func reserveAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// serveMLLP serves h on addr and shuts the server down on cleanup.
func serveMLLP(t testing.TB, addr string, h mllp.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &mllp.Server{Handler: h}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown() = %v", err)
			s.Close()
		}
		if err := <-errc; !errors.Is(err, mllp.ErrServerClosed) {
			t.Errorf("Serve() = %v, want ErrServerClosed", err)
		}
	})
	return ln.Addr().String()
}

// provider is an MLLP receiver at the ordering provider. It answers every message with
// code, or with codeFor(control ID) when that is set, and lists what it accepted.
type provider struct {
	mu       sync.Mutex
	code     hl7.AckCode
	codeFor  func(controlID string) hl7.AckCode
	received []string // control IDs of every message, in arrival order
	accepted []string // control IDs answered AA, in order
	negative int      // messages answered with anything else
	// hold, if set, is called before answering and may block.
	hold func(ctx context.Context, controlID string)
}

func (p *provider) ServeMLLP(ctx context.Context, msg []byte, _ mllp.ConnInfo) ([]byte, error) {
	m, err := hl7.Parse(msg)
	if err != nil {
		return nil, err
	}
	h := m.Header()
	p.mu.Lock()
	p.received = append(p.received, h.ControlID)
	hold := p.hold
	p.mu.Unlock()
	if hold != nil {
		hold(ctx, h.ControlID)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	code := p.code
	if p.codeFor != nil {
		code = p.codeFor(h.ControlID)
	}
	if code == hl7.AA {
		p.accepted = append(p.accepted, h.ControlID)
	} else {
		p.negative++
	}
	return hl7.AppendAck(nil, h, hl7.Ack{Code: code, ControlID: "A" + h.ControlID, Time: time.Unix(1893499200, 0), Text: "synthetic answer"}), nil
}

func (p *provider) set(code hl7.AckCode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.code = code
}

// counts returns copies of what the provider saw.
func (p *provider) counts() (received, accepted []string, negative int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.received), slices.Clone(p.accepted), p.negative
}

// fakeClock is a manual clock whose timers fire only when a test fires them.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	seen   int           // sequence number of the last timer next returned
	added  chan struct{} // a token when a timer is added
}

type fakeTimer struct {
	clk    *fakeClock
	seq    int
	d      time.Duration
	at     time.Time
	ch     chan time.Time
	active bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC), added: make(chan struct{}, 1)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) delivery.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &fakeTimer{clk: c, seq: len(c.timers) + 1, d: d, at: c.now.Add(d), ch: make(chan time.Time, 1), active: true}
	c.timers = append(c.timers, tm)
	select {
	case c.added <- struct{}{}:
	default:
	}
	return tm
}

func (tm *fakeTimer) C() <-chan time.Time { return tm.ch }

func (tm *fakeTimer) Stop() bool {
	tm.clk.mu.Lock()
	defer tm.clk.mu.Unlock()
	was := tm.active
	tm.active = false
	return was
}

// next waits for the next timer started after the one it last returned that is still
// running, and returns it. It fails t after 10 s.
func (c *fakeClock) next(t testing.TB) *fakeTimer {
	t.Helper()
	limit := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		for _, tm := range c.timers[c.seen:] {
			if tm.active {
				c.seen = tm.seq
				c.mu.Unlock()
				return tm
			}
		}
		c.mu.Unlock()
		select {
		case <-c.added:
		case <-limit:
			t.Fatal("timed out waiting for the worker to start a timer")
		}
	}
}

// waitIdle waits until the worker has found its queue empty.
func (c *fakeClock) waitIdle(t testing.TB) {
	t.Helper()
	if tm := c.next(t); tm.d != idle {
		t.Fatalf("worker waits %v, want idle (%v)", tm.d, idle)
	}
}

// fire moves the clock to tm's deadline and fires tm.
func (c *fakeClock) fire(tm *fakeTimer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tm.at.After(c.now) {
		c.now = tm.at
	}
	if tm.active {
		tm.active = false
		tm.ch <- tm.at
	}
}

// wantMetrics checks the values of the worker's metrics for destination.
func wantMetrics(t testing.TB, w *delivery.Worker, destination string, want map[string]float64) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(w.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather() = %v", err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "destination" && l.GetValue() == destination {
					got[f.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
				}
			}
		}
	}
	for name, v := range want {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s{destination=%q} = %v (present %v), want %v", name, destination, g, ok, v)
		}
	}
}
