package rules_test

import (
	"testing"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

func wantNPIInvalid(textHas string) want {
	return want{Code: rules.CodeNPIInvalid, Severity: order.SeverityError, Location: "ORC-12", FHIRPath: "ServiceRequest.requester", TextHas: textHas}
}

func TestCheck_Provider(t *testing.T) {
	npi := func(s string) func(*order.Order) { return func(o *order.Order) { o.Provider.NPI = s } }
	runRuleCases(t, []ruleCase{
		{name: "valid NPI with spaces around", mutate: npi(" 1558598797 ")},
		{
			name: "no provider",
			mutate: func(o *order.Order) {
				o.Provider = order.Provider{}
				o.Signature.Signer = "Smith, Anna" // keep the signature check quiet
			},
			want: []want{{Code: rules.CodeProviderMissing, Severity: order.SeverityError, Location: "ORC-12", FHIRPath: "ServiceRequest.requester", TextHas: "no ordering provider"}},
		},
		{
			name:   "no NPI",
			mutate: func(o *order.Order) { o.Provider = order.Provider{ID: "D123", Family: "Smith", Given: "Anna"} },
			want:   []want{{Code: rules.CodeNPIMissing, Severity: order.SeverityError, Location: "ORC-12", FHIRPath: "ServiceRequest.requester", TextHas: `provider "Smith, Anna" has no NPI`}},
		},
		{name: "bad check digit", mutate: npi("1234567890"), want: []want{wantNPIInvalid(`"1234567890" is not valid (the check digit`)}},
		{name: "too short", mutate: npi("123456789"), want: []want{wantNPIInvalid("has 9")}},
		{name: "letters", mutate: npi("12345X7893"), want: []want{wantNPIInvalid("other characters")}},
	})
}

func TestValidNPI(t *testing.T) {
	tests := []struct {
		npi  string
		want bool
	}{
		{npi: "1234567893", want: true}, // CMS check-digit document example
		{npi: "1558598797", want: true},
		{npi: "1245319599", want: true},
		{npi: "1000000004", want: true},
		{npi: "1234567890", want: false},
		{npi: "1234567891", want: false},
		{npi: "1234567894", want: false},
		{npi: "1558598790", want: false},
		{npi: "2134567893", want: false}, // two digits swapped
		{npi: "", want: false},
		{npi: "123456789", want: false},
		{npi: "12345678930", want: false},
		{npi: "808401234567893", want: false}, // with the card-issuer prefix: 15 digits
		{npi: "123456789A", want: false},
		{npi: "12345-7893", want: false},
		{npi: "１234567893", want: false}, // full-width digit
		{npi: " 1234567893", want: false},
	}
	for _, tc := range tests {
		if got := rules.ValidNPI(tc.npi); got != tc.want {
			t.Errorf("ValidNPI(%q) = %v, want %v", tc.npi, got, tc.want)
		}
	}
}
