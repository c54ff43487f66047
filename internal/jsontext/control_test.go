package jsontext

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReplaceControls(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":"plain","n":[1,2.50,true,null]}`, `{"a":"plain","n":[1,2.50,true,null]}`},
		{`{"a":"nul\u0000here"}`, `{"a":"nul\ufffdhere"}`},
		{`{"a":"\u001F\u001f\u0007\b\f"}`, `{"a":"\ufffd\ufffd\ufffd\ufffd\ufffd"}`},
		{`{"a":"tab\t lf\n cr\r \u0009\u000a\u000D"}`, `{"a":"tab\t lf\n cr\r \u0009\u000a\u000D"}`},
		{`{"a":"\\u0000 is text"}`, `{"a":"\\u0000 is text"}`}, // an escaped backslash, then text
		{`{"a":"\\\u0000"}`, `{"a":"\\\ufffd"}`},
		{`{"a":"pair \ud834\udd1e lone \ud834 \udd1e x\ud834\u0041"}`, `{"a":"pair \ud834\udd1e lone \ufffd \ufffd x\ufffd\u0041"}`},
		{"{\"a\":\"caf\xe9 \xff\"}", `{"a":"caf\ufffd \ufffd"}`},
		{`{"a":"é ☃ 𝄞 \u00e9 \u2028 \u003c"}`, `{"a":"é ☃ 𝄞 \u00e9 \u2028 \u003c"}`},
		{`{"k\u0000":1}`, `{"k\ufffd":1}`},
		{`"\u0000"`, `"\ufffd"`},
	} {
		got := ReplaceControls([]byte(tc.in))
		if string(got) != tc.want {
			t.Errorf("ReplaceControls(%s) = %s, want %s", tc.in, got, tc.want)
		}
		checkReplaceControls(t, []byte(tc.in))
	}
	for _, in := range jsonCases {
		checkReplaceControls(t, []byte(in))
	}
}

// checkReplaceControls checks ReplaceControls against decoding: the result decodes to
// the tokens of the input with every character below U+0020 but tab, LF and CR replaced
// by U+FFFD (decoding already makes U+FFFD of the rest), holds no other change, and is
// the input itself when nothing needed replacing.
func checkReplaceControls(t *testing.T, in []byte) {
	if !json.Valid(in) {
		return
	}
	got := ReplaceControls(in)
	want, err := tokens(in)
	if err != nil {
		t.Fatal(err)
	}
	for i, tok := range want {
		if s, ok := tok.(string); ok {
			want[i] = strings.Map(func(r rune) rune {
				if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
					return '\ufffd'
				}
				return r
			}, s)
		}
	}
	have, err := tokens(got)
	if err != nil {
		t.Fatalf("ReplaceControls(%q) = %q, not JSON: %v", in, got, err)
	}
	if len(have) != len(want) {
		t.Fatalf("ReplaceControls(%q) = %q: %d tokens, want %d", in, got, len(have), len(want))
	}
	for i := range want {
		if have[i] != want[i] {
			t.Fatalf("ReplaceControls(%q) = %q: token %d is %q, want %q", in, got, i, have[i], want[i])
		}
	}
	if bytes.Equal(got, in) != (&got[0] == &in[0]) {
		t.Errorf("ReplaceControls(%q) returned a copy of an input it did not change", in)
	}
}

func tokens(b []byte) ([]json.Token, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []json.Token
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, tok)
	}
}
