package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/order"
)

// maskOrder drops each piece of patient identity, in results too, and leaves the
// order it was given alone.
func TestMaskOrder(t *testing.T) {
	o := &order.Order{ID: "ord-1", Placer: "P1",
		Patient:  order.Patient{Identifiers: []order.Identifier{{Value: "MRN-SECRET", System: "HOSP"}}, Family: "Secretfamily", Given: "Secretgiven", BirthDate: "1911-11-11", Sex: "female"},
		Coverage: []order.Coverage{{Payer: "AETNA01", MemberID: "MEMBER-SECRET"}},
		Results: []order.Result{{ID: "r1", Text: "Patient Secretfamily: normal", Presented: []order.Attachment{{ContentType: "application/pdf", Title: "Secretfamily report", Data: []byte("%PDF SECRET")}},
			Observations: []order.Observation{{Code: "IMP", ValueType: "TX", Value: "Secretfamily has a headache"}, {Code: "SIZE", ValueType: "NM", Value: "12"}}}},
		Procedure: order.Procedure{CPT: "70553"}}
	before, _ := json.Marshal(o)
	b, err := json.Marshal(maskOrder(o))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"SECRET", "Secret", "1911", "UERG"} { // UERG: base64 of the PDF
		if strings.Contains(string(b), s) {
			t.Errorf("masked order shows %q: %s", s, b)
		}
	}
	for _, s := range []string{`"cpt":"70553"`, `"value":"12"`, `"sex":"female"`, `"system":"HOSP"`, `"payer":"AETNA01"`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("masked order lost %s: %s", s, b)
		}
	}
	if after, _ := json.Marshal(o); string(after) != string(before) {
		t.Error("maskOrder changed its argument")
	}
}
