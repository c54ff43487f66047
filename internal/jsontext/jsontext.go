// Package jsontext reads and edits JSON text (RFC 8259,
// https://www.rfc-editor.org/rfc/rfc8259) without decoding it into Go values, so that
// what it does not touch survives byte for byte: numbers as written (1.50 stays 1.50,
// 12345678901234567890 stays whole), strings with their escapes, and the order of
// members. The FHIR side of radbridge stores resources as clients sent them and edits
// only the elements the server owns (id, meta, status, references between the entries
// of a transaction); decoding into any and encoding again would change the rest.
//
//   - [Compact] checks a document as [encoding/json.Valid] does, drops insignificant
//     whitespace as [encoding/json.Compact] does, and records where each top-level
//     member of the object is, in one pass. [Object] and [Member] read the result.
//   - [AppendName], [AppendMember], [Object.AppendMembers],
//     [Object.AppendMembersExcept] and [Object.AppendSet] splice members into an object
//     being appended: replaced, inserted or dropped, the others copied as they are.
//     [Member.Object] reads a nested object (such as a resource's meta) the same way.
//   - [RewriteReferences] replaces the values of members named "reference" at any
//     depth and keeps every other byte, whitespace included.
//   - [SkipSpace], [SkipValue] and [Unquote] are the steps for walking valid text by
//     hand.
//
// Member names are matched as encoding/json decodes them into a map: exactly, after
// unescaping. A name that occurs twice is two members; the last one is the one a decoder
// keeps ([Object.Last]).
//
// Everything here is pure and safe for concurrent use; results may share memory with
// the inputs, as each function's comment says.
//
// # Caveats
//
//   - Strings are checked as encoding/json checks them: any byte from 0x20 up is
//     accepted, invalid UTF-8 included, and decodes to U+FFFD.
//   - Nesting deeper than [MaxDepth] is refused, valid or not.
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
// encoding/json filled is, or text [Compact] accepted: SkipValue does not check it.
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
	if isPlain(q) {
		return string(q[1 : len(q)-1])
	}
	var s string
	_ = json.Unmarshal(q, &s)
	return s
}

// isPlain reports whether the quoted JSON string q decodes to the bytes between its
// quotes: it holds no escape and is valid UTF-8.
func isPlain(q []byte) bool {
	v := q[1 : len(q)-1]
	return bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v)
}

// isName reports whether the quoted JSON string q decodes to name. It does not
// allocate when q is plain.
func isName(q []byte, name string) bool {
	if isPlain(q) {
		return string(q[1:len(q)-1]) == name
	}
	return Unquote(q) == name
}
