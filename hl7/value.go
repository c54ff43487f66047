package hl7

import (
	"bytes"
	"iter"
	"unicode/utf8"
)

// encoding is what a Value needs to split and decode itself.
type encoding struct {
	Delimiters
	charset charset
	mshEnc  int32 // offset just past MSH-2 in the raw message
}

// literal is the encoding of MSH-1 and MSH-2: never split, never unescaped. It is
// read-only.
var literal encoding

// Value is a view of a field, a repetition, a component or a subcomponent. The zero Value
// is empty. The bytes it views belong to the parsed message (see the package doc).
type Value struct {
	b   []byte
	enc *encoding
}

// Bytes returns the value as encoded in the message, escape sequences included. The
// slice must not be modified.
func (v Value) Bytes() []byte { return v.b }

// IsEmpty reports whether the value is absent or empty (PID|| or a missing field).
func (v Value) IsEmpty() bool { return len(v.b) == 0 }

// IsNull reports whether the value is the explicit HL7 null `""`, which tells the
// receiver to delete what it holds, as opposed to an empty value, which changes nothing.
func (v Value) IsNull() bool { return len(v.b) == 2 && v.b[0] == '"' && v.b[1] == '"' }

// String returns the value's text: escape sequences decoded, converted from the message's
// character set to UTF-8, invalid bytes replaced by U+FFFD. An explicit null reads as "".
func (v Value) String() string {
	if v.IsNull() {
		return ""
	}
	u := v.Unescaped()
	if !utf8.Valid(u) {
		return string(bytes.ToValidUTF8(u, []byte("\uFFFD")))
	}
	return string(u)
}

// Unescaped returns the value's text as UTF-8 bytes with escape sequences decoded. It
// allocates only when the value holds an escape sequence or bytes that need converting
// from the message's character set; otherwise it returns the viewed bytes, which must not
// be modified. Unlike String it does not replace invalid UTF-8 in a UTF-8 message.
func (v Value) Unescaped() []byte {
	if v.enc == nil || v.enc == &literal {
		return v.b
	}
	if v.enc.Escape == 0 || bytes.IndexByte(v.b, v.enc.Escape) < 0 {
		return v.enc.charset.decode(nil, v.b)
	}
	// Decoding never lengthens the text, so one allocation of len(v.b) suffices.
	return v.enc.charset.decode(nil, unescape(make([]byte, 0, len(v.b)), v.b, &v.enc.Delimiters))
}

// NumReps returns how many repetitions the value has (0 for an empty value).
func (v Value) NumReps() int {
	if len(v.b) == 0 {
		return 0
	}
	if v.enc == nil || v.enc.Repetition == 0 {
		return 1
	}
	return bytes.Count(v.b, []byte{v.enc.Repetition}) + 1
}

// Rep returns repetition n (1-based) of the value.
func (v Value) Rep(n int) Value { return v.part(v.sep(sepRep), n) }

// Reps returns the repetitions in order.
func (v Value) Reps() iter.Seq[Value] {
	return func(yield func(Value) bool) {
		for i, n := 1, v.NumReps(); i <= n; i++ {
			if !yield(v.Rep(i)) {
				return
			}
		}
	}
}

// Component returns component n (1-based) of the value's first repetition.
func (v Value) Component(n int) Value {
	return v.Rep(1).part(v.sep(sepComp), n)
}

// NumComponents returns how many components the first repetition has.
func (v Value) NumComponents() int {
	r := v.Rep(1)
	if len(r.b) == 0 {
		return 0
	}
	c := v.sep(sepComp)
	if c == 0 {
		return 1
	}
	return bytes.Count(r.b, []byte{c}) + 1
}

// Sub returns subcomponent n (1-based) of the value's first component.
func (v Value) Sub(n int) Value {
	return v.Component(1).part(v.sep(sepSub), n)
}

type sepLevel uint8

const (
	sepRep sepLevel = iota
	sepComp
	sepSub
)

// sep returns the separator byte for a level, or 0 when the message defines none.
func (v Value) sep(l sepLevel) byte {
	if v.enc == nil || v.enc == &literal {
		return 0
	}
	switch l {
	case sepRep:
		return v.enc.Repetition
	case sepComp:
		return v.enc.Component
	default:
		return v.enc.Subcomponent
	}
}

// part returns the n-th (1-based) piece of v split at sep; with no separator the value is
// its own first piece.
func (v Value) part(sep byte, n int) Value {
	if n < 1 {
		return Value{}
	}
	b := v.b
	if sep == 0 {
		if n == 1 {
			return v
		}
		return Value{}
	}
	for ; n > 1; n-- {
		i := bytes.IndexByte(b, sep)
		if i < 0 {
			return Value{}
		}
		b = b[i+1:]
	}
	if i := bytes.IndexByte(b, sep); i >= 0 {
		b = b[:i]
	}
	return Value{b: b, enc: v.enc}
}
