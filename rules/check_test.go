package rules_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

func TestCheck_Authorization(t *testing.T) {
	c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{ppoNoAuth, dxaPlan}})
	type auth struct {
		Required, RecordsRequired, Exempt bool
		DueBy                             time.Time
		Number                            string
		Status                            order.AuthStatus
	}
	tests := []struct {
		name      string
		mutate    func(o *order.Order)
		want      auth
		reasonHas string
		findings  []want
		// settled is the order status after Settle.
		settled order.Status
		// knownPayer says a profile matches the primary coverage. Otherwise the checker,
		// which has profiles, reports the payer unknown with a finding first: the
		// default rules applied (they were applied silently before the issue "Verdicts
		// a payer's reviewer would sign").
		knownPayer bool
	}{
		{
			name:      "routine outpatient MRI: 7 days",
			mutate:    func(o *order.Order) {},
			want:      auth{Required: true, DueBy: checkTime.Add(7 * 24 * time.Hour), Status: order.AuthPending},
			reasonHas: "requires prior authorization",
			findings:  []want{{Code: rules.CodePreauthRequired, Severity: order.SeverityInformation, Location: "IN1-14", FHIRPath: "ServiceRequest.insurance", TextHas: "CPT 70553"}},
			settled:   order.StatusPendingAuth,
		},
		{
			name:     "stat: 72 hours",
			mutate:   func(o *order.Order) { o.Priority = order.PriorityStat },
			want:     auth{Required: true, DueBy: checkTime.Add(72 * time.Hour), Status: order.AuthPending},
			findings: []want{{Code: rules.CodePreauthRequired, Severity: order.SeverityInformation, Location: "IN1-14", FHIRPath: "ServiceRequest.insurance"}},
			settled:  order.StatusPendingAuth,
		},
		{
			name:     "urgent: 72 hours",
			mutate:   func(o *order.Order) { o.Priority = order.PriorityUrgent },
			want:     auth{Required: true, DueBy: checkTime.Add(72 * time.Hour), Status: order.AuthPending},
			findings: []want{{Code: rules.CodePreauthRequired, Severity: order.SeverityInformation, Location: "IN1-14", FHIRPath: "ServiceRequest.insurance"}},
			settled:  order.StatusPendingAuth,
		},
		{
			name:      "PET: records required",
			mutate:    func(o *order.Order) { o.Procedure = order.Procedure{CPT: "78815"} },
			want:      auth{Required: true, RecordsRequired: true, DueBy: checkTime.Add(7 * 24 * time.Hour), Status: order.AuthPending},
			reasonHas: "medical records",
			findings:  []want{{Code: rules.CodePreauthRecordsRequired, Severity: order.SeverityInformation, Location: "IN1-14", FHIRPath: "ServiceRequest.insurance", TextHas: "medical records"}},
			settled:   order.StatusPendingAuth,
		},
		{
			name:      "number sent: no finding, approved",
			mutate:    func(o *order.Order) { o.Authorization.Number = "A-1" },
			want:      auth{Required: true, Number: "A-1", Status: order.AuthApproved},
			reasonHas: "requires prior authorization",
			settled:   order.StatusReady,
		},
		{
			name: "decision on record keeps DueBy",
			mutate: func(o *order.Order) {
				o.Authorization = order.Authorization{Status: order.AuthDenied, DueBy: checkTime.Add(-time.Hour)}
			},
			want:    auth{Required: true, DueBy: checkTime.Add(-time.Hour), Status: order.AuthDenied},
			settled: order.StatusDenied,
		},
		{
			name: "emergency: exempt, no due date",
			mutate: func(o *order.Order) {
				o.EncounterClass = order.ClassEmergency
				o.Authorization.DueBy = checkTime // from an earlier check
			},
			want:      auth{Required: true, Exempt: true, Status: order.AuthExempt},
			reasonHas: "emergency orders are exempt",
			settled:   order.StatusReady,
		},
		{
			name: "exempt PET: records not required",
			mutate: func(o *order.Order) {
				o.EncounterClass = order.ClassInpatient
				o.Procedure = order.Procedure{CPT: "78815"}
			},
			want:    auth{Required: true, Exempt: true, Status: order.AuthExempt},
			settled: order.StatusReady,
		},
		{
			name:      "chest X-ray: not required",
			mutate:    func(o *order.Order) { o.Procedure = order.Procedure{CPT: "71046"} },
			want:      auth{Status: order.AuthNotRequired},
			reasonHas: "does not require",
			settled:   order.StatusReady,
		},
		{
			name: "unknown code: undetermined, never read as not required",
			mutate: func(o *order.Order) {
				o.Procedure = order.Procedure{CPT: "76536", Modality: "US", BodySite: "neck"}
			},
			want:      auth{Status: order.AuthUndetermined},
			reasonHas: `unknown CPT code "76536"`,
			findings:  []want{{Code: rules.CodeCPTUnknown, Severity: order.SeverityWarning, Location: "OBR-4", FHIRPath: "ServiceRequest.code"}},
			settled:   order.StatusReady,
		},
		{
			name:       "PPO by plan: no auth for CT",
			mutate:     func(o *order.Order) { o.Procedure = order.Procedure{CPT: "74177"}; o.Coverage[0].Plan = "ACME-PPO" },
			want:       auth{Status: order.AuthNotRequired},
			reasonHas:  "Acme PPO",
			settled:    order.StatusReady,
			knownPayer: true,
		},
		{
			name: "DXA plan by payer",
			mutate: func(o *order.Order) {
				o.Procedure = order.Procedure{CPT: "77080"}
				o.Coverage = []order.Coverage{{Payer: "kpnw", Plan: "GOLD"}}
			},
			want:       auth{Required: true, DueBy: checkTime.Add(7 * 24 * time.Hour), Status: order.AuthPending},
			reasonHas:  "Kaiser NW",
			findings:   []want{{Code: rules.CodePreauthRequired, Severity: order.SeverityInformation, Location: "IN1-14", FHIRPath: "ServiceRequest.insurance", TextHas: "from Kaiser NW"}},
			settled:    order.StatusPendingAuth,
			knownPayer: true,
		},
		{
			name: "plan profile beats payer profile",
			mutate: func(o *order.Order) {
				o.Procedure = order.Procedure{CPT: "77080"}
				o.Coverage = []order.Coverage{{Payer: "KPNW", Plan: "ACME-PPO"}}
			},
			want:       auth{Status: order.AuthNotRequired},
			settled:    order.StatusReady,
			knownPayer: true,
		},
		{
			name: "secondary coverage is not used",
			mutate: func(o *order.Order) {
				o.Procedure = order.Procedure{CPT: "77080"}
				o.Coverage = []order.Coverage{{Payer: "MEDICARE"}, {Payer: "KPNW"}}
			},
			want:    auth{Status: order.AuthNotRequired},
			settled: order.StatusReady,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := completeOrder()
			o.Authorization = order.Authorization{}
			tc.mutate(o)
			c.Check(o, checkTime)
			if o.Status != order.StatusReceived {
				t.Fatalf("Check changed the status to %q", o.Status)
			}
			wantFindings := tc.findings
			if !tc.knownPayer { // after the completeness findings, before the preauth ones
				wantFindings = nil
				unknown := want{Code: rules.CodePayerUnknown, Severity: order.SeverityInformation,
					Location: "IN1-3", FHIRPath: "ServiceRequest.insurance", TextHas: "No payer profile matches"}
				for _, w := range tc.findings {
					if strings.HasPrefix(w.Code, "preauth.") && unknown.Code != "" {
						wantFindings, unknown.Code = append(wantFindings, unknown), ""
					}
					wantFindings = append(wantFindings, w)
				}
				if unknown.Code != "" {
					wantFindings = append(wantFindings, unknown)
				}
			}
			if o.Authorization.PayerUnknown == tc.knownPayer {
				t.Errorf("Authorization.PayerUnknown = %v, want %v", o.Authorization.PayerUnknown, !tc.knownPayer)
			}
			assertFindings(t, o.Findings, wantFindings)
			if len(wantFindings) == 0 {
				for _, f := range o.Findings {
					if strings.HasPrefix(f.Code, "preauth.") {
						t.Errorf("unexpected finding %+v", f)
					}
				}
			}
			if !strings.Contains(o.Authorization.Reason, tc.reasonHas) {
				t.Errorf("Reason = %q, want it to contain %q", o.Authorization.Reason, tc.reasonHas)
			}
			if err := o.Settle(checkTime, "", "M1"); err != nil {
				t.Fatalf("Settle: %v", err)
			}
			a := o.Authorization
			got := auth{Required: a.Required, RecordsRequired: a.RecordsRequired, Exempt: a.Exempt, DueBy: a.DueBy, Number: a.Number, Status: a.Status}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Authorization mismatch (-want +got):\n%s", diff)
			}
			if o.Status != tc.settled {
				t.Errorf("after Settle: status %q, want %q", o.Status, tc.settled)
			}
		})
	}
}

func TestCheck_DueDurationsFromConfig(t *testing.T) {
	c := newChecker(t, rules.Config{DueStandard: 5 * 24 * time.Hour, DueExpedited: 24 * time.Hour})
	o := pendingOrder()
	c.Check(o, checkTime)
	if want := checkTime.Add(5 * 24 * time.Hour); !o.Authorization.DueBy.Equal(want) {
		t.Errorf("routine DueBy = %v, want %v", o.Authorization.DueBy, want)
	}
	o.Priority = order.PriorityASAP
	c.Check(o, checkTime)
	if want := checkTime.Add(24 * time.Hour); !o.Authorization.DueBy.Equal(want) {
		t.Errorf("asap DueBy = %v, want %v", o.Authorization.DueBy, want)
	}
}

func TestChecker_Overdue(t *testing.T) {
	c := newChecker(t, rules.Config{})
	o := pendingOrder()
	if c.Overdue(o, checkTime.Add(30*24*time.Hour)) {
		t.Error("Overdue before any check = true, want false")
	}
	c.Check(o, checkTime)
	if err := o.Settle(checkTime, "", "M1"); err != nil {
		t.Fatal(err)
	}
	due := o.Authorization.DueBy
	tests := []struct {
		name   string
		mutate func(o *order.Order)
		now    time.Time
		want   bool
	}{
		{name: "before due", mutate: func(*order.Order) {}, now: due.Add(-time.Minute), want: false},
		{name: "at due", mutate: func(*order.Order) {}, now: due, want: false},
		{name: "past due", mutate: func(*order.Order) {}, now: due.Add(time.Minute), want: true},
		{name: "approved", mutate: func(o *order.Order) { _ = o.DecideAuthorization(true, "A9", due, "M2") }, now: due.Add(time.Hour), want: false},
		{name: "cancelled", mutate: func(o *order.Order) { o.Status = order.StatusCancelled }, now: due.Add(time.Hour), want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := o.Clone()
			tc.mutate(o)
			if got := c.Overdue(o, tc.now); got != tc.want {
				t.Errorf("Overdue(now=%v, due=%v) = %v, want %v", tc.now, due, got, tc.want)
			}
		})
	}
}

func TestCheck_ReusesFindings(t *testing.T) {
	c := newChecker(t, rules.Config{})
	o := completeOrder()
	o.Findings = []order.Finding{{Code: "stale.1"}, {Code: "stale.2"}, {Code: "stale.3"}}
	backing := o.Findings[:3]
	o.Provider.NPI = "1234567890"
	c.Check(o, checkTime)
	if len(o.Findings) != 1 || o.Findings[0].Code != rules.CodeNPIInvalid {
		t.Fatalf("Findings = %+v, want one %s", o.Findings, rules.CodeNPIInvalid)
	}
	if &o.Findings[0] != &backing[0] {
		t.Error("Check did not reuse the Findings backing array")
	}
	if backing[1] != (order.Finding{}) || backing[2] != (order.Finding{}) {
		t.Errorf("stale findings left in the backing array: %+v", backing)
	}
	o.Provider.NPI = "1234567893"
	c.Check(o, checkTime)
	if len(o.Findings) != 0 {
		t.Errorf("Findings after fixing = %+v, want none", o.Findings)
	}
}

// TestCheck_NeverFails feeds orders full of hostile values: Check must not panic and
// every finding must be complete.
func TestCheck_NeverFails(t *testing.T) {
	c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{ppoNoAuth}})
	long := strings.Repeat("\x00\r|^~\\&é", 50)
	orders := []*order.Order{
		{},
		{Procedure: order.Procedure{Code: long, System: long, CPT: long, Text: long}, Diagnoses: []order.Diagnosis{{Code: long, System: long}, {}},
			Provider: order.Provider{ID: long, Family: long, Given: long}, Patient: order.Patient{Family: long}, Coverage: []order.Coverage{{Payer: long, Plan: long}}, EncounterClass: order.EncounterClass(long), Priority: order.Priority(long)},
		{Procedure: order.Procedure{CPT: "\xff\xfe\xfd\xfc\xfb"}, Provider: order.Provider{NPI: "１２３４５６７８９３"}},
		{Procedure: order.Procedure{Code: long}, Provider: order.Provider{NPI: long}, Diagnoses: []order.Diagnosis{{Code: "x", System: long}}},
	}
	for i, o := range orders {
		c.Check(o, checkTime)
		for _, f := range o.Findings {
			if f.Code == "" || f.Severity == "" || f.Class == "" || f.Location == "" || f.FHIRPath == "" || f.Text == "" {
				t.Errorf("order %d: incomplete finding %+v", i, f)
			}
			if len(f.Text) > 400 {
				t.Errorf("order %d: finding %s text is %d bytes long", i, f.Code, len(f.Text))
			}
			if strings.ContainsAny(f.Text, "\x00\r") {
				t.Errorf("order %d: finding %s text carries control characters: %q", i, f.Code, f.Text)
			}
		}
	}
}

func TestCheck_Concurrent(t *testing.T) {
	c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{ppoNoAuth, dxaPlan}})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 200 {
				o := pendingOrder()
				if i%2 == 0 {
					o.Coverage[0].Plan = "ACME-PPO"
				}
				c.Check(o, checkTime)
				_ = c.Preauth("78815", order.ClassOutpatient, "KPNW")
			}
		})
	}
	wg.Wait()
}

// TestCheck_Allocs guards the zero-allocation claim for complete orders, and for an
// order pending authorization once its Findings has room.
func TestCheck_Allocs(t *testing.T) {
	c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{ppoNoAuth}})
	tests := []struct {
		name string
		o    *order.Order
	}{
		{name: "complete", o: completeOrder()},
		{name: "complete, payer profile", o: func() *order.Order { o := completeOrder(); o.Coverage[0].Plan = "acme-ppo"; return o }()},
		{name: "complete, exempt", o: func() *order.Order { o := pendingOrder(); o.EncounterClass = order.ClassEmergency; return o }()},
		{name: "pending authorization", o: func() *order.Order { o := pendingOrder(); o.Findings = make([]order.Finding, 0, 4); return o }()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.Check(tc.o, checkTime)
			if n := errorFindings(tc.o); n > 0 {
				t.Fatalf("test order has %d error findings: %+v", n, tc.o.Findings)
			}
			if allocs := testing.AllocsPerRun(200, func() { c.Check(tc.o, checkTime) }); allocs != 0 {
				t.Errorf("Check allocates %v times per order, want 0", allocs)
			}
		})
	}
}

func errorFindings(o *order.Order) int {
	n := 0
	for _, f := range o.Findings {
		if f.Severity == order.SeverityError {
			n++
		}
	}
	return n
}

// TestCheck_FindingClasses: every finding carries the class that decides how it is
// reported (HL7 0357 code, FHIR issue type), written out here apart from the code.
func TestCheck_FindingClasses(t *testing.T) {
	want := map[string]order.FindingClass{
		rules.CodeCPTMissing: order.FindingMissing, rules.CodeReasonMissing: order.FindingMissing,
		rules.CodeDiagnosisMissing: order.FindingMissing, rules.CodeProviderMissing: order.FindingMissing,
		rules.CodeNPIMissing: order.FindingMissing, rules.CodePatientIDMissing: order.FindingMissing,
		rules.CodePatientNameMissing: order.FindingMissing, rules.CodeBirthDateMissing: order.FindingMissing,
		rules.CodeSignatureMissing: order.FindingMissing, rules.CodeICD10Missing: order.FindingMissing,
		rules.CodeModalityMissing: order.FindingMissing, rules.CodeBodySiteMissing: order.FindingMissing,
		rules.CodeCPTInvalid: order.FindingInvalid, rules.CodeICD10Invalid: order.FindingInvalid, rules.CodeNPIInvalid: order.FindingInvalid,
		rules.CodeNotCPT: order.FindingUnknown, rules.CodeCPTUnknown: order.FindingUnknown,
		rules.CodePreauthRequired: order.FindingInformational, rules.CodePreauthRecordsRequired: order.FindingInformational,
	}
	c := newChecker(t, rules.Config{})
	seen := map[string]bool{}
	for _, mutate := range []func(o *order.Order){
		func(o *order.Order) { *o = order.Order{} },
		func(o *order.Order) { o.Procedure.CPT, o.Provider.NPI = "7055", "1234567890" },
		func(o *order.Order) {
			o.Diagnoses = []order.Diagnosis{{Code: "ZZZ", System: "I10"}}
			o.Authorization.Number = ""
		},
		func(o *order.Order) { o.Procedure = order.Procedure{Code: "24725-4", System: "LN"} },
		func(o *order.Order) {
			o.Procedure = order.Procedure{CPT: "99999"}
			o.Diagnoses = []order.Diagnosis{{Code: "123.4", System: "I9"}}
		},
		func(o *order.Order) { o.Coverage = nil; o.Authorization = order.Authorization{} },
	} {
		o := completeOrder()
		mutate(o)
		c.Check(o, checkTime)
		for _, f := range o.Findings {
			seen[f.Code] = true
			if w, ok := want[f.Code]; !ok || f.Class != w {
				t.Errorf("finding %s: class %q, want %q", f.Code, f.Class, w)
			}
		}
	}
	if len(seen) < 10 {
		t.Errorf("only %d finding codes were produced (%v): the cases no longer exercise the rules", len(seen), seen)
	}
}
