package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/store"
)

// inbound is one parsed message on its way through the pipeline.
type inbound struct {
	raw    []byte
	msg    *hl7.Message
	header hl7.Header
	sender string
	digest string
	at     time.Time
	// reprocessOf is the message this one is a reprocessing of; such a message bypasses
	// the resend index.
	reprocessOf string
	// msgID is the ID reserved for the message's record.
	msgID string
}

// outcome is what processing a message decided.
type outcome struct {
	code     hl7.AckCode // AA or AE; finish converts to the enhanced-mode codes
	issues   []hl7.Issue // every ERR of the acknowledgment, findings included
	findings []Finding   // the check findings among them
	orderIDs []string
	notify   []string // delivery destinations with new outbox items
	// quarantined are the stored records the message needed and could not read.
	quarantined []Quarantined
}

// processor handles one message type inside the write transaction. It may run more than
// once (see store.Store.Update) and must only write through tx.
type processor func(tx store.Tx, in *inbound, msgID string) (outcome, error)

// finish stores the message, runs process in the same transaction, and returns the
// acknowledgment once the transaction is durable. A resend of an accepted message gets
// the acknowledgment it got the first time and is not processed again.
func (e *Engine) finish(ctx context.Context, in *inbound, process processor) (Result, error) {
	var rec *store.Message
	var notify []string
	var findings []Finding
	var quarantined []Quarantined
	var resend bool
	err := e.store.Update(ctx, func(tx store.Tx) error {
		rec, notify, findings, quarantined, resend = nil, nil, nil, nil, false
		var first error // why the record of the message's first receipt cannot be read
		if in.reprocessOf == "" {
			// A resend is found here rather than in a read transaction first: reads see
			// every acknowledged write, which costs the store a flush, while this check
			// costs one index lookup.
			prev, err := tx.MessageByKey(in.sender, in.header.ControlID, in.digest)
			switch {
			case err == nil:
				rec, resend = prev, true
				return nil
			case isCorrupt(err):
				first = err
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
		reused := in.reprocessOf == "" && first == nil && controlIDReused(tx, in)
		m := &store.Message{Kind: "hl7v2", Sender: in.sender, ControlID: in.header.ControlID, Digest: in.digest,
			Type: in.header.MessageType(), ReceivedAt: in.at, Size: len(in.raw), Dedupe: in.reprocessOf == "" && first == nil, ReprocessOf: in.reprocessOf}
		m.ID = in.msgID
		var out outcome
		var err error
		if first != nil {
			// A resend of a message whose first answer cannot be read: processing it
			// again might apply it twice, so it is kept, not processed, and answered AE.
			out = outcome{code: hl7.AE, issues: []hl7.Issue{corruptIssue(hl7.Location{Segment: "MSH", Field: 10},
				"the stored record of this message's first receipt")},
				quarantined: []Quarantined{{Kind: "message", Key: in.sender + "/" + in.header.ControlID, Error: first.Error()}}}
		} else if out, err = process(tx, in, m.ID); err != nil {
			return err
		}
		if reused {
			out.issues = append(out.issues, hl7.Issue{Location: hl7.Location{Segment: "MSH", Field: 10}, Code: hl7.CodeDuplicateKey,
				Severity: hl7.SeverityWarning, Text: "control ID " + in.header.ControlID + " was used before by this sender for a different message; processed as a new message"})
		}
		code := ackCode(in.header, out.code)
		m.AckCode, m.Ack, m.OrderIDs = string(code), e.buildAck(in.header, code, out.issues), out.orderIDs
		rec, notify, findings, quarantined = m, out.notify, out.findings, out.quarantined
		return tx.PutMessage(m, in.raw)
	})
	if err != nil {
		e.log.LogAttrs(ctx, slog.LevelError, "message not stored", slog.String("msg_type", in.header.MessageType()), slog.String("err", err.Error()))
		code := ackCode(in.header, hl7.AR)
		e.metrics.observe(in.header.MessageType(), string(code), e.now().Sub(in.at))
		ack := e.buildAck(in.header, code, []hl7.Issue{internalIssue()})
		return Result{AckCode: string(code), Ack: string(ack), deliver: e.deliverable(in.header, code, ack)}, err
	}
	if resend {
		e.metrics.observe(in.header.MessageType(), "resend", e.now().Sub(in.at))
		return e.answer(in.header, rec), nil
	}
	e.Notify(notify)
	e.quarantined(ctx, quarantined, rec.ID, in.at)
	e.metrics.observe(in.header.MessageType(), rec.AckCode, e.now().Sub(in.at))
	res := e.answer(in.header, rec)
	res.Findings = findings
	return res, nil
}

// answer is the result for a stored message record.
func (e *Engine) answer(h hl7.Header, m *store.Message) Result {
	return Result{MessageID: m.ID, AckCode: m.AckCode, Ack: string(m.Ack), OrderIDs: m.OrderIDs,
		deliver: e.deliverable(h, hl7.AckCode(m.AckCode), m.Ack)}
}

// controlIDReused reports whether the sender already used the message's control ID for
// an accepted message with other content.
func controlIDReused(tx store.ReadTx, in *inbound) bool {
	prev, _, err := tx.Messages(store.MessageQuery{ControlID: in.header.ControlID, Sender: in.sender, Limit: 1})
	return err == nil && len(prev) > 0 && prev[0].Dedupe
}

// reject stores a message that is not processed, for audit, and returns its AR. raw is
// what is kept of it (all of it, or the head of one too large to keep); size is how many
// bytes arrived.
func (e *Engine) reject(ctx context.Context, raw []byte, size int, h hl7.Header, at time.Time, issues ...hl7.Issue) (Result, error) {
	code := ackCode(h, hl7.AR)
	rec := &store.Message{Kind: "hl7v2", Sender: senderOf(h), ControlID: h.ControlID, Type: h.MessageType(),
		ReceivedAt: at, Size: size, AckCode: string(code), Ack: e.buildAck(h, code, issues)}
	if textTooLong(rec.ControlID, hl7.MaxControlIDLength) || textTooLong(rec.Sender, MaxSenderLength) {
		rec.ControlID, rec.Sender = "", "" // they key the message index: kept in the raw bytes only
	}
	err := e.store.Update(ctx, func(tx store.Tx) error { return tx.PutMessage(rec, raw) })
	if err != nil {
		e.log.LogAttrs(ctx, slog.LevelError, "rejected message not stored", slog.String("err", err.Error()))
	}
	e.metrics.observe(h.MessageType(), string(code), e.now().Sub(at))
	return e.answer(h, rec), err
}

// ackCode converts an original-mode code to the enhanced-mode accept code when the
// sender asked for enhanced mode.
func ackCode(h hl7.Header, c hl7.AckCode) hl7.AckCode {
	if h.Enhanced() {
		return c.Commit()
	}
	return c
}

// deliverable returns nil when the sender asked not to receive this acknowledgment
// (enhanced mode, MSH-15 NE, ER or SU).
func (e *Engine) deliverable(h hl7.Header, code hl7.AckCode, ack []byte) []byte {
	if h.Enhanced() && !h.WantsAccept(code.Accepted()) {
		return nil
	}
	return ack
}

func (e *Engine) buildAck(h hl7.Header, code hl7.AckCode, issues []hl7.Issue) []byte {
	now := e.now()
	return hl7.AppendAck(make([]byte, 0, 256), h, hl7.Ack{Code: code, ControlID: e.controlID(now), Time: now.In(e.cfg.Location), Issues: issues})
}

// controlID is a new control ID for an acknowledgment or a response batch sent at now:
// at most 14 characters, within the 20 HL7 gives MSH-10 and BHS-11 in every version.
func (e *Engine) controlID(now time.Time) string {
	return "RB" + strconv.FormatInt(now.UnixMilli(), 36) + strconv.FormatUint(e.ackSeq.Add(1)%(36*36*36*36), 36)
}

func internalIssue() hl7.Issue {
	return hl7.Issue{Code: hl7.CodeInternal, Severity: hl7.SeverityError,
		Text: "the message could not be stored; it was not processed: send it again later"}
}

// digest identifies a message's content for resend detection: every segment except
// MSH-7, which a sender may renew when it resends.
func digest(m *hl7.Message) string {
	h := sha256.New()
	d := m.Delimiters()
	for i, s := range m.Segments() {
		if i == 0 {
			for f := 1; f <= s.NumFields(); f++ {
				if f != 7 {
					h.Write(s.Field(f).Bytes())
				}
				h.Write([]byte{d.Field})
			}
		} else {
			h.Write(s.Bytes())
		}
		h.Write([]byte{'\r'})
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
