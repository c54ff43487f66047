package jsontext_test

import (
	"encoding/json"
	"testing"

	"github.com/radbridge/radbridge/internal/jsontext"
)

func TestSkipValue(t *testing.T) {
	for _, v := range []string{`"a\"b\\"`, `12.5e-3`, `true`, `null`, `{}`, `[]`,
		`{"a":[1,{"b":"}]"}],"c":null}`, `[ 1 , "x" , { "y" : [ ] } ]`, `"é\u00e9"`} {
		for _, tail := range []string{"", ",", " ,", "}", "]", ":", "\n"} {
			b := []byte(v + tail)
			if got := jsontext.SkipValue(b, 0); got != len(v) {
				t.Errorf("SkipValue(%q) = %d, want %d", b, got, len(v))
			}
		}
	}
	if got := jsontext.SkipSpace([]byte(" \t\r\n x"), 0); got != 5 {
		t.Errorf("SkipSpace = %d, want 5", got)
	}
}

// Unquote decodes as encoding/json does, invalid UTF-8 included.
func TestUnquote(t *testing.T) {
	for _, q := range []string{`""`, `"plain"`, `"a\nb\u00e9\\"`, "\"bad \xff byte\"", `"\ud83d\ude00"`} {
		var want string
		if err := json.Unmarshal([]byte(q), &want); err != nil {
			t.Fatal(err)
		}
		if got := jsontext.Unquote([]byte(q)); got != want {
			t.Errorf("Unquote(%q) = %q, want %q", q, got, want)
		}
	}
}
