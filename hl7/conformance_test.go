package hl7_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/radbridge/radbridge/hl7"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sampleResult is what the golden file records of each message in a sample.
type sampleResult struct {
	Type      string `json:"type,omitempty"`
	Version   string `json:"version,omitempty"`
	ControlID string `json:"control_id,omitempty"`
	Segments  int    `json:"segments,omitempty"`
	Error     string `json:"error,omitempty"` // location and cause of a ParseError
}

const goldenPath = "../testdata/conformance/hl7v2.golden.json"

// sampleFiles returns the HL7 v2 samples: those copied into testdata, and those of the
// shared conformance corpus when RADBRIDGE_CONFORMANCE_DIR names it (make conformance).
func sampleFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	dirs := []string{"../testdata/hl7v2"}
	if d := os.Getenv("RADBRIDGE_CONFORMANCE_DIR"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "hl7v2")); err == nil {
			dirs = append(dirs, filepath.Join(d, "hl7v2"))
		} else {
			t.Logf("conformance: %s not present, using testdata only", d)
		}
	}
	for _, d := range dirs {
		paths, err := filepath.Glob(filepath.Join(d, "*.hl7"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if _, seen := files[filepath.Base(p)]; !seen {
				files[filepath.Base(p)] = p
			}
		}
	}
	return files
}

func readSample(t *testing.T, path string) []sampleResult {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []sampleResult
	sc := hl7.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		raw := bytes.Clone(sc.Bytes())
		m, err := hl7.Parse(raw)
		if err != nil {
			var pe *hl7.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %T is not a *ParseError: %v", err, err)
			}
			kind, _, _ := strings.Cut(pe.Err.Error(), ":") // the cause without its explanation
			out = append(out, sampleResult{Error: pe.Location().String() + ": " + kind})
			continue
		}
		h := m.Header()
		out = append(out, sampleResult{Type: h.MessageType(), Version: h.Version, ControlID: h.ControlID, Segments: len(m.Segments())})
		checkRoundTrip(t, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scanning: %v", err)
	}
	return out
}

// checkRoundTrip asserts that encoding a parsed message and parsing it again gives the
// same message.
func checkRoundTrip(t *testing.T, m *hl7.Message) {
	t.Helper()
	enc := hl7.AppendMessage(nil, m)
	m2, err := hl7.Parse(enc)
	if err != nil {
		t.Fatalf("re-parsing the encoded message: %v", err)
	}
	if diff := cmp.Diff(segmentTexts(m), segmentTexts(m2)); diff != "" || m.Delimiters() != m2.Delimiters() {
		t.Fatalf("parse(encode(parse(x))) differs (-first +second):\n%s", diff)
	}
	if enc2 := hl7.AppendMessage(nil, m2); !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not stable:\n%q\n%q", enc, enc2)
	}
}

func segmentTexts(m *hl7.Message) []string {
	var out []string
	for _, s := range m.Segments() {
		out = append(out, string(s.Bytes()))
	}
	return out
}

// TestConformance_HL7v2 parses every public sample: each message either parses with the
// type, version and control ID recorded in the golden file, or fails with a ParseError
// naming where; nothing panics; parse -> encode -> parse is the identity.
func TestConformance_HL7v2(t *testing.T) {
	want := map[string][]sampleResult{}
	if b, err := os.ReadFile(goldenPath); err == nil {
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s: %v", goldenPath, err)
		}
	} else if !*update {
		t.Fatal(err)
	}
	files := sampleFiles(t)
	got := map[string][]sampleResult{}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			got[name] = readSample(t, files[name])
			if len(got[name]) == 0 {
				t.Fatal("no message found")
			}
			w, ok := want[name]
			if !ok {
				t.Logf("conformance: %s has no golden entry; parsed as %+v", name, got[name])
				return
			}
			if diff := cmp.Diff(w, got[name]); diff != "" && !*update {
				t.Errorf("%s (-golden +got):\n%s", name, diff)
			}
		})
	}
	if *update {
		for k, v := range want {
			if _, ok := got[k]; !ok {
				got[k] = v // keep entries for samples not present in this run
			}
		}
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(goldenPath, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEncode_SameBytes checks that a well-formed message encodes to exactly its input.
func TestEncode_SameBytes(t *testing.T) {
	for _, name := range []string{"radbridge__oru_r01_radiology.hl7", "nhapi__LegacyPipeParserORMO01Tests_MessageORMSample.hl7", "python-hl7__samples_sample_hl7.hl7"} {
		raw, err := os.ReadFile(filepath.Join("../testdata/hl7v2", name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := hl7.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimRight(raw, "\r")
		got := bytes.TrimRight(hl7.AppendMessage(nil, m), "\r")
		if !bytes.Equal(got, want) {
			t.Errorf("%s: AppendMessage differs from the input:\n%q\n%q", name, got, want)
		}
	}
}
