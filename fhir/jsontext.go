package fhir

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// The engine and the mapping edit and read resources as JSON text without decoding
// them; these are the steps they share. Each expects valid JSON (as a json.RawMessage
// that encoding/json filled, or text the gate accepted).

// SkipJSONSpace returns the index of the first byte at or after i that is not JSON
// whitespace, or len(b).
func SkipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// SkipJSONValue returns the end of the valid JSON value (string, number, literal,
// object or array) that starts at b[i].
func SkipJSONValue(b []byte, i int) int {
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

// UnquoteJSON returns the value of a valid quoted JSON string as encoding/json decodes
// it (invalid UTF-8 replaced by U+FFFD).
func UnquoteJSON(q []byte) string {
	if bytes.IndexByte(q, '\\') < 0 && utf8.Valid(q) {
		return string(q[1 : len(q)-1])
	}
	var s string
	_ = json.Unmarshal(q, &s)
	return s
}
