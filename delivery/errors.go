package delivery

import (
	"errors"
	"time"
)

// ErrRefused is wrapped by a Sender's error when the destination answered and refused
// the item: an HTTP status that is not a success and not worth repeating the same
// request for (3xx, 4xx other than 408 and 429, 501; see fhir.StatusError.Retryable),
// or an HL7 acknowledgment with MSA-1 AE, AR, CE or CR. The Worker retries refused items with
// backoff like any other failure (see the package documentation).
var ErrRefused = errors.New("destination refuses the item")

// ErrKind is wrapped by a Sender's error when an item's Kind does not fit the
// destination, such as a "fhir" item queued for an MLLP destination.
var ErrKind = errors.New("item kind does not fit the destination")

// ErrUnknownDestination is returned by Worker.Retry for an item whose destination is
// not configured.
var ErrUnknownDestination = errors.New("unknown destination")

// ErrDelivered is returned by Worker.Retry for an item already delivered; it is not
// sent again.
var ErrDelivered = errors.New("outbox item already delivered")

// ErrRunning is returned by Worker.Run when the Worker is already running.
var ErrRunning = errors.New("delivery: worker already running")

// RetryAfterError is a failure that comes with the destination's hint of when to try
// again, such as an HTTP Retry-After header on a 503 or 429 answer (RFC 9110
// §10.2.3). The Worker waits at least Wait, capped by Config.RetryAfterCap, before
// the next attempt.
type RetryAfterError struct {
	// Wait is how long the destination asked to wait, from the moment it answered.
	Wait time.Duration
	// Err is the failure itself.
	Err error
}

// Error returns Err's text followed by the wait, e.g.
// "fhir: destination answered 503 Service Unavailable (retry after 2m0s)".
func (e *RetryAfterError) Error() string {
	return e.Err.Error() + " (retry after " + e.Wait.String() + ")"
}

// Unwrap returns Err.
func (e *RetryAfterError) Unwrap() error { return e.Err }
