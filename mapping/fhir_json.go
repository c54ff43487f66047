package mapping

import (
	"strings"

	rbfhir "github.com/radbridge/radbridge/fhir" // JSON text helpers; fhir in this package is the samply models
)

// resourceType reads the resourceType of a JSON resource as decoding it into a struct
// with a resourceType string field would (encoding/json): the last top-level member
// named resourceType, matched exactly or without case, with a string value. It walks
// the text without decoding it, so raw must be valid JSON, as a json.RawMessage that
// encoding/json filled is; it returns "" for anything but an object.
func resourceType(raw []byte) string {
	i := rbfhir.SkipJSONSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ""
	}
	typ := ""
	for i = rbfhir.SkipJSONSpace(raw, i+1); i < len(raw) && raw[i] == '"'; {
		keyEnd := rbfhir.SkipJSONValue(raw, i)
		key := raw[i:keyEnd]
		i = rbfhir.SkipJSONSpace(raw, rbfhir.SkipJSONSpace(raw, keyEnd)+1) // past ':'
		end := rbfhir.SkipJSONValue(raw, i)
		if i < len(raw) && raw[i] == '"' && isName(key, "resourceType") {
			typ = rbfhir.UnquoteJSON(raw[i:end])
		}
		i = rbfhir.SkipJSONSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = rbfhir.SkipJSONSpace(raw, i+1)
		}
	}
	return typ
}

// isName reports whether the quoted JSON string key names a struct field name the way
// encoding/json matches it: exactly, else without case.
func isName(key []byte, name string) bool {
	k := rbfhir.UnquoteJSON(key)
	return k == name || strings.EqualFold(k, name)
}
