package payer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/store"
)

// pasSender delivers one payer's PAS requests: it POSTs each request Bundle to
// <url>/Claim/$submit (or $inquire) with the item's Key as Idempotency-Key and the
// payer's token, and records the answer on the order (Commit).
type pasSender struct {
	svc *Service
	p   *profile
}

// Send implements delivery.Sender; the Worker calls Exchange instead.
func (ps *pasSender) Send(ctx context.Context, it *store.OutboxItem) (string, error) {
	r, _, err := ps.Exchange(ctx, it)
	return r, err
}

// Exchange implements delivery.Exchanger. A 2xx answer is a delivery whose body is the
// answer; 5xx (but 501), 408, 429 and network errors are transient (a Retry-After
// becomes a *delivery.RetryAfterError); other answers are refusals
// (delivery.ErrRefused wrapping a *fhir.StatusError).
func (ps *pasSender) Exchange(ctx context.Context, it *store.OutboxItem) (string, []byte, error) {
	op := "Claim/$submit"
	switch it.Kind {
	case KindSubmit:
	case KindInquire:
		op = "Claim/$inquire"
	default:
		return "", nil, fmt.Errorf("payer: %q item for a PAS destination: %w", it.Kind, delivery.ErrKind)
	}
	h := http.Header{"Idempotency-Key": {firstNonEmpty(it.Key, it.ID)}}
	if ps.p.token != "" {
		h.Set("Authorization", "Bearer "+ps.p.token)
	}
	c := &fhir.Client{Base: ps.p.PAS.URL, HTTP: ps.svc.client}
	resp, body, err := c.Exchange(ctx, http.MethodPost, op, it.Payload, h, maxAnswer)
	if err != nil {
		return "", nil, fmt.Errorf("pas: %s: %w", op, err)
	}
	if resp.Status >= 200 && resp.Status < 300 {
		return resp.StatusLine, body, nil
	}
	serr := &fhir.StatusError{Status: resp.Status, Issues: resp.Issues}
	if !serr.Retryable() {
		return "", nil, fmt.Errorf("pas: %s: %w: %w", op, delivery.ErrRefused, serr)
	}
	if wait, ok := fhir.ParseRetryAfter(resp.Header.Get("Retry-After"), ps.svc.now()); ok {
		serr.RetryAfter = wait
		return "", nil, &delivery.RetryAfterError{Wait: wait, Err: fmt.Errorf("pas: %s: %w", op, serr)}
	}
	return "", nil, fmt.Errorf("pas: %s: %w", op, serr)
}

// Commit implements delivery.Exchanger: it records the payer's answer to the request
// the item carried on the item's order.
func (ps *pasSender) Commit(tx store.Tx, it *store.OutboxItem, answer []byte) error {
	o, err := tx.Order(it.OrderID)
	if errors.Is(err, store.ErrNotFound) {
		ps.svc.log.Warn("pas answer for a missing order", slog.String("order_id", it.OrderID), slog.String("outbox_id", it.ID))
		return nil
	}
	if err != nil {
		return err
	}
	claim := requestClaim(it.Payload)
	source := "payer " + ps.p.ID
	for _, a := range readAnswers(answer) {
		if err := ps.svc.apply(tx, o, claim, a, source, "", ps.svc.now()); err != nil {
			return err
		}
	}
	return tx.PutOrder(o)
}
