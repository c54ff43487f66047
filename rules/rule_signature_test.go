package rules_test

import (
	"testing"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

func TestCheck_Signature(t *testing.T) {
	wantSig := func(loc, path string) want {
		return want{Code: rules.CodeSignatureMissing, Severity: order.SeverityError, Location: loc, FHIRPath: path, TextHas: "signed"}
	}
	runRuleCases(t, []ruleCase{
		{name: "present without details", mutate: func(o *order.Order) { o.Signature = order.Signature{Present: true} }},
		{
			name: "no signature time (authored from MSH-7 does not count)",
			mutate: func(o *order.Order) {
				o.Signature = order.Signature{Signer: "Smith, Anna", Mode: "EL"}
			},
			want: []want{wantSig("ORC-9", "ServiceRequest.authoredOn")},
		},
		{
			name: "no signer anywhere",
			mutate: func(o *order.Order) {
				o.Signature = order.Signature{Time: checkTime}
				o.Provider = order.Provider{}
			},
			want: []want{
				{Code: rules.CodeProviderMissing, Severity: order.SeverityError, Location: "ORC-12", FHIRPath: "ServiceRequest.requester"},
				wantSig("ORC-12", "ServiceRequest.requester"),
			},
		},
		{
			name:   "time and signer but not signed",
			mutate: func(o *order.Order) { o.Signature.Present = false },
			want:   []want{wantSig("ORC-30", "Provenance.signature")},
		},
	})
}
