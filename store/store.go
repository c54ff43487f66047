// Package store defines what radbridge keeps durably and the interface a storage backend
// implements: inbound messages (raw bytes beside their derived records, for audit), the
// acknowledgment each one got (so that a resend is answered identically), orders with
// their status history, and the outbox of results to deliver. store/bolt is the embedded
// default backend; a PostgreSQL backend must fit the same interface.
//
// All writes happen in Update, whose function runs inside one transaction: a message, the
// orders derived from it and their outbox rows become durable together or not at all.
// Update returns only after the transaction is on stable storage, so a caller may
// acknowledge a message as soon as Update returns nil.
package store

import (
	"context"
	"time"

	"github.com/radbridge/radbridge/order"
)

// Store is a durable store. Implementations are safe for concurrent use.
type Store interface {
	// Update runs fn in a read-write transaction and commits it durably. The backend may
	// commit the transactions of several concurrent callers together (group commit),
	// and may run fn more than once when a transaction it shares is retried, so fn must
	// have no effect outside tx other than setting variables it owns; it must not call
	// the store itself (a backend may run it where a nested call would wait for it). If
	// fn returns an error, none of its writes are kept and Update returns that error.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction with a consistent snapshot.
	View(ctx context.Context, fn func(tx ReadTx) error) error
	// Close waits for pending commits and releases the store.
	Close() error
	// ReserveID returns a new, unique ID for a record of the given kind, to be written
	// by a later Update; an ID is never handed out twice, even when the transaction
	// meant to use it fails (IDs may have gaps). Reserving IDs before a transaction
	// lets callers prepare records outside the serialized commit.
	ReserveID(k Kind) string
}

// Kind is a kind of record with a store-assigned ID.
type Kind uint8

// Record kinds.
const (
	KindMessage Kind = iota
	KindOrder
	KindOutbox
)

// ReadTx reads within a transaction. Records returned are the caller's to keep and modify.
type ReadTx interface {
	// Message returns the message with the given ID, without its raw bytes.
	Message(id string) (*Message, error)
	// MessageByKey returns the accepted message that a sender sent with a control ID and
	// content digest.
	MessageByKey(sender, controlID, digest string) (*Message, error)
	// Raw returns the raw bytes of a message as received.
	Raw(id string) ([]byte, error)
	// Messages lists messages, newest first, and the number that match in all.
	Messages(q MessageQuery) ([]*Message, int, error)
	// Order returns the order with the given ID.
	Order(id string) (*order.Order, error)
	// OrderByKey returns the order with the given order.Order.Key.
	OrderByKey(key string) (*order.Order, error)
	// Orders lists orders, newest first, and the number that match in all.
	Orders(q OrderQuery) ([]*order.Order, int, error)
	// OutboxItem returns one outbox item.
	OutboxItem(id string) (*OutboxItem, error)
	// Outbox lists outbox items, oldest first (delivery order), and the number that
	// match in all.
	Outbox(q OutboxQuery) ([]*OutboxItem, int, error)
	// Resource returns the current version of a stored FHIR resource.
	Resource(typ, id string) (*Resource, error)
	// ResourceVersion returns one version of a stored FHIR resource.
	ResourceVersion(typ, id string, version int) (*Resource, error)
	// Resources lists the stored resources of a type, newest first by ID, and the
	// number there are in all.
	Resources(typ string, limit int) ([]*Resource, int, error)
	// FindResources returns the ids of the stored resources of a type whose current
	// version has value among its Index entries for param.
	FindResources(typ, param, value string) ([]string, error)
}

// Tx reads and writes within a transaction.
type Tx interface {
	ReadTx
	// PutMessage stores a message record and, when raw is not nil, its raw bytes. A
	// message with no ID gets one. A message whose Dedupe is set is indexed by
	// (Sender, ControlID, Digest); another message with the same key is ErrConflict.
	PutMessage(m *Message, raw []byte) error
	// PutOrder stores an order. An order with no ID gets one. Another order with the
	// same Key is ErrConflict.
	PutOrder(o *order.Order) error
	// PutOrderJSON is PutOrder for an order the caller has already encoded outside the
	// transaction: data must be o.AppendJSON(nil) (the bytes of json.Marshal(o)), with
	// o.ID set.
	PutOrderJSON(o *order.Order, data []byte) error
	// PutResource stores a new version of a FHIR resource: r.ID must be set; r.Version
	// is set to the previous version plus one (1 for a new resource), and the previous
	// version stays readable through ResourceVersion.
	PutResource(r *Resource) error
	// PutOutbox stores an outbox item. An item with no ID gets one; IDs grow in the
	// order items are first put, which is the order they are delivered in.
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

// MessageQuery selects messages; zero fields match everything.
type MessageQuery struct {
	ControlID string
	Sender    string
	Type      string
	Limit     int // 0 means DefaultLimit
	Before    string
}

// OrderQuery selects orders; zero fields match everything.
type OrderQuery struct {
	Placer string
	Status order.Status
	Limit  int // 0 means DefaultLimit
}

// DefaultLimit is the page size of a listing that asks for none; MaxLimit caps any.
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
