package storetest

import (
	"errors"
	"slices"
	"strings"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

func testOrders(t tester, b Backend) {
	t.Run("RoundTrip", func(t tester) {
		st := open(t, b)
		o := newOrder("HOSP_A", "P1")
		o.Diagnoses = []order.Diagnosis{{Code: "R07.9"}}
		o.History = []order.Transition{{From: order.StatusNew, To: order.StatusReceived, At: at, Cause: "NW"}}
		encoded := newOrder("HOSP_A", "P2")
		encoded.ID = reserve(t, st, store.KindOrder)
		data, err := encoded.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		update(t, st, func(tx store.Tx) error {
			if err := tx.PutOrder(o); err != nil {
				return err
			}
			return tx.PutOrderJSON(encoded, data)
		})
		want := o.Clone()
		view(t, st, func(tx store.ReadTx) error {
			for _, w := range []*order.Order{want, encoded} {
				got, err := tx.Order(w.ID)
				if err != nil {
					t.Fatalf("Order(%s): %v", w.ID, err)
				}
				if d := diff(w, got); d != "" {
					t.Errorf("Order(%s) differs from what was put (-put +read):\n%s", w.ID, d)
				}
				byKey, err := tx.OrderByKey(w.Key())
				if err != nil || diff(w, byKey) != "" {
					t.Errorf("OrderByKey(%q) = %+v, %v", w.Key(), byKey, err)
				}
			}
			got, _ := tx.Order(o.ID)
			got.Patient.Identifiers[0].Value, got.Status = "changed", order.StatusCancelled
			again, err := tx.Order(o.ID)
			if err != nil || diff(want, again) != "" {
				t.Errorf("after changing what was read, Order = %+v, %v", again, err)
			}
			return nil
		})
		if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.PutOrderJSON(newOrder("F", "P3"), data) }); err == nil {
			t.Error("PutOrderJSON of an order without an ID succeeded")
		}
	})
	t.Run("NotFound", func(t tester) {
		st := open(t, b)
		o, unkeyed := newOrder("F", "P1"), newOrder("F", "")
		update(t, st, func(tx store.Tx) error {
			if err := tx.PutOrder(o); err != nil {
				return err
			}
			return tx.PutOrder(unkeyed)
		})
		n := num(t, store.KindOrder, unkeyed.ID)
		view(t, st, func(tx store.ReadTx) error {
			for _, id := range []string{"", "ord-0", strings.Replace(o.ID, "-", "-0", 1), store.FormatID(store.KindMessage, n),
				store.FormatID(store.KindOrder, n+1000)} {
				if got, err := tx.Order(id); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Order(%q) = %v, %v; want ErrNotFound", id, got, err)
				}
			}
			for _, key := range []string{"", newOrder("G", "P1").Key(), newOrder("F", "P").Key(), "P1"} {
				if got, err := tx.OrderByKey(key); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("OrderByKey(%q) = %v, %v; want ErrNotFound", key, got, err)
				}
			}
			return nil
		})
	})
	t.Run("KeyConflict", func(t tester) {
		st := open(t, b)
		o, other := newOrder("F", "P1"), newOrder("F", "P2")
		update(t, st, func(tx store.Tx) error {
			if err := tx.PutOrder(o); err != nil {
				return err
			}
			return tx.PutOrder(other)
		})
		put := func(o *order.Order) error {
			return st.Update(t.Context(), func(tx store.Tx) error { return tx.PutOrder(o) })
		}
		if err := put(newOrder("F", "P1")); !errors.Is(err, store.ErrConflict) {
			t.Errorf("a second order with key %q: %v, want ErrConflict", o.Key(), err)
		}
		// Changing an order's key onto another's is a conflict too, and changes nothing.
		moved := other.Clone()
		moved.Placer = "P1"
		if err := put(moved); !errors.Is(err, store.ErrConflict) {
			t.Errorf("an order moved onto key %q: %v, want ErrConflict", o.Key(), err)
		}
		for _, ok := range []*order.Order{newOrder("G", "P1"), newOrder("F", ""), newOrder("F", ""), o} {
			if err := put(ok); err != nil {
				t.Errorf("PutOrder(%q, key %q): %v, want it stored", ok.ID, ok.Key(), err)
			}
		}
		view(t, st, func(tx store.ReadTx) error {
			if got, err := tx.OrderByKey(o.Key()); err != nil || got.ID != o.ID {
				t.Errorf("OrderByKey(%q) = %v, %v; want %s", o.Key(), got, err, o.ID)
			}
			if got, err := tx.OrderByKey(other.Key()); err != nil || got.ID != other.ID || got.Placer != "P2" {
				t.Errorf("OrderByKey(%q) = %+v, %v; want %s unchanged", other.Key(), got, err, other.ID)
			}
			if _, total, err := tx.Orders(store.OrderQuery{}); err != nil || total != 5 {
				t.Errorf("Orders total = %d, %v; want 5", total, err)
			}
			return nil
		})
	})
	// Putting an order again moves it in the indexes: its old key, placer and status
	// no longer find it.
	t.Run("Reindex", func(t tester) {
		st := open(t, b)
		o := newOrder("F", "P1")
		update(t, st, func(tx store.Tx) error { return tx.PutOrder(o) })
		oldKey := o.Key()
		o.Placer, o.Status = "P9", order.StatusReady
		update(t, st, func(tx store.Tx) error { return tx.PutOrder(o) })
		view(t, st, func(tx store.ReadTx) error {
			if got, err := tx.OrderByKey(oldKey); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("OrderByKey(old key) = %v, %v; want ErrNotFound", got, err)
			}
			if got, err := tx.OrderByKey(o.Key()); err != nil || got.ID != o.ID {
				t.Errorf("OrderByKey(new key) = %v, %v", got, err)
			}
			for _, tc := range []struct {
				q    store.OrderQuery
				want []string
			}{
				{store.OrderQuery{Placer: "P1"}, nil},
				{store.OrderQuery{Placer: "P9"}, []string{o.ID}},
				{store.OrderQuery{Status: order.StatusReceived}, nil},
				{store.OrderQuery{Status: order.StatusReady}, []string{o.ID}},
			} {
				if list, total, err := tx.Orders(tc.q); err != nil || !slices.Equal(ids(list, orderID), tc.want) || total != len(tc.want) {
					t.Errorf("Orders(%+v) = %v (total %d), %v; want %v", tc.q, ids(list, orderID), total, err, tc.want)
				}
			}
			return nil
		})
		// The old key is free for another order.
		update(t, st, func(tx store.Tx) error { return tx.PutOrder(newOrder("F", "P1")) })
	})
	t.Run("Query", func(t tester) {
		st := open(t, b)
		var all []*order.Order
		placers := []string{"P1", "P10", "A|B", "100%"}
		statuses := []order.Status{order.StatusReceived, order.StatusReady, order.StatusCancelled}
		for i := range 24 {
			o := newOrder([]string{"F", "G", "F|X"}[i%3], placers[(i/3)%4])
			o.Status = statuses[i%len(statuses)]
			if i >= 12 { // the same placers again, from other facilities
				o.Source.SendingFacility += "2"
			}
			all = append(all, o)
		}
		// Put out of ID order: newest first is by ID.
		for _, o := range all {
			o.ID = reserve(t, st, store.KindOrder)
		}
		for i := len(all) - 1; i >= 0; i -= 5 {
			update(t, st, func(tx store.Tx) error {
				for _, o := range all[max(0, i-4) : i+1] {
					if err := tx.PutOrder(o); err != nil {
						return err
					}
				}
				return nil
			})
		}
		slices.Reverse(all)
		view(t, st, func(tx store.ReadTx) error {
			for _, q := range []store.OrderQuery{{}, {Limit: 4}, {Placer: "P1"}, {Placer: "P1", Limit: 2}, {Placer: "A|B"},
				{Placer: "100%"}, {Placer: "P"}, {Status: order.StatusReady}, {Status: order.StatusReady, Limit: 3},
				{Placer: "P10", Status: order.StatusCancelled}, {Status: order.StatusDenied}} {
				var want []string
				for _, o := range all {
					if (q.Placer == "" || o.Placer == q.Placer) && (q.Status == "" || o.Status == q.Status) {
						want = append(want, o.ID)
					}
				}
				list, total, err := tx.Orders(q)
				if err != nil {
					t.Fatalf("Orders(%+v): %v", q, err)
				}
				limit := store.ClampLimit(q.Limit)
				if got := ids(list, orderID); !slices.Equal(got, want[:min(limit, len(want))]) || total != len(want) {
					t.Errorf("Orders(%+v) = %v (total %d); want %v (total %d), newest first by ID", q, got, total, want[:min(limit, len(want))], len(want))
				}
			}
			return nil
		})
	})
}
