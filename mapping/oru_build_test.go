package mapping

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
)

// v2SamplePaths lists the HL7 v2 files the round trip runs on: testdata/mapping (with
// its fhir directory), testdata/hl7v2, and the shared conformance corpus when
// RADBRIDGE_CONFORMANCE_DIR names it.
func v2SamplePaths(tb testing.TB) []string {
	tb.Helper()
	var paths []string
	dirs := []string{"../testdata/mapping", "../testdata/hl7v2", "../testdata/mapping/fhir"}
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

// resultOrder is the order an ORU result belongs to, as the engine would hold it: built
// here from the ORU's own numbers and patient identifiers.
func resultOrder(m *hl7.Message, r V2Result) *order.Order {
	h := m.Header()
	app, fac := h.ReceivingApp, h.ReceivingFacility // the order's sender receives its results
	app, _, _ = strings.Cut(app, "^")
	fac, _, _ = strings.Cut(fac, "^")
	return &order.Order{
		ID:        "ord-1",
		Source:    order.Source{Kind: order.SourceV2, SendingApp: app, SendingFacility: fac, Version: h.Version},
		Placer:    r.Placer,
		Filler:    r.Filler,
		Accession: r.Accession,
		Patient:   order.Patient{Identifiers: r.PatientIDs},
	}
}

// TestBuildORU_RoundTrip rebuilds every result of every ORU^R01 sample with BuildORU and
// reads the output back with ResultsFromV2: the result must come back unchanged. An
// observation sent without OBX-11 comes back with the result's status, which BuildORU
// writes there (OBX-11 is required); a result known by placer number and OBR
// occurrence ("PL1#2") comes back as occurrence 1.
func TestBuildORU_RoundTrip(t *testing.T) {
	n := 0
	for _, p := range v2SamplePaths(t) {
		m, ok := parseV2(t, p)
		if !ok || m.Header().Type != "ORU" {
			continue
		}
		name := filepath.Base(p)
		rs, _ := ResultsFromV2(m)
		for i, r := range rs {
			o := resultOrder(m, r)
			out := BuildORU(o, r.Result, ORUOptions{SendingApp: "RADBRIDGE", ControlID: "C1",
				Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
			back, err := hl7.Parse(out)
			if err != nil {
				t.Fatalf("%s result %d: BuildORU output does not parse: %v\n%s", name, i, err, out)
			}
			got, issues := ResultsFromV2(back)
			if len(got) != 1 {
				t.Fatalf("%s result %d: ResultsFromV2(BuildORU) = %d results, %v", name, i, len(got), issues)
			}
			want := r.Result
			if strings.Contains(want.ID, "#") {
				// A result without filler or accession number is known by its placer number
				// and OBR occurrence, which in the rebuilt message is 1.
				want.ID = want.ID[:strings.Index(want.ID, "#")] + "#1"
			}
			want.Observations = append([]order.Observation(nil), want.Observations...)
			for j := range want.Observations {
				if want.Observations[j].Status == "" {
					want.Observations[j].Status = resultStatusCode(want.Status)
				}
			}
			if diff := cmp.Diff(want, got[0].Result, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s result %d: ResultsFromV2(BuildORU(r)) (-want +got):\n%s\n%s", name, i, diff,
					strings.ReplaceAll(string(out), "\r", "\n"))
			}
			if got[0].Placer != r.Placer || got[0].Accession != r.Accession {
				t.Errorf("%s result %d: numbers %q/%q, want %q/%q", name, i, got[0].Placer, got[0].Accession,
					r.Placer, r.Accession)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no ORU samples")
	}
	t.Logf("%d results rebuilt", n)
}

// TestBuildORU_FHIRResult builds an ORU^R01 for a result that came in over FHIR: a text
// report and a PDF, no observations, an order placed over FHIR. The text goes into one FT
// OBX, the PDF into an ED OBX; both read back.
func TestBuildORU_FHIRResult(t *testing.T) {
	o := &order.Order{
		Source:    order.Source{Kind: order.SourceFHIR, FHIRSource: "https://app.example.org"},
		Placer:    "APP-77",
		Patient:   order.Patient{Identifiers: []order.Identifier{{Value: "M1", System: "urn:oid:1.2.3", Type: "MR"}}, Family: "Ünal", Given: "Ayşe"},
		Procedure: order.Procedure{Code: "70450", System: "http://www.ama-assn.org/go/cpt", Text: "CT head w/o contrast"},
	}
	r := order.Result{
		ID:          "DR-9",
		Status:      order.ResultFinal,
		Text:        "FINDINGS: normal | no bleed ^ & ~ \\ done.\n\nIMPRESSION: Normal.",
		Issued:      time.Date(2026, 4, 1, 9, 30, 15, 0, time.FixedZone("", -5*3600)),
		Presented:   []order.Attachment{{ContentType: "application/pdf", Title: "Report", Data: []byte("%PDF-1.4 test")}},
		Interpreter: order.Provider{ID: "R-12", IDSystem: "HOSP", Family: "O'Reader", Given: "Rae"},
	}
	out := BuildORU(o, r, ORUOptions{SendingApp: "RADBRIDGE", SendingFacility: "RB", ControlID: "X1"})
	m, err := hl7.Parse(out)
	if err != nil {
		t.Fatalf("does not parse: %v", err)
	}
	h := m.Header()
	if h.Version != "2.5.1" || h.Charset != "UNICODE UTF-8" || h.MessageType() != "ORU^R01" || h.ControlID != "X1" {
		t.Errorf("header = %+v; want v2.5.1, UTF-8, ORU^R01, X1", h)
	}
	rs, issues := ResultsFromV2(m)
	if len(rs) != 1 || len(issues) != 0 {
		t.Fatalf("ResultsFromV2 = %d results, %v", len(rs), issues)
	}
	got := rs[0]
	if got.Result.Text != r.Text || got.Result.Status != r.Status || !got.Result.Issued.Equal(r.Issued) ||
		got.Result.ID != r.ID || got.Result.Interpreter != r.Interpreter || got.Placer != "APP-77" {
		t.Errorf("read back %+v\nwant %+v", got.Result, r)
	}
	if diff := cmp.Diff(r.Presented, got.Result.Presented); diff != "" {
		t.Errorf("attachments (-want +got):\n%s", diff)
	}
	if p, _ := ResultsFromV2(m); p[0].PatientIDs[0] != (order.Identifier{Value: "M1", System: "urn:oid:1.2.3", Type: "MR"}) {
		t.Errorf("patient id = %+v", p[0].PatientIDs[0])
	}
}
