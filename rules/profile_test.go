package rules_test

import (
	"strings"
	"testing"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

// kpwa is the example of the config docs: Kaiser WA's PPO plans differ.
var (
	kpwaPPO = rules.PayerProfile{ID: "KPWA-PPO", Name: "Kaiser WA PPO", Match: rules.Match{PayerID: "KPWA", PlanType: "PPO"},
		Rules: []rules.Override{{Modality: "CT", PriorAuth: rules.NotRequired, Note: "PPO: CT not managed"}}}
	kpwa     = rules.PayerProfile{ID: "KPWA", Name: "Kaiser WA", Match: rules.Match{PayerID: "KPWA"}}
	kpwaGold = rules.PayerProfile{ID: "KPWA-GOLD", Name: "Kaiser WA Gold", Match: rules.Match{PlanID: "GOLD-7"},
		Rules: []rules.Override{{CPT: "70553", PriorAuth: rules.NotRequired}}}
)

// TestCheck_PayerMatch: payer profiles match the payer ID (IN1-3, Coverage.payor), the
// plan ID (IN1-2, Coverage.class plan) and the plan type (IN1-15, Coverage.type); the
// most specific match wins; an unknown payer is reported.
func TestCheck_PayerMatch(t *testing.T) {
	c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{kpwa, kpwaPPO, kpwaGold, ppoNoAuth}})
	tests := []struct {
		name         string
		coverage     []order.Coverage
		cpt          string
		wantRequired bool
		wantUnknown  bool
		reasonHas    string
	}{
		{name: "PPO plans differ: payer KPWA and plan type PPO picks the PPO profile, CT not required",
			coverage: []order.Coverage{{Payer: "KPWA", PlanType: "ppo"}}, cpt: "74177",
			reasonHas: "for Kaiser WA PPO (payer rule: modality CT; PPO: CT not managed)"},
		{name: "payer KPWA with an HMO plan type: every key must match, the payer profile applies",
			coverage: []order.Coverage{{Payer: "KPWA", PlanType: "HMO"}}, cpt: "74177", wantRequired: true,
			reasonHas: "for Kaiser WA"},
		{name: "plan ID weighs more than payer ID and plan type",
			coverage: []order.Coverage{{Payer: "KPWA", Plan: "GOLD-7", PlanType: "PPO"}}, cpt: "70553",
			reasonHas: "for Kaiser WA Gold"},
		{name: "a profile without match keys matches its ID as the plan (IN1-2)",
			coverage: []order.Coverage{{Payer: "OTHER", Plan: "acme-ppo"}}, cpt: "74177",
			reasonHas: "for Acme PPO"},
		{name: "an unknown payer gets the defaults and is reported",
			coverage: []order.Coverage{{Payer: "NOBODY", Plan: "X"}}, cpt: "74177", wantRequired: true, wantUnknown: true},
		{name: "no coverage: the payer is unknown",
			cpt: "74177", wantRequired: true, wantUnknown: true},
		{name: "only the primary coverage selects: KPWA second is not used",
			coverage: []order.Coverage{{Payer: "NOBODY"}, {Payer: "KPWA", PlanType: "PPO"}}, cpt: "74177", wantRequired: true, wantUnknown: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := pendingOrder()
			o.Procedure, o.Coverage = proc(tc.cpt), tc.coverage
			c.Check(o, checkTime)
			a := o.Authorization
			if a.Required != tc.wantRequired || a.PayerUnknown != tc.wantUnknown {
				t.Errorf("Required %v, PayerUnknown %v; want %v, %v (reason %q)", a.Required, a.PayerUnknown, tc.wantRequired, tc.wantUnknown, a.Reason)
			}
			if !strings.Contains(a.Reason, tc.reasonHas) {
				t.Errorf("Reason = %q, want it to contain %q", a.Reason, tc.reasonHas)
			}
			found := false
			for _, f := range o.Findings {
				if f.Code == rules.CodePayerUnknown {
					found = true
					if f.Severity != order.SeverityInformation || f.Location != "IN1-3" {
						t.Errorf("payer-unknown finding %+v", f)
					}
				}
			}
			if found != tc.wantUnknown {
				t.Errorf("payer-unknown finding %v, want %v", found, tc.wantUnknown)
			}
		})
	}
}

// TestCheck_PayerUnknown_NoProfiles: with no profiles configured the flag is set but
// no finding is made: every payer gets the defaults, and saying so on every order
// would say nothing.
func TestCheck_PayerUnknown_NoProfiles(t *testing.T) {
	c := newChecker(t, rules.Config{})
	o := pendingOrder()
	c.Check(o, checkTime)
	if !o.Authorization.PayerUnknown {
		t.Error("PayerUnknown false, want true")
	}
	for _, f := range o.Findings {
		if f.Code == rules.CodePayerUnknown {
			t.Errorf("unexpected finding %+v", f)
		}
	}
}

func TestConfig_Validate_New(t *testing.T) {
	tests := []struct {
		name    string
		cfg     rules.Config
		wantErr string
	}{
		{name: "the config docs' example", cfg: rules.Config{FacilityNPI: "1245319599", HospitalFacilities: []string{"HOSP_A"},
			SettingCodes: []rules.SettingCode{{Field: "pv1-18", Code: "UCH", Setting: order.ClassHospitalUrgentCare}},
			Payers: []rules.PayerProfile{kpwaPPO, kpwa, {ID: "E", ExemptSettings: []rules.ExemptSetting{{Setting: order.ClassUrgentCare}},
				ScreeningPriorAuth: "Required", BehavioralHealthDx: []string{"R41.81", "G30-G31"},
				Eligibility: rules.EligibilityService{URL: "https://payer.example.org/fhir/CoverageEligibilityRequest"}}}}},
		{name: "bad facility NPI", cfg: rules.Config{FacilityNPI: "1245319590"}, wantErr: "facility_npi"},
		{name: "bad setting field", cfg: rules.Config{SettingCodes: []rules.SettingCode{{Field: "PV1-99", Code: "X", Setting: order.ClassEmergency}}}, wantErr: "setting_codes[0].field"},
		{name: "empty setting code", cfg: rules.Config{SettingCodes: []rules.SettingCode{{Field: "PV1-10", Setting: order.ClassEmergency}}}, wantErr: "setting_codes[0].code"},
		{name: "bad setting", cfg: rules.Config{SettingCodes: []rules.SettingCode{{Field: "PV1-10", Code: "X", Setting: "clinic"}}}, wantErr: "setting_codes[0].setting"},
		{name: "outpatient is no exempt setting", cfg: rules.Config{Payers: []rules.PayerProfile{{ID: "P", ExemptSettings: []rules.ExemptSetting{{Setting: order.ClassOutpatient}}}}},
			wantErr: "payers[0].exempt_settings[0].setting"},
		{name: "negative within", cfg: rules.Config{Payers: []rules.PayerProfile{{ID: "P", ExemptSettings: []rules.ExemptSetting{{Setting: order.ClassEmergency, Within: -1}}}}},
			wantErr: "exempt_settings[0].within"},
		{name: "bad screening requirement", cfg: rules.Config{Payers: []rules.PayerProfile{{ID: "P", ScreeningPriorAuth: "never"}}}, wantErr: "screening_prior_auth"},
		{name: "bad dx range", cfg: rules.Config{Payers: []rules.PayerProfile{{ID: "P", BehavioralHealthDx: []string{"F99-F01"}}}}, wantErr: "behavioral_health_dx[0]"},
		{name: "bad dx", cfg: rules.Config{Payers: []rules.PayerProfile{{ID: "P", BehavioralHealthDx: []string{"depression"}}}}, wantErr: "behavioral_health_dx[0]"},
		{name: "bad eligibility url", cfg: rules.Config{Payers: []rules.PayerProfile{{ID: "P", Eligibility: rules.EligibilityService{URL: "payer.example.org"}}}}, wantErr: "eligibility.url"},
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
		})
	}
}
