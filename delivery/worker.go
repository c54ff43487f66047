package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/radbridge/radbridge/store"
)

const (
	// readAhead is how many pending items a destination's worker reads at once.
	readAhead = 64
	// lookAhead is how many of a destination's next pending items are checked for the
	// same order before the order is marked delivered.
	lookAhead = 16
	// storeTimeout bounds recording an attempt's outcome, which goes on after the
	// Run context ends so that a delivery made is a delivery recorded.
	storeTimeout = 30 * time.Second
	// maxLastError caps the length of an item's LastError.
	maxLastError = 1024
)

// Timer is a one-shot timer: the part of time.Timer a Worker uses.
type Timer interface {
	// C returns the channel on which the time is delivered when the timer fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it stopped the timer
	// before it fired.
	Stop() bool
}

// Deps are a Worker's replaceable parts; the zero value means the real ones.
type Deps struct {
	// Now reads the clock. Nil means time.Now.
	Now func() time.Time
	// NewTimer starts a timer for the waits between attempts and polls. Nil means
	// time.NewTimer.
	NewTimer func(d time.Duration) Timer
	// Rand returns a uniform random number in [0, 1) for the jitter. Nil means
	// math/rand/v2.Float64.
	Rand func() float64
	// Senders replaces, by destination name, the Sender the Worker would build from
	// the Destination (an MLLPSender or HTTPSender). The Worker does not close them.
	Senders map[string]Sender
}

// Worker delivers the outbox. Its methods are safe for concurrent use.
type Worker struct {
	cfg      Config // defaults applied
	st       store.Store
	log      *slog.Logger
	now      func() time.Time
	newTimer func(time.Duration) Timer
	rand     func() float64
	senders  map[string]Sender
	mu       sync.RWMutex // guards dests, byName, runCtx and runWG
	dests    []*dest
	byName   map[string]*dest
	runCtx   context.Context // the running Run's context; nil when not running
	runWG    *sync.WaitGroup // the running Run's destination goroutines
	running  atomic.Bool
}

// dest is a destination's state: its wake-up channel and its metrics.
type dest struct {
	Destination
	wake      chan struct{} // holds one token when the queue may have a new head
	stale     atomic.Bool   // Retry changed the queue: read it again
	pending   atomic.Int64  // pending items at the last read of the queue
	oldest    atomic.Int64  // Created of the oldest pending item, UnixNano; 0 when none
	attempts  atomic.Uint64
	delivered atomic.Uint64
	dead      atomic.Uint64
}

// New returns a Worker for cfg that keeps its state in st and logs to log (nil
// discards).
func New(cfg Config, st store.Store, log *slog.Logger, deps Deps) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if st == nil {
		return nil, errors.New("delivery: New: nil store")
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	w := &Worker{
		cfg: cfg.withDefaults(), st: st, log: log,
		now: deps.Now, newTimer: deps.NewTimer, rand: deps.Rand,
		senders: deps.Senders, byName: make(map[string]*dest, len(cfg.Destinations)),
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.newTimer == nil {
		w.newTimer = func(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }
	}
	if w.rand == nil {
		w.rand = rand.Float64
	}
	for _, d := range cfg.Destinations {
		ds := &dest{Destination: d, wake: make(chan struct{}, 1)}
		w.dests = append(w.dests, ds)
		w.byName[d.Name] = ds
	}
	return w, nil
}

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }

// Run delivers until ctx ends, with one goroutine per destination, and returns nil
// once they have all stopped. An attempt under way when ctx ends is abandoned and
// not counted; its item is sent again by the next Run. Run returns ErrRunning if the
// Worker is already running; it may run again after it returns.
func (w *Worker) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer w.running.Store(false)
	var wg sync.WaitGroup
	w.mu.Lock()
	w.runCtx, w.runWG = ctx, &wg
	for _, d := range w.dests {
		w.start(ctx, &wg, d)
	}
	w.mu.Unlock()
	<-ctx.Done()
	w.mu.Lock() // no destination starts after this
	w.runCtx, w.runWG = nil, nil
	w.mu.Unlock()
	wg.Wait()
	return nil
}

// start runs a destination's loop under wg until ctx ends.
func (w *Worker) start(ctx context.Context, wg *sync.WaitGroup, d *dest) {
	s, owned := w.senders[d.Name], false
	if s == nil {
		s, owned = d.newSender(w.now), true
	}
	wg.Go(func() {
		if c, ok := s.(io.Closer); ok && owned {
			defer c.Close()
		}
		w.loop(ctx, d, s)
	})
}

// AddDestination adds a destination while the worker may be running (an R4
// Subscription created through the API); a running worker starts delivering to it at
// once. Adding a destination with a name already present replaces nothing and returns
// nil when it is the same destination, an error otherwise.
func (w *Worker) AddDestination(d Destination) error {
	if err := d.validate(); err != nil {
		return fmt.Errorf("delivery: AddDestination%w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if cur := w.byName[d.Name]; cur != nil {
		if cur.MLLP == d.MLLP && cur.FHIR == d.FHIR {
			return nil
		}
		return fmt.Errorf("delivery: destination %q already exists with another address", d.Name)
	}
	ds := &dest{Destination: d, wake: make(chan struct{}, 1)}
	w.dests = append(w.dests, ds)
	w.byName[d.Name] = ds
	if w.runCtx != nil {
		w.start(w.runCtx, w.runWG, ds)
	}
	return nil
}

func (d *dest) newSender(now func() time.Time) Sender {
	if d.MLLP != "" {
		return NewMLLPSender(d.MLLP, clientTLS(d.TLS))
	}
	s := NewHTTPSender(d.FHIR, clientTLS(d.TLS))
	s.Now, s.Hook = now, d.Hook
	return s
}

// Subscribe adds an R4 rest-hook Subscription's endpoint as a destination (see Hook);
// it is AddDestination for callers that know nothing of this package's types.
func (w *Worker) Subscribe(destination, endpoint string, payload bool, headers []string) error {
	return w.AddDestination(Destination{Name: destination, FHIR: endpoint, Hook: &Hook{Payload: payload, Headers: headers}})
}

// Notify tells the worker of destination that it may have a new item. It never
// blocks; an unknown destination is ignored.
func (w *Worker) Notify(destination string) {
	w.mu.RLock()
	d := w.byName[destination]
	w.mu.RUnlock()
	if d != nil {
		d.notify()
	}
}

func (d *dest) notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Retry moves a dead or pending item back to pending, due now, and wakes its
// destination's worker. A dead item starts over with Attempts zero (its LastError is
// kept); a pending item keeps its Attempts and skips the rest of its backoff. Retry
// returns an error wrapping store.ErrNotFound for an unknown id, ErrDelivered for a
// delivered item, and ErrUnknownDestination for an item whose destination is not
// configured.
func (w *Worker) Retry(ctx context.Context, id string) error {
	var d *dest
	err := w.st.Update(ctx, func(tx store.Tx) error {
		it, err := tx.OutboxItem(id)
		if err != nil {
			return err
		}
		w.mu.RLock()
		d = w.byName[it.Destination]
		w.mu.RUnlock()
		if d == nil {
			return fmt.Errorf("destination %q: %w", it.Destination, ErrUnknownDestination)
		}
		switch it.State {
		case store.OutboxDelivered:
			return ErrDelivered
		case store.OutboxDead:
			it.Attempts = 0
		}
		now := w.now()
		it.State, it.NextAttempt, it.Updated = store.OutboxPending, now, now
		return tx.PutOutbox(it)
	})
	if err != nil {
		return fmt.Errorf("delivery: retry %s: %w", id, err)
	}
	d.stale.Store(true)
	d.notify()
	return nil
}

// loop delivers one destination's items in order until ctx ends.
//
// It reads up to readAhead pending items at a time and reads again when fewer than
// lookAhead of a full read remain (so that markOrder can look ahead), after every
// wait, after every attempt that did not deliver, and when Retry asks.
func (w *Worker) loop(ctx context.Context, d *dest, s Sender) {
	var (
		queue         []*store.OutboxItem // pending items, oldest first, as last read
		more          bool                // the last read left pending items out
		stale         = true              // read again before the next attempt
		storeFailures int
	)
	for ctx.Err() == nil {
		var err error
		if d.stale.Swap(false) || stale || more && len(queue) <= lookAhead {
			queue, more, err = w.read(ctx, d)
			stale = err != nil
		}
		if err == nil {
			now := w.now()
			switch {
			case len(queue) == 0:
				w.wait(ctx, d, w.cfg.PollInterval)
				stale = true
			case queue[0].NextAttempt.After(now):
				w.wait(ctx, d, min(queue[0].NextAttempt.Sub(now), w.cfg.PollInterval))
				stale = true
			default:
				var delivered bool
				delivered, err = w.attempt(ctx, d, s, queue[0], queue[1:min(len(queue), 1+lookAhead)])
				if delivered {
					queue = queue[1:]
					d.delivered1(queue)
				} else {
					stale = true
				}
			}
			if err == nil {
				storeFailures = 0
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		stale = true
		storeFailures++
		w.log.Error("outbox store failed", slog.String("destination", d.Name), slog.String("err", err.Error()))
		w.wait(ctx, d, w.cfg.Backoff.wait(storeFailures, w.rand()))
	}
}

// wait sleeps for dur, or until ctx ends or the destination is notified.
func (w *Worker) wait(ctx context.Context, d *dest, dur time.Duration) {
	t := w.newTimer(dur)
	defer t.Stop()
	select {
	case <-t.C():
	case <-d.wake:
	case <-ctx.Done():
	}
}

// read returns up to readAhead of the destination's pending items, oldest first, and
// whether more are pending, and refreshes the queue metrics.
func (w *Worker) read(ctx context.Context, d *dest) (items []*store.OutboxItem, more bool, err error) {
	var total int
	err = w.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		items, total, err = tx.Outbox(store.OutboxQuery{State: store.OutboxPending, Destination: d.Name, Limit: readAhead})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	d.pending.Store(int64(total))
	d.setOldest(items)
	return items, total > len(items), nil
}

// delivered1 updates the queue metrics after the head item was delivered; queue is
// what remains.
func (d *dest) delivered1(queue []*store.OutboxItem) {
	d.pending.Add(-1)
	d.setOldest(queue)
}

func (d *dest) setOldest(queue []*store.OutboxItem) {
	var created int64
	if len(queue) > 0 && !queue[0].Created.IsZero() {
		created = queue[0].Created.UnixNano()
	}
	d.oldest.Store(created)
}
