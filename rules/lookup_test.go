package rules_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

func TestTableVersion(t *testing.T) {
	v := rules.TableVersion()
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(v) || rules.TableVersion() != v {
		t.Errorf("TableVersion() = %q, want 12 stable hex digits", v)
	}
}

func TestChecker_ProfileFor(t *testing.T) {
	c, err := rules.New(rules.Config{Payers: []rules.PayerProfile{{ID: "AETNA01"}, {ID: "GOLD"}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cov  []order.Coverage
		want string
	}{
		{name: "none", cov: nil, want: ""},
		{name: "payer", cov: []order.Coverage{{Payer: "aetna01", Plan: "PPO1"}}, want: "AETNA01"},
		{name: "plan first", cov: []order.Coverage{{Payer: "AETNA01", Plan: "gold"}}, want: "GOLD"},
		{name: "secondary ignored", cov: []order.Coverage{{Payer: "X"}, {Payer: "AETNA01"}}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.ProfileFor(tc.cov); got != tc.want {
				t.Errorf("ProfileFor(%+v) = %q, want %q", tc.cov, got, tc.want)
			}
		})
	}
}

func TestPayerProfile_workflow(t *testing.T) {
	tests := []struct {
		name    string
		p       rules.PayerProfile
		wantErr string
	}{
		{name: "pas", p: rules.PayerProfile{ID: "P", PAS: &rules.PAS{URL: "https://payer.example.org/fhir"}}},
		{name: "pas without url", p: rules.PayerProfile{ID: "P", PAS: &rules.PAS{}}, wantErr: "payers[0].pas.url"},
		{name: "pas url with query", p: rules.PayerProfile{ID: "P", PAS: &rules.PAS{URL: "https://p.example/fhir?x=1"}}, wantErr: "pas.url"},
		{name: "negative expedited", p: rules.PayerProfile{ID: "P", Decision: rules.DecisionWindows{Expedited: -1}}, wantErr: "decision.expedited"},
		{name: "negative standard", p: rules.PayerProfile{ID: "P", Decision: rules.DecisionWindows{Standard: -1}}, wantErr: "decision.standard"},
		{name: "negative appeal window", p: rules.PayerProfile{ID: "P", AppealWindow: -time.Hour}, wantErr: "appeal_window"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := rules.Config{Payers: []rules.PayerProfile{tc.p}}.Validate()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate() = %v, want %q", err, tc.wantErr)
			}
		})
	}
	p := rules.PayerProfile{}
	if p.DecisionWindow(true) != 72*time.Hour || p.DecisionWindow(false) != 7*24*time.Hour || p.Appeals() != 180*24*time.Hour {
		t.Errorf("defaults: %v, %v, %v", p.DecisionWindow(true), p.DecisionWindow(false), p.Appeals())
	}
	p = rules.PayerProfile{Decision: rules.DecisionWindows{Expedited: time.Hour, Standard: 2 * time.Hour}, AppealWindow: 3 * time.Hour}
	if p.DecisionWindow(true) != time.Hour || p.DecisionWindow(false) != 2*time.Hour || p.Appeals() != 3*time.Hour {
		t.Errorf("set: %v, %v, %v", p.DecisionWindow(true), p.DecisionWindow(false), p.Appeals())
	}
}
