package rules_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

// checkTime is the fixed clock of the tests.
var checkTime = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// completeOrder is an outpatient brain MRI (70553) that passes every check: the placer
// sent an authorization number, so no finding at all. Modality and body site are left
// for the code table to fill. Synthetic data, no PHI.
func completeOrder() *order.Order {
	return &order.Order{
		Source:         order.Source{Kind: order.SourceV2, SendingFacility: "HOSP_A"},
		Placer:         "PL1001",
		Patient:        order.Patient{Identifiers: []order.Identifier{{Value: "MRN123", Type: "MR"}}, Family: "Doe", Given: "Jane", BirthDate: "1970-01-01", Sex: "female"},
		EncounterClass: order.ClassOutpatient,
		Provider:       order.Provider{NPI: "1234567893", Family: "Smith", Given: "Anna"},
		Procedure:      order.Procedure{Code: "70553", System: "CPT", Text: "MRI brain w/o and w contrast"},
		Diagnoses:      []order.Diagnosis{{Code: "R51.9", System: "I10", Text: "Headache"}},
		Reason:         "Persistent headache",
		Priority:       order.PriorityRoutine,
		Authored:       checkTime.Add(-time.Hour),
		Signature:      order.Signature{Mode: "EL", Signer: "Smith, Anna", Time: checkTime.Add(-time.Hour), Present: true},
		Coverage:       []order.Coverage{{Payer: "ACME", Plan: "ACME-HMO", PlanType: "HMO", MemberID: "M1"}},
		Authorization:  order.Authorization{Number: "AUTH-77"},
		Status:         order.StatusReceived,
	}
}

// pendingOrder is completeOrder without the authorization number.
func pendingOrder() *order.Order {
	o := completeOrder()
	o.Authorization = order.Authorization{}
	return o
}

func newChecker(tb testing.TB, cfg rules.Config) *rules.Checker {
	tb.Helper()
	c, err := rules.New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return c
}

// want is what a test asserts about a finding: everything but the text, plus a
// fragment the text must contain.
type want struct {
	Code     string
	Severity order.Severity
	Location string
	FHIRPath string
	// TextHas must appear in the finding's text ("" checks only that there is text).
	TextHas string
}

// ruleCase is one table case of a rule test: change a complete order, expect findings.
type ruleCase struct {
	name   string
	mutate func(o *order.Order)
	want   []want
}

// runRuleCases checks each case's order and compares the findings, in order, with
// want; preauth findings are left out unless the case expects one.
func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	c := newChecker(t, rules.Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := completeOrder()
			tc.mutate(o)
			c.Check(o, checkTime)
			assertFindings(t, o.Findings, tc.want)
		})
	}
}

func assertFindings(t *testing.T, got []order.Finding, wants []want) {
	t.Helper()
	keepPreauth := false
	for _, w := range wants {
		if strings.HasPrefix(w.Code, "preauth.") {
			keepPreauth = true
		}
	}
	var gotW []want
	var texts []string
	for _, f := range got {
		if !keepPreauth && strings.HasPrefix(f.Code, "preauth.") {
			continue
		}
		gotW = append(gotW, want{Code: f.Code, Severity: f.Severity, Location: f.Location, FHIRPath: f.FHIRPath})
		texts = append(texts, f.Text)
	}
	if diff := cmp.Diff(wants, gotW, cmp.Comparer(func(a, b want) bool {
		return a.Code == b.Code && a.Severity == b.Severity && a.Location == b.Location && a.FHIRPath == b.FHIRPath
	})); diff != "" {
		t.Fatalf("findings mismatch (-want +got):\n%s\ntexts: %q", diff, texts)
	}
	for i, w := range wants {
		if texts[i] == "" {
			t.Errorf("finding %s has no text", w.Code)
		}
		if !strings.Contains(texts[i], w.TextHas) {
			t.Errorf("finding %s text = %q, want it to contain %q", w.Code, texts[i], w.TextHas)
		}
	}
}
