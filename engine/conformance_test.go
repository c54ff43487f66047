package engine_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/store"
)

// orderSamples returns the ORM/OMI/OML samples: the copies in testdata, and the shared
// corpus when RADBRIDGE_CONFORMANCE_DIR names it.
func orderSamples(t *testing.T) map[string]string {
	t.Helper()
	dirs := []string{"../testdata/hl7v2"}
	if d := os.Getenv("RADBRIDGE_CONFORMANCE_DIR"); d != "" {
		dirs = append(dirs, filepath.Join(d, "hl7v2"))
	}
	out := map[string]string{}
	for _, dir := range dirs {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.hl7"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			m, err := hl7.Parse(b)
			if err != nil {
				continue
			}
			switch m.Header().MessageType() {
			case "ORM^O01", "OMI^O23", "OML^O21":
				out[filepath.Base(p)] = p
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d order samples", len(out))
	}
	return out
}

// first returns the first non-empty first component among the paths.
func first(m *hl7.Message, paths ...string) string {
	for _, p := range paths {
		if v := strings.TrimSpace(m.Get(p)); v != "" {
			return v
		}
	}
	return ""
}

// TestConformance_OrderSamples: every ORM/OMI/OML sample is accepted (AA or AE: stored)
// into an order whose placer number, procedure code, ordering provider and patient ID are
// those the message carries, read here straight from the message fields. A cancellation
// of an order never received is the one exception: it is answered AE 204 and creates
// nothing.
func TestConformance_OrderSamples(t *testing.T) {
	for name, path := range orderSamples(t) {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Several samples are training messages (MSH-11 T): a test system accepts them.
			f := enginetest.New(t, enginetest.Options{Engine: engine.Config{ProcessingIDs: []string{"P", "T", "D"}}})
			ack := f.Send(t, bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\r")), []byte("\n"), []byte("\r")))
			m, err := hl7.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			// Senders that ask for enhanced mode (MSH-15/16) get the commit codes: CA for a
			// message stored, with or without errors.
			code := ack.Get("MSA-1")
			enhanced := code == "CA" || code == "CR"
			if m.Get("ORC-1") == "CA" {
				issues := hl7.ReadIssues(ack)
				if (enhanced && code != "CA" || !enhanced && code != "AE") || len(issues) == 0 || issues[len(issues)-1].Code != hl7.CodeUnknownKey {
					t.Fatalf("cancel of an unknown order: ACK %q, want AE 204", ack.Bytes())
				}
				return
			}
			if code != "AA" && code != "AE" && code != "CA" {
				t.Fatalf("MSA-1 = %q, want AA, AE or CA: %q", code, ack.Bytes())
			}
			orders := f.Orders(t, store.OrderQuery{})
			if len(orders) == 0 {
				t.Fatalf("no order stored; ACK %q", ack.Bytes())
			}
			o := orders[len(orders)-1] // the first order of the message
			if want := first(m, "ORC-2", "OBR-2"); o.Placer != want {
				t.Errorf("placer = %q, want %q", o.Placer, want)
			}
			if want := first(m, "OBR-4"); want != "" && o.Procedure.Code != want {
				t.Errorf("procedure code = %q, want %q", o.Procedure.Code, want)
			}
			if want := first(m, "ORC-12", "OBR-16"); want != "" && o.Provider.NPI != want && o.Provider.ID != want {
				t.Errorf("provider = %+v, want ID %q", o.Provider, want)
			}
			if want := first(m, "PID-3"); want != "" && (len(o.Patient.Identifiers) == 0 || o.Patient.Identifiers[0].Value != want) {
				t.Errorf("patient identifiers = %+v, want first %q", o.Patient.Identifiers, want)
			}
		})
	}
}
