package storetest

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/radbridge/radbridge/store"
)

func testOutbox(t tester, b Backend) {
	t.Run("RoundTrip", func(t tester) {
		st := open(t, b)
		it := newItem("ehr-a")
		it.Attempts, it.LastError, it.Receipt, it.Updated = 2, "connection refused", "AE", at.Add(time.Minute)
		update(t, st, func(tx store.Tx) error { return tx.PutOutbox(it) })
		want := *it
		view(t, st, func(tx store.ReadTx) error {
			got, err := tx.OutboxItem(it.ID)
			if err != nil {
				t.Fatalf("OutboxItem(%s): %v", it.ID, err)
			}
			if d := diff(&want, got); d != "" {
				t.Errorf("OutboxItem(%s) differs from what was put (-put +read):\n%s", it.ID, d)
			}
			got.Payload[0], got.State = 'X', store.OutboxDead
			if again, err := tx.OutboxItem(it.ID); err != nil || diff(&want, again) != "" {
				t.Errorf("after changing what was read, OutboxItem = %+v, %v", again, err)
			}
			n := num(t, store.KindOutbox, it.ID)
			for _, id := range []string{"", "out-0", strings.Replace(it.ID, "-", "-0", 1), store.FormatID(store.KindOrder, n),
				store.FormatID(store.KindOutbox, n+1000)} {
				if got, err := tx.OutboxItem(id); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("OutboxItem(%q) = %v, %v; want ErrNotFound", id, got, err)
				}
			}
			return nil
		})
	})
	// Oldest first by ID, the delivery order; a state change moves an item between the
	// state listings and keeps its place.
	t.Run("Order", func(t tester) {
		st := open(t, b)
		var items []*store.OutboxItem
		for i, dest := range []string{"ehr-a", "app-x", "ehr-a", "ehr-a", "app-x", "ehr-b"} {
			it := newItem(dest)
			it.Key = dest + string(rune('0'+i))
			update(t, st, func(tx store.Tx) error { return tx.PutOutbox(it) })
			items = append(items, it)
		}
		items[0].State, items[0].Receipt = store.OutboxDelivered, "AA"
		items[2].State = store.OutboxDead
		items[4].State = store.OutboxDelivered
		update(t, st, func(tx store.Tx) error {
			for _, i := range []int{4, 2, 0} {
				if err := tx.PutOutbox(items[i]); err != nil {
					return err
				}
			}
			return nil
		})
		id := func(i ...int) []string {
			var out []string
			for _, i := range i {
				out = append(out, items[i].ID)
			}
			return out
		}
		view(t, st, func(tx store.ReadTx) error {
			for _, tc := range []struct {
				q    store.OutboxQuery
				want []string
			}{
				{store.OutboxQuery{}, id(0, 1, 2, 3, 4, 5)},
				{store.OutboxQuery{Limit: 2}, id(0, 1)},
				{store.OutboxQuery{State: store.OutboxPending}, id(1, 3, 5)},
				{store.OutboxQuery{State: store.OutboxPending, Destination: "ehr-a"}, id(3)},
				{store.OutboxQuery{State: store.OutboxDelivered}, id(0, 4)},
				{store.OutboxQuery{State: store.OutboxDead, Destination: "ehr-a"}, id(2)},
				{store.OutboxQuery{Destination: "app-x"}, id(1, 4)},
				{store.OutboxQuery{Destination: "ehr"}, nil},
				{store.OutboxQuery{State: store.OutboxPending, Limit: 1}, id(1)},
			} {
				list, total, err := tx.Outbox(tc.q)
				if err != nil {
					t.Fatalf("Outbox(%+v): %v", tc.q, err)
				}
				wantTotal := len(tc.want)
				if tc.q.Limit > 0 {
					wantTotal = map[string]int{"": 6, store.OutboxPending: 3}[tc.q.State]
				}
				if got := ids(list, itemID); !slices.Equal(got, tc.want) || total != wantTotal {
					t.Errorf("Outbox(%+v) = %v (total %d); want %v (total %d), oldest first", tc.q, got, total, tc.want, wantTotal)
				}
			}
			if got, err := tx.OutboxItem(items[0].ID); err != nil || got.State != store.OutboxDelivered || got.Receipt != "AA" {
				t.Errorf("OutboxItem after its update = %+v, %v", got, err)
			}
			return nil
		})
		// By ID, whatever the order the items were put in.
		first, second := newItem("late"), newItem("late")
		first.ID, second.ID = reserve(t, st, store.KindOutbox), reserve(t, st, store.KindOutbox)
		second.Key = "k-late-2"
		update(t, st, func(tx store.Tx) error { return tx.PutOutbox(second) })
		update(t, st, func(tx store.Tx) error { return tx.PutOutbox(first) })
		view(t, st, func(tx store.ReadTx) error {
			list, _, err := tx.Outbox(store.OutboxQuery{Destination: "late"})
			if got, want := ids(list, itemID), []string{first.ID, second.ID}; err != nil || !slices.Equal(got, want) {
				t.Errorf("Outbox(late) = %v, %v; want %v, by ID", got, err, want)
			}
			list, _, err = tx.Outbox(store.OutboxQuery{State: store.OutboxPending, Destination: "late"})
			if got, want := ids(list, itemID), []string{first.ID, second.ID}; err != nil || !slices.Equal(got, want) {
				t.Errorf("Outbox(pending, late) = %v, %v; want %v, by ID", got, err, want)
			}
			return nil
		})
	})
}
