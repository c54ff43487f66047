package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// testLimits: every listing returns store.ClampLimit(limit) records at most, and counts
// them all.
func testLimits(t tester, b Backend) {
	st := open(t, b)
	const n = store.MaxLimit + 100
	update(t, st, func(tx store.Tx) error {
		for i := range n {
			if err := tx.PutMessage(newMessage("S", fmt.Sprint("L", i)), nil); err != nil {
				return err
			}
			if err := tx.PutOrder(newOrder("F", fmt.Sprint("L", i))); err != nil {
				return err
			}
			if err := tx.PutOutbox(newItem("ehr")); err != nil {
				return err
			}
			if err := tx.PutResource(newResource("Patient", fmt.Sprint("p", i), `{}`)); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, st, func(tx store.ReadTx) error {
		for _, limit := range []int{0, -3, 1, 7, store.DefaultLimit, store.MaxLimit, store.MaxLimit + 1, 5000} {
			want := store.ClampLimit(limit)
			for _, c := range []struct {
				name     string
				got, all int
				err      error
			}{
				{name: "Messages"}, {name: "Messages by sender"}, {name: "Orders"}, {name: "Orders by status"},
				{name: "Outbox"}, {name: "Outbox by state"}, {name: "Resources"},
			} {
				switch c.name {
				case "Messages":
					c.got, c.all, c.err = count(tx.Messages(store.MessageQuery{Limit: limit}))
				case "Messages by sender":
					c.got, c.all, c.err = count(tx.Messages(store.MessageQuery{Sender: "S", Limit: limit}))
				case "Orders":
					c.got, c.all, c.err = count(tx.Orders(store.OrderQuery{Limit: limit}))
				case "Orders by status":
					c.got, c.all, c.err = count(tx.Orders(store.OrderQuery{Status: order.StatusReceived, Limit: limit}))
				case "Outbox":
					c.got, c.all, c.err = count(tx.Outbox(store.OutboxQuery{Limit: limit}))
				case "Outbox by state":
					c.got, c.all, c.err = count(tx.Outbox(store.OutboxQuery{State: store.OutboxPending, Limit: limit}))
				case "Resources":
					c.got, c.all, c.err = count(tx.Resources("Patient", limit))
				}
				if c.err != nil || c.got != want || c.all != n {
					t.Errorf("%s with limit %d: %d listed, total %d, %v; want %d, total %d", c.name, limit, c.got, c.all, c.err, want, n)
				}
			}
		}
		return nil
	})
}

// testClose: a closed store refuses everything with ErrClosed.
func testClose(t tester, b Backend) {
	st := open(t, b)
	update(t, st, func(tx store.Tx) error { return tx.PutOrder(newOrder("F", "P1")) })
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ran := false
	if err := st.Update(t.Context(), func(store.Tx) error { ran = true; return nil }); !errors.Is(err, store.ErrClosed) || ran {
		t.Errorf("Update after Close = %v (function ran: %v), want ErrClosed", err, ran)
	}
	if err := st.View(t.Context(), func(store.ReadTx) error { ran = true; return nil }); !errors.Is(err, store.ErrClosed) || ran {
		t.Errorf("View after Close = %v (function ran: %v), want ErrClosed", err, ran)
	}
	if id, err := st.ReserveID(t.Context(), store.KindOrder); !errors.Is(err, store.ErrClosed) {
		t.Errorf("ReserveID after Close = %q, %v; want ErrClosed", id, err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

// testRestart: what was stored, and the ID sequences, survive a restart.
func testRestart(t tester, b Backend) {
	t.Run("Persists", func(t tester) {
		st := open(t, b)
		m, o, it := newMessage("S", "C1"), newOrder("F", "P1"), newItem("ehr")
		r := newResource("Patient", "p1", `{"v":1}`)
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
		r1 := *r
		r2 := newResource("Patient", "p1", `{"v":2}`)
		update(t, st, func(tx store.Tx) error { return tx.PutResource(r2) })
		// IDs reserved and never used, outside an Update and inside a failed one, are
		// spent too.
		spent := map[store.Kind]string{}
		for _, k := range kinds {
			spent[k] = reserve(t, st, k)
		}
		refused := errors.New("refused")
		if err := st.Update(t.Context(), func(tx store.Tx) error {
			for _, k := range kinds {
				id, err := tx.ReserveID(k)
				if err != nil {
					return err
				}
				spent[k] = id
			}
			return refused
		}); !errors.Is(err, refused) {
			t.Fatalf("failing Update = %v", err)
		}
		st = b.Reopen(t, st)
		t.Cleanup(func() { st.Close() })
		view(t, st, func(tx store.ReadTx) error {
			if got, err := tx.MessageByKey("S", "C1", m.Digest); err != nil || diff(m, got) != "" {
				t.Errorf("message after a restart = %+v, %v; want %+v", got, err, m)
			}
			if raw, err := tx.Raw(m.ID); err != nil || string(raw) != "raw" {
				t.Errorf("raw after a restart = %q, %v", raw, err)
			}
			if got, err := tx.OrderByKey(o.Key()); err != nil || diff(o, got) != "" {
				t.Errorf("order after a restart = %+v, %v; want %+v", got, err, o)
			}
			if got, err := tx.OutboxItem(it.ID); err != nil || diff(it, got) != "" {
				t.Errorf("outbox item after a restart = %+v, %v; want %+v", got, err, it)
			}
			if got, err := tx.ResourceVersion("Patient", "p1", 1); err != nil || diff(&r1, got) != "" {
				t.Errorf("resource version 1 after a restart = %+v, %v; want %+v", got, err, r1)
			}
			if got, err := tx.Resource("Patient", "p1"); err != nil || diff(r2, got) != "" {
				t.Errorf("resource after a restart = %+v, %v; want %+v", got, err, r2)
			}
			if ids, err := tx.FindResources("Patient", "identifier", "MRN1"); err != nil || len(ids) != 0 {
				t.Errorf("FindResources(an index entry of version 1) after a restart = %v, %v", ids, err)
			}
			return nil
		})
		for k, id := range spent {
			if n := num(t, k, reserve(t, st, k)); n <= num(t, k, id) {
				t.Errorf("after a restart ReserveID(%s) = %s, not past %s, reserved before it", k, store.FormatID(k, n), id)
			}
		}
	})
	// Close lets the Updates running finish: each one either returned nil and is kept,
	// or returned ErrClosed and did not run.
	t.Run("CloseWaits", func(t tester) {
		st := open(t, b)
		errs := make([]error, 60)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				errs[i] = st.Update(context.Background(), func(tx store.Tx) error {
					return tx.PutOrder(newOrder("F", fmt.Sprint("W", i)))
				})
			})
			if i == len(errs)/2 {
				wg.Go(func() {
					if err := st.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				})
			}
		}
		wg.Wait()
		st = b.Reopen(t, st)
		t.Cleanup(func() { st.Close() })
		view(t, st, func(tx store.ReadTx) error {
			for i, err := range errs {
				if err != nil && !errors.Is(err, store.ErrClosed) {
					t.Errorf("Update %d during Close = %v, want nil or ErrClosed", i, err)
				}
				_, gerr := tx.OrderByKey(newOrder("F", fmt.Sprint("W", i)).Key())
				if (err == nil) != (gerr == nil) {
					t.Errorf("Update %d during Close returned %v; after a restart its order reads %v", i, err, gerr)
				}
			}
			return nil
		})
	})
}
