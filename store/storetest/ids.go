package storetest

import (
	"context"
	"errors"
	"sync"

	"github.com/radbridge/radbridge/store"
)

var kinds = []store.Kind{store.KindMessage, store.KindOrder, store.KindOutbox, store.KindResource}

func testIDs(t tester, b Backend) {
	// Each kind's IDs have the store's form and grow.
	t.Run("Increasing", func(t tester) {
		st := open(t, b)
		for _, k := range kinds {
			var last uint64
			for i := range 20 {
				n := num(t, k, reserve(t, st, k))
				if i > 0 && n <= last {
					t.Errorf("ReserveID(%s) gave %d after %d: IDs must grow", k, n, last)
				}
				last = n
			}
		}
	})
	// Reservations from many goroutines, outside and inside transactions, never meet.
	t.Run("Concurrent", func(t tester) {
		st := open(t, b)
		var mu sync.Mutex
		seen := map[string]bool{}
		add := func(id string) {
			mu.Lock()
			defer mu.Unlock()
			if seen[id] {
				t.Errorf("ID %s handed out twice", id)
			}
			seen[id] = true
		}
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for range 25 {
					id, err := st.ReserveID(context.Background(), store.KindOrder)
					if err != nil {
						t.Errorf("ReserveID: %v", err)
						return
					}
					add(id)
					var inTx string
					err = st.Update(context.Background(), func(tx store.Tx) error {
						var err error
						inTx, err = tx.ReserveID(store.KindOrder)
						return err
					})
					if err != nil {
						t.Errorf("goroutine %d: Tx.ReserveID: %v", g, err)
						return
					}
					add(inTx)
				}
			})
		}
		wg.Wait()
		if len(seen) != 8*25*2 {
			t.Errorf("%d distinct IDs, want %d", len(seen), 8*25*2)
		}
	})
	// A Put that assigns an ID gives one of the record's kind, past those reserved.
	t.Run("Assigned", func(t tester) {
		st := open(t, b)
		before := map[store.Kind]uint64{}
		for _, k := range kinds {
			before[k] = num(t, k, reserve(t, st, k))
		}
		m, o, it := newMessage("S", "C1"), newOrder("F", "P1"), newItem("ehr")
		update(t, st, func(tx store.Tx) error {
			if err := tx.PutMessage(m, nil); err != nil {
				return err
			}
			if err := tx.PutOrder(o); err != nil {
				return err
			}
			return tx.PutOutbox(it)
		})
		for k, id := range map[store.Kind]string{store.KindMessage: m.ID, store.KindOrder: o.ID, store.KindOutbox: it.ID} {
			if n := num(t, k, id); n <= before[k] {
				t.Errorf("assigned %s ID %s is not past the reserved %s", k, id, store.FormatID(k, before[k]))
			}
		}
	})
	// An ID spent in a transaction that failed is never handed out again.
	t.Run("NeverTwice", func(t tester) {
		st := open(t, b)
		seen := map[string]string{}
		add := func(id, how string) {
			if prev, ok := seen[id]; ok {
				t.Errorf("ID %s handed out twice: %s, then %s", id, prev, how)
			}
			seen[id] = how
		}
		refused := errors.New("refused")
		for round := range 5 {
			for _, k := range kinds {
				add(reserve(t, st, k), "by ReserveID")
			}
			var spent []string
			err := st.Update(t.Context(), func(tx store.Tx) error {
				spent = spent[:0]
				for _, k := range kinds {
					id, err := tx.ReserveID(k)
					if err != nil {
						return err
					}
					spent = append(spent, id)
				}
				m, o, it := newMessage("S", "N"+string(rune('a'+round))), newOrder("F", "N"), newItem("ehr")
				if err := tx.PutMessage(m, []byte("raw")); err != nil {
					return err
				}
				if err := tx.PutOrder(o); err != nil {
					return err
				}
				if err := tx.PutOutbox(it); err != nil {
					return err
				}
				spent = append(spent, m.ID, o.ID, it.ID)
				return refused
			})
			if !errors.Is(err, refused) {
				t.Fatalf("failing Update = %v, want its function's error", err)
			}
			for _, id := range spent {
				add(id, "in a failed Update")
			}
		}
		for _, k := range kinds {
			for range 10 {
				add(reserve(t, st, k), "by ReserveID after the failures")
			}
		}
	})
	// ReserveID(KindResource) never returns the id of a stored resource, even one a
	// client chose in the form of the store's IDs.
	t.Run("ResourceIDs", func(t tester) {
		st := open(t, b)
		n := num(t, store.KindResource, reserve(t, st, store.KindResource))
		chosen := store.FormatID(store.KindResource, n+50)
		update(t, st, func(tx store.Tx) error { return tx.PutResource(newResource("Patient", chosen, `{}`)) })
		for range 60 {
			if id := reserve(t, st, store.KindResource); id == chosen {
				t.Fatalf("ReserveID(resource) = %s, the id of a stored resource", id)
			}
		}
	})
	t.Run("Canceled", func(t tester) {
		st := open(t, b)
		if id, err := st.ReserveID(canceled(t.Context()), store.KindMessage); !errors.Is(err, context.Canceled) {
			t.Errorf("ReserveID(canceled context) = %q, %v; want context.Canceled", id, err)
		}
	})
}
