package mapping

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/radbridge/radbridge/hl7"
)

// formatted returns a TX, FT or ST value as plain text: repetitions joined by newlines,
// the delimiter escapes (\F\ \S\ \T\ \R\ \E\ \Xhh\) decoded as hl7.Value.String does,
// and the formatting commands of HL7 v2.5.1 section 2.7.6 rendered:
//
//	\.br\               line break
//	\.sp\, \.sp n\      n line breaks (1 when n is absent; at most 20)
//	\.ce\               line break (the centring is dropped)
//	\.sk n\             n spaces (at most 20)
//	\H\ \N\ \.fi\ \.nf\ \.in n\ \.ti n\    dropped (highlighting, fill and indentation)
//
// The commands are rendered in ST too: a literal backslash must be sent as \E\, so an
// unescaped \.br\ is always a command, and senders use it in ST.
func formatted(v hl7.Value, d hl7.Delimiters) string {
	if v.NumReps() <= 1 {
		return formattedRep(v, d)
	}
	var b strings.Builder
	i := 0
	for rep := range v.Reps() {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(formattedRep(rep, d))
		i++
	}
	return b.String()
}

// formattedRep renders one repetition. Values without the escape character take the
// zero-copy path of hl7.Value.String, character set conversion included. Values with
// escapes are decoded here; any text that is then not valid UTF-8 (a single-byte
// character set) is read as ISO 8859-1.
func formattedRep(v hl7.Value, d hl7.Delimiters) string {
	raw := v.Bytes()
	esc := d.Escape
	if esc == 0 || bytes.IndexByte(raw, esc) < 0 || v.IsNull() {
		return v.String()
	}
	out := make([]byte, 0, len(raw))
	plain := 0 // start of the text not yet copied
	for i := 0; i < len(raw); {
		if raw[i] != esc {
			i++
			continue
		}
		j := bytes.IndexByte(raw[i+1:], esc)
		if j < 0 {
			break
		}
		seq, next := raw[i+1:i+1+j], i+j+2
		if rendered, ok := formatCommand(seq); ok {
			out = append(out, hl7.Unescape(string(raw[plain:i]), d)...)
			out = append(out, rendered...)
			plain = next
		}
		i = next
	}
	out = append(out, hl7.Unescape(string(raw[plain:]), d)...)
	if !utf8.Valid(out) {
		return latin1(out)
	}
	return string(out)
}

// formatCommand renders a formatting escape sequence (the text between the escape
// characters); ok is false for other sequences.
func formatCommand(seq []byte) (string, bool) {
	switch string(seq) {
	case "H", "N", ".fi", ".nf":
		return "", true
	case ".br", ".ce":
		return "\n", true
	}
	if len(seq) < 3 || seq[0] != '.' {
		return "", false
	}
	n, ok := commandArg(seq[3:])
	switch string(seq[:3]) {
	case ".sp":
		if ok {
			return strings.Repeat("\n", max(n, 1)), true
		}
	case ".sk":
		if ok {
			return strings.Repeat(" ", n), true
		}
	case ".in", ".ti":
		if ok {
			return "", true
		}
	}
	return "", false
}

// commandArg reads the optional argument of a formatting command: blanks, an optional
// sign, and digits, capped at 20. An absent argument is 1.
func commandArg(b []byte) (int, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 1, true
	}
	if b[0] == '+' || b[0] == '-' {
		b = b[1:]
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = min(n*10+int(c-'0'), 20)
	}
	return n, len(b) > 0
}

func latin1(b []byte) string {
	r := make([]rune, 0, len(b))
	for len(b) > 0 {
		c, size := utf8.DecodeRune(b)
		if c == utf8.RuneError && size == 1 {
			c = rune(b[0])
		}
		r = append(r, c)
		b = b[size:]
	}
	return string(r)
}
