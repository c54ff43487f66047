package fhir_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/radbridge/radbridge/fhir"
)

// A transaction needs the scopes of every entry: one entry the caller may not write
// refuses the whole Bundle before anything is stored.
func TestHandler_Transaction_NeedsEveryEntryScope(t *testing.T) {
	body := readFile(t, filepath.Join("..", "testdata", "fhir", "radbridge__transaction-order.json")) // Patient + ServiceRequest
	s := newScopedServer(t, fhir.Config{}, "system/ServiceRequest.c")
	wantOutcome(t, s.do(t, http.MethodPost, "/fhir", body), http.StatusForbidden, "Bundle.entry[0].request", "system/Patient.c")
	if n := len(s.be.byKey); n != 0 || s.be.calls.Load() != 0 {
		t.Errorf("a refused transaction reached the backend: %d calls, %d resources", s.be.calls.Load(), n)
	}

	s = newScopedServer(t, fhir.Config{}, "system/ServiceRequest.c", "system/Patient.write")
	wantTransactionResponse(t, s.do(t, http.MethodPost, "/fhir", body), 2)
}

// A batch entry the caller may not perform is answered 403 on its own; the others run.
func TestHandler_Batch_EntryScopes(t *testing.T) {
	s := newScopedServer(t, fhir.Config{}, "system/ServiceRequest.c")
	sr := `{"resourceType":"ServiceRequest","status":"active","intent":"order","subject":{"reference":"Patient/p1"}}`
	body := `{"resourceType":"Bundle","type":"batch","entry":[
	 {"resource":` + sr + `,"request":{"method":"POST","url":"ServiceRequest"}},
	 {"request":{"method":"GET","url":"ServiceRequest/1"}},
	 {"request":{"method":"GET","url":"ServiceRequest?status=active"}}
	]}`
	b := decodeBundle(t, s.do(t, http.MethodPost, "/fhir", []byte(body)), "batch-response")
	want := []string{"201 Created", "403 Forbidden", "403 Forbidden"}
	if len(b.Entry) != len(want) {
		t.Fatalf("%d entries, want %d", len(b.Entry), len(want))
	}
	for i, w := range want {
		if got := b.Entry[i].Response.Status; got != w {
			t.Errorf("entry %d: %s, want %s", i, got, w)
		}
	}
	if o := b.Entry[1].Response.Outcome; o == nil || o.Issue[0].Code != "forbidden" {
		t.Errorf("refused entry outcome = %+v, want a forbidden issue", o)
	}
}

// A caller whose scopes grant nothing may do nothing in a Bundle.
func TestHandler_Bundle_NoScopes(t *testing.T) {
	s := newScopedServer(t, fhir.Config{})
	body := readFile(t, filepath.Join("..", "testdata", "fhir", "radbridge__transaction-order.json"))
	wantOutcome(t, s.do(t, http.MethodPost, "/fhir", body), http.StatusForbidden, "", "")
}
