package fhir_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/fhir"
)

type testBundle struct {
	ResourceType string
	Type         string
	Total        *int
	Link         []struct{ Relation, URL string }
	Entry        []struct {
		FullURL  string
		Resource json.RawMessage
		Search   *struct{ Mode string }
		Response *struct {
			Status, Location, Etag, LastModified string
			Outcome                              *testOutcome
		}
	}
}

func decodeBundle(t testing.TB, r response, typ string) testBundle {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200: %s", r.status, r.body)
	}
	var b testBundle
	if err := json.Unmarshal(r.body, &b); err != nil || b.ResourceType != "Bundle" || b.Type != typ {
		t.Fatalf("not a %s Bundle (%v): %s", typ, err, r.body)
	}
	return b
}

func wantTransactionResponse(t testing.TB, r response, n int) testBundle {
	t.Helper()
	b := decodeBundle(t, r, "transaction-response")
	if len(b.Entry) != n {
		t.Fatalf("%d entries, want %d", len(b.Entry), n)
	}
	for i, e := range b.Entry {
		if e.Response == nil || e.Response.Status == "" {
			t.Fatalf("entry %d has no response.status", i)
		}
	}
	return b
}

func TestHandler_Transaction(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	s.be.findings = []fhir.Issue{{Severity: "information", Code: "informational", Diagnostics: "prior authorization not required"}}
	body := readFile(t, filepath.Join("..", "testdata", "fhir", "radbridge__transaction-order.json"))
	b := wantTransactionResponse(t, s.do(t, http.MethodPost, "/fhir", body), 2)
	pat, sr := b.Entry[0], b.Entry[1]
	if pat.Response.Status != "201 Created" || pat.Response.Location != "Patient/1/_history/1" || pat.Response.Etag != `W/"1"` || pat.Response.LastModified == "" {
		t.Errorf("Patient entry response = %+v", pat.Response)
	}
	if sr.Response.Status != "201 Created" || !strings.HasPrefix(sr.Response.Location, "ServiceRequest/") {
		t.Errorf("ServiceRequest entry response = %+v", sr.Response)
	}
	if o := sr.Response.Outcome; o == nil || len(o.Issue) != 1 || o.Issue[0].Diagnostics != "prior authorization not required" {
		t.Errorf("ServiceRequest entry outcome = %+v, want the finding", o)
	}
	if !bytes.Contains(sr.Resource, []byte(`"reference":"Patient/1"`)) {
		t.Errorf("urn:uuid reference not resolved (fullUrl not passed?): %s", sr.Resource)
	}
	if !strings.HasSuffix(sr.FullURL, "/fhir/"+strings.TrimSuffix(sr.Response.Location, "/_history/1")) {
		t.Errorf("fullUrl %q does not match location %q", sr.FullURL, sr.Response.Location)
	}
	// Again: the conditional ServiceRequest matches, minimal leaves resources out.
	b = wantTransactionResponse(t, s.do(t, http.MethodPost, "/fhir", body, "Prefer", "return=minimal"), 2)
	if got := b.Entry[1].Response.Status; got != "200 OK" {
		t.Errorf("repeated conditional entry status = %q, want 200 OK", got)
	}
	if b.Entry[0].Resource != nil || b.Entry[1].Resource != nil {
		t.Error("return=minimal: entries carry resources")
	}
}

func TestHandler_Transaction_BackendError(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	body := []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
	 {"resource":{"resourceType":"ServiceRequest","id":"x1","status":"active","intent":"order","subject":{"reference":"Patient/1"}},
	  "request":{"method":"PUT","url":"ServiceRequest/x1","ifMatch":"W/\"7\""}}]}`)
	wantOutcome(t, s.do(t, http.MethodPost, "/fhir", body), http.StatusPreconditionFailed, "", "version conflict")
	if len(s.be.byKey) != 0 {
		t.Error("a failed transaction stored resources")
	}
}

// TestHandler_Batch: entries succeed or fail on their own, each with its status and
// outcome; an invalid resource fails only its entry and never reaches the Backend.
func TestHandler_Batch(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	seedOrders(t, s, 1, "active", "B") // ServiceRequest/1
	sr := `{"resourceType":"ServiceRequest","status":"active","intent":"order","subject":{"reference":"Patient/p1"}}`
	bad := strings.Replace(sr, `"active"`, `"bogus"`, 1)
	put := `{"resourceType":"ServiceRequest","id":"1","status":"on-hold","intent":"order","subject":{"reference":"Patient/p1"}}`
	body := `{"resourceType":"Bundle","type":"batch","entry":[
	 {"resource":` + sr + `,"request":{"method":"POST","url":"ServiceRequest"}},
	 {"resource":` + bad + `,"request":{"method":"POST","url":"ServiceRequest"}},
	 {"request":{"method":"GET","url":"ServiceRequest/1"}},
	 {"request":{"method":"GET","url":"ServiceRequest?status=active&_count=5"}},
	 {"request":{"method":"GET","url":"Medication/1"}},
	 {"request":{"method":"DELETE","url":"ServiceRequest/1"}},
	 {"resource":` + put + `,"request":{"method":"PUT","url":"ServiceRequest/1","ifMatch":"W/\"9\""}},
	 {"resource":` + put + `,"request":{"method":"PUT","url":"ServiceRequest/1","ifMatch":"W/\"1\""}},
	 {"request":{"method":"GET","url":"ServiceRequest/404"}}
	]}`
	calls := s.be.calls.Load()
	b := decodeBundle(t, s.do(t, http.MethodPost, "/fhir", []byte(body)), "batch-response")
	want := []struct{ status, expr string }{
		{"201 Created", ""},
		{"422 Unprocessable Entity", "Bundle.entry[1].resource.status"},
		{"200 OK", ""},
		{"200 OK", ""},
		{"404 Not Found", "Bundle.entry[4].request.url"},
		{"405 Method Not Allowed", "Bundle.entry[5].request.method"},
		{"412 Precondition Failed", ""},
		{"200 OK", ""},
		{"404 Not Found", ""},
	}
	if len(b.Entry) != len(want) {
		t.Fatalf("%d entries, want %d", len(b.Entry), len(want))
	}
	for i, w := range want {
		e := b.Entry[i]
		if e.Response == nil || e.Response.Status != w.status {
			t.Errorf("entry %d: response %+v, want %s", i, e.Response, w.status)
			continue
		}
		if w.expr != "" {
			if o := e.Response.Outcome; o == nil || len(o.Issue[0].Expression) == 0 || o.Issue[0].Expression[0] != w.expr {
				t.Errorf("entry %d: outcome %+v, want an issue at %s", i, o, w.expr)
			}
		}
	}
	if !bytes.Contains(b.Entry[3].Resource, []byte(`"type":"searchset"`)) || !bytes.Contains(b.Entry[2].Resource, []byte(`"id":"1"`)) {
		t.Errorf("GET entries lack their resources: %s / %s", b.Entry[2].Resource, b.Entry[3].Resource)
	}
	// POST, GET read, GET search, PUT x2, GET 404: six Backend calls; the invalid,
	// unsupported-type and DELETE entries never reach it.
	if n := s.be.calls.Load() - calls; n != 6 {
		t.Errorf("backend called %d times, want 6", n)
	}
}
