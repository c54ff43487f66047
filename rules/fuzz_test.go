package rules_test

import (
	"strings"
	"testing"
	"time"
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

// FuzzCheck_Verdicts puts arbitrary values into the fields the verdicts read (the
// setting, the timing, the procedure's text and modality, the coverage dates, the
// performing facility) with a configuration that uses every rule. Properties: Check
// never panics, the verdict is consistent, ready_to_schedule has its four reasons, and
// every text stays valid UTF-8 without line breaks.
func FuzzCheck_Verdicts(f *testing.F) {
	f.Add("71271", ".", "E", "UC", "ER", int64(3600), "S", "whole body", "CT", "2026-01-01", "2020-13-40", "1245319599")
	f.Add("78607", "F32.9", "B", "", "", int64(-1), "", "", "NM", "", "", "")
	f.Add("", "Z12.2", "urgent-care", "uch", "OPIMG", int64(1<<40), "A", "x", "PT", "garbage", "", "1")
	c, err := rules.NewWith(rules.Config{
		HospitalFacilities: []string{"HOSP_A"},
		SettingCodes:       []rules.SettingCode{{Field: "PV1-18", Code: "UCH", Setting: order.ClassHospitalUrgentCare}},
		Payers:             []rules.PayerProfile{ppoNoAuth, dxaPlan, {ID: "BH", Match: rules.Match{PayerID: "ACME"}, BehavioralHealthDx: []string{"R41.81"}}},
		NetworksFile:       "n.csv",
	}, rules.Deps{ReadFile: func(string) ([]byte, error) { return []byte(networksCSV), nil }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, cpt, dx, class, patientType, locationCode string, requestedAfter int64, priority, bodySite, modality, covStart, covEnd, npi string) {
		o := completeOrder()
		o.Procedure = order.Procedure{Code: cpt, System: "CPT", BodySite: bodySite, Modality: modality}
		o.Diagnoses = []order.Diagnosis{{Code: dx, System: "I10"}}
		o.EncounterClass = order.EncounterClass(class)
		o.Setting = order.Setting{PatientType: patientType, LocationCode: locationCode, Facility: "HOSP_A"}
		o.Requested = o.Authored.Add(time.Duration(requestedAfter) * time.Second)
		o.Priority, _ = order.ParsePriority(priority)
		o.Coverage[0].Start, o.Coverage[0].End = covStart, covEnd
		o.Performer.NPI = npi
		c.Check(o, checkTime)
		a := o.Authorization
		if a.Exempt && !a.Required || a.RecordsRequired && a.Exempt || a.Undetermined && a.Required {
			t.Fatalf("inconsistent authorization %+v", a)
		}
		if len(o.ReadyToSchedule.Reasons) != 4 {
			t.Fatalf("reasons %q", o.ReadyToSchedule.Reasons)
		}
		texts := append([]string{a.Reason}, o.ReadyToSchedule.Reasons...)
		for _, f := range o.Findings {
			texts = append(texts, f.Text)
		}
		for _, s := range texts {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n") {
				t.Fatalf("bad text %q", s)
			}
		}
	})
}
