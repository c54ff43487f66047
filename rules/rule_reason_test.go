package rules_test

import (
	"testing"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

func TestCheck_Reason(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:   "coded reason only",
			mutate: func(o *order.Order) { o.Reason = "" },
		},
		{
			name: "text only diagnosis is a reason, but not a diagnosis",
			mutate: func(o *order.Order) {
				o.Reason = ""
				o.Diagnoses = []order.Diagnosis{{Text: "headache"}}
			},
			want: []want{wantDxMissing},
		},
		{
			name: "no reason at all",
			mutate: func(o *order.Order) {
				o.Reason = "  "
				o.Diagnoses = nil
			},
			want: []want{{Code: rules.CodeReasonMissing, Severity: order.SeverityError, Location: "OBR-31", FHIRPath: "ServiceRequest.reasonCode", TextHas: "reason for the exam"}, wantDxMissing},
		},
	})
}
