package rules_test

import (
	"testing"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

var (
	wantModality = want{Code: rules.CodeModalityMissing, Severity: order.SeverityWarning, Location: "OBR-24", FHIRPath: "ServiceRequest.category"}
	wantBodySite = want{Code: rules.CodeBodySiteMissing, Severity: order.SeverityWarning, Location: "OBR-15", FHIRPath: "ServiceRequest.bodySite"}
)

func TestCheck_Procedure(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:   "complete",
			mutate: func(o *order.Order) {},
		},
		{
			name:   "CPT in Code with system C4",
			mutate: func(o *order.Order) { o.Procedure.System = "C4" },
		},
		{
			name:   "CPT field set, local code",
			mutate: func(o *order.Order) { o.Procedure = order.Procedure{Code: "MRBRAIN", System: "L", CPT: "70553"} },
		},
		{
			name: "not CPT",
			mutate: func(o *order.Order) {
				o.Procedure = order.Procedure{Code: "24590-2", System: "LN", Text: "MR Brain"}
			},
			want: []want{
				{Code: rules.CodeNotCPT, Severity: order.SeverityError, Location: "OBR-4", FHIRPath: "ServiceRequest.code", TextHas: `"24590-2" (system "LN")`},
				wantModality, wantBodySite,
			},
		},
		{
			name:   "not CPT, but modality and body site sent",
			mutate: func(o *order.Order) { o.Procedure = order.Procedure{Code: "RAD123", Modality: "MR", BodySite: "Brain"} },
			want: []want{
				{Code: rules.CodeNotCPT, Severity: order.SeverityError, Location: "OBR-4", FHIRPath: "ServiceRequest.code", TextHas: `"RAD123"`},
			},
		},
		{
			name:   "text only",
			mutate: func(o *order.Order) { o.Procedure = order.Procedure{Text: "CT head"} },
			want: []want{
				{Code: rules.CodeCPTMissing, Severity: order.SeverityError, Location: "OBR-4", FHIRPath: "ServiceRequest.code", TextHas: `"CT head"`},
				wantModality, wantBodySite,
			},
		},
		{
			name:   "no procedure at all",
			mutate: func(o *order.Order) { o.Procedure = order.Procedure{} },
			want: []want{
				{Code: rules.CodeCPTMissing, Severity: order.SeverityError, Location: "OBR-4", FHIRPath: "ServiceRequest.code", TextHas: "names no exam"},
				wantModality, wantBodySite,
			},
		},
		{
			name:   "malformed CPT",
			mutate: func(o *order.Order) { o.Procedure.Code = "7055" },
			want: []want{
				{Code: rules.CodeCPTInvalid, Severity: order.SeverityError, Location: "OBR-4", FHIRPath: "ServiceRequest.code", TextHas: `"7055"`},
				wantModality, wantBodySite,
			},
		},
		{
			name:   "CPT not in the table",
			mutate: func(o *order.Order) { o.Procedure.Code = "76536" },
			want: []want{
				{Code: rules.CodeCPTUnknown, Severity: order.SeverityWarning, Location: "OBR-4", FHIRPath: "ServiceRequest.code", TextHas: "CPT 76536"},
				wantModality, wantBodySite,
			},
		},
		{
			name: "CPT not in the table, modality and body site sent",
			mutate: func(o *order.Order) {
				o.Procedure = order.Procedure{Code: "0042T", System: "CPT", Modality: "CT", BodySite: "Brain"}
			},
			want: []want{
				{Code: rules.CodeCPTUnknown, Severity: order.SeverityWarning, Location: "OBR-4", FHIRPath: "ServiceRequest.code", TextHas: "CPT 0042T"},
			},
		},
	})
}

func TestCheck_Procedure_FillsModalityAndBodySite(t *testing.T) {
	c := newChecker(t, rules.Config{})
	tests := []struct {
		name                 string
		proc                 order.Procedure
		wantModality, wantBS string
	}{
		{name: "MRI", proc: order.Procedure{Code: "70553", System: "CPT"}, wantModality: "MR", wantBS: "head/brain"},
		{name: "CTA", proc: order.Procedure{CPT: "70496"}, wantModality: "CT", wantBS: "head"},
		{name: "PET-CT", proc: order.Procedure{CPT: "78815"}, wantModality: "PET", wantBS: "skull base-mid-thigh"},
		{name: "SPECT", proc: order.Procedure{CPT: "78803"}, wantModality: "NM", wantBS: "single area"},
		{name: "DXA", proc: order.Procedure{CPT: "77080"}, wantModality: "BMD", wantBS: "axial skeleton"},
		{name: "chest X-ray", proc: order.Procedure{CPT: "71046"}, wantModality: "XR", wantBS: "chest"},
		{name: "order values kept", proc: order.Procedure{CPT: "70553", Modality: "MRI", BodySite: "Brain"}, wantModality: "MRI", wantBS: "Brain"},
		{name: "unknown code left empty", proc: order.Procedure{CPT: "76536"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := completeOrder()
			o.Procedure = tc.proc
			c.Check(o, checkTime)
			if o.Procedure.Modality != tc.wantModality || o.Procedure.BodySite != tc.wantBS {
				t.Errorf("Check(%+v): modality, body site = %q, %q; want %q, %q",
					tc.proc, o.Procedure.Modality, o.Procedure.BodySite, tc.wantModality, tc.wantBS)
			}
		})
	}
}
