package rules_test

import (
	"encoding/csv"
	"os"
	"testing"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

var (
	wantDxMissing = want{Code: rules.CodeDiagnosisMissing, Severity: order.SeverityError, Location: "DG1-3", FHIRPath: "ServiceRequest.reasonCode"}
)

func wantICD10Invalid(code string) want {
	return want{Code: rules.CodeICD10Invalid, Severity: order.SeverityError, Location: "DG1-3", FHIRPath: "ServiceRequest.reasonCode", TextHas: `"` + code + `"`}
}

func TestCheck_Diagnosis(t *testing.T) {
	dx := func(ds ...order.Diagnosis) func(*order.Order) {
		return func(o *order.Order) { o.Diagnoses = ds }
	}
	runRuleCases(t, []ruleCase{
		{name: "ICD-10-CM with dot", mutate: dx(order.Diagnosis{Code: "S06.0X0A", System: "ICD-10-CM"})},
		{name: "ICD-10-CM without dot", mutate: dx(order.Diagnosis{Code: "S060X0A", System: "http://hl7.org/fhir/sid/icd-10-cm"})},
		{name: "no system, well-formed", mutate: dx(order.Diagnosis{Code: "M54.50"})},
		{
			name:   "ICD-9 alongside ICD-10-CM",
			mutate: dx(order.Diagnosis{Code: "784.0", System: "I9"}, order.Diagnosis{Code: "R51.9", System: "I10"}),
		},
		{
			name:   "invalid ICD-10-CM",
			mutate: dx(order.Diagnosis{Code: "R5", System: "I10"}),
			want:   []want{wantICD10Invalid("R5")},
		},
		{
			name:   "invalid without system",
			mutate: dx(order.Diagnosis{Code: "22298006"}),
			want:   []want{wantICD10Invalid("22298006")},
		},
		{
			name: "one finding per invalid code, valid one kept",
			mutate: dx(order.Diagnosis{Code: "R51.", System: "I10"}, order.Diagnosis{Code: "R07.9", System: "I10"},
				order.Diagnosis{Code: "1R51", System: "I10"}),
			want: []want{wantICD10Invalid("R51."), wantICD10Invalid("1R51")},
		},
		{
			name:   "ICD-9-CM only",
			mutate: dx(order.Diagnosis{Code: "786.50", System: "I9C"}),
			want:   []want{{Code: rules.CodeICD10Missing, Severity: order.SeverityError, Location: "DG1-3", FHIRPath: "ServiceRequest.reasonCode", TextHas: `ICD-9-CM only (e.g. "786.50")`}},
		},
		{
			name:   "SNOMED CT only",
			mutate: dx(order.Diagnosis{Code: "25064002", System: "http://snomed.info/sct", Text: "Headache"}),
			want:   []want{{Code: rules.CodeICD10Missing, Severity: order.SeverityError, Location: "DG1-3", FHIRPath: "ServiceRequest.reasonCode", TextHas: "SNOMED CT only"}},
		},
		{
			name:   "other system named as sent",
			mutate: dx(order.Diagnosis{Code: "HA", System: "99LOCAL"}),
			want:   []want{{Code: rules.CodeICD10Missing, Severity: order.SeverityError, Location: "DG1-3", FHIRPath: "ServiceRequest.reasonCode", TextHas: `"99LOCAL"`}},
		},
		{
			name:   "no diagnoses",
			mutate: dx(),
			want:   []want{wantDxMissing},
		},
	})
}

// TestValidICD10CM_Samples reads the real codes of data/icd10-samples.csv: every one
// must be well-formed, with and without its dot.
func TestValidICD10CM_Samples(t *testing.T) {
	f, err := os.Open("data/icd10-samples.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 10 || recs[0][0] != "code" {
		t.Fatalf("icd10-samples.csv: unexpected shape: %d records, header %q", len(recs), recs[0])
	}
	for _, r := range recs[1:] {
		code := r[0]
		undotted := ""
		for i := 0; i < len(code); i++ {
			if code[i] != '.' {
				undotted += code[i : i+1]
			}
		}
		for _, c := range []string{code, undotted} {
			if !rules.ValidICD10CM(c) {
				t.Errorf("ValidICD10CM(%q) = false, want true (%s)", c, r[1])
			}
		}
	}
}

func TestValidICD10CM(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{code: "R51", want: true},
		{code: "U07.1", want: true},
		{code: "C4A.0", want: true},    // letter in the 3rd place (Merkel cell)
		{code: "Z3A.20", want: true},   // weeks of gestation
		{code: "T67.4XXA", want: true}, // placeholder X and 7th character
		{code: "T674XXA", want: true},
		{code: "s06.0x0a", want: true}, // case is not significant
		{code: "M54.5", want: true},
		{code: "", want: false},
		{code: "R5", want: false},
		{code: "R51.", want: false},
		{code: "R.51", want: false},
		{code: "RR1", want: false},
		{code: "1R51", want: false},
		{code: "786.50", want: false}, // ICD-9-CM
		{code: "R51.99999", want: false},
		{code: "R5199999", want: false},
		{code: "R51..9", want: false},
		{code: "R51.9.1", want: false},
		{code: "R51-9", want: false},
		{code: "R 51", want: false},
		{code: " R51", want: false},
		{code: "R51.9 ", want: false},
		{code: "R51.É", want: false},
		{code: "25064002", want: false}, // SNOMED CT
	}
	for _, tc := range tests {
		if got := rules.ValidICD10CM(tc.code); got != tc.want {
			t.Errorf("ValidICD10CM(%q) = %v, want %v", tc.code, got, tc.want)
		}
	}
}
