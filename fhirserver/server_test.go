package fhirserver_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

func newFixture(t *testing.T, check engine.Checker) *enginetest.Fixture {
	return enginetest.New(t, enginetest.Options{Checker: check})
}

// fhirServer serves the FHIR API of a fixture's engine over real HTTP.
func fhirServer(t *testing.T, f *enginetest.Fixture) *httptest.Server { return f.Server(t, nil) }

func TestFHIR_CreateReadSearch(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	srv := fhirServer(t, f)
	created := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", enginetest.MRIRequest("APP-1"))
	if created.Status != http.StatusCreated {
		t.Fatalf("POST: %d %s", created.Status, created.Raw)
	}
	id, _ := created.Body["id"].(string)
	if id == "" || !strings.Contains(created.Header.Get("Location"), "/ServiceRequest/"+id) || created.Header.Get("ETag") == "" {
		t.Fatalf("POST: id %q, Location %q, ETag %q", id, created.Header.Get("Location"), created.Header.Get("ETag"))
	}
	read := f.Do(t, "GET", srv.URL+"/fhir/ServiceRequest/"+id, nil)
	if read.Status != http.StatusOK || read.Body["id"] != id {
		t.Fatalf("GET: %d %s", read.Status, read.Raw)
	}
	// An MRI without an authorization number waits for one: still active for FHIR.
	if read.Body["status"] != "active" {
		t.Errorf("status = %v, want active", read.Body["status"])
	}
	o := f.Orders(t, store.OrderQuery{Placer: "APP-1"})
	if len(o) != 1 || o[0].ID != id || o[0].Status != order.StatusPendingAuth || o[0].Source.FHIRSource != "https://app.example.org" {
		t.Fatalf("order = %+v", o)
	}
	for query, want := range map[string]float64{
		"identifier=APP-1": 1, "identifier=https://app.example.org/orders|APP-1": 1, "identifier=other|APP-1": 0,
		"status=active": 1, "status=revoked": 0, "authored=2026-11-22": 1, "authored=gt2026-11-23": 0,
		"authored=ge2026-11": 1, "requester=1234567893": 1,
	} {
		got := f.Do(t, "GET", srv.URL+"/fhir/ServiceRequest?"+query, nil)
		if got.Status != http.StatusOK || got.Body["total"] != want {
			t.Errorf("search %s: %d total %v, want %v (%s)", query, got.Status, got.Body["total"], want, got.Raw)
		}
	}
	task := f.Do(t, "GET", srv.URL+"/fhir/Task?based-on=ServiceRequest/"+id, nil)
	if task.Status != http.StatusOK || task.Body["total"] != 1.0 {
		t.Errorf("Task search: %d %s", task.Status, task.Raw)
	}
}

func TestFHIR_ConditionalCreateConcurrent(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	srv := fhirServer(t, f)
	var wg sync.WaitGroup
	codes := make([]int, 50)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", enginetest.MRIRequest("COND-1"),
				"If-None-Exist", "identifier=https://app.example.org/orders|COND-1")
			codes[i] = r.Status
		}()
	}
	wg.Wait()
	created := 0
	for _, c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("conditional create answered %d", c)
		}
	}
	if created != 1 {
		t.Errorf("%d creates answered 201, want exactly 1", created)
	}
	if n := len(f.Orders(t, store.OrderQuery{Placer: "COND-1"})); n != 1 {
		t.Errorf("%d orders stored, want 1", n)
	}
	// Without the condition, a second order with the same placer number is refused.
	if r := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", enginetest.MRIRequest("COND-1")); r.Status != http.StatusConflict {
		t.Errorf("unconditional duplicate: %d, want 409", r.Status)
	}
}

func TestFHIR_FindingsAndUpdate(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	srv := fhirServer(t, f)
	incomplete := bytes.Replace(enginetest.MRIRequest("UPD-1"), []byte(`"reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R51.9","display":"Headache"}],"text":"Headache"}]`), []byte(`"priority":"routine"`), 1)
	r := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", incomplete, "Prefer", "return=OperationOutcome")
	if r.Status != http.StatusCreated || r.Body["resourceType"] != "OperationOutcome" {
		t.Fatalf("POST with return=OperationOutcome: %d %s", r.Status, r.Raw)
	}
	var paths []string
	for _, is := range r.Body["issue"].([]any) {
		exprs, _ := is.(map[string]any)["expression"].([]any)
		for _, ex := range exprs {
			paths = append(paths, ex.(string))
		}
	}
	if !strings.Contains(strings.Join(paths, " "), "ServiceRequest.reasonCode") {
		t.Errorf("outcome expressions %v, want ServiceRequest.reasonCode", paths)
	}
	id := strings.Split(strings.TrimPrefix(r.Header.Get("Location"), srv.URL+"/fhir/ServiceRequest/"), "/")[0]
	if o := f.Orders(t, store.OrderQuery{Placer: "UPD-1"}); o[0].Status != order.StatusIncomplete {
		t.Fatalf("order status %s, want incomplete", o[0].Status)
	}
	// The corrected request, with the version it replaces, completes the order.
	fixed := append(bytes.TrimSuffix(enginetest.MRIRequest("UPD-1"), []byte("}")), []byte(`,"id":"`+id+`"}`)...)
	if r := f.Do(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+id, fixed, "If-Match", `W/"9"`); r.Status != http.StatusPreconditionFailed {
		t.Errorf("PUT with a stale If-Match: %d, want 412 (%s)", r.Status, r.Raw)
	}
	if r := f.Do(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+id, fixed, "If-Match", `W/"1"`); r.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.Status, r.Raw)
	}
	if o := f.Orders(t, store.OrderQuery{Placer: "UPD-1"}); o[0].Status != order.StatusPendingAuth {
		t.Errorf("after the correction: %s, want pending-authorization", o[0].Status)
	}
	revoked := bytes.Replace(fixed, []byte(`"status":"active"`), []byte(`"status":"revoked"`), 1)
	if r := f.Do(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+id, revoked); r.Status != http.StatusOK || r.Body["status"] != "revoked" {
		t.Fatalf("PUT revoked: %d %s", r.Status, r.Raw)
	}
	if o := f.Orders(t, store.OrderQuery{Placer: "UPD-1"}); o[0].Status != order.StatusCancelled {
		t.Errorf("after revoked: %s, want cancelled", o[0].Status)
	}
}

func TestFHIR_V2OrderVisible(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	srv := fhirServer(t, f)
	if got := f.Send(t, enginetest.RadiologyORM("V1", "P900", nil)).Get("MSA-1"); got != "AA" {
		t.Fatalf("ORM: %s", got)
	}
	o := f.Orders(t, store.OrderQuery{Placer: "P900"})[0]
	r := f.Do(t, "GET", srv.URL+"/fhir/ServiceRequest/"+o.ID, nil)
	if r.Status != http.StatusOK || r.Body["status"] != "active" || !bytes.Contains(r.Raw, []byte(`"P900"`)) {
		t.Fatalf("GET v2 order as ServiceRequest: %d %s", r.Status, r.Raw)
	}
	if s := f.Do(t, "GET", srv.URL+"/fhir/ServiceRequest?identifier=P900", nil); s.Body["total"] != 1.0 {
		t.Errorf("search by the v2 placer number: %s", s.Raw)
	}
	// A FHIR client cannot rewrite an order its HL7 sender owns.
	if r := f.Do(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+o.ID, enginetest.MRIRequest("P900")); r.Status != http.StatusConflict && r.Status != http.StatusBadRequest {
		t.Errorf("PUT on a v2 order: %d, want 409", r.Status)
	}
}

// TestFHIR_ConformanceSamples: every ServiceRequest and transaction Bundle sample can be
// posted and read back.
func TestFHIR_ConformanceSamples(t *testing.T) {
	dirs := []string{"../testdata/fhir"}
	if d := os.Getenv("RADBRIDGE_CONFORMANCE_DIR"); d != "" {
		dirs = append(dirs, filepath.Join(d, "fhir"))
	}
	seen := map[string]bool{}
	for _, dir := range dirs {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, p := range paths {
			name := filepath.Base(p)
			data, err := os.ReadFile(p)
			if err != nil || seen[name] {
				continue
			}
			seen[name] = true
			var head struct{ ResourceType, Type string }
			if json.Unmarshal(data, &head) != nil {
				continue // the invalid-JSON samples are the handler's tests
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, enginetest.Checker(t))
				srv := fhirServer(t, f)
				switch {
				case head.ResourceType == "ServiceRequest":
					r := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", data)
					if r.Status != http.StatusCreated {
						t.Fatalf("POST: %d %s", r.Status, r.Raw)
					}
					readBack(t, f, srv.URL, r.Header.Get("Location"))
					back := f.Do(t, "GET", srv.URL+"/fhir/ServiceRequest/"+fmt.Sprint(r.Body["id"]), nil)
					if back.Status != http.StatusOK {
						t.Fatalf("read back: %d %s", back.Status, back.Raw)
					}
				case head.ResourceType == "Bundle" && head.Type == "transaction":
					r := f.Do(t, "POST", srv.URL+"/fhir", data)
					if r.Status != http.StatusOK || r.Body["type"] != "transaction-response" {
						t.Fatalf("transaction: %d %s", r.Status, r.Raw)
					}
					if n := len(f.Orders(t, store.OrderQuery{})); n == 0 {
						t.Error("the transaction created no order")
					}
				default:
					t.Skip("not a ServiceRequest or transaction")
				}
			})
		}
	}
}

// TestFHIR_ConditionalCreateNewIdentifier: a conditional create of a new order finds
// nothing through the indexes and creates it; it never scans the orders inside the write
// transaction (which once made it slow in proportion to the store).
func TestFHIR_ConditionalCreateNewIdentifier(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	srv := fhirServer(t, f)
	for i := range 30 {
		placer := fmt.Sprint("NEW-", i)
		r := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", enginetest.MRIRequest(placer), "If-None-Exist", "identifier=https://app.example.org/orders|"+placer)
		if r.Status != http.StatusCreated {
			t.Fatalf("conditional create %d: %d %s", i, r.Status, r.Raw)
		}
	}
	// An identifier that is not the placer number finds its order through the index.
	other := bytes.Replace(enginetest.MRIRequest("PL-77"), []byte(`"identifier":[{"type"`), []byte(`"identifier":[{"system":"urn:oid:9.9","value":"VISIT-5"},{"type"`), 1)
	if r := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", other); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	for query, want := range map[string]float64{"identifier=VISIT-5": 1, "identifier=urn:oid:9.9|VISIT-5": 1, "identifier=NEW-7": 1, "identifier=NOPE": 0} {
		if r := f.Do(t, "GET", srv.URL+"/fhir/ServiceRequest?"+query, nil); r.Body["total"] != want {
			t.Errorf("search %s: total %v, want %v", query, r.Body["total"], want)
		}
	}
	if r := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", enginetest.MRIRequest("NEW-3"), "If-None-Exist", "identifier=VISIT-5"); r.Status != http.StatusOK {
		t.Errorf("conditional create matching by a secondary identifier: %d, want 200", r.Status)
	}
}

// A search that can only scan the newest orders says so when there are more, and a
// conditional create that would rest on such a scan is refused rather than risk a
// duplicate.
func TestFHIR_SearchPastScanLimit(t *testing.T) {
	f := newFixture(t, nil)
	srv := fhirServer(t, f)
	put := func(from, to int) {
		t.Helper()
		err := f.DB.Update(t.Context(), func(tx store.Tx) error {
			for i := from; i < to; i++ {
				o := &order.Order{Source: order.Source{Kind: order.SourceV2, SendingFacility: "HOSP"}, Placer: fmt.Sprint("PL", i),
					Patient: order.Patient{Identifiers: []order.Identifier{{Value: fmt.Sprint("MRN", i%3)}}}, Status: order.StatusReady}
				if err := tx.PutOrder(o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	warning := func(r enginetest.Response) string {
		for _, e := range r.Body["entry"].([]any) {
			e := e.(map[string]any)
			if e["search"].(map[string]any)["mode"] == "outcome" {
				b, _ := json.Marshal(e["resource"])
				return string(b)
			}
		}
		return ""
	}
	search := func(query string) enginetest.Response {
		t.Helper()
		r := f.Do(t, "GET", srv.URL+"/fhir/"+query, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", query, r.Status, r.Raw)
		}
		return r
	}
	put(0, store.MaxLimit)
	if r := search("ServiceRequest?patient=MRN0&_count=1"); r.Body["total"] != float64(store.MaxLimit/3+1) || warning(r) != "" {
		t.Errorf("%d orders: total %v, outcome %q; want %d and no warning", store.MaxLimit, r.Body["total"], warning(r), store.MaxLimit/3+1)
	}
	put(store.MaxLimit, store.MaxLimit+1) // one more than a scan examines: PL0 drops out
	for _, query := range []string{"ServiceRequest?patient=MRN0&_count=1", "DiagnosticReport?patient=MRN0"} {
		if w := warning(search(query)); !strings.Contains(w, "only the newest 1000 candidate orders were examined") {
			t.Errorf("%s past the scan limit: outcome %q, want the warning", query, w)
		}
	}
	// Indexed parameters reach every order: no warning, and the oldest order is found.
	if r := search("ServiceRequest?identifier=PL0"); r.Body["total"] != 1.0 || warning(r) != "" {
		t.Errorf("identifier=PL0: total %v, outcome %q; want 1 and no warning", r.Body["total"], warning(r))
	}
	created := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", enginetest.MRIRequest("APP-COND"), "If-None-Exist", "patient=MRN77")
	if created.Status != http.StatusPreconditionFailed || !strings.Contains(string(created.Raw), "identifier") {
		t.Errorf("conditional create on a scan: %d %s; want 412 asking for an identifier", created.Status, created.Raw)
	}
	if o := f.Orders(t, store.OrderQuery{Placer: "APP-COND"}); len(o) != 0 {
		t.Errorf("the refused conditional create stored %d orders", len(o))
	}
}

// TestFHIR_TransactionKeepsJSON: a transaction's references between entries are
// rewritten in the text, so the ServiceRequest reads back with its numbers as written
// (a decimal's trailing zero, an integer past float64), its string escapes and its
// member order, where decoding into any and encoding again would change each.
func TestFHIR_TransactionKeepsJSON(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	srv := fhirServer(t, f)
	const (
		extensions = `"extension":[` +
			`{"url":"https://app.example.org/fhir/StructureDefinition/contrast-ml","valueDecimal":1.50},` +
			`{"url":"https://app.example.org/fhir/StructureDefinition/ris-sequence","valueDecimal":12345678901234567890},` +
			`{"url":"https://app.example.org/fhir/StructureDefinition/ris-number","valueString":"12345678901234567890"}]`
		note = `"note":[{"text":"caf\u00e9 \"wet\" <read> & sign"}]`
	)
	bundle := []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:0b5e0d1e-0000-4000-8000-000000000001","request":{"method":"POST","url":"Patient"},
  "resource":{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.3","value":"MRN-NUM"}],"name":[{"family":"Doe","given":["Jane"]}]}},
 {"fullUrl":"urn:uuid:0b5e0d1e-0000-4000-8000-000000000002","request":{"method":"POST","url":"Practitioner"},
  "resource":{"resourceType":"Practitioner","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}],"name":[{"family":"Smith"}]}},
 {"fullUrl":"urn:uuid:0b5e0d1e-0000-4000-8000-000000000003","request":{"method":"POST","url":"ServiceRequest"},
  "resource":{"resourceType":"ServiceRequest", ` + extensions + `,
   "status":"active","intent":"order",
   "identifier":[{"system":"https://app.example.org/orders","value":"NUM-1"}],
   "code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"71046"}],"text":"XR chest 2 views"},
   "subject":{"reference":"urn:uuid:0b5e0d1e-0000-4000-8000-000000000001"},
   "requester":{"reference":"urn:uuid:0b5e0d1e-0000-4000-8000-000000000002"},
   "authoredOn":"2026-11-22T09:00:00Z", ` + note + `}}]}`)
	r := f.Do(t, "POST", srv.URL+"/fhir", bundle)
	if r.Status != http.StatusOK {
		t.Fatalf("transaction: %d %s", r.Status, r.Raw)
	}
	var ids []string
	for _, e := range r.Body["entry"].([]any) {
		loc, _ := e.(map[string]any)["response"].(map[string]any)["location"].(string)
		ids = append(ids, strings.Split(loc, "/_history/")[0]) // Type/id
	}
	if len(ids) != 3 || !strings.HasPrefix(ids[2], "ServiceRequest/") {
		t.Fatalf("transaction response locations %q", ids)
	}
	read := f.Do(t, "GET", srv.URL+"/fhir/"+ids[2], nil)
	if read.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", ids[2], read.Status, read.Raw)
	}
	for _, want := range []string{
		`{"resourceType":"ServiceRequest","id":"` + strings.TrimPrefix(ids[2], "ServiceRequest/") + `","meta":{`,
		`},` + extensions + `,"status":"active","intent":"order","identifier":`,
		`"subject":{"reference":"` + ids[0] + `"},"requester":{"reference":"` + ids[1] + `"},"authoredOn":"2026-11-22T09:00:00Z",` + note + `}`,
	} {
		if !bytes.Contains(read.Raw, []byte(want)) {
			t.Errorf("GET %s = %s\nwant it to contain %s", ids[2], read.Raw, want)
		}
	}
}

// TestFHIR_SearchTotal_PastScanLimit: a search the order indexes answer alone (no
// parameter, status) totals every order that matches, also past the orders a page can
// list, and ServiceRequests that match nothing are not counted.
func TestFHIR_SearchTotal_PastScanLimit(t *testing.T) {
	f := newFixture(t, nil)
	srv := fhirServer(t, f)
	const n = store.MaxLimit + 150 // more active ones than a page of the status index lists
	err := f.DB.Update(t.Context(), func(tx store.Tx) error {
		for i := range n {
			status := order.StatusReady
			if i%10 == 0 {
				status = order.StatusCancelled
			}
			o := &order.Order{Source: order.Source{Kind: order.SourceV2, SendingFacility: "HOSP"}, Placer: fmt.Sprint("T", i), Status: status}
			if err := tx.PutOrder(o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	revoked := (n + 9) / 10
	for query, want := range map[string]float64{
		"ServiceRequest?_count=1": n, "ServiceRequest?status=active&_count=1": n - float64(revoked),
		"ServiceRequest?status=revoked": float64(revoked), "ServiceRequest?status=revoked,active,revoked&_count=1": n,
		"ServiceRequest?status=completed": 0, "ServiceRequest?identifier=T5": 1,
	} {
		r := f.Do(t, "GET", srv.URL+"/fhir/"+query, nil)
		if r.Status != http.StatusOK || r.Body["total"] != want {
			t.Errorf("GET %s: %d total %v, want %v", query, r.Status, r.Body["total"], want)
		}
	}
}
