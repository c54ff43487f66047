package jsontext

import "unicode/utf8"

// replacement is U+FFFD REPLACEMENT CHARACTER as a JSON escape.
const replacement = `\ufffd`

// ReplaceControls returns the valid JSON text b with every string character that is
// not text replaced by U+FFFD (written \ufffd): the control characters U+0000 to U+001F
// other than tab, line feed and carriage return (which JSON makes a writer escape, as
// \u0000 or \b, so that the text is valid yet still carries them), an escaped surrogate
// that is not half of a pair, and a byte that is not UTF-8. Everything else is kept
// byte for byte. It returns b itself when there is nothing to replace, and otherwise a
// new slice.
//
// FHIR R4 strings should hold no character below U+0020 but tab, CR and LF ("Strings
// SHOULD not contain Unicode character points below 32", https://hl7.org/fhir/R4/datatypes.html#string);
// text rendered from an HL7 v2 message, which may carry any byte, goes out through here.
func ReplaceControls(b []byte) []byte {
	var out []byte
	done := 0 // b[:done] is in out, when out is not nil
	replace := func(i, n int) {
		if out == nil {
			out = make([]byte, 0, len(b)+len(replacement))
		}
		out = append(append(out, b[done:i]...), replacement...)
		done = i + n
	}
	in := false // inside a string
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case !in:
			in = c == '"'
			i++
		case c == '"':
			in = false
			i++
		case c == '\\' && i+1 < len(b):
			n := 2
			switch b[i+1] {
			case 'b', 'f':
				replace(i, n)
			case 'u':
				n = escapeSize(b[i:])
				if r := hex4(b[i+2:]); n > 0 && (r < 0x20 && r != '\t' && r != '\n' && r != '\r' || n == 6 && utf16IsSurrogate(r)) {
					replace(i, n)
				}
				n = max(n, 2)
			}
			i += n
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				replace(i, 1)
			}
			i += n
		default:
			i++
		}
	}
	if out == nil {
		return b
	}
	return append(out, b[done:]...)
}

// escapeSize returns the length of the \u escape at the start of b: 12 for a
// surrogate pair, 6 for any other, 0 when it is not four hex digits.
func escapeSize(b []byte) int {
	if len(b) < 6 || hex4(b[2:]) < 0 {
		return 0
	}
	if r := hex4(b[2:]); r >= 0xd800 && r < 0xdc00 && len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
		if lo := hex4(b[8:]); lo >= 0xdc00 && lo < 0xe000 {
			return 12
		}
	}
	return 6
}

// hex4 returns the value of the four hex digits at the start of b, or -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return -1
		}
	}
	return r
}

func utf16IsSurrogate(r rune) bool { return r >= 0xd800 && r < 0xe000 }
