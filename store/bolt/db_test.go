package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// openDB opens a store in a temporary directory and closes it at the end of the test.
func openDB(tb testing.TB, dir string) *bolt.DB {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	db, err := bolt.Open(bolt.Config{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func update(t *testing.T, db *bolt.DB, fn func(store.Tx) error) error {
	t.Helper()
	return db.Update(t.Context(), fn)
}

// view runs fn in a View and fails the test when the View fails, so that fn's
// assertions cannot be skipped unnoticed.
func view(t testing.TB, db store.Store, fn func(store.ReadTx) error) {
	t.Helper()
	if err := db.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// reserve returns a new ID of kind k.
func reserve(t testing.TB, db store.Store, k store.Kind) string {
	t.Helper()
	id, err := db.ReserveID(t.Context(), k)
	if err != nil {
		t.Fatalf("ReserveID(%s): %v", k, err)
	}
	return id
}

func newOrder(fac, placer string) *order.Order {
	return &order.Order{Source: order.Source{Kind: order.SourceV2, SendingFacility: fac}, Placer: placer, Status: order.StatusReceived}
}

func TestDB_PutMessage_Dedupe(t *testing.T) {
	db := openDB(t, "")
	m := &store.Message{Kind: "hl7v2", Sender: "HOSP_A", ControlID: "C1", Type: "ORM^O01", AckCode: "AA", Ack: []byte("MSH|ack"), Dedupe: true}
	if err := update(t, db, func(tx store.Tx) error { return tx.PutMessage(m, []byte("MSH|raw")) }); err != nil {
		t.Fatal(err)
	}
	if m.ID == "" {
		t.Fatal("PutMessage assigned no ID")
	}
	dup := &store.Message{Kind: "hl7v2", Sender: "HOSP_A", ControlID: "C1", Dedupe: true}
	err := update(t, db, func(tx store.Tx) error { return tx.PutMessage(dup, nil) })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second message with the same key: %v, want ErrConflict", err)
	}
	// The same sender and control ID with other content is another message.
	other := &store.Message{Kind: "hl7v2", Sender: "HOSP_A", ControlID: "C1", Digest: "d2", Ack: []byte("ack2"), Dedupe: true}
	if err := update(t, db, func(tx store.Tx) error { return tx.PutMessage(other, nil) }); err != nil {
		t.Fatalf("same control ID, other digest: %v", err)
	}
	// A rejected message (not deduplicated) with the same key is kept for audit.
	if err := update(t, db, func(tx store.Tx) error {
		return tx.PutMessage(&store.Message{Sender: "HOSP_A", ControlID: "C1", AckCode: "AR"}, []byte("junk"))
	}); err != nil {
		t.Fatal(err)
	}
	err = db.View(t.Context(), func(tx store.ReadTx) error {
		got, err := tx.MessageByKey("HOSP_A", "C1", "")
		if err != nil {
			return err
		}
		if got.ID != m.ID || string(got.Ack) != "MSH|ack" {
			t.Errorf("MessageByKey = %+v, want the accepted message", got)
		}
		raw, err := tx.Raw(m.ID)
		if err != nil || string(raw) != "MSH|raw" {
			t.Errorf("Raw = %q, %v", raw, err)
		}
		if got, err := tx.MessageByKey("HOSP_A", "C1", "d2"); err != nil || got.ID != other.ID {
			t.Errorf("MessageByKey(digest d2) = %v, %v; want %s", got, err, other.ID)
		}
		if _, err := tx.MessageByKey("HOSP_B", "C1", ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("MessageByKey(other sender) = %v, want ErrNotFound", err)
		}
		for _, id := range []string{"", "msg-", "msg-0", "msg-x", "ord-1", "msg-999"} {
			if _, err := tx.Message(id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Message(%q) = %v, want ErrNotFound", id, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDB_Messages_Query(t *testing.T) {
	db := openDB(t, "")
	for i := 1; i <= 30; i++ {
		m := &store.Message{Sender: fmt.Sprintf("FAC%d", i%3), ControlID: fmt.Sprintf("C%d", i%10), Type: []string{"ORM^O01", "ORU^R01"}[i%2]}
		if err := update(t, db, func(tx store.Tx) error { return tx.PutMessage(m, nil) }); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		q         store.MessageQuery
		wantN     int
		wantTotal int
		wantFirst string
	}{
		{name: "all", q: store.MessageQuery{}, wantN: 30, wantTotal: 30, wantFirst: "msg-30"},
		{name: "limit", q: store.MessageQuery{Limit: 5}, wantN: 5, wantTotal: 30, wantFirst: "msg-30"},
		{name: "control id", q: store.MessageQuery{ControlID: "C3"}, wantN: 3, wantTotal: 3, wantFirst: "msg-23"},
		{name: "control id limit", q: store.MessageQuery{ControlID: "C3", Limit: 1}, wantN: 1, wantTotal: 3, wantFirst: "msg-23"},
		{name: "sender", q: store.MessageQuery{Sender: "FAC1", Limit: 2}, wantN: 2, wantTotal: 10, wantFirst: "msg-28"},
		{name: "type and sender", q: store.MessageQuery{Sender: "FAC1", Type: "ORU^R01"}, wantN: 5, wantTotal: 5, wantFirst: "msg-25"},
		{name: "none", q: store.MessageQuery{ControlID: "nope"}, wantN: 0, wantTotal: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			view(t, db, func(tx store.ReadTx) error {
				got, total, err := tx.Messages(tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != tc.wantN || total != tc.wantTotal {
					t.Errorf("Messages(%+v) = %d items, total %d; want %d, %d", tc.q, len(got), total, tc.wantN, tc.wantTotal)
				}
				if tc.wantFirst != "" && (len(got) == 0 || got[0].ID != tc.wantFirst) {
					t.Errorf("first = %v, want %s", got, tc.wantFirst)
				}
				for i := 1; i < len(got); i++ {
					if got[i-1].ID == got[i].ID {
						t.Errorf("duplicate %s", got[i].ID)
					}
				}
				return nil
			})
		})
	}
}

func TestDB_PutOrder_Indexes(t *testing.T) {
	db := openDB(t, "")
	o := newOrder("HOSP_A", "P1")
	if err := update(t, db, func(tx store.Tx) error { return tx.PutOrder(o) }); err != nil {
		t.Fatal(err)
	}
	if o.ID != "ord-1" {
		t.Fatalf("ID = %q, want ord-1", o.ID)
	}
	// Another order with the same key is a conflict; the same placer elsewhere is not.
	if err := update(t, db, func(tx store.Tx) error { return tx.PutOrder(newOrder("HOSP_A", "P1")) }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate key: %v, want ErrConflict", err)
	}
	if err := update(t, db, func(tx store.Tx) error { return tx.PutOrder(newOrder("HOSP_B", "P1")) }); err != nil {
		t.Fatal(err)
	}
	// Changing the status moves the status index entry.
	o.Status = order.StatusReady
	if err := update(t, db, func(tx store.Tx) error { return tx.PutOrder(o) }); err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx store.ReadTx) error {
		got, err := tx.OrderByKey(o.Key())
		if err != nil || got.ID != o.ID || got.Status != order.StatusReady {
			t.Errorf("OrderByKey = %+v, %v", got, err)
		}
		check := func(q store.OrderQuery, wantIDs ...string) {
			t.Helper()
			list, total, err := tx.Orders(q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, o := range list {
				ids = append(ids, o.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(wantIDs) || total != len(wantIDs) {
				t.Errorf("Orders(%+v) = %v (total %d), want %v", q, ids, total, wantIDs)
			}
		}
		check(store.OrderQuery{}, "ord-3", "ord-1") // ord-2 went to the rolled-back conflict: IDs are never reused
		check(store.OrderQuery{Status: order.StatusReady}, "ord-1")
		check(store.OrderQuery{Status: order.StatusReceived}, "ord-3")
		check(store.OrderQuery{Placer: "P1"}, "ord-3", "ord-1")
		check(store.OrderQuery{Placer: "P1", Status: order.StatusReady}, "ord-1")
		check(store.OrderQuery{Placer: "P"})
		return nil
	})
}

func TestDB_Update_FailureIsolated(t *testing.T) {
	db := openDB(t, "")
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Update(context.Background(), func(tx store.Tx) error {
				if err := tx.PutMessage(&store.Message{Sender: "S", ControlID: fmt.Sprint(i), Dedupe: true}, nil); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return errors.New("refused")
				case 7:
					panic("boom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i%10 == 3 || i%10 == 7) != (err != nil) {
			t.Errorf("update %d: err = %v", i, err)
		}
	}
	view(t, db, func(tx store.ReadTx) error {
		_, total, _ := tx.Messages(store.MessageQuery{})
		if total != 32 {
			t.Errorf("%d messages stored, want 32 (the failed updates left nothing)", total)
		}
		for i := range errs {
			_, err := tx.MessageByKey("S", fmt.Sprint(i), "")
			if (errs[i] == nil) != (err == nil) {
				t.Errorf("message %d stored = %v, but its update returned %v", i, err == nil, errs[i])
			}
		}
		return nil
	})
}

func TestDB_Reopen(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(bolt.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := db.Update(context.Background(), func(tx store.Tx) error {
				return tx.PutOrder(newOrder("F", fmt.Sprint("P", i)))
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := bolt.Open(bolt.Config{Dir: dir, LockTimeout: 50 * time.Millisecond}); err == nil {
		t.Fatal("a second Open of the same directory succeeded")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(context.Background(), func(store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	db2 := openDB(t, dir)
	if id := reserve(t, db2, store.KindOrder); id != "ord-201" {
		t.Errorf("first ID reserved after reopen = %s, want ord-201", id)
	}
	view(t, db2, func(tx store.ReadTx) error {
		_, total, _ := tx.Orders(store.OrderQuery{})
		if total != 200 {
			t.Errorf("after reopen: %d orders, want 200", total)
		}
		if o, err := tx.OrderByKey(newOrder("F", "P123").Key()); err != nil || o.Placer != "P123" {
			t.Errorf("OrderByKey after reopen = %v, %v", o, err)
		}
		return nil
	})
}

func TestOpen_NewerSchema(t *testing.T) {
	dir := t.TempDir()
	b, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(func(tx *bbolt.Tx) error {
		m, err := tx.CreateBucketIfNotExists([]byte("meta"))
		if err != nil {
			return err
		}
		return m.Put([]byte("schema_version"), []byte{0, 0, 0, 0, 0, 0, 0, 99})
	}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, err := bolt.Open(bolt.Config{Dir: dir}); err == nil {
		t.Fatal("Open accepted a newer schema")
	}
}

func TestOpen_BadDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := bolt.Open(bolt.Config{Dir: filepath.Join(file, "sub")}); err == nil {
		t.Error("Open under a regular file succeeded")
	}
	if _, err := bolt.Open(bolt.Config{}); err == nil {
		t.Error("Open without Dir succeeded")
	}
}

// BenchmarkUpdate measures durable commits (fsync included) of one message and one order
// each, from 1 and 16 concurrent writers.
func BenchmarkUpdate(b *testing.B) {
	for _, writers := range []int{1, 16} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			db := openDB(b, "")
			raw := make([]byte, 1500)
			b.ReportAllocs()
			b.SetParallelism(writers)
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					err := db.Update(ctx, func(tx store.Tx) error {
						m := &store.Message{Sender: "F", Type: "ORM^O01", AckCode: "AA"}
						if err := tx.PutMessage(m, raw); err != nil {
							return err
						}
						return tx.PutOrder(&order.Order{Status: order.StatusReady})
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func TestDB_Outbox(t *testing.T) {
	db := openDB(t, "")
	put := func(it *store.OutboxItem) {
		t.Helper()
		if err := update(t, db, func(tx store.Tx) error { return tx.PutOutbox(it) }); err != nil {
			t.Fatal(err)
		}
	}
	var items []*store.OutboxItem
	for i, dest := range []string{"ehr-a", "app-x", "ehr-a", "ehr-a"} {
		it := &store.OutboxItem{Destination: dest, Kind: "hl7v2", OrderID: fmt.Sprint("ord-", i), Payload: []byte("MSH|..."), Key: fmt.Sprint("k", i), State: store.OutboxPending}
		put(it)
		items = append(items, it)
	}
	items[0].State, items[0].Receipt = store.OutboxDelivered, "AA"
	put(items[0])
	items[2].State = store.OutboxDead
	put(items[2])
	view(t, db, func(tx store.ReadTx) error {
		check := func(q store.OutboxQuery, want ...string) {
			t.Helper()
			got, total, err := tx.Outbox(q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, it := range got {
				ids = append(ids, it.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(want) || total != len(want) {
				t.Errorf("Outbox(%+v) = %v (total %d), want %v", q, ids, total, want)
			}
		}
		check(store.OutboxQuery{}, "out-1", "out-2", "out-3", "out-4")
		check(store.OutboxQuery{State: store.OutboxPending}, "out-2", "out-4")
		check(store.OutboxQuery{State: store.OutboxPending, Destination: "ehr-a"}, "out-4")
		check(store.OutboxQuery{State: store.OutboxDelivered}, "out-1")
		check(store.OutboxQuery{State: store.OutboxDead, Destination: "ehr-a"}, "out-3")
		check(store.OutboxQuery{Destination: "app-x"}, "out-2")
		got, err := tx.OutboxItem("out-1")
		if err != nil || got.Receipt != "AA" || string(got.Payload) != "MSH|..." {
			t.Errorf("OutboxItem = %+v, %v", got, err)
		}
		if _, err := tx.OutboxItem("out-9"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("OutboxItem(out-9) = %v", err)
		}
		return nil
	})
}

func TestDB_Resources(t *testing.T) {
	db := openDB(t, "")
	for i, body := range []string{`{"v":1}`, `{"v":2}`} {
		r := &store.Resource{Type: "ServiceRequest", ID: "ord-1", JSON: []byte(body), OrderID: "ord-1"}
		if err := update(t, db, func(tx store.Tx) error { return tx.PutResource(r) }); err != nil {
			t.Fatal(err)
		}
		if r.Version != i+1 {
			t.Errorf("version after put %d = %d", i+1, r.Version)
		}
	}
	if err := update(t, db, func(tx store.Tx) error {
		return tx.PutResource(&store.Resource{Type: "Subscription", ID: "sub-1", JSON: []byte(`{}`)})
	}); err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx store.ReadTx) error {
		cur, err := tx.Resource("ServiceRequest", "ord-1")
		if err != nil || cur.Version != 2 || string(cur.JSON) != `{"v":2}` {
			t.Errorf("Resource = %+v, %v", cur, err)
		}
		v1, err := tx.ResourceVersion("ServiceRequest", "ord-1", 1)
		if err != nil || string(v1.JSON) != `{"v":1}` {
			t.Errorf("ResourceVersion 1 = %+v, %v", v1, err)
		}
		if _, err := tx.ResourceVersion("ServiceRequest", "ord-1", 3); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("version 3 = %v", err)
		}
		list, total, err := tx.Resources("Subscription", 0)
		if err != nil || total != 1 || list[0].ID != "sub-1" {
			t.Errorf("Resources(Subscription) = %v, %d, %v", list, total, err)
		}
		if _, total, _ := tx.Resources("Patient", 0); total != 0 {
			t.Errorf("Resources(Patient) total %d", total)
		}
		return nil
	})
}

// TestOrderIndex_KeyEscaping: the order index serves lookups by order.Order.Key and
// searches by raw placer number alike, even for placer numbers that need escaping.
func TestOrderIndex_KeyEscaping(t *testing.T) {
	db := openDB(t, "")
	for _, placer := range []string{"A|B", "100%", "plain"} {
		o := newOrder("F|X", placer)
		if err := update(t, db, func(tx store.Tx) error { return tx.PutOrder(o) }); err != nil {
			t.Fatal(err)
		}
		view(t, db, func(tx store.ReadTx) error {
			if got, err := tx.OrderByKey(o.Key()); err != nil || got.ID != o.ID {
				t.Errorf("OrderByKey(%q) = %v, %v", o.Key(), got, err)
			}
			if list, total, _ := tx.Orders(store.OrderQuery{Placer: placer}); total != 1 || list[0].ID != o.ID {
				t.Errorf("Orders(placer %q) = %d", placer, total)
			}
			return nil
		})
	}
}

// A new database file gets PageSize pages; a file made with another page size opens
// with its own, data intact.
func TestOpen_PageSize(t *testing.T) {
	db := openDB(t, t.TempDir())
	if got := bolt.FilePageSize(db); got != bolt.PageSize {
		t.Errorf("new file: %d-byte pages, want %d", got, bolt.PageSize)
	}
	dir := t.TempDir()
	old, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, &bbolt.Options{PageSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	db = openDB(t, dir)
	if got := bolt.FilePageSize(db); got != 4096 {
		t.Errorf("existing 4096-byte file: opened with %d-byte pages", got)
	}
	ids := putMessages(t, db, "P", 50)
	db.Close()
	db = openDB(t, dir)
	checkMessages(t, db, ids, 50, 50)
}
