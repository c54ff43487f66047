package delivery

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/store"
)

// Item kinds, as in store.OutboxItem.Kind.
const (
	KindHL7v2 = "hl7v2"
	KindFHIR  = "fhir"
)

// Sender sends one outbox item to its destination. The Worker calls Send for one item
// at a time per destination, with a ctx that bounds the attempt.
//
// Send returns the destination's receipt on success. On failure it returns an error
// whose text names no payload data (it becomes the item's LastError and is logged); a
// [*RetryAfterError] carries the destination's hint of when to try again, and an
// error wrapping [ErrRefused] says the destination refused the item. Send must not
// modify it.
type Sender interface {
	Send(ctx context.Context, it *store.OutboxItem) (receipt string, err error)
}

// An Exchanger is a Sender whose destination answers with a document the store must
// keep, such as a payer's ClaimResponse to a prior-authorization request. The Worker
// calls Exchange instead of Send and, in the transaction that marks the item
// delivered, Commit with the answer, instead of marking the item's order delivered.
//
// Commit returns an error only when it could not write the store: the item then stays
// pending and is sent again later (the destination must treat a repeat as the same
// request, as the item's Key lets it). An answer Commit cannot use must be recorded,
// not returned as an error, or the item would be sent forever.
type Exchanger interface {
	Sender
	// Exchange sends it and returns the receipt and the destination's answer.
	Exchange(ctx context.Context, it *store.OutboxItem) (receipt string, answer []byte, err error)
	// Commit records answer in tx, the transaction that marks it delivered.
	Commit(tx store.Tx, it *store.OutboxItem, answer []byte) error
}

// MLLPSender sends "hl7v2" items, ORU^R01 messages, over MLLP and checks their ACK
// (hl7.CheckAck): the receipt is MSA-1 (AA or CA). A negative acknowledgment wraps
// [ErrRefused]; an ACK for another message (MSA-2 is not the sent MSH-10) wraps
// hl7.ErrAckMismatch; no ACK at all wraps mllp.ErrNoAck (the message may have been
// delivered).
//
// It keeps one connection open between Sends. It is safe for concurrent use (sends are
// serialized on the connection).
type MLLPSender struct {
	client mllp.Client
}

var _ Sender = (*MLLPSender)(nil)

// NewMLLPSender returns a Sender for the MLLP listener at addr (host:port), speaking
// TLS when tlsConfig is not nil.
func NewMLLPSender(addr string, tlsConfig *tls.Config) *MLLPSender {
	return &MLLPSender{client: mllp.Client{Addr: addr, TLSConfig: tlsConfig, CheckAck: hl7.CheckAck}}
}

// Send implements Sender.
func (s *MLLPSender) Send(ctx context.Context, it *store.OutboxItem) (string, error) {
	if it.Kind != "" && it.Kind != KindHL7v2 {
		return "", fmt.Errorf("delivery: %q item for an MLLP destination: %w", it.Kind, ErrKind)
	}
	ack, err := s.client.Send(ctx, it.Payload)
	if ae := (*hl7.AckError)(nil); errors.As(err, &ae) {
		return "", fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if err != nil {
		return "", err
	}
	return ackCode(ack), nil
}

// Close closes the connection. Sends after Close fail with mllp.ErrClientClosed.
func (s *MLLPSender) Close() error { return s.client.Close() }

// ackCode returns MSA-1 of an ACK that hl7.CheckAck accepted.
func ackCode(ack []byte) string {
	m, err := hl7.Parse(ack)
	if err != nil {
		return string(hl7.AA) // unreachable: CheckAck parsed it
	}
	msa, _ := m.Segment("MSA")
	return strings.ToUpper(strings.TrimSpace(msa.Field(1).String()))
}
