// Package delivery is radbridge's outbox worker: it sends the results the engine
// queued (store.OutboxItem) back to the ordering provider, as ORU^R01 over MLLP
// (hl7/mllp.Client) or as a FHIR R4 resource POST over HTTP, and records the outcome.
//
// The engine writes an outbox item in the same store transaction as the result it
// carries and then calls [Worker.Notify]. [Worker.Run] runs one goroutine per
// configured [Destination]; each takes the oldest pending item of its destination,
// sends it with that destination's [Sender] and, in one store transaction, marks the
// item delivered (with the receipt: MSA-1 or the HTTP status) and its order delivered
// (order.Order.MarkDelivered).
//
// # Ordering
//
// Items of one destination are delivered strictly in the order they were queued
// (outbox IDs grow in that order). While the oldest pending item fails, the items
// behind it wait: a receiving EHR that gets a preliminary, then a final, then a
// corrected report of one order must never see them reordered. Destinations are
// independent of each other.
//
// # Retries and dead letters
//
// Every failed attempt increments Attempts, stores LastError and schedules the next
// attempt after an exponential backoff with jitter, capped (Config.Backoff; see the
// AWS Architecture Blog, "Exponential Backoff And Jitter"). A destination's
// Retry-After (RFC 9110 §10.2.3, delay-seconds or HTTP-date) is honoured as a
// [*RetryAfterError]: the next attempt is no sooner than it asks, capped by
// Config.RetryAfterCap. The sleep between attempts is cancellable; [Worker.Notify]
// ends it early only when the destination has a new oldest pending item (an item
// waiting for its backoff is never sent early).
//
// Which failures are retried: HTTP 5xx, 429, 408 and network errors are transient.
// A refusal ([ErrRefused]: HTTP 3xx and other 4xx, an HL7 AE/AR/CE/CR
// acknowledgment) is retried on the same schedule too, because a result must not
// silently vanish and a refusal is often a receiver-side configuration the provider
// fixes (an unknown facility, an expired credential); LastError says that the
// destination refuses the item. A mismatched ACK (MSA-2 is not the sent MSH-10) is a
// failure. When Attempts reaches Config.MaxAttempts the item becomes dead and stops
// blocking its destination: the next item proceeds, so one poisoned result cannot
// hold back every later result to that provider. A dead item stays in the store with
// its LastError; [Worker.Retry] (POST /api/outbox/{id}/retry) puts it back with a
// fresh count of attempts. Being older than the items queued after it, a retried item
// goes next, ahead of them.
//
// Each attempt is one MLLP exchange or one HTTP request, bounded by Config.Timeout;
// the Sender never repeats a request by itself, so the schedule above is the only
// retry and every repeat is counted in Attempts.
//
// # Delivery guarantee
//
// Delivery is at-least-once. The state lives in the store, so a restart resumes the
// pending items. An attempt interrupted by shutdown is not counted and is repeated
// after the restart, so a destination may receive that one in-flight item twice
// (one per destination). Any other item is sent again only after an attempt that
// failed without a positive answer (no ACK may still mean received: mllp.ErrNoAck)
// or whose outcome could not be stored. A delivery answered as the Worker stops is
// still recorded. Receivers can
// deduplicate: each HTTP request carries the item's Idempotency-Key (the same for
// every attempt), and an MLLP message is the payload stored once, so its MSH-10
// control ID is the same for every attempt.
//
// # Exchanges
//
// A Sender that is also an [Exchanger] (a payer's prior-authorization endpoint) has
// its answer recorded instead: the Worker calls Exchange, then Commit with the answer
// in the transaction that marks the item delivered, and does not mark the item's order
// delivered. When Commit cannot write the store the item stays pending and is sent
// again, with the same Key.
//
// # Caveats
//
// An order is marked delivered when its item is delivered unless its latest result is
// still on its way: another item of the same order is queued within the next 16 items
// of the destination, or the order was resulted again after the item was queued (its
// History says so). Items of the same order for other destinations are not consulted.
// When the order's lifecycle refuses (the order was cancelled or moved on meanwhile)
// or the order is gone, the item is delivered all the same and the refusal is logged.
//
// Items whose destination is not configured stay pending and are not counted in the
// metrics.
//
// Logs carry the destination name, outbox and order IDs, attempt numbers and error
// texts (from hl7, hl7/mllp and net/http); never payload bytes.
package delivery
