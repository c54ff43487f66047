package jsontext

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// jsonCases are inputs for Compact and RewriteReferences, valid and not.
var jsonCases = []string{
	`{}`, `[]`, `""`, `0`, `-0.5e+10`, `true`, `null`, ` { "a" : [ 1 , 2 , { } , [ ] ] } `,
	`{"resourceType":"ServiceRequest","id":"x","status":"active"}`,
	"{\n\t\"a\": \"line\\nbreak \\u00e9 \\\"q\\\" \\\\ \\/\",\r\n \"b\" : 1.25E-3 }",
	`{"k":"héllo ☃ 𝄞"}`, "{\"k\":\"\xff\"}", `{"a":{"b":{"c":[{"d":null}]}}}`,
	`{"a":1,"a":{"b":2},"\u0061":[3]}`, `{"n":1.50,"big":12345678901234567890,"e":1E+2}`,
	`{"subject":{"reference":"urn:uuid:1"},"x":[{"reference":"urn:uuid:1"},{"refer\u0065nce":"urn:uuid:2"}]}`,
	// Not valid.
	``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,"a":1}`, `[1,]`, `[,1]`, `{"a":1 "b":2}`,
	`{a:1}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":truex}`,
	`{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":"open}`, `{"a":1}}`, `{"a":1} x`, `[1]]`,
	`{"a":[}`, `{"a":{]}`, `"a" "b"`, `{"a":1}{"b":2}`, `{"a":nul}`, `{"a":+1}`,
}

func TestCompact_AsEncodingJSON(t *testing.T) {
	for _, in := range jsonCases {
		checkCompact(t, []byte(in))
	}
}

func FuzzCompact(f *testing.F) {
	for _, in := range jsonCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkCompact(t, in)
		checkReplaceControls(t, in)
	})
}

// checkCompact checks appendCompact and Compact against json.Valid, json.Compact and
// decoding.
func checkCompact(t *testing.T, in []byte) {
	got, err := appendCompact(nil, in, nil)
	if valid := json.Valid(in); (err == nil) != valid {
		t.Fatalf("appendCompact(%q) error = %v, want valid %v", in, err, valid)
	}
	obj, objErr := Compact(in)
	if err != nil {
		if !errors.As(objErr, new(*SyntaxError)) {
			t.Errorf("Compact(%q) error = %v, want a *SyntaxError", in, objErr)
		}
		return
	}
	var want bytes.Buffer
	if err := json.Compact(&want, in); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("appendCompact(%q) = %q, want %q", in, got, want.Bytes())
	}
	if got[0] != '{' {
		if objErr != ErrNotObject {
			t.Errorf("Compact(%q) error = %v, want ErrNotObject", in, objErr)
		}
		return
	}
	if objErr != nil || !bytes.Equal(obj.Bytes(), want.Bytes()) {
		t.Fatalf("Compact(%q) = %q, %v; want %q", in, obj.Bytes(), objErr, want.Bytes())
	}
	// The member spans rebuild the object, and agree with members.
	var b []byte
	for i, m := range slices.Collect(obj.Members()) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m.Bytes()...)
		if v := m.Value(); !json.Valid(v) || m.Bytes()[len(m.Bytes())-len(v)-1] != ':' {
			t.Errorf("Compact(%q): member %d value %q", in, i, v)
		}
		if !m.Is(m.Name()) {
			t.Errorf("Compact(%q): member %d is not named %q", in, i, m.Name())
		}
	}
	if s := "{" + string(b) + "}"; s != string(obj.Bytes()) {
		t.Errorf("Compact(%q) members rebuild %s, want %s", in, s, obj.Bytes())
	}
	if diff := cmp.Diff(members(obj.buf), obj.ms, cmpopts.EquateEmpty(), cmp.AllowUnexported(span{})); diff != "" {
		t.Errorf("Compact(%q) members (-walk +recorded):\n%s", in, diff)
	}
	checkMembersAsDecoder(t, in, obj)
}

// checkMembersAsDecoder checks the members' names and values against a token-by-token
// decoding of the object (which keeps duplicates and order), and Last against decoding
// into a map (which keeps the last of each name).
func checkMembersAsDecoder(t *testing.T, in []byte, obj Object) {
	type nameValue struct{ Name, Value string }
	var want []nameValue
	dec := json.NewDecoder(bytes.NewReader(in))
	if _, err := dec.Token(); err != nil { // '{'
		t.Fatal(err)
	}
	for dec.More() {
		name, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, raw); err != nil {
			t.Fatal(err)
		}
		want = append(want, nameValue{name.(string), c.String()})
	}
	var got []nameValue
	for m := range obj.Members() {
		got = append(got, nameValue{m.Name(), string(m.Value())})
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Compact(%q) members (-decoded +got):\n%s", in, diff)
	}
	var byName map[string]json.RawMessage
	if err := json.Unmarshal(in, &byName); err != nil {
		t.Fatal(err)
	}
	for name, raw := range byName {
		var c bytes.Buffer
		if err := json.Compact(&c, raw); err != nil {
			t.Fatal(err)
		}
		if m, ok := obj.Last(name); !ok || string(m.Value()) != c.String() {
			t.Errorf("Compact(%q).Last(%q) = %q, %v; want %q", in, name, m.Value(), ok, c.String())
		}
	}
	if m, ok := obj.Last("\x00 no such name"); ok {
		t.Errorf("Compact(%q).Last(no such name) = %q", in, m.Bytes())
	}
}

func TestCompact_Deep(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := appendCompact(nil, []byte(deep), nil); err != nil {
		t.Errorf("appendCompact(%d levels) = %v", MaxDepth, err)
	}
	deeper := "[" + deep + "]"
	if _, err := appendCompact(nil, []byte(deeper), nil); err == nil {
		t.Errorf("appendCompact(%d levels) succeeded, want an error", MaxDepth+1)
	}
	if _, err := RewriteReferences([]byte(deep), nil); err != nil {
		t.Errorf("RewriteReferences(%d levels) = %v", MaxDepth, err)
	}
	if _, err := RewriteReferences([]byte(deeper), nil); err == nil {
		t.Errorf("RewriteReferences(%d levels) succeeded, want an error", MaxDepth+1)
	}
}

func TestSyntaxError_Offset(t *testing.T) {
	for in, want := range map[string]int64{`{"a":1,}`: 7, `{"a" 1}`: 5, `{"a":1`: 6, `[1] x`: 4} {
		_, err := Compact([]byte(in))
		var se *SyntaxError
		if !errors.As(err, &se) || se.Offset != want {
			t.Errorf("Compact(%q) error = %v, want offset %d", in, err, want)
		}
		if _, err := RewriteReferences([]byte(in), nil); !errors.As(err, &se) || se.Offset != want {
			t.Errorf("RewriteReferences(%q) error = %v, want offset %d", in, err, want)
		}
	}
}
