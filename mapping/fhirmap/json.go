package fhirmap

import (
	"strings"

	"github.com/radbridge/radbridge/internal/jsontext"
)

// resourceType reads the resourceType of a JSON resource as decoding it into a struct
// with a resourceType string field would (encoding/json): the last top-level member
// named resourceType, matched exactly or without case, with a string value. It walks
// the text without decoding it, so raw must be valid JSON, as a json.RawMessage that
// encoding/json filled is; it returns "" for anything but an object.
func resourceType(raw []byte) string {
	i := jsontext.SkipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ""
	}
	typ := ""
	for i = jsontext.SkipSpace(raw, i+1); i < len(raw) && raw[i] == '"'; {
		keyEnd := jsontext.SkipValue(raw, i)
		key := raw[i:keyEnd]
		i = jsontext.SkipSpace(raw, jsontext.SkipSpace(raw, keyEnd)+1) // past ':'
		end := jsontext.SkipValue(raw, i)
		if i < len(raw) && raw[i] == '"' && isName(key, "resourceType") {
			typ = jsontext.Unquote(raw[i:end])
		}
		i = jsontext.SkipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = jsontext.SkipSpace(raw, i+1)
		}
	}
	return typ
}

// isName reports whether the quoted JSON string key names a struct field name the way
// encoding/json matches it: exactly, else without case.
func isName(key []byte, name string) bool {
	k := jsontext.Unquote(key)
	return k == name || strings.EqualFold(k, name)
}
