package hl7

import (
	"strconv"
	"strings"
	"time"
)

// Acknowledging a batch, HL7 v2.5.1 section 2.10.3.2. The standard defines no field by
// which a batch asks for an answer (BHS-9 is for the application to use as it agrees
// with its partner) and leaves the choice between three options to the applications:
//
//  1. every message is acknowledged in a response batch;
//  2. the receiver prints a batch control report that people at the sender deal with,
//     and the protocol sends no acknowledgment at all;
//  3. an acknowledgment batch holds acknowledgments only for the messages with errors;
//     it may be empty, which says that every message was accepted.
//
// A response batch "is a batch of individual messages", each in the form defined for
// an online response: for the messages radbridge takes, ACK. BHS-11 "can be echoed back
// in BHS-12 Reference Batch Control ID if an answering batch is needed" (FHS-11 in
// FHS-12 likewise), and a batch resent after its errors were corrected also names the
// original in BHS-12. Each message inside keeps asking for its own acknowledgments
// through its MSH-15 and MSH-16, as it would alone.
//
// AppendBatchAck builds the response batch of options 1 (the default) and 3
// (BatchAck.ErrorsOnly); option 2 is not to call it. The caller builds each message's
// acknowledgment, as for a message received alone, and leaves out (nil) those the
// message's MSH-15/16 say not to send.

// BatchAck describes the response batch that AppendBatchAck builds.
type BatchAck struct {
	// ControlID is BHS-11 of the response batch, and FHS-11 when the input had a file
	// envelope. When the input holds several batches the k-th response batch gets
	// ControlID followed by "-k" (1-based), so that each is unique. HL7 gives BHS-11 and
	// FHS-11 20 characters.
	ControlID string
	Time      time.Time // BHS-7 and FHS-7
	// ErrorsOnly leaves out the acknowledgments whose MSA-1 is AA or CA (option 3 of
	// section 2.10.3.2). Default: every acknowledgment is included (option 1).
	ErrorsOnly bool
	// Comment is BHS-10 (batch comment) of every response batch, cut to the 80
	// characters HL7 gives the field; for example what is wrong with the batch's
	// envelope (BatchFile.Issues). Default: empty.
	Comment string
}

// maxBatchComment is the length HL7 gives BHS-10 and FHS-10.
const maxBatchComment = 80

// AppendBatchAck appends to dst the response to the batch f (see BatchAck and the
// section comment above): one response batch per batch of f, each a BHS, the
// acknowledgments of its messages and a BTS whose BTS-1 counts them, inside an FHS/FTS
// envelope (FTS-1 counting the batches) when f has one.
//
// acks holds one acknowledgment per message of f, in the order of f.Messages; a nil or
// empty one is left out (the sender asked not to receive it). Each is copied as it is,
// ended by CR if it has no terminator. A len(acks) other than f.NumMessages() is a
// programming error and panics.
//
// Each response header mirrors the header it answers: its delimiters, sender and
// receiver swapped (BHS-3/4 from BHS-5/6 and back), and BHS-12 (FHS-12) echoing BHS-11
// (FHS-11) byte for byte as MSA-2 echoes MSH-10, cut to MaxControlIDLength. A batch
// without BHS is answered with the file header's sender and receiver, or none.
func AppendBatchAck(dst []byte, f *BatchFile, acks [][]byte, a BatchAck) []byte {
	if len(acks) != f.NumMessages() {
		panic("hl7: AppendBatchAck with " + strconv.Itoa(len(acks)) + " acknowledgments for " + strconv.Itoa(f.NumMessages()) + " messages")
	}
	w := Writer{buf: dst}
	file := f.Header != nil || f.Trailer != nil
	if file {
		appendBatchHeader(&w, "FHS", f.Header, a.ControlID, a)
	}
	next := 0
	for i, b := range f.Batches {
		id := a.ControlID
		if len(f.Batches) > 1 {
			id += "-" + strconv.Itoa(i+1)
		}
		orig := b.Header
		if orig == nil {
			orig = f.Header
		}
		appendBatchHeader(&w, "BHS", orig, id, a)
		n := 0
		for _, ack := range acks[next : next+len(b.Messages)] {
			if len(ack) == 0 || a.ErrorsOnly && accepted(ack) {
				continue
			}
			w.buf = append(w.Bytes(), ack...)
			if c := ack[len(ack)-1]; c != '\r' && c != '\n' {
				w.buf = append(w.buf, '\r')
			}
			n++
		}
		next += len(b.Messages)
		w.Segment("BTS").Set(1, strconv.Itoa(n))
	}
	if file {
		w.Segment("FTS").Set(1, strconv.Itoa(len(f.Batches)))
	}
	return w.Bytes()
}

// appendBatchHeader writes an FHS or BHS segment answering orig (nil when there is no
// header to answer) and switches w to its delimiters.
func appendBatchHeader(w *Writer, id string, orig *BatchHeader, controlID string, a BatchAck) {
	var h BatchHeader
	if orig != nil {
		h = *orig
	}
	w.d = h.Delims
	if !w.d.valid() {
		w.d = DefaultDelimiters
	}
	d := w.d
	w.Segment(id).Field(3).Raw(safeRaw(h.ReceivingApp, d)).Field(4).Raw(safeRaw(h.ReceivingFacility, d)).
		Field(5).Raw(safeRaw(h.SendingApp, d)).Field(6).Raw(safeRaw(h.SendingFacility, d)).
		Set(7, FormatTime(a.Time, PrecisionSecond)).Field(10)
	if a.Comment != "" {
		w.Raw(truncateEncoded(string(AppendEscaped(nil, a.Comment, d)), d, maxBatchComment))
	}
	w.Set(11, controlID)
	if ref := controlIDEcho(Header{Delims: h.Delims, ControlID: h.ControlID, RawControlID: h.RawControlID}, d); ref != "" {
		w.Field(12).Raw(ref)
	}
}

// accepted reports whether ack is an acknowledgment whose MSA-1 is AA or CA. One that
// cannot be read is not: it is better sent than lost.
func accepted(ack []byte) bool {
	m, err := Parse(ack)
	if err != nil {
		return false
	}
	msa, ok := m.Segment("MSA")
	return ok && AckCode(strings.ToUpper(strings.TrimSpace(msa.Field(1).String()))).Accepted()
}
