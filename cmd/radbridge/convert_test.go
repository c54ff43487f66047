package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
)

func runConvert(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cmdConvert(args, &out, &errb)
	return code, out.String(), errb.String()
}

// bundleTypes returns the resource types of a Bundle's entries, after checking the
// Bundle with the google/fhir/go R4 validating unmarshaller.
func bundleTypes(t *testing.T, line string) []string {
	t.Helper()
	u, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.UnmarshalR4([]byte(line)); err != nil {
		t.Errorf("Bundle does not validate: %v", err)
	}
	var b struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(line), &b); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, line)
	}
	if b.ResourceType != "Bundle" || b.Type != "transaction" {
		t.Errorf("output is a %s of type %q, want a transaction Bundle", b.ResourceType, b.Type)
	}
	var types []string
	for _, e := range b.Entry {
		types = append(types, e.Resource.ResourceType)
	}
	return types
}

func TestConvert_Usage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{name: "no file", args: nil},
		{name: "unknown flag", args: []string{"--bogus", "x.hl7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, stderr := runConvert(t, tc.args...); code != 2 || !strings.Contains(stderr, "usage") {
				t.Errorf("convert %v = exit %d, stderr %q; want 2 and the usage", tc.args, code, stderr)
			}
		})
	}
}

func TestConvert_Messages(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		contains []string // resource types the Bundle must hold
	}{
		{name: "ORM^O01 signed", file: "../../testdata/mapping/fhir/orm_o01_signed_ct.hl7",
			contains: []string{"Patient", "Encounter", "Practitioner", "Coverage", "Condition", "ServiceRequest", "Provenance"}},
		{name: "OMI^O23 two orders", file: "../../testdata/mapping/fhir/omi_o23_two_orders.hl7",
			contains: []string{"Patient", "ServiceRequest"}},
		{name: "ORU^R01", file: "../../testdata/mapping/fhir/oru_r01_corrected.hl7",
			contains: []string{"Patient", "ServiceRequest", "DiagnosticReport", "Observation"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runConvert(t, tc.file)
			if code != 0 {
				t.Fatalf("convert %s = exit %d, stderr:\n%s", tc.file, code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if len(lines) != 1 {
				t.Fatalf("convert %s wrote %d lines, want one Bundle", tc.file, len(lines))
			}
			types := strings.Join(bundleTypes(t, lines[0]), " ")
			for _, want := range tc.contains {
				if !strings.Contains(types, want) {
					t.Errorf("convert %s: Bundle holds %s, want a %s", tc.file, types, want)
				}
			}
		})
	}
}

func TestConvert_ManyMessagesAndIndent(t *testing.T) {
	a, err := os.ReadFile("../../testdata/mapping/fhir/orm_o01_signed_ct.hl7")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../testdata/mapping/fhir/oru_r01_corrected.hl7")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "two.hl7")
	if err := os.WriteFile(path, append(append(a, '\n'), b...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runConvert(t, path)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want one Bundle per message", len(lines))
	}
	for _, l := range lines {
		bundleTypes(t, l)
	}
	code, stdout, _ = runConvert(t, "--indent", path)
	dec := json.NewDecoder(strings.NewReader(stdout))
	n := 0
	for dec.More() {
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if code != 0 || n != 2 || !strings.Contains(stdout, "\n  \"entry\"") {
		t.Errorf("--indent: exit %d, %d documents, want 0 and 2 indented", code, n)
	}
}

func TestConvert_Failures(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	orm, err := os.ReadFile("../../testdata/mapping/fhir/orm_o01_cancel_local.hl7")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		file    string
		lines   int    // Bundles still written
		stderr  string // in the diagnostics
		wantErr bool
	}{
		{name: "missing file", file: filepath.Join(dir, "nope.hl7"), stderr: "no such file"},
		{name: "empty file", file: write("empty.hl7", ""), stderr: "no HL7 v2 message"},
		{name: "not HL7", file: write("junk.hl7", "hello world\n"), stderr: "message 1"},
		{name: "ADT", file: write("adt.hl7", "MSH|^~\\&|A|B|C|D|20260101||ADT^A01|X1|P|2.5.1\rPID|1||1\r"),
			stderr: "ADT^A01 not converted"},
		{name: "one good, one bad", file: write("mixed.hl7", string(orm)+"MSH|^~\\&|A|B|C|D|20260101||ORM^O01|X2|P|2.3\rPID|1||1\r"),
			lines: 1, stderr: "message 2 (X2)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runConvert(t, tc.file)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if got := strings.Count(stdout, "\n"); got != tc.lines {
				t.Errorf("wrote %d Bundles, want %d", got, tc.lines)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.stderr)
			}
		})
	}
}
