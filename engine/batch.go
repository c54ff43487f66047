package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/radbridge/radbridge/hl7"
)

// HandleBatch processes an HL7 batch (FHS/BHS ... BTS/FTS, HL7 v2.5.1 section 2.10.3)
// that arrived as one unit, such as one MLLP frame, and returns the response batch to
// send back: one ACK per message, in a BHS/BTS envelope (FHS/FTS too when the input had
// them), built by hl7.AppendBatchAck (option 1 of section 2.10.3.2).
//
// Each message is handled exactly as if it had come alone (HandleV2): parsed, checked,
// answered from the store when it is a resend, stored with its own raw bytes (the span
// hl7.BatchMessage.Bytes, not the envelope) and committed before the next one is read;
// its ACK is what it would have got alone, and one the message asks not to receive
// (MSH-15) is left out. The envelope itself is not stored: a batch leaves one message
// record per message in it, nothing else.
//
// What is wrong with the envelope (a BTS-1 or FTS-1 count that does not match, a header
// out of place: hl7.BatchFile.Issues) costs no message: every message is processed, and
// the problems are reported in the comment (BHS-10) of every response batch.
//
// The error is for logging, as with HandleV2: when a message cannot be stored, the
// messages before it are committed and the returned response is nil; the MLLP adapter
// then closes the connection without an answer, so that the sender sends the batch
// again, and the messages already committed are answered from the store.
func (e *Engine) HandleBatch(ctx context.Context, raw []byte) ([]byte, error) {
	return e.handleBatch(ctx, raw, nil)
}

// handleBatch is HandleBatch for a batch from a connection (peer; nil for none), whose
// every message the sender rules judge.
func (e *Engine) handleBatch(ctx context.Context, raw []byte, peer *Peer) ([]byte, error) {
	f, err := hl7.ParseBatch(raw)
	if err != nil { // no segment at all: rejected as a message would be
		res, err := e.handleV2(ctx, raw, "", peer)
		return res.deliver, err
	}
	acks := make([][]byte, 0, f.NumMessages())
	for m := range f.Messages() {
		res, err := e.handleV2(ctx, m.Bytes, "", peer)
		if err != nil {
			return nil, fmt.Errorf("batch message %d: %w", m.Index, err)
		}
		acks = append(acks, res.deliver)
	}
	if len(f.Issues) > 0 {
		e.log.LogAttrs(ctx, slog.LevelWarn, "batch envelope has errors", slog.Int("issues", len(f.Issues)),
			slog.Int("messages", f.NumMessages()))
	}
	now := e.now()
	a := hl7.BatchAck{ControlID: e.controlID(now), Time: now.In(e.cfg.Location), Comment: envelopeComment(f.Issues)}
	return hl7.AppendBatchAck(make([]byte, 0, 256*(len(acks)+1)), f, acks, a), nil
}

// envelopeComment is the text of a batch envelope's issues for BHS-10, each prefixed
// with its location when the text does not start with it.
func envelopeComment(issues []hl7.Issue) string {
	var b strings.Builder
	for i, is := range issues {
		if i > 0 {
			b.WriteString("; ")
		}
		if loc := is.Location.String(); loc != "" && !strings.HasPrefix(is.Text, loc) {
			b.WriteString(loc + ": ")
		}
		b.WriteString(is.Text)
	}
	return b.String()
}
