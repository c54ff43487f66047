package fhir_test

import (
	"encoding/json"
	"testing"

	"github.com/radbridge/radbridge/fhir"
)

func TestSkipJSONValue(t *testing.T) {
	for _, v := range []string{`"a\"b\\"`, `12.5e-3`, `true`, `null`, `{}`, `[]`,
		`{"a":[1,{"b":"}]"}],"c":null}`, `[ 1 , "x" , { "y" : [ ] } ]`, `"é\u00e9"`} {
		for _, tail := range []string{"", ",", " ,", "}", "]", ":", "\n"} {
			b := []byte(v + tail)
			if got := fhir.SkipJSONValue(b, 0); got != len(v) {
				t.Errorf("SkipJSONValue(%q) = %d, want %d", b, got, len(v))
			}
		}
	}
	if got := fhir.SkipJSONSpace([]byte(" \t\r\n x"), 0); got != 5 {
		t.Errorf("SkipJSONSpace = %d, want 5", got)
	}
}

// UnquoteJSON decodes as encoding/json does, invalid UTF-8 included.
func TestUnquoteJSON(t *testing.T) {
	for _, q := range []string{`""`, `"plain"`, `"a\nb\u00e9\\"`, "\"bad \xff byte\"", `"\ud83d\ude00"`} {
		var want string
		if err := json.Unmarshal([]byte(q), &want); err != nil {
			t.Fatal(err)
		}
		if got := fhir.UnquoteJSON([]byte(q)); got != want {
			t.Errorf("UnquoteJSON(%q) = %q, want %q", q, got, want)
		}
	}
}
