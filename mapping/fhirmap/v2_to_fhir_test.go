package fhirmap

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
)

// TestV2ToBundle_Golden converts each testdata/mapping/fhir/*.hl7 and compares with the
// goldens beside it: NAME.bundle.json (V2ToBundle), for orders NAME.servicerequest.N.json
// (ServiceRequestJSON of order N, accepted) and NAME.task.N.json (ToTask), for results
// NAME.oru.hl7 (mapping.BuildORU of each result, segments on lines of their own).
// go test ./mapping/fhirmap -update rewrites them; review the diff by eye.
func TestV2ToBundle_Golden(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(fhirGoldenDir, "*.hl7"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no inputs in %s (%v)", fhirGoldenDir, err)
	}
	for _, p := range paths {
		if strings.HasSuffix(p, ".oru.hl7") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(p), ".hl7")
		t.Run(name, func(t *testing.T) {
			m, ok := parseV2(t, p)
			if !ok {
				t.Fatal("does not parse")
			}
			doc, issues := V2ToBundle(m)
			if doc == nil {
				t.Fatalf("V2ToBundle = nil, %v", issues)
			}
			checkFHIR(t, name, doc)
			base := filepath.Join(fhirGoldenDir, name)
			golden(t, base+".bundle.json", prettyJSON(t, doc))
			if m.Header().Type == "ORU" {
				golden(t, base+".oru.hl7", rebuildORU(t, m))
				return
			}
			vs, _ := mapping.FromV2(m)
			for i, v := range vs {
				o := v.Order.Clone()
				if err := o.ApplyControl(v.Control, time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC), "msg-1"); err != nil {
					t.Logf("order %d: %v (kept new)", i, err)
				}
				o.ID = "ord-" + strconv.Itoa(i+1)
				sr, err := ServiceRequestJSON(o)
				if err != nil {
					t.Fatal(err)
				}
				checkFHIR(t, name+" ServiceRequest", sr)
				golden(t, base+".servicerequest."+strconv.Itoa(i+1)+".json", prettyJSON(t, sr))
				task, err := json.Marshal(ToTask(o))
				if err != nil {
					t.Fatal(err)
				}
				checkFHIR(t, name+" Task", task)
				golden(t, base+".task."+strconv.Itoa(i+1)+".json", prettyJSON(t, task))
			}
		})
	}
}

// resultOrder is the order an ORU result belongs to, as the engine would hold it: built
// here from the ORU's own numbers and patient identifiers.
func resultOrder(m *hl7.Message, r mapping.V2Result) *order.Order {
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

// rebuildORU builds an ORU^R01 of every result of m, one message after the other, with
// LF for CR so that the golden reads well.
func rebuildORU(t *testing.T, m *hl7.Message) []byte {
	rs, _ := mapping.ResultsFromV2(m)
	var out []byte
	for i, r := range rs {
		msg := mapping.BuildORU(resultOrder(m, r), r.Result, mapping.ORUOptions{SendingApp: "RADBRIDGE", SendingFacility: "RB",
			ControlID: "RB-" + strconv.Itoa(i+1), Time: time.Date(2026, 3, 12, 21, 10, 0, 0, time.UTC)})
		out = append(out, bytes.ReplaceAll(msg, []byte("\r"), []byte("\n"))...)
	}
	return out
}

// TestV2ToBundle_Samples converts every order and result message among the samples
// (testdata/hl7v2, testdata/mapping, and the conformance corpus when
// RADBRIDGE_CONFORMANCE_DIR is set) and checks each Bundle and each of its resources
// with the google/fhir/go R4 validating unmarshaller and the empty/placeholder scan.
func TestV2ToBundle_Samples(t *testing.T) {
	if os.Getenv("RADBRIDGE_CONFORMANCE_DIR") == "" {
		t.Log("RADBRIDGE_CONFORMANCE_DIR not set: the conformance corpus is skipped")
	}
	n := 0
	for _, p := range v2SamplePaths(t) {
		m, ok := parseV2(t, p)
		if !ok {
			continue
		}
		typ := m.Header().Type
		switch typ {
		case "ORM", "OMI", "OML", "ORU":
		default:
			if doc, issues := V2ToBundle(m); doc != nil || len(issues) == 0 {
				t.Errorf("%s: V2ToBundle of a %s = %d bytes, %v; want nil and an issue", filepath.Base(p), typ, len(doc), issues)
			}
			continue
		}
		doc, issues := V2ToBundle(m)
		var want int
		if typ == "ORU" {
			rs, _ := mapping.ResultsFromV2(m)
			want = len(rs)
		} else {
			vs, _ := mapping.FromV2(m)
			want = len(vs)
		}
		if (doc != nil) != (want > 0) {
			t.Errorf("%s: V2ToBundle = %d bytes for %d orders/results (%v)", filepath.Base(p), len(doc), want, issues)
			continue
		}
		if doc != nil {
			checkFHIR(t, filepath.Base(p), doc)
			n++
		}
	}
	t.Logf("%d messages converted and validated", n)
}

// TestFromFHIR_Golden maps each testdata/fhir/fhir-r4-spec__*.json (CC0 FHIR R4 examples) and compares the orders and issues
// with testdata/mapping/fhir/NAME.order.json.
func TestFromFHIR_Golden(t *testing.T) {
	paths, err := filepath.Glob("../../testdata/fhir/fhir-r4-spec__*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no FHIR inputs (%v)", err)
	}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			orders, issues := FromFHIR(b)
			out, err := json.MarshalIndent(struct {
				Orders []FHIROrder `json:"orders"`
				Issues []FHIRIssue `json:"issues"`
			}{orders, issues}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(fhirGoldenDir, name+".order.json"), append(out, '\n'))
		})
	}
}
