package fhirserver_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/store"
)

// outcomeIssue returns the first issue of an OperationOutcome answer.
func firstIssue(t *testing.T, r enginetest.Response) map[string]any {
	t.Helper()
	issues, _ := r.Body["issue"].([]any)
	if r.Body["resourceType"] != "OperationOutcome" || len(issues) == 0 {
		t.Fatalf("answer %d is not an OperationOutcome with issues: %.500s", r.Status, r.Raw)
	}
	return issues[0].(map[string]any)
}

// An identifier or a meta.source longer than the keys they make may be is a 400 that
// names the element, for a create, an update and a transaction; a 40 KB identifier
// once reached the store and came back 500.
func TestFHIR_ValueTooLong(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	srv := fhirServer(t, f)
	long := strings.Repeat("9", 40000)
	tooLongPlacer := enginetest.MRIRequest(long)
	longSource := bytes.Replace(enginetest.MRIRequest("APP-SRC"), []byte(`"source":"https://app.example.org"`),
		[]byte(`"source":"https://app.example.org/`+strings.Repeat("s", 8000)+`"`), 1)
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		expr               string
	}{
		{name: "create, placer", method: "POST", path: "/fhir/ServiceRequest", body: tooLongPlacer, expr: "ServiceRequest.identifier[0].value"},
		{name: "create, 428 characters", method: "POST", path: "/fhir/ServiceRequest", body: enginetest.MRIRequest(strings.Repeat("é", 428)),
			expr: "ServiceRequest.identifier[0].value"},
		{name: "create, meta.source", method: "POST", path: "/fhir/ServiceRequest", body: longSource, expr: "ServiceRequest.meta.source"},
		{name: "transaction", method: "POST", path: "/fhir", expr: "Bundle.entry[0].resource.identifier[0].value",
			body: []byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"ServiceRequest"},"resource":` +
				string(tooLongPlacer) + `}]}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.Do(t, tc.method, srv.URL+tc.path, tc.body)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("%s %s: %d, want 400: %.500s", tc.method, tc.path, r.Status, r.Raw)
			}
			is := firstIssue(t, r)
			if is["code"] != "too-long" || is["expression"].([]any)[0] != tc.expr {
				t.Errorf("issue %v, want too-long at %s", is, tc.expr)
			}
		})
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 0 {
		t.Errorf("%d orders stored, want none", n)
	}

	// 427 characters is an identifier; an update cannot make it longer.
	ok := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", enginetest.MRIRequest(strings.Repeat("é", 427)))
	if ok.Status != http.StatusCreated {
		t.Fatalf("create with a 427-character identifier: %d %.500s", ok.Status, ok.Raw)
	}
	id := ok.Body["id"].(string)
	put := bytes.Replace(tooLongPlacer, []byte(`{"resourceType":"ServiceRequest",`), []byte(`{"resourceType":"ServiceRequest","id":"`+id+`",`), 1)
	r := f.Do(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+id, put)
	if r.Status != http.StatusBadRequest || firstIssue(t, r)["expression"].([]any)[0] != "ServiceRequest.identifier[0].value" {
		t.Errorf("update with a 40000-character identifier: %d %.500s, want 400 at the identifier", r.Status, r.Raw)
	}
}

// A transaction makes at most engine.Config.MaxOrdersPerMessage orders.
func TestFHIR_TransactionMaxOrders(t *testing.T) {
	f := enginetest.New(t, enginetest.Options{Engine: engine.Config{MaxOrdersPerMessage: 2}})
	srv := fhirServer(t, f)
	bundle := func(n int) []byte {
		var entries []string
		for i := range n {
			entries = append(entries, `{"request":{"method":"POST","url":"ServiceRequest"},"resource":`+string(enginetest.MRIRequest(fmt.Sprint("TX-", n, "-", i)))+`}`)
		}
		return []byte(`{"resourceType":"Bundle","type":"transaction","entry":[` + strings.Join(entries, ",") + `]}`)
	}
	r := f.Do(t, "POST", srv.URL+"/fhir", bundle(3))
	if r.Status != http.StatusBadRequest || firstIssue(t, r)["code"] != "too-costly" ||
		!strings.Contains(firstIssue(t, r)["diagnostics"].(string), "at most that many orders") {
		t.Errorf("3 ServiceRequests over a cap of 2: %d %.500s, want 400 too-costly", r.Status, r.Raw)
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 0 {
		t.Errorf("%d orders after the refused transaction, want none", n)
	}
	if r := f.Do(t, "POST", srv.URL+"/fhir", bundle(2)); r.Status != http.StatusOK {
		t.Errorf("2 ServiceRequests: %d %.500s", r.Status, r.Raw)
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 2 {
		t.Errorf("%d orders, want 2", n)
	}
}
