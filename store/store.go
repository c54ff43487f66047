// Package store defines what radbridge keeps durably and the interface a storage backend
// implements: inbound messages (raw bytes beside their derived records, for audit), the
// acknowledgment each one got (so that a resend is answered identically), orders with
// their status history, the outbox of results to deliver, and the FHIR resources clients
// sent. store/bolt is the embedded default backend; a PostgreSQL backend must fit the
// same interface, and store/storetest is the conformance suite every backend passes.
//
// # Transactions
//
// All writes happen in Update, whose function runs inside one transaction: a message, the
// orders derived from it and their outbox rows become durable together or not at all.
// The engine relies on these promises, which every backend keeps:
//
//   - Serializable updates. Committed Updates take effect in one total order, as if each
//     ran alone: the function of an Update sees every Update committed before it in that
//     order, and nothing of any other (no write of a concurrent Update ever shows up
//     part-way through it). The order agrees with real time: an Update that returned
//     before another one was called comes first. A read-modify-write inside one Update
//     (read a record, put it back changed) never loses a concurrent one.
//   - Durability. Update returns nil only after the transaction is on stable storage, so
//     a caller may acknowledge a message as soon as Update returns nil.
//   - Read-your-writes. A View started after an Update returned nil sees that Update and
//     every one before it; a function sees its own transaction's writes in its reads.
//   - Snapshots. A View sees the Updates of a prefix of the commit order, all of each,
//     and the same ones for as long as it runs.
//   - A failed Update leaves nothing. When the function returns an error (a backend may
//     also turn its panic into one), Update returns that error (errors.Is finds it) and
//     no write of the function is ever visible, to any reader, now or after a restart. An
//     ErrClosed from Update means it did not run. Any other error (an I/O error, the
//     context ending) means the transaction was not acknowledged: it may or may not have
//     been committed, as with a connection lost during a commit, and a caller must not
//     tell a sender that it was refused.
//   - IDs never repeat. An ID is handed out at most once per store, by ReserveID,
//     Tx.ReserveID or a Put that assigns one, even when the transaction it was meant
//     for fails or is never run, and across restarts and crashes.
//
// # IDs
//
// Record IDs are the store's contract, not a backend's: every backend hands out
// FormatID(k, n) for the kind k with n growing ("msg-12", "ord-7", "out-3", "res-5"), and
// listings order records by n. Callers treat IDs as opaque strings and never parse them
// (only backends do, with ParseID); a public FHIR id is such an ID as it is.
//
// # Errors
//
// Reads of a record that does not exist return ErrNotFound (also for an ID that is not
// one of the kind asked for); writes that would break a uniqueness rule return
// ErrConflict; every method of a closed store returns ErrClosed; stored data that fails
// an integrity check reads as ErrCorrupt. Backends may wrap them with context, so
// callers test with errors.Is.
package store

import (
	"context"
	"time"

	"github.com/radbridge/radbridge/order"
)

// Store is a durable store. Implementations are safe for concurrent use.
type Store interface {
	// Update runs fn in a read-write transaction and commits it durably; see the package
	// documentation for the isolation it gives. The backend may commit the transactions
	// of several concurrent callers together (group commit), and may run fn more than
	// once when a transaction it shares is retried, so fn must have no effect outside tx
	// other than setting variables it owns; it must not call the store itself (a backend
	// may run it where a nested call would wait for it). If fn returns an error, none of
	// its writes are kept and Update returns that error.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction with a consistent snapshot that includes
	// every Update that returned nil before View was called, and returns fn's error.
	View(ctx context.Context, fn func(tx ReadTx) error) error
	// Close waits for pending commits and releases the store. Every later call of the
	// other methods returns ErrClosed; a second Close returns nil.
	Close() error
	// ReserveID returns a new ID for a record of kind k, FormatID(k, n) with n greater
	// than that of every ID of the kind handed out before, to be written by a later
	// Update. An ID is never handed out twice, even when the transaction meant to use it
	// fails (IDs may have gaps). Reserving IDs before a transaction lets callers prepare
	// records outside the serialized commit. It fails with ctx's error when ctx has
	// ended and with ErrClosed after Close.
	ReserveID(ctx context.Context, k Kind) (string, error)
}

// Kind is a kind of record with a store-assigned ID.
type Kind uint8

// Record kinds.
const (
	KindMessage Kind = iota
	KindOrder
	KindOutbox
	// KindResource numbers the FHIR resources the engine only keeps (a Subscription, a
	// Patient a transaction creates, ...); their IDs are the resources' public ids.
	// ReserveID never returns the id of a stored resource, also not one a client chose.
	KindResource
)

// ReadTx reads within a transaction. Records returned are the caller's to keep and
// modify: changing them changes nothing stored. An ID that is not one of the kind a
// method reads is not found.
type ReadTx interface {
	// Message returns the message with the given ID, without its raw bytes.
	Message(id string) (*Message, error)
	// MessageByKey returns the message stored with Dedupe set that a sender sent with a
	// control ID and content digest (all three compared exactly).
	MessageByKey(sender, controlID, digest string) (*Message, error)
	// Raw returns the raw bytes of a message as received; ErrNotFound when the message
	// was stored without them.
	Raw(id string) ([]byte, error)
	// Messages lists the messages that match q, newest first (by ID: the most recently
	// reserved first), at most store.ClampLimit(q.Limit) of them, and the number that
	// match q in all, q.Before aside.
	Messages(q MessageQuery) ([]*Message, int, error)
	// Order returns the order with the given ID.
	Order(id string) (*order.Order, error)
	// OrderByKey returns the order with the given order.Order.Key; an empty key finds
	// nothing.
	OrderByKey(key string) (*order.Order, error)
	// Orders lists the orders that match q, newest first (by ID), at most
	// store.ClampLimit(q.Limit) of them, and the number that match in all.
	Orders(q OrderQuery) ([]*order.Order, int, error)
	// OutboxItem returns one outbox item.
	OutboxItem(id string) (*OutboxItem, error)
	// Outbox lists the outbox items that match q, oldest first (by ID: the delivery
	// order), at most store.ClampLimit(q.Limit) of them, and the number that match in
	// all.
	Outbox(q OutboxQuery) ([]*OutboxItem, int, error)
	// Resource returns the current version of a stored FHIR resource.
	Resource(typ, id string) (*Resource, error)
	// ResourceVersion returns one version of a stored FHIR resource (1 is the first).
	ResourceVersion(typ, id string, version int) (*Resource, error)
	// Resources lists the current versions of the stored resources of a type, newest
	// first by creation, at most store.ClampLimit(limit) of them, and the number there
	// are in all. Creation is the put of a resource's first version: a resource created
	// by an Update comes before every resource created by the Updates that committed
	// before it, and among the resources one Update created, the one put last comes
	// first. A new version does not move a resource.
	Resources(typ string, limit int) ([]*Resource, int, error)
	// FindResources returns the ids, in ascending byte order, of the stored resources of
	// a type whose current version has value among its Index entries for param; none is
	// an empty list and no error.
	FindResources(typ, param, value string) ([]string, error)
}

// Tx reads and writes within a transaction. A write is visible to the transaction's
// own reads at once. A Put that assigns an ID sets it in the record even when the
// transaction then fails; that ID is spent.
type Tx interface {
	ReadTx
	// ReserveID is Store.ReserveID inside a transaction, for a record whose ID must be
	// known before it is put (an outbox item's idempotency key). The ID is spent even
	// if the transaction fails.
	ReserveID(k Kind) (string, error)
	// PutMessage stores a message record and, when raw is not nil, its raw bytes (a nil
	// raw keeps those stored before). A message with no ID gets one. A message whose
	// Dedupe is set is indexed by (Sender, ControlID, Digest); another message with the
	// same key is ErrConflict. Putting a message again (same ID) replaces its record;
	// its Sender, ControlID, Digest and Dedupe must stay as they were.
	PutMessage(m *Message, raw []byte) error
	// PutOrder stores an order. An order with no ID gets one. Another order with the
	// same non-empty Key is ErrConflict; putting an order again under its ID replaces
	// it, and moves it in the indexes (placer, status, key).
	PutOrder(o *order.Order) error
	// PutOrderJSON is PutOrder for an order the caller has already encoded outside the
	// transaction: data must be o.AppendJSON(nil) (the bytes of json.Marshal(o)), with
	// o.ID set.
	PutOrderJSON(o *order.Order, data []byte) error
	// PutResource stores a new version of a FHIR resource: r.Type (a resource type name,
	// no "/" or NUL) and r.ID (no NUL) must be set; r.Version is set to the previous
	// version plus one (1 for a new resource), and the previous version stays readable
	// through ResourceVersion. The new version's Index replaces the previous one's;
	// empty values and values holding a NUL byte are not indexed.
	PutResource(r *Resource) error
	// PutOutbox stores an outbox item. An item with no ID gets one; put again under its
	// ID, it is replaced and moves between the state indexes.
	PutOutbox(it *OutboxItem) error
}

// Resource is a stored FHIR resource: the JSON a client sent, normalised by the engine
// (server-assigned id and meta included).
type Resource struct {
	Type        string    `json:"type"`
	ID          string    `json:"id"`
	Version     int       `json:"version"`
	LastUpdated time.Time `json:"last_updated"`
	JSON        []byte    `json:"json"`
	// OrderID is the order the resource belongs to (a ServiceRequest's own order, a
	// DiagnosticReport's order), empty when none.
	OrderID string `json:"order_id,omitempty"`
	// Index holds the search values of this version by parameter (identifier values,
	// say): FindResources finds the resource by them, and a new version replaces them.
	Index map[string][]string `json:"index,omitempty"`
}

// Outbox item states.
const (
	OutboxPending   = "pending"   // waiting to be delivered (or retried)
	OutboxDelivered = "delivered" // the destination acknowledged it
	OutboxDead      = "dead"      // given up after the configured attempts; retry by hand
)

// OutboxItem is one delivery of a result to a destination, written in the same
// transaction as the result it carries.
type OutboxItem struct {
	ID          string    `json:"id"`
	Destination string    `json:"destination"` // a configured destination or subscription name
	Kind        string    `json:"kind"`        // "hl7v2" (ORU^R01 over MLLP) or "fhir" (DiagnosticReport POST)
	OrderID     string    `json:"order_id"`
	ResultID    string    `json:"result_id,omitempty"`
	Payload     []byte    `json:"payload"`         // the message or resource to send
	Key         string    `json:"idempotency_key"` // the same for every attempt of this item
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Receipt     string    `json:"receipt,omitempty"` // the destination's answer: MSA-1 or HTTP status
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated,omitzero"`
}

// OutboxQuery selects outbox items; zero fields match everything.
type OutboxQuery struct {
	State       string
	Destination string
	Limit       int // 0 means DefaultLimit
}

// Message is the record of one inbound message: who sent it, what it was, and what the
// engine answered.
type Message struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`             // "hl7v2" or "fhir"
	Sender     string    `json:"sender"`           // v2: sending facility (MSH-4.1, or MSH-3.1 when empty)
	ControlID  string    `json:"control_id"`       // v2: MSH-10
	Digest     string    `json:"digest,omitempty"` // content digest: a resend has the same one
	Type       string    `json:"type"`             // "ORM^O01", "ServiceRequest", ...
	ReceivedAt time.Time `json:"received_at"`
	AckCode    string    `json:"ack_code"`            // AA, AE, AR, CA, CE, CR, or an HTTP status for FHIR
	Ack        []byte    `json:"ack,omitempty"`       // the acknowledgment sent, to answer a resend identically
	OrderIDs   []string  `json:"order_ids,omitempty"` // orders the message created or changed
	Size       int       `json:"size"`                // bytes received
	// ReprocessOf names the message this one is a reprocessing of.
	ReprocessOf string `json:"reprocess_of,omitempty"`
	// Dedupe marks an accepted message: a resend with the same sender, control ID and
	// digest is answered with Ack and not processed again.
	Dedupe bool `json:"dedupe,omitempty"`
}

// MessageQuery selects messages; zero fields match everything, and the others match
// exactly.
type MessageQuery struct {
	ControlID string
	Sender    string
	Type      string
	Limit     int // 0 means DefaultLimit
	// Before, when set, lists only the messages older than the one with this ID (whether
	// or not it is stored): pass the last ID of a page to get the next. A Before that is
	// not a message ID lists nothing.
	Before string
}

// OrderQuery selects orders; zero fields match everything.
type OrderQuery struct {
	Placer string
	Status order.Status
	Limit  int // 0 means DefaultLimit
}

// DefaultLimit is the page size of a listing that asks for none (or a negative one);
// MaxLimit caps any.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// ClampLimit returns the effective page size for a requested limit.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}
