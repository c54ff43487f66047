package rules_test

import (
	"testing"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

func dx(codes ...string) []order.Diagnosis {
	var ds []order.Diagnosis
	for _, c := range codes {
		ds = append(ds, order.Diagnosis{Code: c, System: "I10"})
	}
	return ds
}

func proc(cpt string) order.Procedure { return order.Procedure{Code: cpt, System: "CPT"} }

// TestCheck_AdvancedNotInTable: advanced imaging the code table does not list is
// "required: code not in the table" (Kaiser WA: CT, CTA, MRI, MRA and PET need
// authorization), recognised by its CPT range or the order's modality.
func TestCheck_AdvancedNotInTable(t *testing.T) {
	c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{
		{ID: "PPO", Match: rules.Match{PlanType: "PPO"}, Rules: []rules.Override{{Modality: "CT", PriorAuth: rules.NotRequired}}},
	}})
	runVerdictCases(t, c, []verdictCase{
		{
			name:      "CPT range 70336 (MRI temporomandibular joint), not in the table: required",
			mutate:    func(o *order.Order) { o.Procedure = proc("70336") },
			required:  true,
			reasonHas: []string{"CPT 70336 (not in the imaging code table; CPT range 70336, MRI temporomandibular joint)", "requires prior authorization"},
		},
		{
			name:      "CPT range 70540-70559 (MRI head, neck and brain): 70557 required",
			mutate:    func(o *order.Order) { o.Procedure = proc("70557") },
			required:  true,
			reasonHas: []string{"CPT range 70540-70559"},
		},
		{
			name:      "OBR-24 CT on a code outside the ranges (76380, CT limited follow-up): required by modality",
			mutate:    func(o *order.Order) { o.Procedure = proc("76380"); o.Procedure.Modality = "CT" },
			required:  true,
			reasonHas: []string{"modality CT"},
		},
		{
			name:     "IPC-5 PT (PET) on an unlisted nuclear medicine code (78999): records, as for every PET",
			mutate:   func(o *order.Order) { o.Procedure = proc("78999"); o.Procedure.Modality = "PT" },
			required: true, records: true,
			reasonHas: []string{"modality PT", "medical records"},
		},
		{
			name:      "no CPT code, modality MR: the exam is MR imaging, required",
			mutate:    func(o *order.Order) { o.Procedure = order.Procedure{Code: "24590-2", System: "LN", Modality: "MR"} },
			required:  true,
			reasonHas: []string{"The exam (no CPT code; modality MR)"},
		},
		{
			name:      "nuclear medicine (NM) alone is not advanced imaging: undetermined",
			mutate:    func(o *order.Order) { o.Procedure = proc("78999"); o.Procedure.Modality = "NM" },
			reasonHas: []string{`unknown CPT code "78999"`},
		},
		{
			name:      "ultrasound outside the table (76536): undetermined",
			mutate:    func(o *order.Order) { o.Procedure = proc("76536"); o.Procedure.Modality = "US" },
			reasonHas: []string{`unknown CPT code "76536"`},
		},
		{
			name: "the payer's modality rule applies to a recognised code: PPO, modality CT not required",
			mutate: func(o *order.Order) {
				o.Procedure = proc("76380")
				o.Procedure.Modality = "CT"
				o.Coverage[0].PlanType = "PPO"
			},
			reasonHas: []string{"does not require prior authorization for PPO (payer rule: modality CT)"},
		},
	})

	t.Run("Undetermined only when nothing says advanced imaging; modality filled from the range", func(t *testing.T) {
		o := pendingOrder()
		o.Procedure = proc("70336")
		c.Check(o, checkTime)
		if o.Authorization.Undetermined || o.Procedure.Modality != "MR" {
			t.Errorf("Undetermined %v, Modality %q; want false, MR", o.Authorization.Undetermined, o.Procedure.Modality)
		}
		assertHas(t, o.Findings, rules.CodeCPTUnknown)
		o.Procedure = proc("76536")
		c.Check(o, checkTime)
		if !o.Authorization.Undetermined {
			t.Errorf("76536: Undetermined false, want true")
		}
	})
	t.Run("Preauth answers the same", func(t *testing.T) {
		v := c.Preauth("70336", order.ClassOutpatient, "")
		if v.Known || !v.Required || v.PriorAuth != rules.Required || v.Modality != "MRI" {
			t.Errorf("Preauth(70336) = %+v, want unknown to the table, required, MRI", v)
		}
		if v := c.Preauth("70336", order.ClassEmergency, ""); !v.Exempt {
			t.Errorf("Preauth(70336, emergency) = %+v, want exempt", v)
		}
	})
}

func assertHas(t *testing.T, fs []order.Finding, code string) {
	t.Helper()
	for _, f := range fs {
		if f.Code == code {
			return
		}
	}
	t.Errorf("no %s finding in %+v", code, fs)
}

// TestCheck_BehavioralHealth: Kaiser WA wants medical records for SPECT and MRA
// ordered for behavioural-health indications (ICD-10-CM F01-F99, and what the payer's
// profile adds), and for whole-body CT.
func TestCheck_BehavioralHealth(t *testing.T) {
	c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{
		{ID: "EXTRA", Match: rules.Match{PayerID: "EXTRA"}, BehavioralHealthDx: []string{"R41.81"}},
	}})
	runVerdictCases(t, c, []verdictCase{
		{
			name:     "SPECT for behavioural health: brain SPECT 78607 for F32.9 (major depressive disorder) needs records",
			mutate:   func(o *order.Order) { o.Procedure = proc("78607"); o.Diagnoses = dx("F32.9") },
			required: true, records: true,
			reasonHas: []string{`behavioural-health indication "F32.9"`},
		},
		{
			name:     "SPECT, not behavioural health: 78607 for G40.909 (epilepsy) needs no records",
			mutate:   func(o *order.Order) { o.Procedure = proc("78607"); o.Diagnoses = dx("G40.909") },
			required: true,
		},
		{
			name:     "SPECT/CT row 78830 for F20.9 (schizophrenia) needs records",
			mutate:   func(o *order.Order) { o.Procedure = proc("78830"); o.Diagnoses = dx("R51.9", "f20.9") },
			required: true, records: true,
		},
		{
			name:     "MRA for behavioural health: MRA head 70544 for F03.90 (dementia) needs records",
			mutate:   func(o *order.Order) { o.Procedure = proc("70544"); o.Diagnoses = dx("F0390") },
			required: true, records: true,
		},
		{
			name:     "MRA, not behavioural health: 70544 for I67.1 (cerebral aneurysm) needs no records",
			mutate:   func(o *order.Order) { o.Procedure = proc("70544"); o.Diagnoses = dx("I67.1") },
			required: true,
		},
		{
			name:     "the rule names SPECT and MRA only: MRI brain 70553 for F32.9 needs no records",
			mutate:   func(o *order.Order) { o.Procedure = proc("70553"); o.Diagnoses = dx("F32.9") },
			required: true,
		},
		{
			name: "the payer's behavioral_health_dx adds R41.81: MRA 70544 needs records",
			mutate: func(o *order.Order) {
				o.Procedure, o.Diagnoses = proc("70544"), dx("R41.81")
				o.Coverage[0].Payer = "EXTRA"
			},
			required: true, records: true, reasonHas: []string{`"R41.81"`},
		},
		{
			name:     "R41.81 is not behavioural health for the defaults",
			mutate:   func(o *order.Order) { o.Procedure, o.Diagnoses = proc("70544"), dx("R41.81") },
			required: true,
		},
		{
			name: "a diagnosis in another system is not read: SNOMED F32 lookalike",
			mutate: func(o *order.Order) {
				o.Procedure = proc("70544")
				o.Diagnoses = []order.Diagnosis{{Code: "F32.9", System: "SCT"}, {Code: "I67.1", System: "I10"}}
			},
			required: true,
		},
		{
			name: "whole-body CT: the unlisted CT code 76497 with body site whole body needs records",
			mutate: func(o *order.Order) {
				o.Procedure = proc("76497")
				o.Procedure.BodySite = "Whole body"
			},
			required: true, records: true, reasonHas: []string{"whole-body CT"},
		},
		{
			name: "whole-body CT: CT 74177 whose text says whole-body needs records",
			mutate: func(o *order.Order) {
				o.Procedure = proc("74177")
				o.Procedure.Text = "CT WHOLE-BODY TRAUMA PROTOCOL"
			},
			required: true, records: true,
		},
		{
			name: "whole-body MRI is not whole-body CT: no records",
			mutate: func(o *order.Order) {
				o.Procedure = proc("76498")
				o.Procedure.BodySite = "whole body"
			},
			required: true,
		},
		{
			name: "an exempt setting still exempts: emergency whole-body CT",
			mutate: func(o *order.Order) {
				o.Procedure = proc("76497")
				o.Procedure.BodySite = "whole body"
				o.EncounterClass = order.ClassEmergency
			},
			exempt: true, reasonHas: []string{"whole-body CT", "emergency orders are exempt"},
		},
	})
}

// TestCheck_Screening: diagnostic imaging needs authorization, preventive screening may
// not (the insurance guide): a screening code with screening diagnoses only follows
// the profile's screening_prior_auth (default not required), with a diagnostic
// indication the table's (diagnostic) rule.
func TestCheck_Screening(t *testing.T) {
	c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{
		{ID: "STRICT", Match: rules.Match{PayerID: "STRICT"}, ScreeningPriorAuth: rules.Required},
		{ID: "RANGE", Match: rules.Match{PayerID: "RANGE"}, Rules: []rules.Override{{CPTRange: "74261-74263", PriorAuth: rules.Required}}},
	}})
	runVerdictCases(t, c, []verdictCase{
		{
			name:      "LDCT 71271 with Z12.2 (lung cancer screening) and F17.210 (nicotine dependence): screening, not required",
			mutate:    func(o *order.Order) { o.Procedure = proc("71271"); o.Diagnoses = dx("Z12.2", "F17.210") },
			reasonHas: []string{"does not require prior authorization", `ordered as screening (Z12.2)`, "diagnostic rule (required) would apply"},
		},
		{
			name:      "LDCT 71271 with Z12.2 and Z87.891 (history of nicotine dependence): screening",
			mutate:    func(o *order.Order) { o.Procedure = proc("71271"); o.Diagnoses = dx("Z12.2", "Z87.891") },
			reasonHas: []string{"ordered as screening"},
		},
		{
			name:      "71271 with R91.1 (solitary pulmonary nodule): diagnostic rule, required",
			mutate:    func(o *order.Order) { o.Procedure = proc("71271"); o.Diagnoses = dx("R91.1") },
			required:  true,
			reasonHas: []string{"diagnostic indication (R91.1)"},
		},
		{
			name:     "71271 with Z12.2 and a symptom, R05.9 (cough): diagnostic",
			mutate:   func(o *order.Order) { o.Procedure = proc("71271"); o.Diagnoses = dx("Z12.2", "R05.9") },
			required: true,
		},
		{
			name:   "CT colonography screening 74263 with Z12.11 (colon screening): not required",
			mutate: func(o *order.Order) { o.Procedure = proc("74263"); o.Diagnoses = dx("Z12.11") },
		},
		{
			name:     "74263 with K92.1 (melena): the diagnostic rule, records required (table row)",
			mutate:   func(o *order.Order) { o.Procedure = proc("74263"); o.Diagnoses = dx("K92.1") },
			required: true, records: true,
		},
		{
			name:   "screening mammography 77067 with Z12.31: not required either way",
			mutate: func(o *order.Order) { o.Procedure = proc("77067"); o.Diagnoses = dx("Z12.31") },
		},
		{
			name:   "AAA screening ultrasound 76706 with Z13.6: not required",
			mutate: func(o *order.Order) { o.Procedure = proc("76706"); o.Diagnoses = dx("Z13.6") },
		},
		{
			name:     "a diagnostic code is never screening: CT chest 71250 with Z12.2 stays required",
			mutate:   func(o *order.Order) { o.Procedure = proc("71250"); o.Diagnoses = dx("Z12.2") },
			required: true,
		},
		{
			name: "the profile's screening_prior_auth: required for screening",
			mutate: func(o *order.Order) {
				o.Procedure, o.Diagnoses = proc("71271"), dx("Z12.2")
				o.Coverage[0].Payer = "STRICT"
			},
			required: true, reasonHas: []string{"ordered as screening"},
		},
		{
			name: "a CPT-range payer rule comes first: 74263 with Z12.11 required",
			mutate: func(o *order.Order) {
				o.Procedure, o.Diagnoses = proc("74263"), dx("Z12.11")
				o.Coverage[0].Payer = "RANGE"
			},
			required: true, reasonHas: []string{"cpt_range 74261-74263"},
		},
	})
}

// TestPreauth_Indication: Preauth has no diagnoses, so no indication: the table's rule.
func TestPreauth_Indication(t *testing.T) {
	c := newChecker(t, rules.Config{})
	if v := c.Preauth("71271", order.ClassOutpatient, ""); !v.Required || v.Indication != "" {
		t.Errorf("Preauth(71271) = %+v, want required, no indication", v)
	}
}
