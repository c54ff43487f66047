package engine

import (
	"context"
	"strconv"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
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

// ServeMLLP implements mllp.Handler. The connection's address and verified client
// certificate are judged by the engine's sender rules (Config.Senders). A frame holding
// an HL7 batch (FHS or BHS first, hl7.IsBatch) is answered with a response batch
// (Engine.HandleBatch); any other frame is one message.
func (h MLLPHandler) ServeMLLP(ctx context.Context, msg []byte, info mllp.ConnInfo) ([]byte, error) {
	// The transport reuses msg after the call; the engine keeps views of it only
	// until the acknowledgment is built.
	peer := peerOf(info)
	if hl7.IsBatch(msg) {
		return h.Engine.handleBatch(ctx, msg, &peer)
	}
	res, err := h.Engine.handleV2(ctx, msg, "", &peer)
	if err != nil {
		return nil, err
	}
	return res.deliver, nil
}

// ServeMLLPOversize implements mllp.OversizeHandler: an AR with ERR 104, addressed from
// what the head of the message says about its sender and control ID.
func (h MLLPHandler) ServeMLLPOversize(ctx context.Context, head []byte, size int64, _ mllp.ConnInfo) ([]byte, error) {
	e := h.Engine
	hdr, _ := hl7.SalvageHeader(head)
	res, err := e.reject(ctx, head, int(size), hdr, e.now(), hl7.Issue{Code: hl7.CodeValueTooLong, Severity: hl7.SeverityError,
		Text: "message of " + strconv.FormatInt(size, 10) + " bytes exceeds the size limit; it was not processed"})
	if err != nil {
		return nil, err
	}
	return res.deliver, nil
}
