// Package jsontext reads and edits JSON text (RFC 8259,
// https://www.rfc-editor.org/rfc/rfc8259) without decoding it into Go values, so that
// what it does not touch survives byte for byte: numbers as written, strings with their
// escapes, and the order of members. The FHIR side of radbridge stores resources as
// clients sent them and edits only the elements the server owns; decoding into any and
// encoding again would change the rest.
//
// [SkipSpace], [SkipValue] and [Unquote] are the steps for walking valid text by hand.
// Everything here is pure and safe for concurrent use.
package jsontext

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// SkipSpace returns the index of the first byte at or after i that is not JSON
// whitespace, or len(b).
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// SkipValue returns the end of the JSON value (string, number, literal, object or
// array) that starts at b[i]. The text must be valid JSON, as a json.RawMessage that
// encoding/json filled is: SkipValue does not check it.
func SkipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
			continue
		case '}', ']':
			depth--
		default:
			if depth == 0 {
				for i < len(b) && !scalarEnd(b[i]) {
					i++
				}
				return i
			}
			continue
		}
		if depth == 0 {
			return i + 1
		}
	}
	return i
}

// scalarEnd reports whether c ends a number or literal.
func scalarEnd(c byte) bool {
	switch c {
	case ',', ':', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// Unquote returns the value of a valid quoted JSON string as encoding/json decodes it
// (invalid UTF-8 replaced by U+FFFD).
func Unquote(q []byte) string {
	if bytes.IndexByte(q, '\\') < 0 && utf8.Valid(q) {
		return string(q[1 : len(q)-1])
	}
	var s string
	_ = json.Unmarshal(q, &s)
	return s
}
