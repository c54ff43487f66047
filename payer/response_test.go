package payer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/order"
)

func corpus(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "priorauth", "pas", "br-payer__"+name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestReadAnswers_corpus(t *testing.T) {
	day := func(s string) time.Time { return parseDate(s) }
	tests := []struct {
		file        string
		outcome     outcome
		code        string
		number      string
		from, to    time.Time
		reasons     int
		errors      int
		wantClaims  []string
		wantRequest string
	}{
		{file: "ClaimResponse-PractitionerRequestorResponseExample", outcome: outApproved, code: "A1", number: "AUTH0001",
			from: day("2005-05-02"), to: day("2005-06-02"), wantClaims: []string{"111099"}, wantRequest: "ReferralAuthorizationExample"},
		{file: "ClaimResponse-PractitionerRequestorAdditionalContentResponseExample", outcome: outApproved, code: "A1", number: "AUTH0001",
			from: day("2005-05-02"), to: day("2005-06-02"), wantClaims: []string{"111099"}, wantRequest: "ReferralAuthorizationExample"},
		{file: "ClaimResponse-PractitionerRequestorPendingResponseExample", outcome: outPended, code: "A4",
			wantClaims: []string{"111099"}, wantRequest: "ReferralAuthorizationExample"},
		{file: "ClaimResponse-RejectionResponseExample", outcome: outDenied, code: "A3",
			wantClaims: []string{"111099"}, wantRequest: "ReferralAuthorizationExample"},
		{file: "ClaimResponse-PASClaimInquiryResponseExample", outcome: outApproved, code: "A1", number: "AUTH0001",
			wantClaims: []string{"111099"}, wantRequest: "ReferralAuthorizationExample"},
		{file: "ClaimResponse-ErrorResponseExample", outcome: outError, errors: 2,
			wantClaims: []string{"111099"}, wantRequest: "ReferralAuthorizationExample"},
		{file: "OperationOutcome-InvalidRequestResponse", outcome: outError, errors: 1},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			as := readAnswers(corpus(t, tc.file))
			if len(as) != 1 {
				t.Fatalf("readAnswers gave %d answers, want 1", len(as))
			}
			a := as[0]
			if a.outcome != tc.outcome || a.code != tc.code || a.number != tc.number || !a.validFrom.Equal(tc.from) || !a.validTo.Equal(tc.to) {
				t.Errorf("answer %v %q %q %v-%v, want %v %q %q %v-%v", a.outcome, a.code, a.number, a.validFrom, a.validTo,
					tc.outcome, tc.code, tc.number, tc.from, tc.to)
			}
			if len(a.reasons) != tc.reasons || len(a.errors) != tc.errors || !slices.Equal(a.claims, tc.wantClaims) || a.ref != tc.wantRequest {
				t.Errorf("reasons %q, errors %q, claims %q, ref %q; want %d, %d, %q, %q", a.reasons, a.errors, a.claims, a.ref,
					tc.reasons, tc.errors, tc.wantClaims, tc.wantRequest)
			}
			if len(a.raw) == 0 {
				t.Error("the answer's bytes were not kept")
			}
		})
	}
}

func TestReadAnswers_errorDetails(t *testing.T) {
	a := readAnswers(corpus(t, "ClaimResponse-ErrorResponseExample"))[0]
	if want := "X12 901 T4 at 2010A-NM103 (Bundle.entry[1].Organization.name)"; a.errors[1] != want {
		t.Errorf("error %q, want %q", a.errors[1], want)
	}
}

// An X12 306 code radbridge does not know pends the request: it is never an approval.
func TestReadClaimResponse_unknownCodePends(t *testing.T) {
	for _, code := range []string{"A5", "CT", "NA", "ZZ", "a1x"} {
		raw := strings.Replace(string(corpus(t, "ClaimResponse-PractitionerRequestorResponseExample")), `"code":"A1"`, `"code":"`+code+`"`, 1)
		a := readClaimResponse([]byte(raw))
		if a.outcome != outPended || !slices.Equal(a.unknown, []string{code}) || a.code != code {
			t.Errorf("review action %q: outcome %v, unknown %q, code %q; want pended, [%s]", code, a.outcome, a.unknown, a.code, code)
		}
	}
	a := readClaimResponse([]byte(`{"resourceType":"ClaimResponse","outcome":"complete","item":[{"itemSequence":1}]}`))
	if a.outcome != outPended || a.code != "" {
		t.Errorf("no review action: outcome %v, code %q; want pended", a.outcome, a.code)
	}
}

func TestReadClaimResponse_reasons(t *testing.T) {
	withReason := strings.Replace(string(corpus(t, "ClaimResponse-RejectionResponseExample")), `"display":"Not Certified"}]}}]`,
		`"display":"Not Certified"}]}},{"url":"reasonCode","valueCodeableConcept":{"coding":[{"system":"https://codesystem.x12.org/external/886","code":"0U","display":"Additional information requested"}]}}]`, 1)
	a := readClaimResponse([]byte(withReason))
	if a.outcome != outDenied || !slices.Equal(a.reasons, []string{"0U Additional information requested"}) {
		t.Errorf("denial with a reason code: %v %q", a.outcome, a.reasons)
	}
	a = readClaimResponse([]byte(`{"resourceType":"ClaimResponse","disposition":"Out of network","item":[{"adjudication":[{"extension":[{"url":"` +
		extReviewActionCode + `","valueCodeableConcept":{"coding":[{"code":"A3"}]}}]}]}]}`))
	if a.outcome != outDenied || !slices.Equal(a.reasons, []string{"Out of network"}) {
		t.Errorf("denial with a disposition (review action code directly on the adjudication): %v %q", a.outcome, a.reasons)
	}
}

func TestCombine(t *testing.T) {
	tests := []struct {
		in   []outcome
		want outcome
	}{
		{nil, outPended},
		{[]outcome{outApproved, outApproved}, outApproved},
		{[]outcome{outDenied, outDenied}, outDenied},
		{[]outcome{outApproved, outDenied}, outPartial},
		{[]outcome{outApproved, outPartial}, outPartial},
		{[]outcome{outApproved, outPended}, outPended},
	}
	for _, tc := range tests {
		if got := combine(tc.in); got != tc.want {
			t.Errorf("combine(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestReadAnswers_documents(t *testing.T) {
	cr := string(corpus(t, "ClaimResponse-PractitionerRequestorPendingResponseExample"))
	tests := []struct {
		name string
		doc  string
		want []outcome
	}{
		{name: "response bundle", doc: `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:1","resource":` + cr + `},{"resource":{"resourceType":"Patient"}}]}`, want: []outcome{outPended}},
		{name: "bundle without answer", doc: `{"resourceType":"Bundle","type":"collection","entry":[]}`, want: []outcome{outUnreadable}},
		{name: "not json", doc: `<ClaimResponse/>`, want: []outcome{outUnreadable}},
		{name: "other resource", doc: `{"resourceType":"Patient"}`, want: []outcome{outUnreadable}},
	}
	for _, tc := range tests {
		var got []outcome
		for _, a := range readAnswers([]byte(tc.doc)) {
			got = append(got, a.outcome)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: outcomes %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestExpired(t *testing.T) {
	day := parseDate("2026-03-10")
	exact := time.Date(2026, 3, 10, 15, 0, 0, 0, time.FixedZone("", -5*3600))
	tests := []struct {
		name string
		to   time.Time
		now  time.Time
		want bool
	}{
		{name: "the last day is covered", to: day, now: day.Add(23 * time.Hour), want: false},
		{name: "the day after", to: day, now: day.Add(24 * time.Hour), want: true},
		{name: "an instant", to: exact, now: exact.Add(-time.Second), want: false},
		{name: "at the instant", to: exact, now: exact, want: true},
	}
	for _, tc := range tests {
		a := approvedUntil(tc.to)
		if got := expired(a, tc.now); got != tc.want {
			t.Errorf("%s: expired = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNameUUID(t *testing.T) {
	u := nameUUID("ord-1-1/Claim")
	if len(u) != len("urn:uuid:")+36 || u != nameUUID("ord-1-1/Claim") || u == nameUUID("ord-1-2/Claim") || u[len("urn:uuid:")+14] != '8' {
		t.Errorf("nameUUID = %q", u)
	}
}

func approvedUntil(to time.Time) order.Authorization {
	return order.Authorization{Required: true, Status: order.AuthApproved, ValidTo: to}
}
