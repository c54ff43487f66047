package mapping

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// resourceType reads the resourceType of a JSON resource as decoding it into a struct
// with a resourceType string field would (encoding/json): the last top-level member
// named resourceType, matched exactly or without case, with a string value. It walks
// the text without decoding it, so raw must be valid JSON, as a json.RawMessage that
// encoding/json filled is; it returns "" for anything but an object.
func resourceType(raw []byte) string {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ""
	}
	typ := ""
	for i = skipSpace(raw, i+1); i < len(raw) && raw[i] == '"'; {
		keyEnd := skipValue(raw, i)
		key := raw[i:keyEnd]
		i = skipSpace(raw, skipSpace(raw, keyEnd)+1) // past ':'
		end := skipValue(raw, i)
		if i < len(raw) && raw[i] == '"' && isName(key, "resourceType") {
			typ = unquote(raw[i:end])
		}
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return typ
}

// isName reports whether the quoted JSON string key names a struct field name the way
// encoding/json matches it: exactly, else without case.
func isName(key []byte, name string) bool {
	k := unquote(key)
	return k == name || strings.EqualFold(k, name)
}

// unquote returns the value of a valid quoted JSON string (invalid UTF-8 replaced, as
// encoding/json does).
func unquote(q []byte) string {
	if bytes.IndexByte(q, '\\') < 0 && utf8.Valid(q) {
		return string(q[1 : len(q)-1])
	}
	var s string
	_ = json.Unmarshal(q, &s)
	return s
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value that starts at b[i].
func skipValue(b []byte, i int) int {
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
