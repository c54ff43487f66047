package fhirserver_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/store"
)

// controlsIn returns the characters below U+0020 other than tab, CR and LF in the
// strings of a JSON document.
func controlsIn(t *testing.T, doc []byte) []rune {
	t.Helper()
	var out []rune
	dec := json.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if s, ok := tok.(string); ok {
			for _, r := range s {
				if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// An HL7 v2 order and result may carry NUL and other control characters; the FHIR
// resources rendered from them (ServiceRequest, Task, DiagnosticReport) carry U+FFFD in
// their place, where they once carried \u0000.
func TestFHIR_V2ControlCharacters(t *testing.T) {
	f := newFixture(t, nil)
	srv := fhirServer(t, f)
	orm := enginetest.RadiologyORM("NUL1", "PNUL", func(s string) string {
		s = strings.Replace(s, "70553^MRI BRAIN W/WO^C4", "70553^MRI\x00BRAIN\x07W/WO^C4", 1)
		return strings.Replace(s, "DOE^JANE", "DOE\x00^JANE", 1)
	})
	if ack := f.Send(t, orm); ack.Get("MSA-1") != "AA" {
		t.Fatalf("ORM: %q", ack.Bytes())
	}
	o := f.Orders(t, store.OrderQuery{Placer: "PNUL"})
	if len(o) != 1 || !strings.Contains(o[0].Procedure.Text, "\x00") {
		t.Fatalf("orders %+v, want one keeping the NUL of OBR-4.2 as it came", o)
	}
	oru := enginetest.CR("MSH|^~\\&|RIS|RAD|EHR|HOSP_A|2026||ORU^R01|NUL2|P|2.5.1\nPID|1||MRN55\n" +
		"OBR|1|PNUL^EHR||70553^MRI^C4|||||||||||||||||||||F\nOBX|1|TX|18782-3^Report^LN||No\x00acute\x1bfinding.||||||F")
	if ack := f.Send(t, oru); ack.Get("MSA-1") != "AA" {
		t.Fatalf("ORU: %q", ack.Bytes())
	}
	for _, path := range []string{"/fhir/ServiceRequest/" + o[0].ID, "/fhir/Task/" + o[0].ID + "-task", "/fhir/DiagnosticReport/" + o[0].ID + "-r1",
		"/fhir/ServiceRequest?identifier=PNUL", "/fhir/DiagnosticReport?based-on=ServiceRequest/" + o[0].ID} {
		r := f.Do(t, "GET", srv.URL+path, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
		}
		if c := controlsIn(t, r.Raw); len(c) > 0 || bytes.Contains(r.Raw, []byte(`\u0000`)) {
			t.Errorf("GET %s holds control characters %q: %s", path, c, r.Raw)
		}
		if !strings.Contains(string(r.Raw), `\ufffd`) {
			t.Errorf("GET %s: no U+FFFD where the control characters were: %s", path, r.Raw)
		}
	}
}

// A FHIR client cannot store a control character: the gate refuses it with 422 at the
// element, and nothing is stored.
func TestFHIR_ControlCharacterRefused(t *testing.T) {
	f := newFixture(t, nil)
	srv := fhirServer(t, f)
	body := bytes.Replace(enginetest.MRIRequest("APP-NUL"), []byte(`"family":"Doe"`), []byte(`"family":"Do\u0000e"`), 1)
	r := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", body)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("POST with \\u0000: %d %s, want 422", r.Status, r.Raw)
	}
	if is := firstIssue(t, r); is["expression"].([]any)[0] != "ServiceRequest.contained[0].name[0].family" {
		t.Errorf("issue %v, want it at the family name", is)
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 0 {
		t.Errorf("%d orders stored, want none", n)
	}
}
