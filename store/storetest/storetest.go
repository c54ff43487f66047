// Package storetest is the conformance suite of store.Store: every backend runs it, and
// passes it, before the engine may use it. It checks every method of store.Store,
// store.ReadTx and store.Tx against the promises written in package store: IDs (their
// form, their order, never one twice), each record kind read back as written, the
// uniqueness rules and their ErrConflict, ErrNotFound and ErrClosed, the orderings of
// the listings and their limits and cursors, resource versions and searches, and the
// isolation of transactions (a failed Update leaves nothing, concurrent Updates lose
// nothing, a View sees every Update that returned and a consistent snapshot).
//
// A backend's test calls Test with a function that opens a new, empty store:
//
//	func TestStore(t *testing.T) {
//		storetest.Test(t, storetest.Backend{Open: func(t testing.TB) store.Store { ... }})
//	}
//
// Like testing/fstest.TestFS, the suite checks behaviour only through the interface;
// what a backend does on disk (crash recovery, say) its own tests check.
package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// Backend opens the stores the suite runs against.
type Backend struct {
	// Open returns a new, empty store, which the suite closes. Required.
	Open func(t testing.TB) store.Store
	// Reopen closes st and returns a store over the same data, as a restart of the
	// process would. Default: nil, which skips the restart tests.
	Reopen func(t testing.TB, st store.Store) store.Store
}

// Test runs the conformance suite against b, as subtests of t. It opens a store per
// subtest, so a failure in one leaves the others meaningful.
func Test(t *testing.T, b Backend) {
	run(realT{t}, b)
}

// tester is the part of *testing.T the suite uses. Its Run hands the subtest a tester,
// so that the suite's own tests can run it with one that records failures instead of
// failing (see the broken backends in storetest_test.go).
type tester interface {
	testing.TB
	Run(name string, f func(t tester)) bool
}

// realT is a *testing.T as a tester.
type realT struct{ *testing.T }

func (t realT) Run(name string, f func(t tester)) bool {
	return t.T.Run(name, func(t *testing.T) { f(realT{t}) })
}

// groups are the suite's top-level subtests.
var groups = []struct {
	name string
	test func(t tester, b Backend)
}{
	{"IDs", testIDs},
	{"Messages", testMessages},
	{"Orders", testOrders},
	{"Outbox", testOutbox},
	{"Resources", testResources},
	{"Update", testUpdate},
	{"View", testView},
	{"Limits", testLimits},
	{"Close", testClose},
	{"Restart", func(t tester, b Backend) {
		if b.Reopen == nil {
			t.Skip("Backend.Reopen is not set")
		}
		testRestart(t, b)
	}},
}

// run runs the groups named in only, or all of them.
func run(t tester, b Backend, only ...string) {
	if b.Open == nil {
		t.Fatal("storetest: Backend.Open is required")
	}
	for _, g := range groups {
		if len(only) == 0 || slices.Contains(only, g.name) {
			t.Run(g.name, func(t tester) { g.test(t, b) })
		}
	}
}

// open opens a new store for one subtest and closes it when the subtest ends.
func open(t tester, b Backend) store.Store {
	t.Helper()
	st := b.Open(t)
	if st == nil {
		t.Fatal("Backend.Open returned nil")
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// update runs fn in an Update that must succeed.
func update(t tester, st store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := st.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a View that must succeed, so that fn's assertions always run.
func view(t tester, st store.Store, fn func(store.ReadTx) error) {
	t.Helper()
	ran := false
	if err := st.View(t.Context(), func(tx store.ReadTx) error { ran = true; return fn(tx) }); err != nil {
		t.Fatalf("View: %v", err)
	}
	if !ran {
		t.Fatal("View returned nil without running its function")
	}
}

// reserve returns a new ID of kind k.
func reserve(t tester, st store.Store, k store.Kind) string {
	t.Helper()
	id, err := st.ReserveID(t.Context(), k)
	if err != nil {
		t.Fatalf("ReserveID(%s): %v", k, err)
	}
	return id
}

// num is the number of an ID of kind k; the test fails when id is not of that form.
func num(t tester, k store.Kind, id string) uint64 {
	t.Helper()
	n, ok := store.ParseID(k, id)
	if !ok {
		t.Fatalf("ID %q is not a %s ID (store.FormatID form)", id, k)
	}
	return n
}

// diff compares records as read back with what was written: times by instant, empty
// and nil slices and maps alike.
func diff(want, got any) string {
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

// at is the time the suite's records carry: nanoseconds and a zone offset, which must
// read back as the same instant.
var at = time.Date(2026, 11, 1, 8, 0, 1, 123456789, time.FixedZone("EST", -5*3600))

func newMessage(sender, controlID string) *store.Message {
	return &store.Message{Kind: "hl7v2", Sender: sender, ControlID: controlID, Digest: "d-" + controlID, Type: "ORM^O01",
		ReceivedAt: at, AckCode: "AA", Ack: []byte("MSH|^~\\&|ack|" + controlID + "\r"), Size: 42, Dedupe: true}
}

func newOrder(facility, placer string) *order.Order {
	return &order.Order{Source: order.Source{Kind: order.SourceV2, SendingFacility: facility}, Placer: placer,
		Status: order.StatusReceived, Created: at, Updated: at,
		Patient:   order.Patient{Identifiers: []order.Identifier{{Value: "MRN-" + placer}}, Family: "DOE", Given: "JANE"},
		Procedure: order.Procedure{CPT: "71046", Text: "XR CHEST 2V", Modality: "DX"}}
}

func newItem(destination string) *store.OutboxItem {
	return &store.OutboxItem{Destination: destination, Kind: "hl7v2", OrderID: "ord-1", ResultID: "r1",
		Payload: []byte("MSH|^~\\&|RADBRIDGE\r"), Key: "k-" + destination, State: store.OutboxPending,
		NextAttempt: at, Created: at}
}

func newResource(typ, id, body string) *store.Resource {
	return &store.Resource{Type: typ, ID: id, LastUpdated: at, JSON: []byte(body)}
}

// ids returns the IDs of records listed, in order.
func ids[T any](list []*T, id func(*T) string) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = id(r)
	}
	return out
}

func messageID(m *store.Message) string   { return m.ID }
func orderID(o *order.Order) string       { return o.ID }
func itemID(it *store.OutboxItem) string  { return it.ID }
func resourceID(r *store.Resource) string { return r.ID }
func canceled(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	return ctx
}
