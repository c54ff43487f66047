package rules_test

import (
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/rules"
)

func TestConfig_Validate(t *testing.T) {
	payer := func(o ...rules.Override) []rules.PayerProfile {
		return []rules.PayerProfile{{ID: "P1", Rules: o}}
	}
	tests := []struct {
		name    string
		cfg     rules.Config
		wantErr string // "" for valid
	}{
		{name: "zero", cfg: rules.Config{}},
		{name: "examples", cfg: rules.Config{Payers: []rules.PayerProfile{ppoNoAuth, dxaPlan, screeningFree}, DueStandard: 5 * 24 * time.Hour, DueExpedited: time.Hour}},
		{name: "negative standard", cfg: rules.Config{DueStandard: -time.Hour}, wantErr: "due_standard"},
		{name: "negative expedited", cfg: rules.Config{DueExpedited: -1}, wantErr: "due_expedited"},
		{name: "payer without id", cfg: rules.Config{Payers: []rules.PayerProfile{{Name: "x"}}}, wantErr: "payers[0].id: empty"},
		{name: "duplicate id", cfg: rules.Config{Payers: []rules.PayerProfile{{ID: "A"}, {ID: " a"}}}, wantErr: `payers[1].id: " a" already used by payers[0]`},
		{name: "no matcher", cfg: rules.Config{Payers: payer(rules.Override{PriorAuth: rules.Required})}, wantErr: "payers[0].rules[0]: exactly one"},
		{name: "two matchers", cfg: rules.Config{Payers: payer(rules.Override{CPT: "70553", Modality: "MRI", PriorAuth: rules.Required})}, wantErr: "exactly one"},
		{name: "bad prior_auth", cfg: rules.Config{Payers: payer(rules.Override{CPT: "70553", PriorAuth: "maybe"})}, wantErr: "rules[0].prior_auth"},
		{name: "missing prior_auth", cfg: rules.Config{Payers: payer(rules.Override{CPT: "70553"})}, wantErr: "rules[0].prior_auth"},
		{name: "prior_auth case-insensitive", cfg: rules.Config{Payers: payer(rules.Override{CPT: "70553", PriorAuth: "Records_Required"})}},
		{name: "bad cpt", cfg: rules.Config{Payers: payer(rules.Override{CPT: "7055", PriorAuth: rules.Required})}, wantErr: "rules[0].cpt:"},
		{name: "range without dash", cfg: rules.Config{Payers: payer(rules.Override{CPTRange: "70450", PriorAuth: rules.Required})}, wantErr: "rules[0].cpt_range"},
		{name: "range reversed", cfg: rules.Config{Payers: payer(rules.Override{CPTRange: "70498-70450", PriorAuth: rules.Required})}, wantErr: "low end"},
		{name: "range mixed kinds", cfg: rules.Config{Payers: payer(rules.Override{CPTRange: "0001T-70450", PriorAuth: rules.Required})}, wantErr: "same kind"},
		{name: "range of category III", cfg: rules.Config{Payers: payer(rules.Override{CPTRange: "0001T-0999T", PriorAuth: rules.Required})}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.wantErr)
			}
			if _, nerr := rules.New(tc.cfg); (nerr == nil) != (err == nil) {
				t.Errorf("New() = %v, Validate() = %v: want both nil or both errors", nerr, err)
			}
		})
	}
}

func TestNew_RuleMatchesNothing(t *testing.T) {
	for _, o := range []rules.Override{
		{Modality: "MIR", PriorAuth: rules.Required},
		{Category: "advancd", PriorAuth: rules.Required},
	} {
		_, err := rules.New(rules.Config{Payers: []rules.PayerProfile{{ID: "P", Rules: []rules.Override{o}}}})
		if err == nil || !strings.Contains(err.Error(), "matches no code") {
			t.Errorf("New with rule %+v = %v, want a 'matches no code' error", o, err)
		}
	}
	// A range outside the table is allowed: it may anticipate codes.
	if _, err := rules.New(rules.Config{Payers: []rules.PayerProfile{{ID: "P", Rules: []rules.Override{
		{CPTRange: "0001T-0999T", PriorAuth: rules.Required}}}}}); err != nil {
		t.Errorf("New with an empty range: %v", err)
	}
}
