package jsontext

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testRefs = map[string]string{
	"urn:uuid:1":         "Patient/pat-1",
	"urn:uuid:2":         "Practitioner/pra-2",
	"ServiceRequest/old": "ServiceRequest/ord-9",
	"é":                  `Quote"d/<&>` + "\u2028",
	"":                   "Empty/1",
}

func TestRewriteReferences(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "nested and in arrays",
			in:   `{"subject":{"reference":"urn:uuid:1"},"performer":[{"reference":"urn:uuid:2","display":"Dr"},{"reference":"urn:uuid:3"}]}`,
			want: `{"subject":{"reference":"Patient/pat-1"},"performer":[{"reference":"Practitioner/pra-2","display":"Dr"},{"reference":"urn:uuid:3"}]}`},
		{name: "everything else kept",
			in: "{ \"n\" : 1.50, \"big\":12345678901234567890 ,\"e\":1E+2,\n\t\"s\":\"\\u00e9\\/\",\r\n" +
				" \"basedOn\" : [ { \"reference\" : \"ServiceRequest/old\" } ] }",
			want: "{ \"n\" : 1.50, \"big\":12345678901234567890 ,\"e\":1E+2,\n\t\"s\":\"\\u00e9\\/\",\r\n" +
				" \"basedOn\" : [ { \"reference\" : \"ServiceRequest/ord-9\" } ] }"},
		{name: "escaped name and value",
			in:   `{"refer\u0065nce":"urn:uuid:\u0031","x":{"reference":"\u00e9"}}`,
			want: `{"refer\u0065nce":"Patient/pat-1","x":{"reference":"Quote\"d/\u003c\u0026\u003e\u2028"}}`},
		{name: "only string values of reference members",
			in:   `{"reference":{"reference":"urn:uuid:1"},"references":"urn:uuid:1","Reference":"urn:uuid:1","r":["urn:uuid:1"],"reference2":"urn:uuid:1"}`,
			want: `{"reference":{"reference":"Patient/pat-1"},"references":"urn:uuid:1","Reference":"urn:uuid:1","r":["urn:uuid:1"],"reference2":"urn:uuid:1"}`},
		{name: "not after a reference name",
			in:   `{"reference":["urn:uuid:1"],"a":"urn:uuid:1","reference":1,"b":["urn:uuid:1",{"c":"urn:uuid:1"}]}`,
			want: `{"reference":["urn:uuid:1"],"a":"urn:uuid:1","reference":1,"b":["urn:uuid:1",{"c":"urn:uuid:1"}]}`},
		{name: "duplicates", in: `{"reference":"urn:uuid:1","reference":"urn:uuid:2"}`,
			want: `{"reference":"Patient/pat-1","reference":"Practitioner/pra-2"}`},
		{name: "empty value", in: `{"reference":""}`, want: `{"reference":"Empty/1"}`},
		{name: "not an object", in: ` [ {"reference":"urn:uuid:1"} , "urn:uuid:1" ] `, want: ` [ {"reference":"Patient/pat-1"} , "urn:uuid:1" ] `},
		{name: "scalar", in: ` "urn:uuid:1" `, want: ` "urn:uuid:1" `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RewriteReferences([]byte(tc.in), testRefs)
			if err != nil || string(got) != tc.want {
				t.Errorf("RewriteReferences(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
}

// Nothing to replace returns the input itself.
func TestRewriteReferences_Unchanged(t *testing.T) {
	in := []byte(`{"subject":{"reference":"Patient/1"}, "n":1.50}`)
	for _, refs := range []map[string]string{nil, {}, testRefs} {
		got, err := RewriteReferences(in, refs)
		if err != nil || len(got) != len(in) || &got[0] != &in[0] {
			t.Errorf("RewriteReferences(%s, %v) = %s, %v; want the input itself", in, refs, got, err)
		}
	}
}

func FuzzRewriteReferences(f *testing.F) {
	for _, in := range jsonCases {
		f.Add([]byte(in), "urn:uuid:1", "Patient/x")
	}
	f.Add([]byte(`{"a":[{"reference":"k"},{"reference":"\u006b","n":-0.0e-0}],"reference":"k"}`), "k", "<\u2028\xff>")
	f.Fuzz(func(t *testing.T, in []byte, from, to string) {
		refs := map[string]string{from: to}
		for k, v := range testRefs {
			refs[k] = v
		}
		checkRewrite(t, in, refs)
	})
}

// checkRewrite checks RewriteReferences against decoding (numbers kept as written),
// rewriting the decoded values and encoding them again: the two decode alike.
func checkRewrite(t *testing.T, in []byte, refs map[string]string) {
	got, err := RewriteReferences(in, refs)
	if valid := json.Valid(in); (err == nil) != valid {
		t.Fatalf("RewriteReferences(%q) error = %v, want valid %v", in, err, valid)
	}
	if err != nil {
		if !errors.As(err, new(*SyntaxError)) {
			t.Errorf("RewriteReferences(%q) error = %v, want a *SyntaxError", in, err)
		}
		return
	}
	encoded, err := json.Marshal(rewriteByDecode(decodeNumbers(t, in), refs))
	if err != nil {
		t.Fatal(err)
	}
	want := decodeNumbers(t, encoded)
	if diff := cmp.Diff(want, decodeNumbers(t, got)); diff != "" {
		t.Errorf("RewriteReferences(%q) = %q (-decode and rewrite +got):\n%s", in, got, diff)
	}
	if same, _ := RewriteReferences(in, nil); !bytes.Equal(same, in) {
		t.Errorf("RewriteReferences(%q, nil) = %q", in, same)
	}
}

// decodeNumbers decodes one JSON value with json.Number for numbers, so that two
// decodings are equal only if their numbers are written alike.
func decodeNumbers(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("decoding %q: more than one value (%v)", b, err)
	}
	return v
}

// rewriteByDecode is RewriteReferences on decoded values.
func rewriteByDecode(v any, refs map[string]string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if s, ok := val.(string); ok && k == "reference" {
				if to, ok := refs[s]; ok {
					t[k] = to
				}
				continue
			}
			rewriteByDecode(val, refs)
		}
	case []any:
		for _, val := range t {
			rewriteByDecode(val, refs)
		}
	}
	return v
}
