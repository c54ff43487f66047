package fhirmap

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
)

// update is -update: go test ./mapping/fhirmap -update rewrites the goldens.
var update = flag.Bool("update", false, "rewrite the golden files under testdata/mapping/fhir")

const fhirGoldenDir = "../../testdata/mapping/fhir"

// v2SamplePaths lists the HL7 v2 files the FHIR tests run on: testdata/mapping,
// testdata/hl7v2, and the shared conformance corpus when RADBRIDGE_CONFORMANCE_DIR
// names it.
func v2SamplePaths(tb testing.TB) []string {
	tb.Helper()
	var paths []string
	dirs := []string{"../../testdata/mapping", "../../testdata/hl7v2", fhirGoldenDir}
	if d := os.Getenv("RADBRIDGE_CONFORMANCE_DIR"); d != "" {
		dirs = append(dirs, filepath.Join(d, "hl7v2"))
	}
	for _, d := range dirs {
		p, err := filepath.Glob(filepath.Join(d, "*.hl7"))
		if err != nil {
			tb.Fatal(err)
		}
		paths = append(paths, p...)
	}
	return paths
}

// parseV2 reads and parses a message file; ok is false when it does not parse (the hl7
// tests cover those).
func parseV2(tb testing.TB, path string) (*hl7.Message, bool) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := hl7.Parse(b)
	return m, err == nil
}

// r4 is the google/fhir/go validating unmarshaller, built once (it is safe for
// concurrent use and costly to build).
var r4 = sync.OnceValues(func() (*jsonformat.Unmarshaller, error) {
	return jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
})

// checkFHIR validates a FHIR JSON document (and, for a Bundle, each entry's resource on
// its own) with the google/fhir/go R4 validating unmarshaller, and scans it for what the
// mapping must never write: empty objects, arrays and strings, nulls, and code or
// identifier systems that are not real URIs.
func checkFHIR(tb testing.TB, name string, doc []byte) {
	tb.Helper()
	u, err := r4()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := u.UnmarshalR4(doc); err != nil {
		tb.Errorf("%s: R4 validation: %v\n%s", name, err, doc)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	for _, p := range scanJSON(v, "") {
		tb.Errorf("%s: %s", name, p)
	}
	if m, ok := v.(map[string]any); ok && m["resourceType"] == "Bundle" {
		entries, _ := m["entry"].([]any)
		for i, e := range entries {
			res, err := json.Marshal(e.(map[string]any)["resource"])
			if err != nil {
				tb.Fatal(err)
			}
			if _, err := u.UnmarshalR4(res); err != nil {
				tb.Errorf("%s entry %d: R4 validation: %v", name, i, err)
			}
		}
	}
}

// scanJSON returns the problems found in a decoded JSON value.
func scanJSON(v any, path string) []string {
	var out []string
	switch x := v.(type) {
	case nil:
		out = append(out, path+": null")
	case string:
		if x == "" {
			out = append(out, path+`: ""`)
		}
		if strings.HasSuffix(path, ".system") && !realSystem(x) {
			out = append(out, fmt.Sprintf("%s: placeholder or invalid system %q", path, x))
		}
	case []any:
		if len(x) == 0 {
			out = append(out, path+": []")
		}
		for i, e := range x {
			out = append(out, scanJSON(e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case map[string]any:
		if len(x) == 0 {
			out = append(out, path+": {}")
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, scanJSON(x[k], path+"."+k)...)
		}
	}
	return out
}

// realSystem reports whether s is a system URI the mapping may write: http(s) with a
// host that is not an example or placeholder, a urn:oid: with a valid OID, or the
// ASTM/IETF URNs FHIR registers.
func realSystem(s string) bool {
	low := strings.ToLower(s)
	for _, bad := range []string{"example", "placeholder", "unknown", "todo", "local", "localhost", "radbridge"} {
		if strings.Contains(low, bad) {
			return false
		}
	}
	switch {
	case strings.HasPrefix(s, "urn:oid:"):
		return mapping.IsOID(s[len("urn:oid:"):])
	case s == systemSigType, s == systemRFC3986:
		return true
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		host, _, _ := strings.Cut(strings.SplitN(s, "//", 2)[1], "/")
		return strings.Contains(host, ".")
	}
	return false
}

// prettyJSON indents a JSON document for a golden file.
func prettyJSON(tb testing.TB, doc []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, doc, "", "  "); err != nil {
		tb.Fatalf("%v\n%s", err, doc)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// golden compares got with the golden file at path, or rewrites it with -update.
func golden(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test ./mapping/fhirmap -update to create it)", err)
	}
	want = bytes.ReplaceAll(want, []byte("\r\n"), []byte("\n"))
	if !bytes.Equal(want, got) {
		tb.Errorf("%s differs from the output (run go test ./mapping/fhirmap -run %s -update and review the diff)\ngot:\n%s",
			filepath.Base(path), tb.Name(), got)
	}
}
