package engine

import (
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// Authorizer follows each order's prior-authorization case with the order's payer
// (package payer): after an order was checked and moved through its lifecycle, it
// decides what the case needs (a request to submit, a change to resend, a cancellation
// to send) and records it on the order. The engine calls it wherever an order is
// admitted or changed, and writes what it returns in the same transaction as the
// order, so that an order that needs an authorization and the request that asks for
// it are stored together or not at all.
type Authorizer interface {
	// Follow updates o's authorization case, given the status and authorization o had
	// as stored before this change (StatusNew and the zero Authorization for a new
	// order). It may change o.Authorization and o.Findings only, does no I/O, and
	// returns the records to store with o. It must give the same result when called
	// again with the same arguments (a transaction may run twice).
	Follow(o *order.Order, was order.Status, had order.Authorization, at time.Time) Writes
}

// Writes are records an [Authorizer] stores with an order, in its transaction: outbox
// items (an item with no ID gets one from the store) and FHIR resources (a new version
// of each).
type Writes struct {
	Outbox    []*store.OutboxItem
	Resources []*store.Resource
}

// SetAuthorizer connects the prior-authorization case follower; until then (and with
// nil) orders that need an authorization wait for a decision recorded through the API.
func (e *Engine) SetAuthorizer(a Authorizer) { e.authorizer = a }

// follow asks the Authorizer about o.
func (e *Engine) follow(o *order.Order, was order.Status, had order.Authorization, at time.Time) Writes {
	if e.authorizer == nil {
		return Writes{}
	}
	return e.authorizer.Follow(o, was, had, at)
}

// put writes w in tx (copies of its records: an outbox item without an ID gets one in
// each transaction that writes it) and returns the destinations of its outbox items,
// to notify once tx is committed.
func (w Writes) put(tx store.Tx) ([]string, error) {
	var dests []string
	for _, r := range w.Resources {
		c := *r // PutResource sets the version: the caller's copy stays as prepared
		if err := tx.PutResource(&c); err != nil {
			return nil, err
		}
	}
	for _, it := range w.Outbox {
		c := *it
		if err := tx.PutOutbox(&c); err != nil {
			return nil, err
		}
		dests = append(dests, it.Destination)
	}
	return dests, nil
}

// FollowAuthorization runs the Authorizer on o, changed in tx from status was and
// authorization had, writes what it returns in tx and returns the destinations to
// notify (Notify) once tx is committed. Call it before storing o. Without an Authorizer
// it does nothing.
func (e *Engine) FollowAuthorization(tx store.Tx, o *order.Order, was order.Status, had order.Authorization, at time.Time) ([]string, error) {
	return e.follow(o, was, had, at).put(tx)
}
