package hl7

import "bytes"

// unescape appends b to dst with the delimiter escape sequences of HL7 v2.5.1 section
// 2.7 decoded: \F\ \S\ \T\ \R\ \E\ \P\ and \Xhh...\ (hexadecimal bytes). Formatting
// sequences (\.br\, \H\, \N\, ...), character-set shifts (\C..\, \M..\) and local
// sequences (\Z..\) are kept as they are, for the consumer of formatted text to interpret.
// A lone or unterminated escape character is kept literally.
func unescape(dst, b []byte, d *Delimiters) []byte {
	esc := d.Escape
	for len(b) > 0 {
		i := bytes.IndexByte(b, esc)
		if i < 0 {
			return append(dst, b...)
		}
		dst = append(dst, b[:i]...)
		b = b[i:]
		j := bytes.IndexByte(b[1:], esc)
		if j < 0 {
			return append(dst, b...)
		}
		seq := b[1 : 1+j] // between the escape characters
		b = b[j+2:]
		dst = appendEscapeSequence(dst, seq, d)
	}
	return dst
}

func appendEscapeSequence(dst, seq []byte, d *Delimiters) []byte {
	if len(seq) == 1 {
		var c byte
		switch seq[0] {
		case 'F':
			c = d.Field
		case 'S':
			c = d.Component
		case 'T':
			c = d.Subcomponent
		case 'R':
			c = d.Repetition
		case 'E':
			c = d.Escape
		case 'P':
			c = d.Truncation
		}
		if c != 0 {
			return append(dst, c)
		}
	}
	if len(seq) > 1 && seq[0] == 'X' && len(seq)%2 == 1 {
		if out, ok := appendHex(dst, seq[1:]); ok {
			return out
		}
	}
	dst = append(dst, d.Escape)
	dst = append(dst, seq...)
	return append(dst, d.Escape)
}

func appendHex(dst, hex []byte) ([]byte, bool) {
	n := len(dst)
	for i := 0; i+1 < len(hex); i += 2 {
		hi, ok1 := fromHex(hex[i])
		lo, ok2 := fromHex(hex[i+1])
		if !ok1 || !ok2 {
			return dst[:n], false
		}
		dst = append(dst, hi<<4|lo)
	}
	return dst, true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Unescape returns s with the escape sequences of d decoded, as Value.String does for a
// value of a message with delimiters d.
func Unescape(s string, d Delimiters) string {
	if d.Escape == 0 || !bytes.Contains([]byte(s), []byte{d.Escape}) {
		return s
	}
	return string(unescape(nil, []byte(s), &d))
}

// AppendEscaped appends text to dst, escaping every character that is a delimiter of d,
// every CR and LF (as \X0D\ and \X0A\) and the MLLP block characters VT and FS (as
// \X0B\ and \X1C\), so that the result is one value in a message with delimiters d that
// can travel in an MLLP frame. Unescape reverses it exactly. When d has no escape
// character (MSH-2 shorter than three characters) nothing can be escaped: each of those
// characters becomes a space instead.
func AppendEscaped(dst []byte, text string, d Delimiters) []byte {
	start := 0 // text[start:i] is plain and not appended yet
	for i := 0; i < len(text); i++ {
		c := text[i]
		var seq string
		switch {
		case c == 0:
			continue
		case c == d.Escape:
			seq = "E"
		case c == d.Field:
			seq = "F"
		case c == d.Component:
			seq = "S"
		case c == d.Subcomponent:
			seq = "T"
		case c == d.Repetition:
			seq = "R"
		case c == d.Truncation:
			seq = "P"
		case c == '\r':
			seq = "X0D"
		case c == '\n':
			seq = "X0A"
		case c == 0x0b:
			seq = "X0B"
		case c == 0x1c:
			seq = "X1C"
		default:
			continue
		}
		dst = append(dst, text[start:i]...)
		start = i + 1
		if d.Escape == 0 {
			// No escape character is defined: a delimiter cannot be represented, so it is
			// replaced by a space rather than corrupting the structure.
			dst = append(dst, ' ')
			continue
		}
		dst = append(dst, d.Escape)
		dst = append(dst, seq...)
		dst = append(dst, d.Escape)
	}
	return append(dst, text[start:]...)
}
