package rules_test

import (
	"testing"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

func TestCheck_Patient(t *testing.T) {
	wantName := func(sev order.Severity) want {
		return want{Code: rules.CodePatientNameMissing, Severity: sev, Location: "PID-5", FHIRPath: "ServiceRequest.subject", TextHas: "name"}
	}
	wantBirth := func(sev order.Severity) want {
		return want{Code: rules.CodeBirthDateMissing, Severity: sev, Location: "PID-7", FHIRPath: "ServiceRequest.subject", TextHas: "birth date"}
	}
	runRuleCases(t, []ruleCase{
		{name: "given name only is a name", mutate: func(o *order.Order) { o.Patient.Family = "" }},
		{
			name:   "no identifier",
			mutate: func(o *order.Order) { o.Patient.Identifiers = []order.Identifier{{Value: " ", Type: "MR"}} },
			want:   []want{{Code: rules.CodePatientIDMissing, Severity: order.SeverityError, Location: "PID-3", FHIRPath: "ServiceRequest.subject", TextHas: "identifier"}},
		},
		{
			name:   "no name: warning",
			mutate: func(o *order.Order) { o.Patient.Family, o.Patient.Given = "", "" },
			want:   []want{wantName(order.SeverityWarning)},
		},
		{
			name:   "no birth date: warning",
			mutate: func(o *order.Order) { o.Patient.BirthDate = "" },
			want:   []want{wantBirth(order.SeverityWarning)},
		},
		{
			name: "neither name nor birth date: errors",
			mutate: func(o *order.Order) {
				o.Patient.Family, o.Patient.Given, o.Patient.BirthDate = "", "", ""
			},
			want: []want{wantName(order.SeverityError), wantBirth(order.SeverityError)},
		},
	})
}
