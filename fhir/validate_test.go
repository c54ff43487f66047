package fhir

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/radbridge/radbridge/internal/jsontext"
)

func newTestGate(t testing.TB) *gate {
	t.Helper()
	g, err := newGate()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGate_Check_Expressions pins the mapping of google/fhir v0.7.4 findings to
// FHIRPath expressions and issue codes.
func TestGate_Check_Expressions(t *testing.T) {
	g := newTestGate(t)
	const sr = `"resourceType":"ServiceRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"}`
	for _, tc := range []struct {
		name, body, want, expr, code string
		status                       int
	}{
		{"valid", `{` + sr + `}`, "ServiceRequest", "", "", 0},
		{"missing required", `{"resourceType":"ServiceRequest","status":"active","subject":{"reference":"Patient/1"}}`, "", "ServiceRequest.intent", "required", 422},
		{"unknown element", `{` + sr + `,"colour":"red"}`, "", "ServiceRequest.colour", "structure", 422},
		{"enum in contained", `{` + sr + `,"contained":[{"resourceType":"Patient","id":"p","gender":"x"}]}`, "", "ServiceRequest.contained[0].gender", "code-invalid", 422},
		{"required in bundle entry", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"ServiceRequest","intent":"order","subject":{"reference":"Patient/1"}},"request":{"method":"POST","url":"ServiceRequest"}}]}`, "Bundle", "Bundle.entry[0].resource.status", "required", 422},
		{"enum in bundle entry", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{` + strings.Replace(sr, `"active"`, `"zz"`, 1) + `},"request":{"method":"POST","url":"ServiceRequest"}}]}`, "Bundle", "Bundle.entry[0].resource.status", "code-invalid", 422},
		{"primitive format", `{` + sr + `,"authoredOn":"yesterday"}`, "", "ServiceRequest.authoredOn", "value", 422},
		{"choice type twice", `{` + sr + `,"occurrenceDateTime":"2026","occurrencePeriod":{"start":"2026"}}`, "", "ServiceRequest", "value", 422},
		{"escaped duplicate key", `{` + sr + `,"st\u0061tus":"draft"}`, "", "ServiceRequest.status", "structure", 422},
		{"large number", `{` + sr + `,"quantityQuantity":{"value":1e400}}`, "", "ServiceRequest", "structure", 422},
		{"unknown type", `{"resourceType":"Foo"}`, "", "Foo", "structure", 422},
		{"type mismatch", `{` + sr + `}`, "Patient", "resourceType", "invalid", 400},
		{"syntax", `{"resourceType":"ServiceRequest",}`, "", "", "structure", 400},
		{"NUL in a string", `{` + sr + `,"note":[{"text":"a\u0000b"}]}`, "", "ServiceRequest.note[0].text", "value", 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, e := g.check([]byte(tc.body), tc.want)
			if tc.status == 0 {
				if e != nil {
					t.Fatalf("check = %+v, want valid", e.Issues)
				}
				return
			}
			if e == nil || e.Status != tc.status {
				t.Fatalf("check = %+v, want status %d", e, tc.status)
			}
			for _, is := range e.Issues {
				if is.Expression == tc.expr && is.Code == tc.code {
					return
				}
			}
			t.Fatalf("issues %+v: none at %q with code %s", e.Issues, tc.expr, tc.code)
		})
	}
}

func TestFHIRPath(t *testing.T) {
	for in, want := range map[string]string{
		"ServiceRequest.status":                              "ServiceRequest.status",
		"Bundle.entry[3].resource.ServiceRequest.status":     "Bundle.entry[3].resource.status",
		"Bundle.entry[0].resource.serviceRequest":            "Bundle.entry[0].resource",
		"ServiceRequest.contained[1].Patient.name[0].family": "ServiceRequest.contained[1].name[0].family",
		"Bundle.entry[0].response.outcome.OperationOutcome":  "Bundle.entry[0].response.outcome",
	} {
		if got := fhirPath(in); got != want {
			t.Errorf("fhirPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScan(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		syntax   string // substring of the *syntaxError, "" for none
		issue    string // "path: substring" of a scan issue, "" for none
	}{
		{"ok", `{"a":[1,-2.5e+3,true,false,null,"x\u00e9\n"],"b":{"c":"d"}}`, "", ""},
		{"empty", ``, "empty input", ""},
		{"trailing data", `{"a":1} x`, "after the top-level value", ""},
		{"leading zero", `{"a":01}`, "line 1, column 7 (byte offset 6)", ""},
		{"bad exponent", `{"a":1e}`, "exponent", ""},
		{"control char", "{\"a\":\"x\ty\"}", "control character 0x09", ""},
		{"bad unicode escape", `{"a":"\u12G4"}`, `invalid \u escape`, ""},
		{"invalid utf-8", "{\"a\":\"\xff\"}", "invalid UTF-8", ""},
		{"single quotes", `{'a':1}`, "property name in double quotes", ""},
		{"second line", "{\n  \"a\": tru\n}", "line 2, column 8", ""},
		{"too deep", strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1), "nesting deeper", ""},
		{"eof", `{"a":[1,`, "unexpected end of input", ""},
		{"empty string", `{"a":[{"b":""}]}`, "", "a[0].b: empty string"},
		{"empty object", `{"a":{}}`, "", "a: empty object"},
		{"empty array", `{"a":{"b":[]}}`, "", "a.b: empty array"},
		{"null property", `{"a":null}`, "", "a: null"},
		{"null in array ok", `{"a":["x",null]}`, "", ""},
		{"duplicate", `{"a":1,"b":2,"a":3}`, "", "a: more than once"},
		{"escaped duplicate", `{"ab":1,"a\u0062":2}`, "", "ab: more than once"},
		{"not an object", `[1]`, "", ": must be a JSON object"},
		{"escaped NUL", `{"a":"x\u0000y"}`, "", `a: control character \u0000`},
		{"escaped BEL in an array", `{"a":["ok","\u0007"]}`, "", "a[1]: control character"},
		{"backspace", `{"a":{"b":"\b"}}`, "", `a.b: control character \b`},
		{"form feed", `{"a":"\f"}`, "", `a: control character \f`},
		{"tab, CR, LF", `{"a":"\t\r\n\u0009\u000A\u000d"}`, "", ""},
		{"escaped backslash before u0000", `{"a":"\\u0000"}`, "", ""},
		{"surrogate pair", `{"a":"\ud834\udd1e"}`, "", ""},
		{"lone high surrogate", `{"a":"\ud834x"}`, "", `a: unpaired surrogate \ud834`},
		{"high surrogate twice", `{"a":"\ud834\ud834\udd1e"}`, "", `a: unpaired surrogate \ud834`},
		{"lone low surrogate", `{"a":"\udd1e"}`, "", "a: unpaired surrogate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, issues, err := scan([]byte(tc.in))
			switch {
			case tc.syntax != "":
				if err == nil || !strings.Contains(err.Error(), tc.syntax) {
					t.Fatalf("scan(%q) error = %v, want %q", tc.in, err, tc.syntax)
				}
				return
			case err != nil:
				t.Fatalf("scan(%q) error = %v", tc.in, err)
			case tc.issue == "" && len(issues) > 0:
				t.Fatalf("scan(%q) issues = %+v, want none", tc.in, issues)
			case tc.issue == "":
				return
			}
			path, msg, _ := strings.Cut(tc.issue, ": ")
			for _, is := range issues {
				if is.Path == path && strings.Contains(is.Msg, msg) {
					return
				}
			}
			t.Fatalf("scan(%q) issues = %+v, want %q", tc.in, issues, tc.issue)
		})
	}
}

// TestScan_ManyKeys: duplicate detection in a huge object stays fast (map fallback).
func TestScan_ManyKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Basic"`)
	for i := range 200000 {
		b.WriteString(`,"k` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `":1`)
	}
	b.WriteString(`}`)
	_, issues, err := scan([]byte(b.String()))
	if err != nil || len(issues) != maxScanIssues {
		t.Fatalf("scan: err %v, %d issues, want %d (capped)", err, len(issues), maxScanIssues)
	}
}

// FuzzScan: no panics, and scan accepts exactly the valid UTF-8 JSON that
// encoding/json accepts (up to the nesting limit).
func FuzzScan(f *testing.F) {
	for _, dir := range []string{"../testdata/fhir/*.json", "../testdata/fhir/invalid/*.json"} {
		files, _ := filepath.Glob(dir)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"a":"\ud800"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, err := scan(b)
		valid := json.Valid(b) && utf8.Valid(b)
		if err == nil && !json.Valid(b) {
			t.Fatalf("scan accepted invalid JSON %q", b)
		}
		if err != nil && valid && !strings.Contains(err.Msg, "nesting") {
			t.Fatalf("scan rejected valid JSON %q: %v", b, err)
		}
		// A string it says holds no text is one jsontext.ReplaceControls changes.
		_, issues, _ := scan(b)
		for _, is := range issues {
			if strings.Contains(is.Msg, "in a string") && bytes.Equal(jsontext.ReplaceControls(b), b) {
				t.Fatalf("scan(%q): %s at %s, which ReplaceControls would keep", b, is.Msg, is.Path)
			}
		}
	})
}

// TestGate_Concurrent validates from many goroutines (run with -race): the
// google/fhir unmarshaller is shared by all requests of a Handler.
func TestGate_Concurrent(t *testing.T) {
	g := newTestGate(t)
	good, err := os.ReadFile("../testdata/fhir/radbridge__servicerequest-ct-head.json")
	if err != nil {
		t.Fatal(err)
	}
	bad := []byte(strings.Replace(string(good), `"intent": "order"`, `"intent": "wish"`, 1))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				if _, e := g.check(good, "ServiceRequest"); e != nil {
					t.Errorf("good: %+v", e.Issues)
				}
				if _, e := g.check(bad, "ServiceRequest"); e == nil || e.Status != http.StatusUnprocessableEntity || e.Issues[0].Expression != "ServiceRequest.intent" {
					t.Errorf("bad: %+v", e)
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkValidateServiceRequest measures the whole gate (scan, bindings,
// google/fhir R4 unmarshal and validation) on 2 KB radiology orders: the conformance
// CT order, and the MRI order radbridge bench fhir posts, with four contained resources.
func BenchmarkValidateServiceRequest(b *testing.B) {
	for _, name := range []string{"ct-head", "bench"} {
		b.Run(name, func(b *testing.B) {
			g := newTestGate(b)
			data, err := os.ReadFile("../testdata/fhir/radbridge__servicerequest-" + name + ".json")
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, e := g.check(data, "ServiceRequest"); e != nil {
					b.Fatal(e.Issues)
				}
			}
		})
	}
}

// BenchmarkScan measures the first stage alone.
func BenchmarkScan(b *testing.B) {
	data, err := os.ReadFile("../testdata/fhir/radbridge__servicerequest-ct-head.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, issues, err := scan(data); err != nil || len(issues) > 0 {
			b.Fatal(err, issues)
		}
	}
}
