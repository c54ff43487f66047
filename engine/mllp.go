package engine

import (
	"context"
	"strconv"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/store"
)

// MLLPHandler adapts the engine to mllp.Server. When a message cannot be stored it
// returns the error, so the server closes the connection without an acknowledgment and
// the sender sends the message again later: a transient failure never becomes a
// rejection the sender might not retry.
type MLLPHandler struct {
	Engine *Engine
}

var (
	_ mllp.Handler         = MLLPHandler{}
	_ mllp.OversizeHandler = MLLPHandler{}
)

// ServeMLLP implements mllp.Handler.
func (h MLLPHandler) ServeMLLP(ctx context.Context, msg []byte, _ mllp.ConnInfo) ([]byte, error) {
	// The transport reuses msg after the call; the engine keeps views of it only
	// until the acknowledgment is built.
	res, err := h.Engine.handleV2(ctx, msg, "")
	if err != nil {
		return nil, err
	}
	return res.deliver, nil
}

// ServeMLLPOversize implements mllp.OversizeHandler: an AR with ERR 104, addressed from
// what the head of the message says about its sender and control ID.
func (h MLLPHandler) ServeMLLPOversize(ctx context.Context, head []byte, size int64, _ mllp.ConnInfo) ([]byte, error) {
	e := h.Engine
	at := e.now()
	hdr, _ := hl7.SalvageHeader(head)
	code := ackCode(hdr, hl7.AR)
	ack := e.buildAck(hdr, code, []hl7.Issue{{Code: hl7.CodeValueTooLong, Severity: hl7.SeverityError,
		Text: "message of " + strconv.FormatInt(size, 10) + " bytes exceeds the size limit; it was not processed"}})
	rec := &store.Message{Kind: "hl7v2", Sender: senderOf(hdr), ControlID: hdr.ControlID, Type: hdr.MessageType(),
		ReceivedAt: at, Size: int(size), AckCode: string(code), Ack: ack}
	if len(rec.ControlID) > maxControlID || len(rec.Sender) > maxSender {
		rec.ControlID, rec.Sender = "", ""
	}
	if err := e.store.Update(ctx, func(tx store.Tx) error { return tx.PutMessage(rec, head) }); err != nil {
		return nil, err
	}
	e.metrics.observe(hdr.MessageType(), string(code), e.now().Sub(at))
	return e.deliverable(hdr, code, ack), nil
}
