package hl7

import (
	"io"
	"strconv"
)

// AppendMessage appends m in ER7 encoding to dst, each segment ended by CR, and returns
// the extended slice. For a message parsed from well-formed input the result equals the
// input with its segment terminators normalised to CR.
func AppendMessage(dst []byte, m *Message) []byte {
	for _, s := range m.segs {
		dst = append(dst, m.raw[s.start:s.end]...)
		dst = append(dst, '\r')
	}
	return dst
}

// WriteTo writes the message in ER7 encoding to w, each segment ended by CR.
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(AppendMessage(make([]byte, 0, len(m.raw)+len(m.segs)), m))
	return int64(n), err
}

// Writer builds a new message segment by segment, escaping text as it goes. The zero
// Writer is not usable; make one with NewWriter. Calls chain:
//
//	w := hl7.NewWriter(hl7.DefaultDelimiters)
//	w.Segment("MSH").Set(3, "RADBRIDGE").Set(9, "ACK", "O01", "ACK")
//	w.Segment("MSA").Set(1, "AA").Set(2, id)
//	msg := w.Bytes()
//
// Field numbers follow HL7 numbering, MSH included: on an MSH segment the writer emits
// MSH-1 and MSH-2 itself, and the first field a caller sets is MSH-3 or later. The batch
// headers FHS and BHS, laid out like MSH, are written the same way. Fields
// must be set in increasing order; fields skipped are left empty. A Writer is not safe
// for concurrent use.
type Writer struct {
	d     Delimiters
	buf   []byte
	open  bool // a segment is open
	field int  // current field number in the open segment (0: at the segment ID)
}

// NewWriter returns a Writer that encodes with d; a d without a field separator means
// DefaultDelimiters.
func NewWriter(d Delimiters) *Writer {
	if d.Field == 0 {
		d = DefaultDelimiters
	}
	return &Writer{d: d, buf: make([]byte, 0, 512)}
}

// Reset empties the writer for a new message, keeping its buffer.
func (w *Writer) Reset() { w.buf, w.open, w.field = w.buf[:0], false, 0 }

// Segment ends the open segment, if any, and starts a new one with the given ID.
func (w *Writer) Segment(name string) *Writer {
	if w.open {
		w.buf = append(w.buf, '\r')
	}
	w.buf = append(w.buf, name...)
	w.open, w.field = true, 0
	if name == "MSH" || name == "FHS" || name == "BHS" {
		w.buf = append(w.buf, w.d.Field)
		w.buf = append(w.buf, w.d.EncodingCharacters()...)
		w.field = 2
	}
	return w
}

// Field moves to field n of the open segment, leaving skipped fields empty. Text, Raw,
// Component, Sub and Rep then write into it. Moving backwards is a programming error and
// panics.
func (w *Writer) Field(n int) *Writer {
	if n < w.field || !w.open {
		panic("hl7: Writer.Field(" + strconv.Itoa(n) + ") after field " + strconv.Itoa(w.field))
	}
	for ; w.field < n; w.field++ {
		w.buf = append(w.buf, w.d.Field)
	}
	return w
}

// Set writes field n as the given components, escaped, with trailing empty components
// left out. Set(n) with no components leaves field n empty.
func (w *Writer) Set(n int, components ...string) *Writer {
	w.Field(n)
	last := len(components)
	for last > 0 && components[last-1] == "" {
		last--
	}
	for i, c := range components[:last] {
		if i > 0 {
			w.buf = append(w.buf, w.d.Component)
		}
		w.buf = AppendEscaped(w.buf, c, w.d)
	}
	return w
}

// Text appends escaped text at the current position.
func (w *Writer) Text(s string) *Writer {
	w.buf = AppendEscaped(w.buf, s, w.d)
	return w
}

// Raw appends s as it is: it must already be encoded with the writer's delimiters.
func (w *Writer) Raw(s string) *Writer {
	w.buf = append(w.buf, s...)
	return w
}

// Rep starts another repetition of the current field.
func (w *Writer) Rep() *Writer { w.buf = append(w.buf, w.d.Repetition); return w }

// Component starts the next component.
func (w *Writer) Component() *Writer { w.buf = append(w.buf, w.d.Component); return w }

// Sub starts the next subcomponent.
func (w *Writer) Sub() *Writer { w.buf = append(w.buf, w.d.Subcomponent); return w }

// Delimiters returns the delimiters the writer encodes with.
func (w *Writer) Delimiters() Delimiters { return w.d }

// Bytes ends the open segment and returns the message. The slice is valid until the next
// call on w.
func (w *Writer) Bytes() []byte {
	if w.open {
		w.buf = append(w.buf, '\r')
		w.open, w.field = false, 0
	}
	return w.buf
}
