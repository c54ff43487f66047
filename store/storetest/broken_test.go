package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// The broken backends: each wraps a real bbolt store and breaks one promise of package
// store. TestSuite_FailsBrokenBackends runs the suite against each with a recorder and
// checks that the subtest guarding that promise fails.

// reads wraps every ReadTx a store hands out, in View and, inside the Tx, in Update.
type reads struct {
	store.Store
	wrap func(store.ReadTx) store.ReadTx
}

func (s reads) View(ctx context.Context, fn func(store.ReadTx) error) error {
	return s.Store.View(ctx, func(tx store.ReadTx) error { return fn(s.wrap(tx)) })
}

func (s reads) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(readsTx{Tx: tx, r: s.wrap(tx)}) })
}

// readsTx is a Tx whose reads go through r.
type readsTx struct {
	store.Tx
	r store.ReadTx
}

func (t readsTx) Message(id string) (*store.Message, error) { return t.r.Message(id) }
func (t readsTx) MessageByKey(s, c, d string) (*store.Message, error) {
	return t.r.MessageByKey(s, c, d)
}
func (t readsTx) Raw(id string) ([]byte, error) { return t.r.Raw(id) }
func (t readsTx) Messages(q store.MessageQuery) ([]*store.Message, int, error) {
	return t.r.Messages(q)
}
func (t readsTx) Order(id string) (*order.Order, error)       { return t.r.Order(id) }
func (t readsTx) OrderByKey(key string) (*order.Order, error) { return t.r.OrderByKey(key) }
func (t readsTx) Orders(q store.OrderQuery) ([]*order.Order, int, error) {
	return t.r.Orders(q)
}
func (t readsTx) OutboxItem(id string) (*store.OutboxItem, error) { return t.r.OutboxItem(id) }
func (t readsTx) Outbox(q store.OutboxQuery) ([]*store.OutboxItem, int, error) {
	return t.r.Outbox(q)
}
func (t readsTx) Resource(typ, id string) (*store.Resource, error) { return t.r.Resource(typ, id) }
func (t readsTx) ResourceVersion(typ, id string, v int) (*store.Resource, error) {
	return t.r.ResourceVersion(typ, id, v)
}
func (t readsTx) Resources(typ string, limit int) ([]*store.Resource, int, error) {
	return t.r.Resources(typ, limit)
}
func (t readsTx) FindResources(typ, param, value string) ([]string, error) {
	return t.r.FindResources(typ, param, value)
}

// messagesOldestFirst lists messages oldest first.
type messagesOldestFirst struct{ store.ReadTx }

func (t messagesOldestFirst) Messages(q store.MessageQuery) ([]*store.Message, int, error) {
	list, n, err := t.ReadTx.Messages(q)
	slices.Reverse(list)
	return list, n, err
}

// ignoresBefore lists messages from the newest whatever the cursor.
type ignoresBefore struct{ store.ReadTx }

func (t ignoresBefore) Messages(q store.MessageQuery) ([]*store.Message, int, error) {
	q.Before = ""
	return t.ReadTx.Messages(q)
}

// noDefaultLimit lists up to MaxLimit records when asked for no limit.
type noDefaultLimit struct{ store.ReadTx }

func (t noDefaultLimit) Messages(q store.MessageQuery) ([]*store.Message, int, error) {
	if q.Limit <= 0 {
		q.Limit = store.MaxLimit
	}
	return t.ReadTx.Messages(q)
}

// outboxNewestFirst lists outbox items newest first.
type outboxNewestFirst struct{ store.ReadTx }

func (t outboxNewestFirst) Outbox(q store.OutboxQuery) ([]*store.OutboxItem, int, error) {
	list, n, err := t.ReadTx.Outbox(q)
	slices.Reverse(list)
	return list, n, err
}

// resourcesByID lists resources by ID, greatest first, instead of by creation.
type resourcesByID struct{ store.ReadTx }

func (t resourcesByID) Resources(typ string, limit int) ([]*store.Resource, int, error) {
	list, n, err := t.ReadTx.Resources(typ, store.MaxLimit)
	slices.SortFunc(list, func(a, b *store.Resource) int { return strings.Compare(b.ID, a.ID) })
	return list[:min(len(list), store.ClampLimit(limit))], n, err
}

// nilForMissing answers a missing order with nil and no error.
type nilForMissing struct{ store.ReadTx }

func (t nilForMissing) Order(id string) (*order.Order, error) {
	o, err := t.ReadTx.Order(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return o, err
}

// findsOldVersions also finds resources by the index entries of their earlier versions.
type findsOldVersions struct{ store.ReadTx }

func (t findsOldVersions) FindResources(typ, param, value string) ([]string, error) {
	list, _, err := t.ReadTx.Resources(typ, store.MaxLimit)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range list {
		for v := 1; v <= r.Version; v++ {
			old, err := t.ReadTx.ResourceVersion(typ, r.ID, v)
			if err != nil {
				return nil, err
			}
			if value != "" && slices.Contains(old.Index[param], value) {
				ids = append(ids, r.ID)
				break
			}
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// keepsFailedWrites commits what a failing update function wrote.
type keepsFailedWrites struct{ store.Store }

func (s keepsFailedWrites) Update(ctx context.Context, fn func(store.Tx) error) error {
	var fnErr error
	if err := s.Store.Update(ctx, func(tx store.Tx) error { fnErr = fn(tx); return nil }); err != nil {
		return err
	}
	return fnErr
}

// ignoresConflicts answers a PutMessage that would break the dedupe rule with nil,
// storing nothing.
type ignoresConflicts struct{ store.Store }

func (s ignoresConflicts) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(conflictFreeTx{tx}) })
}

type conflictFreeTx struct{ store.Tx }

func (t conflictFreeTx) PutMessage(m *store.Message, raw []byte) error {
	if err := t.Tx.PutMessage(m, raw); !errors.Is(err, store.ErrConflict) {
		return err
	}
	return nil
}

// reusesSpentIDs hands the IDs reserved in a failed Update out again.
type reusesSpentIDs struct {
	store.Store
	mu   sync.Mutex
	free []string
}

func (s *reusesSpentIDs) ReserveID(ctx context.Context, k store.Kind) (string, error) {
	s.mu.Lock()
	for i, id := range s.free {
		if _, ok := store.ParseID(k, id); ok {
			s.free = slices.Delete(s.free, i, i+1)
			s.mu.Unlock()
			return id, nil
		}
	}
	s.mu.Unlock()
	return s.Store.ReserveID(ctx, k)
}

func (s *reusesSpentIDs) Update(ctx context.Context, fn func(store.Tx) error) error {
	var spent []string
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		return fn(spendingTx{Tx: tx, spent: &spent})
	})
	if err != nil {
		s.mu.Lock()
		s.free = append(s.free, spent...)
		s.mu.Unlock()
	}
	return err
}

type spendingTx struct {
	store.Tx
	spent *[]string
}

func (t spendingTx) ReserveID(k store.Kind) (string, error) {
	id, err := t.Tx.ReserveID(k)
	*t.spent = append(*t.spent, id)
	return id, err
}

// staysOpen hands out IDs after Close.
type staysOpen struct {
	store.Store
	closed bool
}

func (s *staysOpen) Close() error { s.closed = true; return s.Store.Close() }

func (s *staysOpen) ReserveID(ctx context.Context, k store.Kind) (string, error) {
	if s.closed {
		return store.FormatID(k, 1<<40), nil
	}
	return s.Store.ReserveID(ctx, k)
}

// lostUpdates runs the update function against a snapshot read before the write
// transaction, buffering its writes, and applies them afterwards: read committed, not
// serializable, so concurrent read-modify-writes overwrite each other.
type lostUpdates struct{ store.Store }

func (s lostUpdates) Update(ctx context.Context, fn func(store.Tx) error) error {
	b := &bufferedTx{st: s.Store}
	if err := s.Store.View(ctx, func(tx store.ReadTx) error { b.ReadTx = tx; return fn(b) }); err != nil {
		return err
	}
	time.Sleep(time.Millisecond) // let the others read the same snapshot
	return s.Store.Update(ctx, func(tx store.Tx) error {
		for _, op := range b.ops {
			if err := op(tx); err != nil {
				return err
			}
		}
		return nil
	})
}

type bufferedTx struct {
	store.ReadTx
	st  store.Store
	ops []func(store.Tx) error
}

func (b *bufferedTx) ReserveID(k store.Kind) (string, error) {
	return b.st.ReserveID(context.Background(), k)
}

func (b *bufferedTx) PutMessage(m *store.Message, raw []byte) error {
	b.ops = append(b.ops, func(tx store.Tx) error { return tx.PutMessage(m, raw) })
	return nil
}

func (b *bufferedTx) PutOrder(o *order.Order) error {
	b.ops = append(b.ops, func(tx store.Tx) error { return tx.PutOrder(o) })
	return nil
}

func (b *bufferedTx) PutOrderJSON(o *order.Order, data []byte) error {
	b.ops = append(b.ops, func(tx store.Tx) error { return tx.PutOrderJSON(o, data) })
	return nil
}

func (b *bufferedTx) PutResource(r *store.Resource) error {
	b.ops = append(b.ops, func(tx store.Tx) error { return tx.PutResource(r) })
	return nil
}

func (b *bufferedTx) PutOutbox(it *store.OutboxItem) error {
	b.ops = append(b.ops, func(tx store.Tx) error { return tx.PutOutbox(it) })
	return nil
}

// openBolt opens a real store for the suite's own tests.
func openBolt(tb testing.TB) *bolt.DB {
	tb.Helper()
	db, err := bolt.Open(bolt.Config{Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestSuite_FailsBrokenBackends(t *testing.T) {
	readsWith := func(wrap func(store.ReadTx) store.ReadTx) func(store.Store) store.Store {
		return func(st store.Store) store.Store { return reads{Store: st, wrap: wrap} }
	}
	for _, tc := range []struct {
		name string
		wrap func(store.Store) store.Store
		// want is the subtest that must fail (its group is all that runs).
		want string
	}{
		{"messages oldest first", readsWith(func(tx store.ReadTx) store.ReadTx { return messagesOldestFirst{tx} }), "Messages/Order"},
		{"Before ignored", readsWith(func(tx store.ReadTx) store.ReadTx { return ignoresBefore{tx} }), "Messages/Before"},
		{"no default limit", readsWith(func(tx store.ReadTx) store.ReadTx { return noDefaultLimit{tx} }), "Limits"},
		{"outbox newest first", readsWith(func(tx store.ReadTx) store.ReadTx { return outboxNewestFirst{tx} }), "Outbox/Order"},
		{"resources by ID", readsWith(func(tx store.ReadTx) store.ReadTx { return resourcesByID{tx} }), "Resources/Order"},
		{"nil for a missing order", readsWith(func(tx store.ReadTx) store.ReadTx { return nilForMissing{tx} }), "Orders/NotFound"},
		{"finds old versions", readsWith(func(tx store.ReadTx) store.ReadTx { return findsOldVersions{tx} }), "Resources/Find"},
		{"failed update kept", func(st store.Store) store.Store { return keepsFailedWrites{st} }, "Update/FailedLeavesNothing"},
		{"conflict ignored", func(st store.Store) store.Store { return ignoresConflicts{st} }, "Messages/DedupeConflict"},
		{"spent IDs reused", func(st store.Store) store.Store { return &reusesSpentIDs{Store: st} }, "IDs/NeverTwice"},
		{"open after Close", func(st store.Store) store.Store { return &staysOpen{Store: st} }, "Close"},
		{"lost updates", func(st store.Store) store.Store { return lostUpdates{st} }, "Update/ConcurrentIncrements"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			group, _, _ := strings.Cut(tc.want, "/")
			r := newRecorder(t)
			run(r, Backend{Open: func(tb testing.TB) store.Store { return tc.wrap(openBolt(tb)) }}, group)
			failed := r.log.failedTests()
			if !slices.Contains(failed, "suite/"+tc.want) {
				t.Errorf("the suite did not fail %s against a backend with %s; failures:%s", tc.want, tc.name, r.log.report())
			}
		})
	}
}

// TestSuite_PassesFaithfulWrappers: the wrappers themselves break nothing when they
// change nothing, so the failures above are the broken promises' alone.
func TestSuite_PassesFaithfulWrappers(t *testing.T) {
	r := newRecorder(t)
	run(r, Backend{Open: func(tb testing.TB) store.Store {
		return reads{Store: openBolt(tb), wrap: func(tx store.ReadTx) store.ReadTx { return tx }}
	}})
	if r.Failed() {
		t.Errorf("the suite failed a faithful wrapper of bolt:%s", r.log.report())
	}
}
