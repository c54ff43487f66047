package store

import (
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/radbridge/radbridge/order"
)

// AppendJSON appends the JSON encoding of m to b and returns the extended buffer. The
// bytes are exactly those json.Marshal(m) writes, so records written either way are
// interchangeable; it only avoids reflection and the intermediate buffers.
//
// Like json.Marshal, it fails when ReceivedAt cannot be written as RFC 3339: a year
// outside [0,9999] as written in its own zone, or a zone offset of 24 hours or more. It
// then returns b unchanged. It only reads m.
//
// The encoder is written by hand: a field added to Message must be added to it too (the
// tests compare it with json.Marshal and fail until it is).
func (m *Message) AppendJSON(b []byte) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	out := order.AppendJSONString(append(b, `{"id":`...), m.ID)
	out = order.AppendJSONString(append(out, `,"kind":`...), m.Kind)
	out = order.AppendJSONString(append(out, `,"sender":`...), m.Sender)
	out = order.AppendJSONString(append(out, `,"control_id":`...), m.ControlID)
	if m.Digest != "" {
		out = order.AppendJSONString(append(out, `,"digest":`...), m.Digest)
	}
	out = order.AppendJSONString(append(out, `,"type":`...), m.Type)
	out, err := order.AppendJSONTime(append(out, `,"received_at":`...), m.ReceivedAt)
	if err != nil {
		return b, fmt.Errorf("store: encode message received_at: %w", err)
	}
	out = order.AppendJSONString(append(out, `,"ack_code":`...), m.AckCode)
	if len(m.Ack) > 0 {
		out = append(base64.StdEncoding.AppendEncode(append(out, `,"ack":"`...), m.Ack), '"')
	}
	if len(m.OrderIDs) > 0 {
		out = append(out, `,"order_ids":[`...)
		for i, id := range m.OrderIDs {
			if i > 0 {
				out = append(out, ',')
			}
			out = order.AppendJSONString(out, id)
		}
		out = append(out, ']')
	}
	out = strconv.AppendInt(append(out, `,"size":`...), int64(m.Size), 10)
	if m.ReprocessOf != "" {
		out = order.AppendJSONString(append(out, `,"reprocess_of":`...), m.ReprocessOf)
	}
	if m.Dedupe {
		out = append(out, `,"dedupe":true`...)
	}
	return append(out, '}'), nil
}
