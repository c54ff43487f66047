package rules_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

// Example payer profiles of the tests.
var (
	// ppoNoAuth is a PPO plan that needs no prior authorization for CT or MRI (and so,
	// through the modality families, none for CTA or MRA either), except brain MRI.
	ppoNoAuth = rules.PayerProfile{ID: "ACME-PPO", Name: "Acme PPO", Rules: []rules.Override{
		{Modality: "CT", PriorAuth: rules.NotRequired},
		{Modality: "mr", PriorAuth: rules.NotRequired}, // alias of MRI
		{CPTRange: "70551-70555", PriorAuth: rules.Required, Note: "brain MRI stays managed"},
	}}
	// dxaPlan needs prior authorization for DXA (Kaiser NW 2024 evidence of coverage).
	dxaPlan = rules.PayerProfile{ID: "KPNW", Name: "Kaiser NW", Rules: []rules.Override{
		{CPT: "77080", PriorAuth: rules.Required, Note: "KP NW 2024 EOC"},
		{CPT: "77078", PriorAuth: rules.Required}, // DXA CT-based, not in the table
	}}
	// screeningFree exempts screening, requires records for all advanced imaging, and
	// uses ranges of different widths.
	screeningFree = rules.PayerProfile{ID: "SCREEN", Rules: []rules.Override{
		{Category: "screening", PriorAuth: rules.NotRequired},
		{Category: "advanced", PriorAuth: rules.RecordsRequired},
		{CPTRange: "70000-79999", PriorAuth: rules.Required},
		{CPTRange: "71000-71999", PriorAuth: rules.NotRequired},
		{Modality: "CTA", PriorAuth: rules.Required},
	}}
)

func TestPreauth(t *testing.T) {
	c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{ppoNoAuth, dxaPlan, screeningFree}})
	tests := []struct {
		name      string
		cpt       string
		class     order.EncounterClass
		payer     string
		want      rules.Verdict
		reasonHas string
	}{
		{
			name: "70553 outpatient requires", cpt: "70553", class: order.ClassOutpatient,
			want:      rules.Verdict{CPT: "70553", Known: true, Required: true, PriorAuth: rules.Required},
			reasonHas: "requires prior authorization",
		},
		{
			name: "unknown class is not exempt", cpt: "70553", class: order.ClassUnknown,
			want:      rules.Verdict{CPT: "70553", Known: true, Required: true, PriorAuth: rules.Required},
			reasonHas: "requires prior authorization",
		},
		{
			name: "70553 emergency exempt", cpt: "70553", class: order.ClassEmergency,
			want:      rules.Verdict{CPT: "70553", Known: true, Exempt: true, PriorAuth: rules.Required},
			reasonHas: "emergency orders are exempt",
		},
		{
			name: "inpatient exempt", cpt: "74177", class: order.ClassInpatient,
			want:      rules.Verdict{CPT: "74177", Known: true, Exempt: true, PriorAuth: rules.Required},
			reasonHas: "inpatient orders are exempt",
		},
		{
			// Kaiser WA exempts hospital-based urgent care only; urgent care that is not
			// known to be hospital-based was exempted like it before the issue "Verdicts a
			// payer's reviewer would sign".
			name: "urgent care, not known to be hospital-based: required", cpt: "72148", class: order.ClassUrgentCare,
			want:      rules.Verdict{CPT: "72148", Known: true, Required: true, PriorAuth: rules.Required},
			reasonHas: "urgent care is exempt only when hospital-based",
		},
		{
			name: "hospital urgent care exempt", cpt: "72148", class: order.ClassHospitalUrgentCare,
			want:      rules.Verdict{CPT: "72148", Known: true, Exempt: true, PriorAuth: rules.Required},
			reasonHas: "hospital urgent care orders are exempt",
		},
		{
			name: "ambulatory surgery exempt, records too", cpt: "78815", class: order.ClassAmbulatorySurgery,
			want:      rules.Verdict{CPT: "78815", Known: true, Exempt: true, PriorAuth: rules.RecordsRequired},
			reasonHas: "ambulatory surgery orders are exempt",
		},
		{
			name: "78815 records required", cpt: "78815", class: order.ClassOutpatient,
			want:      rules.Verdict{CPT: "78815", Known: true, Required: true, RecordsRequired: true, PriorAuth: rules.RecordsRequired},
			reasonHas: "medical records",
		},
		{
			name: "75574 coronary CTA records required", cpt: "75574", class: order.ClassOutpatient,
			want:      rules.Verdict{CPT: "75574", Known: true, Required: true, RecordsRequired: true, PriorAuth: rules.RecordsRequired},
			reasonHas: "medical records",
		},
		{
			name: "71046 chest X-ray not required", cpt: "71046", class: order.ClassOutpatient,
			want:      rules.Verdict{CPT: "71046", Known: true, PriorAuth: rules.NotRequired},
			reasonHas: "does not require",
		},
		{
			name: "not required is not exempt either", cpt: "71046", class: order.ClassEmergency,
			want:      rules.Verdict{CPT: "71046", Known: true, PriorAuth: rules.NotRequired},
			reasonHas: "does not require",
		},
		{
			name: "unknown code", cpt: " 99999 ", class: order.ClassOutpatient,
			want:      rules.Verdict{CPT: "99999"},
			reasonHas: `unknown CPT code "99999"`,
		},
		{
			name: "garbage code", cpt: "MRI-BRAIN", class: order.ClassOutpatient,
			want:      rules.Verdict{CPT: "MRI-BRAIN"},
			reasonHas: "unknown CPT code",
		},
		{
			name: "no code", cpt: "", class: order.ClassOutpatient,
			want:      rules.Verdict{},
			reasonHas: "no CPT code",
		},
		{
			// Reported as unknown since the issue "Verdicts a payer's reviewer would sign".
			name: "payer without profile gets the defaults, reported unknown", cpt: "70553", class: order.ClassOutpatient, payer: "NOBODY",
			want:      rules.Verdict{CPT: "70553", Known: true, Required: true, PriorAuth: rules.Required, PayerUnknown: true},
			reasonHas: `requires prior authorization (no payer profile for "NOBODY": the default rules applied)`,
		},
		{
			name: "PPO: no auth for CT", cpt: "74177", class: order.ClassOutpatient, payer: "ACME-PPO",
			want:      rules.Verdict{CPT: "74177", Known: true, PriorAuth: rules.NotRequired, Payer: "ACME-PPO"},
			reasonHas: "does not require prior authorization for Acme PPO (payer rule: modality CT)",
		},
		{
			name: "PPO: CT family covers CTA", cpt: "70496", class: order.ClassOutpatient, payer: "acme-ppo",
			want:      rules.Verdict{CPT: "70496", Known: true, PriorAuth: rules.NotRequired, Payer: "ACME-PPO"},
			reasonHas: "modality CT",
		},
		{
			name: "PPO: MR alias covers MRI spine", cpt: "72148", class: order.ClassOutpatient, payer: "ACME-PPO",
			want:      rules.Verdict{CPT: "72148", Known: true, PriorAuth: rules.NotRequired, Payer: "ACME-PPO"},
			reasonHas: "modality MRI",
		},
		{
			name: "PPO: range beats modality", cpt: "70553", class: order.ClassOutpatient, payer: "ACME-PPO",
			want:      rules.Verdict{CPT: "70553", Known: true, Required: true, PriorAuth: rules.Required, Payer: "ACME-PPO"},
			reasonHas: "cpt_range 70551-70555; brain MRI stays managed",
		},
		{
			name: "PPO: PET untouched by CT rule", cpt: "78815", class: order.ClassOutpatient, payer: "ACME-PPO",
			want:      rules.Verdict{CPT: "78815", Known: true, Required: true, RecordsRequired: true, PriorAuth: rules.RecordsRequired, Payer: "ACME-PPO"},
			reasonHas: "for Acme PPO",
		},
		{
			name: "DXA plan requires 77080", cpt: "77080", class: order.ClassOutpatient, payer: "KPNW",
			want:      rules.Verdict{CPT: "77080", Known: true, Required: true, PriorAuth: rules.Required, Payer: "KPNW"},
			reasonHas: "requires prior authorization for Kaiser NW (payer rule: cpt 77080; KP NW 2024 EOC)",
		},
		{
			name: "DXA plan, emergency still exempt", cpt: "77080", class: order.ClassEmergency, payer: "KPNW",
			want:      rules.Verdict{CPT: "77080", Known: true, Exempt: true, PriorAuth: rules.Required, Payer: "KPNW"},
			reasonHas: "emergency orders are exempt",
		},
		{
			name: "DXA plan, code outside the table", cpt: "77078", class: order.ClassOutpatient, payer: "KPNW",
			want:      rules.Verdict{CPT: "77078", Required: true, PriorAuth: rules.Required, Payer: "KPNW"},
			reasonHas: "not in the imaging code table",
		},
		{
			name: "DXA plan, other code keeps the default", cpt: "77081", class: order.ClassOutpatient, payer: "KPNW",
			want:      rules.Verdict{CPT: "77081", Known: true, PriorAuth: rules.NotRequired, Payer: "KPNW"},
			reasonHas: "does not require prior authorization for Kaiser NW",
		},
		{
			name: "narrowest range wins", cpt: "71046", class: order.ClassOutpatient, payer: "SCREEN",
			want:      rules.Verdict{CPT: "71046", Known: true, PriorAuth: rules.NotRequired, Payer: "SCREEN"},
			reasonHas: "cpt_range 71000-71999",
		},
		{
			name: "range beats category", cpt: "70553", class: order.ClassOutpatient, payer: "SCREEN",
			want:      rules.Verdict{CPT: "70553", Known: true, Required: true, PriorAuth: rules.Required, Payer: "SCREEN"},
			reasonHas: "cpt_range 70000-79999",
		},
		{
			name: "range beats category for screening", cpt: "74263", class: order.ClassOutpatient, payer: "SCREEN",
			want:      rules.Verdict{CPT: "74263", Known: true, Required: true, PriorAuth: rules.Required, Payer: "SCREEN"},
			reasonHas: "cpt_range 70000-79999",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Preauth(tc.cpt, tc.class, tc.payer)
			if !strings.Contains(got.Reason, tc.reasonHas) {
				t.Errorf("Preauth(%q, %q, %q).Reason = %q, want it to contain %q", tc.cpt, tc.class, tc.payer, got.Reason, tc.reasonHas)
			}
			if tc.want.Known && (got.Descriptor == "" || got.Modality == "" || got.BodySite == "" || got.Category == "") {
				t.Errorf("Preauth(%q): descriptive fields missing: %+v", tc.cpt, got)
			}
			got.Reason, got.Descriptor, got.Modality, got.BodySite, got.Category = "", "", "", "", ""
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Preauth(%q, %q, %q) mismatch (-want +got):\n%s", tc.cpt, tc.class, tc.payer, diff)
			}
		})
	}
}

// TestPreauth_Category checks category rules on a code no range covers.
func TestPreauth_Category(t *testing.T) {
	c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{{ID: "P", Rules: []rules.Override{
		{Category: "screening", PriorAuth: rules.NotRequired},
		{Category: "Advanced", PriorAuth: rules.RecordsRequired},
	}}}})
	for _, tc := range []struct {
		cpt  string
		want rules.Requirement
	}{
		{cpt: "71271", want: rules.NotRequired},     // LDCT screening
		{cpt: "74263", want: rules.NotRequired},     // CT colonography screening
		{cpt: "70450", want: rules.RecordsRequired}, // advanced
		{cpt: "71046", want: rules.NotRequired},     // basic: table default
		{cpt: "72285", want: rules.RecordsRequired}, // basic: table default
	} {
		if got := c.Preauth(tc.cpt, order.ClassOutpatient, "p").PriorAuth; got != tc.want {
			t.Errorf("Preauth(%s).PriorAuth = %q, want %q", tc.cpt, got, tc.want)
		}
	}
}

func TestVerdict_JSON(t *testing.T) {
	c := newChecker(t, rules.Config{})
	b, err := json.Marshal(c.Preauth("71046", order.ClassOutpatient, ""))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"cpt", "required", "records_required", "exempt", "reason"} {
		if _, ok := m[k]; !ok {
			t.Errorf("Verdict JSON %s lacks %q", b, k)
		}
	}
	if m["required"] != false || m["cpt"] != "71046" {
		t.Errorf("Verdict JSON = %s", b)
	}
}

func TestPreauth_Alloc(t *testing.T) {
	c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{ppoNoAuth}})
	allocs := testing.AllocsPerRun(100, func() {
		_ = c.Preauth("70553", order.ClassEmergency, "acme-ppo")
		_ = c.Preauth("78815", order.ClassOutpatient, "")
	})
	if allocs != 0 {
		t.Errorf("Preauth allocates %v times per run, want 0", allocs)
	}
}

// TestPreauth_FirstListedWins checks ties: equally specific rules, first listed wins.
func TestPreauth_FirstListedWins(t *testing.T) {
	c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{{ID: "P", Rules: []rules.Override{
		{CPT: "77078", PriorAuth: rules.RecordsRequired},
		{CPT: "77078", PriorAuth: rules.NotRequired},
		{CPT: "70553", PriorAuth: rules.NotRequired},
		{CPT: "70553", PriorAuth: rules.RecordsRequired},
		{CPTRange: "72100-72199", PriorAuth: rules.RecordsRequired},
		{CPTRange: "72140-72239", PriorAuth: rules.NotRequired}, // same width
		{Modality: "MRA", PriorAuth: rules.NotRequired},
		{Modality: "MRI", PriorAuth: rules.RecordsRequired}, // family: below the exact MRA rule
	}}}})
	for _, tc := range []struct {
		cpt  string
		want rules.Requirement
	}{
		{cpt: "77078", want: rules.RecordsRequired},
		{cpt: "70553", want: rules.NotRequired},
		{cpt: "72148", want: rules.RecordsRequired},
		{cpt: "70544", want: rules.NotRequired}, // MRA head
		{cpt: "74181", want: rules.RecordsRequired},
	} {
		if got := c.Preauth(tc.cpt, order.ClassOutpatient, "P").PriorAuth; got != tc.want {
			t.Errorf("Preauth(%s).PriorAuth = %q, want %q", tc.cpt, got, tc.want)
		}
	}
}
