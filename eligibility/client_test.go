package eligibility_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radbridge/radbridge/eligibility"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

var checkTime = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// fakePayer is a loopback eligibility service: it answers each CoverageEligibilityRequest
// with the response its member ID selects, and keeps the requests it was sent.
type fakePayer struct {
	mu   sync.Mutex
	reqs []map[string]any
}

// The fake's answers, by member ID.
var answers = map[string]struct {
	status int
	body   string
}{
	"M-ACTIVE": {200, `{"resourceType":"CoverageEligibilityResponse","status":"active","purpose":["validation"],` +
		`"patient":{"display":"x"},"created":"2026-03-02","request":{"display":"x"},"outcome":"complete",` +
		`"disposition":"Policy is currently in effect.","insurer":{"display":"Acme"},` +
		`"insurance":[{"coverage":{"display":"c"},"inforce":true}]}`},
	"M-INACTIVE": {200, `{"resourceType":"CoverageEligibilityResponse","status":"active","purpose":["validation"],` +
		`"patient":{"display":"x"},"created":"2026-03-02","request":{"display":"x"},"outcome":"complete",` +
		`"disposition":"Coverage terminated 2026-02-28.","insurer":{"display":"Acme"},` +
		`"insurance":[{"coverage":{"display":"c"},"inforce":false}]}`},
	"M-ERROR": {200, `{"resourceType":"CoverageEligibilityResponse","status":"active","purpose":["validation"],` +
		`"patient":{"display":"x"},"created":"2026-03-02","request":{"display":"x"},"outcome":"error",` +
		`"insurer":{"display":"Acme"},"error":[{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/adjudication-error","code":"a001","display":"Missing Identifier"}]}}]}`},
	"M-500":       {500, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception","diagnostics":"eligibility backend down"}]}`},
	"M-QUEUED":    {200, `{"resourceType":"CoverageEligibilityResponse","outcome":"queued","insurance":[{"inforce":true}]}`},
	"M-NOINFORCE": {200, `{"resourceType":"CoverageEligibilityResponse","outcome":"complete","insurance":[{"coverage":{"display":"c"}}]}`},
	"M-BUNDLE":    {200, `{"resourceType":"Bundle","type":"collection"}`},
	"M-GARBAGE":   {200, `<html>maintenance</html>`},
}

func (f *fakePayer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/fhir+json" {
		http.Error(w, "want a FHIR POST", http.StatusBadRequest)
		return
	}
	data, _ := io.ReadAll(r.Body)
	var req map[string]any
	if err := json.Unmarshal(data, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	member := ""
	if ins, ok := req["insurance"].([]any); ok && len(ins) > 0 {
		if id, ok := ins[0].(map[string]any)["coverage"].(map[string]any)["identifier"].(map[string]any); ok {
			member, _ = id["value"].(string)
		}
	}
	a, ok := answers[member]
	if !ok {
		http.Error(w, "unknown member", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func orderFor(member string) *order.Order {
	return &order.Order{
		Patient:   order.Patient{Identifiers: []order.Identifier{{Value: "MRN1", System: "urn:oid:1.2.3"}}, Family: "Doe", Given: "Jane"},
		Procedure: order.Procedure{CPT: "70553"},
		Performer: order.Facility{Name: "RAD", NPI: "1245319599"},
		Coverage:  []order.Coverage{{Payer: "ACME", PayerName: "Acme Health", MemberID: member}},
		Requested: checkTime.Add(48 * time.Hour),
	}
}

// TestClient_Check asks a loopback fake payer over real HTTP: active, inactive, and
// every way of not answering, which is an error (could not verify), never eligible.
func TestClient_Check(t *testing.T) {
	fake := &fakePayer{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c, err := eligibility.New(eligibility.Config{}, func() time.Time { return checkTime })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		member      string
		active      bool
		detail      string
		errHas      string // "" for an answer
		notVerified bool   // the error wraps ErrNotVerified
	}{
		{member: "M-ACTIVE", active: true, detail: "Policy is currently in effect."},
		{member: "M-INACTIVE", active: false, detail: "Coverage terminated 2026-02-28."},
		{member: "M-ERROR", errHas: "outcome error: Missing Identifier", notVerified: true},
		{member: "M-500", errHas: "answered 500 Internal Server Error: eligibility backend down", notVerified: true},
		{member: "M-QUEUED", errHas: `outcome "queued"`, notVerified: true},
		{member: "M-NOINFORCE", errHas: "does not say whether the coverage is in force", notVerified: true},
		{member: "M-BUNDLE", errHas: `a "Bundle"`, notVerified: true},
		{member: "M-GARBAGE", errHas: "not JSON", notVerified: true},
		{member: "M-UNKNOWN", errHas: "answered 404", notVerified: true},
	}
	for _, tc := range tests {
		t.Run(tc.member, func(t *testing.T) {
			res, err := c.Check(t.Context(), rules.EligibilityQuery{URL: srv.URL + "/CoverageEligibilityRequest", Payer: "ACME",
				Order: orderFor(tc.member), Date: "2026-03-04"})
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("Check = %+v, %v; want an error containing %q", res, err, tc.errHas)
				}
				if errors.Is(err, eligibility.ErrNotVerified) != tc.notVerified {
					t.Errorf("errors.Is(%v, ErrNotVerified) = %v", err, !tc.notVerified)
				}
				return
			}
			if err != nil || res.Active != tc.active || res.Detail != tc.detail {
				t.Fatalf("Check = %+v, %v; want active %v, detail %q", res, err, tc.active, tc.detail)
			}
		})
	}

	// What the payer was sent: a CoverageEligibilityRequest with purpose validation,
	// the date of service, the insurer, the member and the performing facility.
	req := fake.reqs[0]
	for path, want := range map[string]any{
		"resourceType": "CoverageEligibilityRequest", "status": "active", "servicedDate": "2026-03-04",
		"created": "2026-03-02T09:30:00Z",
	} {
		if req[path] != want {
			t.Errorf("request %s = %v, want %v", path, req[path], want)
		}
	}
	if p, _ := req["purpose"].([]any); len(p) != 1 || p[0] != "validation" {
		t.Errorf("request purpose = %v, want [validation]", req["purpose"])
	}
	if id := req["insurer"].(map[string]any)["identifier"].(map[string]any)["value"]; id != "ACME" {
		t.Errorf("request insurer identifier = %v, want ACME", id)
	}
	if id := req["facility"].(map[string]any)["identifier"].(map[string]any); id["value"] != "1245319599" || id["system"] != "http://hl7.org/fhir/sid/us-npi" {
		t.Errorf("request facility identifier = %v", id)
	}
}

// TestChecker_Verify_LoopbackPayer: the checker asks the fake payer through the client
// over HTTP and reads its answers into ready_to_schedule.
func TestChecker_Verify_LoopbackPayer(t *testing.T) {
	srv := httptest.NewServer(&fakePayer{})
	defer srv.Close()
	client, err := eligibility.New(eligibility.Config{Timeout: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rules.NewWith(rules.Config{Payers: []rules.PayerProfile{{ID: "ACME", Name: "Acme Health",
		Match: rules.Match{PayerID: "ACME"}, Eligibility: rules.EligibilityService{URL: srv.URL + "/fhir/CoverageEligibilityRequest"}}}},
		rules.Deps{Eligibility: client})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		member  string
		status  order.EligibilityStatus
		ready   bool
		reasons string
	}{
		{"M-ACTIVE", order.EligibilityActive, true, "coverage active: verified with Acme Health on 2026-03-02"},
		{"M-INACTIVE", order.EligibilityInactive, false, `coverage inactive according to Acme Health ("Coverage terminated 2026-02-28.")`},
		{"M-500", order.EligibilityUnverified, false, "coverage could not be verified with Acme Health"},
	} {
		t.Run(tc.member, func(t *testing.T) {
			o := orderFor(tc.member)
			o.Authorization.Number = "AUTH-1"
			c.Verify(t.Context(), o, checkTime)
			c.Check(o, checkTime)
			if o.Eligibility.Status != tc.status {
				t.Errorf("Eligibility = %+v, want %q", o.Eligibility, tc.status)
			}
			all := strings.Join(o.ReadyToSchedule.Reasons, "\n")
			if !strings.Contains(all, tc.reasons) {
				t.Errorf("reasons %q, want %q", o.ReadyToSchedule.Reasons, tc.reasons)
			}
			if tc.ready && !strings.HasPrefix(o.ReadyToSchedule.Reasons[0], "coverage active") {
				t.Errorf("coverage reason %q", o.ReadyToSchedule.Reasons[0])
			}
		})
	}
}

func TestConfig_Validate(t *testing.T) {
	if _, err := eligibility.New(eligibility.Config{Timeout: -1}, nil); err == nil {
		t.Error("New with a negative timeout succeeded")
	}
	if _, err := eligibility.New(eligibility.Config{MaxResponse: -1}, nil); err == nil {
		t.Error("New with a negative max response succeeded")
	}
}
