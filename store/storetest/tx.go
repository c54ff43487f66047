package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

func testUpdate(t tester, b Backend) {
	t.Run("OwnWrites", func(t tester) { testOwnWrites(t, b) })
	t.Run("FailedLeavesNothing", func(t tester) { testFailedUpdate(t, b) })
	t.Run("ConcurrentIncrements", func(t tester) { testIncrements(t, b) })
	t.Run("Snapshot", func(t tester) { testSnapshot(t, b) })
	t.Run("ReadYourWrites", func(t tester) { testReadYourWrites(t, b) })
	// One caller's failure does not fail or undo the others, however the backend
	// groups their commits.
	t.Run("IsolatedFailures", func(t tester) {
		st := open(t, b)
		errs := make([]error, 40)
		refused := errors.New("refused")
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				errs[i] = st.Update(context.Background(), func(tx store.Tx) error {
					if err := tx.PutOrder(newOrder("F", fmt.Sprint("I", i))); err != nil {
						return err
					}
					if i%4 == 1 {
						return refused
					}
					return nil
				})
			})
		}
		wg.Wait()
		view(t, st, func(tx store.ReadTx) error {
			for i, err := range errs {
				if (i%4 == 1) != errors.Is(err, refused) || (i%4 != 1 && err != nil) {
					t.Errorf("update %d returned %v", i, err)
				}
				_, ferr := tx.OrderByKey(newOrder("F", fmt.Sprint("I", i)).Key())
				if (err == nil) != (ferr == nil) {
					t.Errorf("update %d returned %v, its order reads %v", i, err, ferr)
				}
			}
			if _, total, err := tx.Orders(store.OrderQuery{}); err != nil || total != 30 {
				t.Errorf("Orders total = %d, %v; want 30", total, err)
			}
			return nil
		})
	})
}

// testOwnWrites: a transaction reads what it wrote, through every read method.
func testOwnWrites(t tester, b Backend) {
	st := open(t, b)
	update(t, st, func(tx store.Tx) error {
		m, o, it := newMessage("S", "C1"), newOrder("F", "P1"), newItem("ehr")
		r := newResource("Patient", "p1", `{"v":1}`)
		r.Index = map[string][]string{"identifier": {"MRN1"}}
		for _, put := range []func() error{
			func() error { return tx.PutMessage(m, []byte("raw")) }, func() error { return tx.PutOrder(o) },
			func() error { return tx.PutOutbox(it) }, func() error { return tx.PutResource(r) },
		} {
			if err := put(); err != nil {
				return err
			}
		}
		if got, err := tx.Message(m.ID); err != nil || got.ControlID != "C1" {
			t.Errorf("Message in the writing transaction = %v, %v", got, err)
		}
		if got, err := tx.MessageByKey("S", "C1", m.Digest); err != nil || got.ID != m.ID {
			t.Errorf("MessageByKey in the writing transaction = %v, %v", got, err)
		}
		if raw, err := tx.Raw(m.ID); err != nil || string(raw) != "raw" {
			t.Errorf("Raw in the writing transaction = %q, %v", raw, err)
		}
		if list, total, err := tx.Messages(store.MessageQuery{ControlID: "C1"}); err != nil || total != 1 || len(list) != 1 {
			t.Errorf("Messages in the writing transaction = %d, total %d, %v", len(list), total, err)
		}
		if got, err := tx.OrderByKey(o.Key()); err != nil || got.ID != o.ID {
			t.Errorf("OrderByKey in the writing transaction = %v, %v", got, err)
		}
		if list, total, err := tx.Orders(store.OrderQuery{Placer: "P1"}); err != nil || total != 1 || len(list) != 1 {
			t.Errorf("Orders in the writing transaction = %d, total %d, %v", len(list), total, err)
		}
		if got, err := tx.OutboxItem(it.ID); err != nil || got.Destination != "ehr" {
			t.Errorf("OutboxItem in the writing transaction = %v, %v", got, err)
		}
		if list, total, err := tx.Outbox(store.OutboxQuery{State: store.OutboxPending}); err != nil || total != 1 || len(list) != 1 {
			t.Errorf("Outbox in the writing transaction = %d, total %d, %v", len(list), total, err)
		}
		if ids, err := tx.FindResources("Patient", "identifier", "MRN1"); err != nil || len(ids) != 1 {
			t.Errorf("FindResources in the writing transaction = %v, %v", ids, err)
		}
		r2 := newResource("Patient", "p1", `{"v":2}`)
		if err := tx.PutResource(r2); err != nil {
			return err
		}
		if got, err := tx.Resource("Patient", "p1"); err != nil || got.Version != 2 || string(got.JSON) != `{"v":2}` {
			t.Errorf("Resource after a second put in one transaction = %+v, %v", got, err)
		}
		if got, err := tx.ResourceVersion("Patient", "p1", 1); err != nil || string(got.JSON) != `{"v":1}` {
			t.Errorf("ResourceVersion(1) in the writing transaction = %+v, %v", got, err)
		}
		if list, total, err := tx.Resources("Patient", 0); err != nil || total != 1 || len(list) != 1 || list[0].Version != 2 {
			t.Errorf("Resources in the writing transaction = %v, total %d, %v", list, total, err)
		}
		return nil
	})
}

// testFailedUpdate: an Update whose function fails after writing every kind of record
// leaves nothing of it: no record, no index entry, no count, no new version.
func testFailedUpdate(t tester, b Backend) {
	st := open(t, b)
	m, o, it, r := newMessage("S", "C1"), newOrder("F", "P1"), newItem("ehr"), newResource("Patient", "p1", `{"v":1}`)
	r.Index = map[string][]string{"identifier": {"MRN1"}}
	update(t, st, func(tx store.Tx) error {
		if err := tx.PutMessage(m, []byte("raw")); err != nil {
			return err
		}
		if err := tx.PutOrder(o); err != nil {
			return err
		}
		if err := tx.PutOutbox(it); err != nil {
			return err
		}
		return tx.PutResource(r)
	})
	refused := errors.New("refused")
	var m2 *store.Message
	var o2 *order.Order
	var it2 *store.OutboxItem
	err := st.Update(t.Context(), func(tx store.Tx) error {
		m2, o2, it2 = newMessage("S", "C2"), newOrder("F", "P2"), newItem("ehr")
		changed := o.Clone()
		changed.Status = order.StatusCancelled
		itChanged := *it
		itChanged.State = store.OutboxDead
		r2 := newResource("Patient", "p1", `{"v":2}`)
		r2.Index = map[string][]string{"identifier": {"MRN2"}}
		mChanged := *m
		mChanged.AckCode = "AR"
		for _, put := range []func() error{
			func() error { return tx.PutMessage(m2, []byte("raw2")) }, func() error { return tx.PutOrder(o2) },
			func() error { return tx.PutOutbox(it2) }, func() error { return tx.PutResource(r2) },
			func() error { return tx.PutResource(newResource("Patient", "p2", `{}`)) },
			func() error { return tx.PutOrder(changed) }, func() error { return tx.PutOutbox(&itChanged) },
			func() error { return tx.PutMessage(&mChanged, []byte("changed raw")) },
		} {
			if err := put(); err != nil {
				return err
			}
		}
		return fmt.Errorf("the checks said no: %w", refused)
	})
	if !errors.Is(err, refused) {
		t.Fatalf("Update = %v, want its function's error", err)
	}
	view(t, st, func(tx store.ReadTx) error {
		if got, err := tx.Message(m2.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("message of the failed Update: %v, %v", got, err)
		}
		if got, err := tx.MessageByKey("S", "C2", m2.Digest); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("message of the failed Update by key: %v, %v", got, err)
		}
		if got, err := tx.Message(m.ID); err != nil || got.AckCode != "AA" {
			t.Errorf("message the failed Update changed = %+v, %v; want it as before", got, err)
		}
		if raw, err := tx.Raw(m.ID); err != nil || string(raw) != "raw" {
			t.Errorf("raw bytes the failed Update changed = %q, %v", raw, err)
		}
		if got, err := tx.OrderByKey(o2.Key()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("order of the failed Update: %v, %v", got, err)
		}
		if got, err := tx.Order(o.ID); err != nil || got.Status != order.StatusReceived {
			t.Errorf("order the failed Update changed = %+v, %v; want it as before", got, err)
		}
		if got, err := tx.OutboxItem(it2.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("outbox item of the failed Update: %v, %v", got, err)
		}
		if got, err := tx.Resource("Patient", "p1"); err != nil || got.Version != 1 {
			t.Errorf("resource the failed Update changed = %+v, %v; want version 1", got, err)
		}
		if got, err := tx.ResourceVersion("Patient", "p1", 2); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("version 2 of the failed Update: %v, %v", got, err)
		}
		if got, err := tx.Resource("Patient", "p2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("resource of the failed Update: %v, %v", got, err)
		}
		for value, want := range map[string]int{"MRN1": 1, "MRN2": 0} {
			if ids, err := tx.FindResources("Patient", "identifier", value); err != nil || len(ids) != want {
				t.Errorf("FindResources(%s) = %v, %v; want %d", value, ids, err, want)
			}
		}
		listed := func(n int, total int, err error) [3]any { return [3]any{n, total, err} }
		for _, c := range []struct {
			name string
			got  [3]any
			want int
		}{
			{"Messages", listed(count(tx.Messages(store.MessageQuery{}))), 1},
			{"Messages by sender", listed(count(tx.Messages(store.MessageQuery{Sender: "S"}))), 1},
			{"Orders", listed(count(tx.Orders(store.OrderQuery{}))), 1},
			{"Orders received", listed(count(tx.Orders(store.OrderQuery{Status: order.StatusReceived}))), 1},
			{"Orders cancelled", listed(count(tx.Orders(store.OrderQuery{Status: order.StatusCancelled}))), 0},
			{"Outbox", listed(count(tx.Outbox(store.OutboxQuery{}))), 1},
			{"Outbox pending", listed(count(tx.Outbox(store.OutboxQuery{State: store.OutboxPending}))), 1},
			{"Outbox dead", listed(count(tx.Outbox(store.OutboxQuery{State: store.OutboxDead}))), 0},
			{"Resources", listed(count(tx.Resources("Patient", 0))), 1},
		} {
			if c.got != [3]any{c.want, c.want, nil} {
				t.Errorf("%s after the failed Update: %d listed, total %d, error %v; want %d, as before it", c.name, c.got[0], c.got[1], c.got[2], c.want)
			}
		}
		return nil
	})
	// Its keys are free.
	update(t, st, func(tx store.Tx) error {
		if err := tx.PutMessage(newMessage("S", "C2"), nil); err != nil {
			return err
		}
		return tx.PutOrder(newOrder("F", "P2"))
	})
}

// testIncrements: concurrent read-modify-write Updates of one record lose none.
func testIncrements(t tester, b Backend) {
	st := open(t, b)
	const goroutines, each = 16, 8
	update(t, st, func(tx store.Tx) error { return tx.PutResource(newResource("Counter", "c", "0")) })
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				err := st.Update(context.Background(), func(tx store.Tx) error {
					cur, err := tx.Resource("Counter", "c")
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(string(cur.JSON))
					if err != nil {
						return err
					}
					return tx.PutResource(newResource("Counter", "c", strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Errorf("increment: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	view(t, st, func(tx store.ReadTx) error {
		cur, err := tx.Resource("Counter", "c")
		if err != nil || string(cur.JSON) != strconv.Itoa(goroutines*each) || cur.Version != goroutines*each+1 {
			t.Errorf("counter after %d increments = %+v, %v; want %d at version %d (updates were lost)",
				goroutines*each, cur, err, goroutines*each, goroutines*each+1)
		}
		return nil
	})
}

// testSnapshot: Updates that move amounts between two records keep their sum, and every
// View sees it kept: no View sees one half of an Update, or reads a record differently
// twice.
func testSnapshot(t tester, b Backend) {
	st := open(t, b)
	update(t, st, func(tx store.Tx) error {
		if err := tx.PutResource(newResource("Account", "a", "100")); err != nil {
			return err
		}
		return tx.PutResource(newResource("Account", "b", "0"))
	})
	read := func(tx store.ReadTx, id string) (int, error) {
		r, err := tx.Resource("Account", id)
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(string(r.JSON))
	}
	done := make(chan struct{})
	var writers, readers sync.WaitGroup
	for w := range 4 {
		writers.Go(func() {
			for i := range 15 {
				err := st.Update(context.Background(), func(tx store.Tx) error {
					from, to := "a", "b"
					if (w+i)%2 == 1 {
						from, to = to, from
					}
					x, err := read(tx, from)
					if err != nil {
						return err
					}
					y, err := read(tx, to)
					if err != nil {
						return err
					}
					move := min(x, 1+(w+i)%7)
					if err := tx.PutResource(newResource("Account", from, strconv.Itoa(x-move))); err != nil {
						return err
					}
					return tx.PutResource(newResource("Account", to, strconv.Itoa(y+move)))
				})
				if err != nil {
					t.Errorf("transfer: %v", err)
					return
				}
			}
		})
	}
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				err := st.View(context.Background(), func(tx store.ReadTx) error {
					a, err := read(tx, "a")
					if err != nil {
						return err
					}
					b, err := read(tx, "b")
					if err != nil {
						return err
					}
					again, err := read(tx, "a")
					if err != nil {
						return err
					}
					if a+b != 100 || again != a {
						t.Errorf("a View read a=%d, b=%d, then a=%d: not one snapshot", a, b, again)
					}
					return nil
				})
				if err != nil {
					t.Errorf("View: %v", err)
					return
				}
			}
		})
	}
	writers.Wait()
	close(done)
	readers.Wait()
}

// testReadYourWrites: a View started after an Update returned, on another goroutine,
// sees it.
func testReadYourWrites(t tester, b Backend) {
	st := open(t, b)
	written := make(chan *order.Order, 30)
	go func() {
		defer close(written)
		for i := range 30 {
			o := newOrder("F", fmt.Sprint("R", i))
			if err := st.Update(context.Background(), func(tx store.Tx) error { return tx.PutOrder(o) }); err != nil {
				t.Errorf("Update: %v", err)
				return
			}
			written <- o
		}
	}()
	for o := range written {
		view(t, st, func(tx store.ReadTx) error {
			if got, err := tx.Order(o.ID); err != nil || got.Placer != o.Placer {
				t.Errorf("a View after the Update returned: Order(%s) = %v, %v", o.ID, got, err)
			}
			if got, err := tx.OrderByKey(o.Key()); err != nil || got.ID != o.ID {
				t.Errorf("a View after the Update returned: OrderByKey(%s) = %v, %v", o.Key(), got, err)
			}
			return nil
		})
	}
}

func testView(t tester, b Backend) {
	st := open(t, b)
	mine := errors.New("mine")
	if err := st.View(t.Context(), func(store.ReadTx) error { return fmt.Errorf("wrapped: %w", mine) }); !errors.Is(err, mine) {
		t.Errorf("View = %v, want its function's error", err)
	}
}

// count turns a listing's result into its length, total and error.
func count[T any](list []*T, total int, err error) (int, int, error) { return len(list), total, err }
