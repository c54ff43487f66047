package fhir_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/fhir"
)

// seedOrders creates n ServiceRequests with the status, placer ORD-{prefix}{i}.
func seedOrders(t *testing.T, s *testServer, n int, status, prefix string) {
	t.Helper()
	for i := range n {
		b := bytes.Replace(ctHead(t), []byte(`"ORD-2026-000417"`), fmt.Appendf(nil, `"ORD-%s%d"`, prefix, i), 1)
		b = bytes.Replace(b, []byte(`"status": "active"`), []byte(`"status": "`+status+`"`), 1)
		if r := s.do(t, http.MethodPost, "/fhir/ServiceRequest", b); r.status != http.StatusCreated {
			t.Fatalf("seed: %d %s", r.status, r.body)
		}
	}
}

func link(b testBundle, rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

func TestHandler_Search_Paging(t *testing.T) {
	s := newTestServer(t, fhir.Config{BaseURL: "https://rb.example.org/fhir"})
	seedOrders(t, s, 25, "active", "A")
	seedOrders(t, s, 3, "draft", "D")
	next := "/fhir/ServiceRequest?status=active&_count=10"
	seen := map[string]bool{}
	for page := 0; next != ""; page++ {
		b := decodeBundle(t, s.do(t, http.MethodGet, next, nil), "searchset")
		if b.Total == nil || *b.Total != 25 {
			t.Fatalf("page %d: total = %v, want 25", page, b.Total)
		}
		want := []int{10, 10, 5}[page]
		if len(b.Entry) != want {
			t.Fatalf("page %d: %d entries, want %d", page, len(b.Entry), want)
		}
		for _, e := range b.Entry {
			if e.Search == nil || e.Search.Mode != "match" || !strings.HasPrefix(e.FullURL, "https://rb.example.org/fhir/ServiceRequest/") {
				t.Fatalf("entry %+v: want fullUrl and search.mode match", e)
			}
			seen[e.FullURL] = true
		}
		self := link(b, "self")
		if want := fmt.Sprintf("_count=10&_offset=%d&status=active", page*10); !strings.HasSuffix(self, "?"+want) {
			t.Errorf("page %d: self = %q, want ...?%s", page, self, want)
		}
		if (link(b, "previous") != "") != (page > 0) || link(b, "first") == "" || !strings.HasSuffix(link(b, "last"), "_offset=20&status=active") {
			t.Errorf("page %d: links %+v", page, b.Link)
		}
		next = strings.TrimPrefix(link(b, "next"), "https://rb.example.org")
		if page > 3 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 25 {
		t.Errorf("paging returned %d distinct resources, want 25", len(seen))
	}
	b := decodeBundle(t, s.do(t, http.MethodGet, "/fhir/ServiceRequest?_count=0", nil), "searchset")
	if *b.Total != 28 || len(b.Entry) != 0 {
		t.Errorf("_count=0: total %d with %d entries, want 28 and none", *b.Total, len(b.Entry))
	}
	b = decodeBundle(t, s.do(t, http.MethodGet, "/fhir/ServiceRequest?_count=500", nil), "searchset")
	if len(b.Entry) != 28 || !strings.Contains(link(b, "self"), "_count=100") {
		t.Errorf("_count=500: %d entries, self %q; want 28 and _count lowered to 100", len(b.Entry), link(b, "self"))
	}
	b = decodeBundle(t, s.do(t, http.MethodGet, "/fhir/ServiceRequest", nil), "searchset")
	if len(b.Entry) != 20 {
		t.Errorf("default page: %d entries, want 20", len(b.Entry))
	}
}

func TestHandler_Search_Parameters(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	seedOrders(t, s, 2, "active", "P")
	for _, tc := range []struct {
		name, query string
		hdr         []string
		status      int
		matches     int
		diag        string // an outcome issue (entry or error) must contain it
	}{
		{"identifier system|value", "identifier=https://app.example.org/placer|ORD-P1", nil, 200, 1, ""},
		{"patient", "patient=Patient/pat-1001", nil, 200, 2, ""},
		{"requester", "requester=Practitioner/prac-3001", nil, 200, 2, ""},
		{"authored", "authored=2026-03-01", nil, 200, 2, ""},
		{"authored with unescaped +", "authored=ge2026-03-01T00:00:00+01:00", nil, 200, 0, ""},
		{"or values", "status=draft,active", nil, 200, 2, ""},
		{"lenient unknown", "status=active&color=blue", nil, 200, 2, "color (unknown parameter)"},
		{"lenient modifier", "status:not=active", nil, 200, 2, "status:not (modifier not supported)"},
		{"lenient result param", "_sort=-authored", nil, 200, 2, "_sort (result parameter not supported)"},
		{"lenient empty value", "status=", nil, 200, 2, "status (empty value)"},
		{"strict unknown", "status=active&color=blue", []string{"Prefer", "handling=strict"}, 400, 0, "color (unknown parameter)"},
		{"bad date", "authored=yesterday", nil, 400, 0, "not a FHIR date"},
		{"bad _count", "_count=-1", nil, 400, 0, "_count"},
		{"bad _offset", "_offset=x", nil, 400, 0, "_offset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, http.MethodGet, "/fhir/ServiceRequest?"+tc.query, nil, tc.hdr...)
			if tc.status != 200 {
				wantOutcome(t, r, tc.status, "-", tc.diag)
				return
			}
			b := decodeBundle(t, r, "searchset")
			matches, outcome := 0, ""
			for _, e := range b.Entry {
				switch e.Search.Mode {
				case "match":
					matches++
				case "outcome":
					outcome = string(e.Resource)
				}
			}
			if matches != tc.matches {
				t.Errorf("%d matches, want %d", matches, tc.matches)
			}
			if !strings.Contains(outcome, tc.diag) {
				t.Errorf("outcome entry %q does not mention %q", outcome, tc.diag)
			}
			if strings.Contains(link(b, "self"), "color") {
				t.Errorf("self link %q keeps an ignored parameter", link(b, "self"))
			}
		})
	}
}

// The Backend's warnings about a search (say, that it examined only part of the data)
// reach the client in the outcome entry, beside the ignored parameters.
func TestHandler_Search_BackendWarnings(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	seedOrders(t, s, 2, "active", "P")
	s.be.mu.Lock()
	s.be.warnings = []fhir.Issue{{Severity: "warning", Code: "too-costly", Diagnostics: "only part of the orders were searched"}}
	s.be.mu.Unlock()
	b := decodeBundle(t, s.do(t, http.MethodGet, "/fhir/ServiceRequest?status=active&color=blue", nil), "searchset")
	var outcomes []string
	for _, e := range b.Entry {
		if e.Search.Mode == "outcome" {
			outcomes = append(outcomes, string(e.Resource))
		}
	}
	if len(outcomes) != 1 || !strings.Contains(outcomes[0], "only part of the orders were searched") ||
		!strings.Contains(outcomes[0], "too-costly") || !strings.Contains(outcomes[0], "color (unknown parameter)") {
		t.Errorf("outcome entries %q: want one holding the backend's warning and the ignored parameter", outcomes)
	}
}

func TestHandler_Search_OtherTypes(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	seedOrders(t, s, 1, "active", "O")
	report := []byte(`{"resourceType":"DiagnosticReport","status":"final","code":{"text":"CT head"},
		"basedOn":[{"reference":"ServiceRequest/1"}],"subject":{"reference":"Patient/pat-1001"}}`)
	if r := s.do(t, http.MethodPost, "/fhir/DiagnosticReport", report); r.status != http.StatusCreated {
		t.Fatalf("POST DiagnosticReport: %d %s", r.status, r.body)
	}
	for _, q := range []string{"based-on=ServiceRequest/1", "patient=pat-1001", "based-on=ServiceRequest/1&patient=Patient/pat-1001"} {
		if b := decodeBundle(t, s.do(t, http.MethodGet, "/fhir/DiagnosticReport?"+q, nil), "searchset"); *b.Total != 1 {
			t.Errorf("DiagnosticReport?%s: total %d, want 1", q, *b.Total)
		}
	}
	// Tasks are written by the engine; seed one through a transaction of the fake.
	task := []byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Task","id":"t1",
		"status":"requested","intent":"order","basedOn":[{"reference":"ServiceRequest/1"}]},"request":{"method":"PUT","url":"Task/t1"}}]}`)
	wantTransactionResponse(t, s.do(t, http.MethodPost, "/fhir", task), 1)
	b := decodeBundle(t, s.do(t, http.MethodGet, "/fhir/Task?based-on=ServiceRequest/1", nil), "searchset")
	if *b.Total != 1 || !strings.HasSuffix(b.Entry[0].FullURL, "/fhir/Task/t1") {
		t.Errorf("Task?based-on: %+v", b)
	}
	if r := s.do(t, http.MethodGet, "/fhir/Task/t1", nil); r.status != http.StatusOK {
		t.Errorf("GET Task/t1: %d", r.status)
	}
	form := url.Values{"based-on": {"ServiceRequest/1"}}.Encode()
	r := s.do(t, http.MethodPost, "/fhir/Task/_search", []byte(form), "Content-Type", "application/x-www-form-urlencoded")
	if b := decodeBundle(t, r, "searchset"); *b.Total != 1 {
		t.Errorf("POST Task/_search: total %d, want 1", *b.Total)
	}
	wantOutcome(t, s.do(t, http.MethodPost, "/fhir/Task/_search", []byte(form)), http.StatusUnsupportedMediaType, "-", "x-www-form-urlencoded")
}
