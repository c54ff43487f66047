package rules_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

// networksCSV is a networks table: facility 1245319599 is in ACME's network for every
// plan until 2026-03-31, when it leaves it; 1234567893 is in the HMO plan's network
// from 2026-01-01, open-ended; OTHERPAY has a row for another facility only.
const networksCSV = "payer,plan,network,facility_npi,effective_from,effective_to\r\n" +
	"ACME,,ACME-WEST,1245319599,2025-01-01,2026-03-31\r\n" +
	"ACME,ACME-HMO,ACME-HMO-NET,1234567893,2026-01-01,\r\n" +
	"OTHERPAY,,OTHER-NET,1234567893,2020-01-01,\r\n"

func networksChecker(tb testing.TB, cfg rules.Config, deps rules.Deps) *rules.Checker {
	tb.Helper()
	cfg.NetworksFile = "networks.csv"
	deps.ReadFile = func(name string) ([]byte, error) {
		if name != "networks.csv" {
			return nil, errors.New("no such file")
		}
		return []byte(networksCSV), nil
	}
	c, err := rules.NewWith(cfg, deps)
	if err != nil {
		tb.Fatalf("NewWith: %v", err)
	}
	return c
}

// readyCase changes a complete order (authorization number sent) and expects a
// ready-to-schedule verdict, the reasons it must contain, and the findings it adds.
type readyCase struct {
	name       string
	mutate     func(o *order.Order)
	ready      bool
	reasonsHas []string
	findings   []string // codes that must be among the findings
}

func runReadyCases(t *testing.T, c *rules.Checker, cases []readyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := completeOrder()
			tc.mutate(o)
			c.Check(o, checkTime)
			r := o.ReadyToSchedule
			if r.Ready != tc.ready {
				t.Errorf("Ready = %v, want %v; reasons %q", r.Ready, tc.ready, r.Reasons)
			}
			if len(r.Reasons) != 4 {
				t.Errorf("%d reasons, want 4 (coverage, network, authorization, documentation): %q", len(r.Reasons), r.Reasons)
			}
			all := strings.Join(r.Reasons, "\n")
			for _, s := range tc.reasonsHas {
				if !strings.Contains(all, s) {
					t.Errorf("reasons %q, want one containing %q", r.Reasons, s)
				}
			}
			for _, code := range tc.findings {
				assertHas(t, o.Findings, code)
			}
		})
	}
}

// TestCheck_Network: out of network on the date of service is a finding; the
// networks table decides, for the performing facility (MSH-6/PV1-3.4,
// ServiceRequest.performer, else prior_auth.facility_npi), the payer and the plan.
func TestCheck_Network(t *testing.T) {
	c := networksChecker(t, rules.Config{FacilityNPI: "1245319599"}, rules.Deps{})
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d.Add(10 * time.Hour) }
	runReadyCases(t, c, []readyCase{
		{
			name:       "networks row ACME-WEST: the default facility is in network on 2026-03-15",
			mutate:     func(o *order.Order) { o.Requested = day("2026-03-15") },
			ready:      true,
			reasonsHas: []string{`in network: facility NPI 1245319599 is in ACME's network "ACME-WEST" on 2026-03-15`},
		},
		{
			name:       "networks row ACME-WEST ends 2026-03-31: the facility has left the network on 2026-04-01",
			mutate:     func(o *order.Order) { o.Requested = day("2026-04-01") },
			reasonsHas: []string{"not ready: out of network on 2026-04-01"},
			findings:   []string{rules.CodeOutOfNetwork},
		},
		{
			name:   "the last day of a row is in it: 2026-03-31",
			mutate: func(o *order.Order) { o.Requested = day("2026-03-31") },
			ready:  true,
		},
		{
			name: "the order's performing facility comes before the default: 1234567893 in the HMO plan's network",
			mutate: func(o *order.Order) {
				o.Performer = order.Facility{Name: "RAD", NPI: "1234567893"}
				o.Requested = day("2026-06-01")
			},
			ready:      true,
			reasonsHas: []string{`"ACME-HMO-NET"`},
		},
		{
			name: "a plan row covers its plan only: 1234567893 for plan ACME-PPO is out of network",
			mutate: func(o *order.Order) {
				o.Performer.NPI, o.Coverage[0].Plan = "1234567893", "ACME-PPO"
			},
			findings: []string{rules.CodeOutOfNetwork},
		},
		{
			name:       "a payer with no row: network participation unknown",
			mutate:     func(o *order.Order) { o.Coverage[0].Payer = "NEWPAYER" },
			reasonsHas: []string{"no networks table row for payer"},
			findings:   []string{rules.CodeNetworkUnknown},
		},
		{
			name:       "no date on the order: the authored date is the date of service",
			mutate:     func(o *order.Order) { o.Authored = day("2026-05-01") },
			reasonsHas: []string{"out of network on 2026-05-01"},
		},
	})
	t.Run("no facility NPI at all: unknown", func(t *testing.T) {
		c := networksChecker(t, rules.Config{}, rules.Deps{})
		o := completeOrder()
		c.Check(o, checkTime)
		if o.ReadyToSchedule.Ready {
			t.Errorf("ready without a facility: %q", o.ReadyToSchedule.Reasons)
		}
		assertHas(t, o.Findings, rules.CodeNetworkUnknown)
	})
}

func TestNewWith_NetworksFile(t *testing.T) {
	const header = "payer,plan,network,facility_npi,effective_from,effective_to\n"
	tests := []struct {
		name, csv, wantErr string
	}{
		{name: "header only", csv: header},
		{name: "columns in another order, BOM", csv: "\ufeffnetwork,payer,facility_npi,plan,effective_to,effective_from\nN,P,1245319599,,,2026-01-01\n"},
		{name: "no effective_to column", csv: "payer,plan,network,facility_npi,effective_from\n", wantErr: `no "effective_to" column`},
		{name: "bad NPI", csv: header + "P,,N,1245319590,2026-01-01,\n", wantErr: "line 2: facility_npi"},
		{name: "bad date", csv: header + "P,,N,1245319599,01/01/2026,\n", wantErr: "line 2: effective_from"},
		{name: "end before start", csv: header + "P,,N,1245319599,2026-02-01,2026-01-31\n", wantErr: "before effective_from"},
		{name: "no payer", csv: header + ",,N,1245319599,2026-01-01,\n", wantErr: "empty payer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.NewWith(rules.Config{NetworksFile: "n.csv"},
				rules.Deps{ReadFile: func(string) ([]byte, error) { return []byte(tc.csv), nil }})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("NewWith = %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("NewWith = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
	if _, err := rules.NewWith(rules.Config{NetworksFile: "missing.csv"},
		rules.Deps{ReadFile: func(string) ([]byte, error) { return nil, errors.New("no such file") }}); err == nil ||
		!strings.Contains(err.Error(), "networks_file") {
		t.Errorf("NewWith with an unreadable file = %v, want a networks_file error", err)
	}
}

// TestCheck_CoveragePeriod: the coverage dates (IN1-12/IN1-13, Coverage.period) must
// cover the date of service.
func TestCheck_CoveragePeriod(t *testing.T) {
	c := newChecker(t, rules.Config{})
	runReadyCases(t, c, []readyCase{
		{
			name:       "IN1-12 2026-01-01 to IN1-13 2026-12-31 covers 2026-03-02",
			mutate:     func(o *order.Order) { o.Coverage[0].Start, o.Coverage[0].End = "2026-01-01", "2026-12-31" },
			ready:      true,
			reasonsHas: []string{"coverage dates cover the date of service (not verified with the payer"},
		},
		{
			name:       "IN1-13 plan expiration 2026-02-28 is before the date of service",
			mutate:     func(o *order.Order) { o.Coverage[0].End = "2026-02-28" },
			reasonsHas: []string{"not ready: coverage not in force on 2026-03-02 (open to 2026-02-28)"},
			findings:   []string{rules.CodeCoverageOutOfPeriod},
		},
		{
			name:     "IN1-12 plan effective date after the requested date",
			mutate:   func(o *order.Order) { o.Coverage[0].Start = "2026-04-01"; o.Requested = checkTime.Add(24 * time.Hour) },
			findings: []string{rules.CodeCoverageOutOfPeriod},
		},
		{
			name:   "open-ended coverage (IN1-12 only)",
			mutate: func(o *order.Order) { o.Coverage[0].Start = "1998-11-01" },
			ready:  true,
		},
	})
}

// TestCheck_ReadyToSchedule: one verdict per order: coverage active, in network,
// authorization not needed or approved with a window covering the date and the same
// CPT, documentation complete.
func TestCheck_ReadyToSchedule(t *testing.T) {
	c := newChecker(t, rules.Config{})
	runReadyCases(t, c, []readyCase{
		{
			name:   "complete, authorization number sent, nothing else configured: ready",
			mutate: func(o *order.Order) {},
			ready:  true,
			reasonsHas: []string{"coverage not verified: no eligibility service", "network participation not checked",
				"authorization approved", "documentation complete"},
		},
		{
			name:       "authorization required and outstanding: not ready",
			mutate:     func(o *order.Order) { o.Authorization = order.Authorization{} },
			reasonsHas: []string{"not ready: prior authorization is required and not yet approved"},
		},
		{
			name:       "authorization denied: not ready",
			mutate:     func(o *order.Order) { o.Authorization = order.Authorization{Status: order.AuthDenied} },
			reasonsHas: []string{"not ready: prior authorization was denied"},
		},
		{
			name: "approved with a window covering the date of service",
			mutate: func(o *order.Order) {
				o.Authorization.ValidFrom, o.Authorization.ValidTo = checkTime.Add(-24*time.Hour), checkTime.Add(30*24*time.Hour)
			},
			ready:      true,
			reasonsHas: []string{"authorization approved, valid 2026-03-01 to 2026-04-01, covering the date of service 2026-03-02"},
		},
		{
			name: "approved, but the window ended before the requested date",
			mutate: func(o *order.Order) {
				o.Authorization.ValidTo = checkTime.Add(24 * time.Hour)
				o.Requested = checkTime.Add(5 * 24 * time.Hour)
			},
			reasonsHas: []string{"does not cover the date of service 2026-03-07"},
		},
		{
			name:       "approved for another CPT: not ready",
			mutate:     func(o *order.Order) { o.Authorization.CPT = "70551" },
			reasonsHas: []string{`is for CPT "70551", not the ordered "70553"`},
		},
		{
			name:       "not required: chest X-ray",
			mutate:     func(o *order.Order) { o.Procedure = proc("71046"); o.Authorization = order.Authorization{} },
			ready:      true,
			reasonsHas: []string{"authorization not needed: the procedure does not require prior authorization"},
		},
		{
			name: "exempt: emergency",
			mutate: func(o *order.Order) {
				o.Authorization = order.Authorization{}
				o.EncounterClass = order.ClassEmergency
			},
			ready:      true,
			reasonsHas: []string{"authorization not needed: the setting exempts the order"},
		},
		{
			name: "undetermined: not ready",
			mutate: func(o *order.Order) {
				o.Procedure = proc("76536")
				o.Procedure.Modality = "US"
				o.Authorization = order.Authorization{}
			},
			reasonsHas: []string{"not ready: prior authorization could not be determined"},
		},
		{
			name:       "documentation incomplete: not ready",
			mutate:     func(o *order.Order) { o.Provider.NPI = "1234567890" },
			reasonsHas: []string{"not ready: documentation incomplete (1 error findings to fix)"},
		},
		{
			name:       "no coverage: not ready",
			mutate:     func(o *order.Order) { o.Coverage = nil },
			reasonsHas: []string{"not ready: the order has no coverage"},
		},
	})
}

// fakeEligibility answers eligibility questions as told, counting them.
type fakeEligibility struct {
	res   rules.EligibilityResult
	err   error
	asked []rules.EligibilityQuery
}

func (f *fakeEligibility) Check(_ context.Context, q rules.EligibilityQuery) (rules.EligibilityResult, error) {
	f.asked = append(f.asked, q)
	return f.res, f.err
}

// TestVerify: the payer's eligibility answer is recorded on the order and read by
// Check: active, inactive, and unverified on error, never eligible.
func TestVerify(t *testing.T) {
	acme := rules.PayerProfile{ID: "ACME", Name: "Acme Health", Match: rules.Match{PayerID: "ACME"},
		Eligibility: rules.EligibilityService{URL: "https://acme.example.org/fhir/CoverageEligibilityRequest"}}
	tests := []struct {
		name       string
		fake       fakeEligibility
		status     order.EligibilityStatus
		ready      bool
		reasonsHas string
		finding    string
	}{
		{name: "active", fake: fakeEligibility{res: rules.EligibilityResult{Active: true, Detail: "Policy is currently in effect."}},
			status: order.EligibilityActive, ready: true, reasonsHas: "coverage active: verified with Acme Health on 2026-03-02"},
		{name: "inactive", fake: fakeEligibility{res: rules.EligibilityResult{Detail: "coverage terminated"}},
			status: order.EligibilityInactive, reasonsHas: `not ready: coverage inactive according to Acme Health ("coverage terminated")`,
			finding: rules.CodeCoverageInactive},
		{name: "error: could not verify, never eligible", fake: fakeEligibility{res: rules.EligibilityResult{Active: true}, err: errors.New("503 Service Unavailable")},
			status: order.EligibilityUnverified, reasonsHas: "not ready: coverage could not be verified with Acme Health", finding: rules.CodeCoverageUnverified},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := tc.fake
			c, err := rules.NewWith(rules.Config{Payers: []rules.PayerProfile{acme}}, rules.Deps{Eligibility: &fake})
			if err != nil {
				t.Fatal(err)
			}
			o := completeOrder()
			o.Requested = checkTime.Add(24 * time.Hour)
			c.Verify(t.Context(), o, checkTime)
			if len(fake.asked) != 1 || fake.asked[0].URL != acme.Eligibility.URL || fake.asked[0].Date != "2026-03-03" || fake.asked[0].Payer != "ACME" {
				t.Fatalf("asked %+v", fake.asked)
			}
			if o.Eligibility.Status != tc.status || !o.Eligibility.Checked.Equal(checkTime) {
				t.Errorf("Eligibility = %+v, want status %q checked %v", o.Eligibility, tc.status, checkTime)
			}
			c.Check(o, checkTime)
			if o.ReadyToSchedule.Ready != tc.ready || !strings.Contains(strings.Join(o.ReadyToSchedule.Reasons, "\n"), tc.reasonsHas) {
				t.Errorf("ReadyToSchedule = %+v, want ready %v with %q", o.ReadyToSchedule, tc.ready, tc.reasonsHas)
			}
			if tc.finding != "" {
				assertHas(t, o.Findings, tc.finding)
			}
		})
	}
	t.Run("a profile with a service, not asked: not ready", func(t *testing.T) {
		c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{acme}})
		o := completeOrder()
		c.Verify(t.Context(), o, checkTime) // no service in the Deps: nothing asked, cleared
		c.Check(o, checkTime)
		if o.Eligibility != (order.Eligibility{}) || o.ReadyToSchedule.Ready {
			t.Errorf("Eligibility %+v, ReadyToSchedule %+v; want none, not ready", o.Eligibility, o.ReadyToSchedule)
		}
	})
	t.Run("a payer without a service is not asked", func(t *testing.T) {
		fake := fakeEligibility{res: rules.EligibilityResult{Active: true}}
		c, _ := rules.NewWith(rules.Config{Payers: []rules.PayerProfile{{ID: "OTHER"}}}, rules.Deps{Eligibility: &fake})
		o := completeOrder()
		o.Eligibility = order.Eligibility{Status: order.EligibilityActive} // stale
		c.Verify(t.Context(), o, checkTime)
		if len(fake.asked) != 0 || o.Eligibility != (order.Eligibility{}) {
			t.Errorf("asked %d, Eligibility %+v; want none", len(fake.asked), o.Eligibility)
		}
	})
}

// TestCheck_FindingClasses_Verdicts: the findings of the payer, coverage and network
// checks are notes (informational: no HL7 0357 code, FHIR informational), written out
// here apart from the code, and each is produced.
func TestCheck_FindingClasses_Verdicts(t *testing.T) {
	want := map[string]order.Severity{
		rules.CodePayerUnknown: order.SeverityInformation, rules.CodeCoverageOutOfPeriod: order.SeverityWarning,
		rules.CodeCoverageInactive: order.SeverityWarning, rules.CodeCoverageUnverified: order.SeverityInformation,
		rules.CodeOutOfNetwork: order.SeverityWarning, rules.CodeNetworkUnknown: order.SeverityWarning,
	}
	acme := rules.PayerProfile{ID: "ACME", Match: rules.Match{PayerID: "ACME"},
		Eligibility: rules.EligibilityService{URL: "https://acme.example.org/fhir/CoverageEligibilityRequest"}}
	c := networksChecker(t, rules.Config{Payers: []rules.PayerProfile{acme}}, rules.Deps{})
	seen := map[string]bool{}
	for _, mutate := range []func(o *order.Order){
		func(o *order.Order) { o.Coverage[0].Payer = "NOBODY" },                                       // payer unknown, network unknown
		func(o *order.Order) { o.Coverage[0].End = "2020-01-01"; o.Performer.NPI = "1245319599" },     // out of period, out of network
		func(o *order.Order) { o.Eligibility = order.Eligibility{Status: order.EligibilityInactive} }, // inactive
		func(o *order.Order) { o.Eligibility = order.Eligibility{Status: order.EligibilityUnverified} },
	} {
		o := completeOrder()
		o.Requested = checkTime.Add(60 * 24 * time.Hour)
		mutate(o)
		c.Check(o, checkTime)
		for _, f := range o.Findings {
			w, ok := want[f.Code]
			if !ok {
				continue
			}
			seen[f.Code] = true
			if f.Class != order.FindingInformational || f.Severity != w {
				t.Errorf("finding %s: class %q severity %q, want informational %q", f.Code, f.Class, f.Severity, w)
			}
		}
	}
	for code := range want {
		if !seen[code] {
			t.Errorf("no case produced %s", code)
		}
	}
}
