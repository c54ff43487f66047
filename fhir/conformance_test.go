package fhir_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/radbridge/radbridge/fhir"
)

// sharedFHIR is the FHIR part of the team's conformance corpus
// ($RADBRIDGE_CONFORMANCE_DIR, as make conformance sets it, or ../shared/conformance
// beside the repository); files with unclear licences are read from there, never
// copied.
func sharedFHIR() string {
	if d := os.Getenv("RADBRIDGE_CONFORMANCE_DIR"); d != "" {
		return filepath.Join(d, "fhir")
	}
	return filepath.Join("..", "..", "shared", "conformance", "fhir")
}

// corpus lists the FHIR fixtures: testdata/fhir (always) and the shared ServiceRequest,
// DiagnosticReport and Bundle files that are not copied (when the directory exists).
func corpus(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "fhir", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata/fhir: %v", err)
	}
	shared, _ := filepath.Glob(filepath.Join(sharedFHIR(), "*.json"))
	for _, f := range shared {
		base := filepath.Base(f)
		if strings.HasPrefix(base, "ch-lab-order__") || strings.HasPrefix(base, "hl7au-") {
			files = append(files, f)
		}
	}
	if len(shared) == 0 {
		t.Logf("%s absent: shared-only fixtures skipped", sharedFHIR())
	}
	return files
}

// stripServerFields removes what the server assigns (id, meta) for a comparison.
func stripServerFields(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	delete(m, "id")
	delete(m, "meta")
	return m
}

// postAndReadBack POSTs one resource to its type endpoint and reads it back.
func postAndReadBack(t *testing.T, s *testServer, res []byte) {
	t.Helper()
	var hdr struct{ ResourceType string }
	if err := json.Unmarshal(res, &hdr); err != nil {
		t.Fatal(err)
	}
	r := s.do(t, http.MethodPost, "/fhir/"+hdr.ResourceType, res)
	if r.status != http.StatusCreated {
		t.Fatalf("POST %s = %d: %s", hdr.ResourceType, r.status, r.body)
	}
	loc := r.header.Get("Location")
	path := loc[strings.Index(loc, "/fhir/"):strings.Index(loc, "/_history/")]
	g := s.do(t, http.MethodGet, path, nil)
	if g.status != http.StatusOK {
		t.Fatalf("GET %s = %d: %s", path, g.status, g.body)
	}
	if diff := cmp.Diff(stripServerFields(t, res), stripServerFields(t, g.body)); diff != "" {
		t.Errorf("read back %s differs from what was posted (-posted +read):\n%s", path, diff)
	}
}

// TestHandler_Conformance posts every ServiceRequest and DiagnosticReport of the
// corpus (the entries of collection Bundles one by one) and reads each back; the
// transaction Bundles go to POST /fhir.
func TestHandler_Conformance(t *testing.T) {
	for _, f := range corpus(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s := newTestServer(t, fhir.Config{})
			b := readFile(t, f)
			var doc struct {
				ResourceType string
				Type         string
				Entry        []struct{ Resource json.RawMessage }
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			switch {
			case doc.ResourceType == "Bundle" && doc.Type == "transaction":
				r := s.do(t, http.MethodPost, "/fhir", b)
				tr := wantTransactionResponse(t, r, len(doc.Entry))
				for i, e := range tr.Entry {
					if e.Response.Status != "201 Created" || e.Response.Etag != `W/"1"` {
						t.Errorf("entry %d: response %+v, want 201 Created with etag", i, e.Response)
					}
				}
			case doc.ResourceType == "Bundle":
				for _, e := range doc.Entry {
					postAndReadBack(t, s, e.Resource)
				}
			default:
				postAndReadBack(t, s, b)
			}
		})
	}
}

// TestHandler_InvalidFixtures sends every testdata/fhir/invalid case and checks the
// status, the expression and diagnostics, and that the Backend never saw it.
func TestHandler_InvalidFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "fhir", "invalid", "*.json"))
	if len(files) == 0 {
		t.Fatal("no invalid fixtures")
	}
	s := newTestServer(t, fhir.Config{})
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			method, path, status, expr, diag := readWant(t, strings.TrimSuffix(f, ".json")+".want")
			r := s.do(t, method, path, readFile(t, f))
			wantOutcome(t, r, status, expr, diag)
		})
	}
	if n := s.be.calls.Load(); n != 0 {
		t.Errorf("backend called %d times for invalid input, want 0", n)
	}
}

// readWant parses a .want file: "METHOD PATH", "STATUS EXPRESSION", [diagnostics].
func readWant(t *testing.T, path string) (method, url string, status int, expr, diag string) {
	t.Helper()
	b := bytes.ReplaceAll(readFile(t, path), []byte("\r\n"), []byte("\n"))
	sc := bufio.NewScanner(bytes.NewReader(b))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 2 {
		t.Fatalf("%s: want two or three lines", path)
	}
	method, url, _ = strings.Cut(lines[0], " ")
	st, expr, _ := strings.Cut(lines[1], " ")
	status, err := strconv.Atoi(st)
	if err != nil {
		t.Fatalf("%s: bad status %q", path, st)
	}
	if len(lines) > 2 {
		diag = lines[2]
	}
	return method, url, status, expr, diag
}

// TestHandler_SharedBadJSON posts the fhir-test-cases invalid JSON (read from the
// shared corpus only: its licence is unclear) and expects 400 with the position.
func TestHandler_SharedBadJSON(t *testing.T) {
	for _, tc := range []struct{ file, pos string }{
		{"fhir-test-cases__bad-json-close-1.json", "line 15, column 11"},
		{"fhir-test-cases__bad-json-close-3.json", "line 16, column 9"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(sharedFHIR(), tc.file))
			if err != nil {
				t.Skipf("shared corpus absent: %v", err)
			}
			s := newTestServer(t, fhir.Config{})
			wantOutcome(t, s.do(t, http.MethodPost, "/fhir", b), http.StatusBadRequest, "-", tc.pos)
			wantOutcome(t, s.do(t, http.MethodPost, "/fhir/ServiceRequest", b), http.StatusBadRequest, "-", "byte offset")
			if n := s.be.calls.Load(); n != 0 {
				t.Errorf("backend called %d times", n)
			}
		})
	}
}
