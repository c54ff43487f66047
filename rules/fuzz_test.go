package rules_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

// FuzzCheck puts arbitrary values into the fields the rules read. Properties: Check
// never panics, every finding is complete, and texts stay short and valid UTF-8.
func FuzzCheck(f *testing.F) {
	f.Add("70553", "CPT", "R51.9", "I10", "1234567893", "MRN1", "ACME-PPO", "outpatient")
	f.Add("", "", "", "", "", "", "", "")
	f.Add("7055\x00", "LN", "786.50", "I9", "12345678\xff", " ", "kpnw", "E")
	f.Add("0042T", "C4", "S06.0X0A", "", "１234567893", "x", "ACME", "emergency")
	c := newChecker(f, rules.Config{Payers: []rules.PayerProfile{ppoNoAuth, dxaPlan}})
	f.Fuzz(func(t *testing.T, cpt, system, dx, dxSystem, npi, mrn, payer, class string) {
		o := completeOrder()
		o.Procedure = order.Procedure{Code: cpt, System: system}
		o.Diagnoses = []order.Diagnosis{{Code: dx, System: dxSystem}}
		o.Provider.NPI = npi
		o.Patient.Identifiers = []order.Identifier{{Value: mrn}}
		o.Coverage[0].Plan = payer
		o.EncounterClass = order.EncounterClass(class)
		c.Check(o, checkTime)
		for _, f := range o.Findings {
			if f.Code == "" || f.Severity == "" || f.Location == "" || f.FHIRPath == "" || f.Text == "" {
				t.Fatalf("incomplete finding %+v", f)
			}
			if len(f.Text) > 600 || !utf8.ValidString(f.Text) || strings.ContainsAny(f.Text, "\x00\r\n") {
				t.Fatalf("finding %s: bad text %q", f.Code, f.Text)
			}
		}
		v := c.Preauth(cpt, order.EncounterClass(class), payer)
		if v.Required && v.Exempt || v.RecordsRequired && !v.Required {
			t.Fatalf("inconsistent verdict %+v", v)
		}
	})
}
