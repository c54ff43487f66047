package engine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// fhirServer serves the FHIR API of a fixture's engine over real HTTP.
func fhirServer(t *testing.T, f *fixture) *httptest.Server {
	t.Helper()
	h, err := fhir.NewHandler(fhir.Config{}, f.eng.FHIR(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	h.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

type fhirResp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func fhirDo(t *testing.T, method, url string, body []byte, headers ...string) fhirResp {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := fhirResp{status: resp.StatusCode, header: resp.Header, raw: raw}
	json.Unmarshal(raw, &out.body)
	return out
}

// mriRequest is a complete, checkable MRI ServiceRequest with a contained patient and
// practitioner.
func mriRequest(placer string) []byte {
	return []byte(`{"resourceType":"ServiceRequest","status":"active","intent":"order",
 "meta":{"source":"https://app.example.org"},
 "contained":[{"resourceType":"Patient","id":"p","identifier":[{"system":"urn:oid:1.2.3","value":"MRN77"}],"name":[{"family":"Doe","given":["Jane"]}],"birthDate":"1980-01-02","gender":"female"},
  {"resourceType":"Practitioner","id":"dr","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}],"name":[{"family":"Smith","given":["John"]}]}],
 "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"PLAC"}]},"system":"https://app.example.org/orders","value":"` + placer + `"}],
 "code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"70553","display":"MRI brain w/wo contrast"}]},
 "subject":{"reference":"#p"},"requester":{"reference":"#dr"},"authoredOn":"2026-11-22T09:00:00Z",
 "reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R51.9","display":"Headache"}],"text":"Headache"}]}`)
}

func TestFHIR_CreateReadSearch(t *testing.T) {
	f := newFixture(t, newChecker(t))
	srv := fhirServer(t, f)
	created := fhirDo(t, "POST", srv.URL+"/fhir/ServiceRequest", mriRequest("APP-1"))
	if created.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", created.status, created.raw)
	}
	id, _ := created.body["id"].(string)
	if id == "" || !strings.Contains(created.header.Get("Location"), "/ServiceRequest/"+id) || created.header.Get("ETag") == "" {
		t.Fatalf("POST: id %q, Location %q, ETag %q", id, created.header.Get("Location"), created.header.Get("ETag"))
	}
	read := fhirDo(t, "GET", srv.URL+"/fhir/ServiceRequest/"+id, nil)
	if read.status != http.StatusOK || read.body["id"] != id {
		t.Fatalf("GET: %d %s", read.status, read.raw)
	}
	// An MRI without an authorization number waits for one: still active for FHIR.
	if read.body["status"] != "active" {
		t.Errorf("status = %v, want active", read.body["status"])
	}
	o := f.orders(t, store.OrderQuery{Placer: "APP-1"})
	if len(o) != 1 || o[0].ID != id || o[0].Status != order.StatusPendingAuth || o[0].Source.FHIRSource != "https://app.example.org" {
		t.Fatalf("order = %+v", o)
	}
	for query, want := range map[string]float64{
		"identifier=APP-1": 1, "identifier=https://app.example.org/orders|APP-1": 1, "identifier=other|APP-1": 0,
		"status=active": 1, "status=revoked": 0, "authored=2026-11-22": 1, "authored=gt2026-11-23": 0,
		"authored=ge2026-11": 1, "requester=1234567893": 1,
	} {
		got := fhirDo(t, "GET", srv.URL+"/fhir/ServiceRequest?"+query, nil)
		if got.status != http.StatusOK || got.body["total"] != want {
			t.Errorf("search %s: %d total %v, want %v (%s)", query, got.status, got.body["total"], want, got.raw)
		}
	}
	task := fhirDo(t, "GET", srv.URL+"/fhir/Task?based-on=ServiceRequest/"+id, nil)
	if task.status != http.StatusOK || task.body["total"] != 1.0 {
		t.Errorf("Task search: %d %s", task.status, task.raw)
	}
}

func TestFHIR_ConditionalCreateConcurrent(t *testing.T) {
	f := newFixture(t, newChecker(t))
	srv := fhirServer(t, f)
	var wg sync.WaitGroup
	codes := make([]int, 50)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := fhirDo(t, "POST", srv.URL+"/fhir/ServiceRequest", mriRequest("COND-1"),
				"If-None-Exist", "identifier=https://app.example.org/orders|COND-1")
			codes[i] = r.status
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
	if n := len(f.orders(t, store.OrderQuery{Placer: "COND-1"})); n != 1 {
		t.Errorf("%d orders stored, want 1", n)
	}
	// Without the condition, a second order with the same placer number is refused.
	if r := fhirDo(t, "POST", srv.URL+"/fhir/ServiceRequest", mriRequest("COND-1")); r.status != http.StatusConflict {
		t.Errorf("unconditional duplicate: %d, want 409", r.status)
	}
}

func TestFHIR_FindingsAndUpdate(t *testing.T) {
	f := newFixture(t, newChecker(t))
	srv := fhirServer(t, f)
	incomplete := bytes.Replace(mriRequest("UPD-1"), []byte(`"reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R51.9","display":"Headache"}],"text":"Headache"}]`), []byte(`"priority":"routine"`), 1)
	r := fhirDo(t, "POST", srv.URL+"/fhir/ServiceRequest", incomplete, "Prefer", "return=OperationOutcome")
	if r.status != http.StatusCreated || r.body["resourceType"] != "OperationOutcome" {
		t.Fatalf("POST with return=OperationOutcome: %d %s", r.status, r.raw)
	}
	var paths []string
	for _, is := range r.body["issue"].([]any) {
		exprs, _ := is.(map[string]any)["expression"].([]any)
		for _, ex := range exprs {
			paths = append(paths, ex.(string))
		}
	}
	if !strings.Contains(strings.Join(paths, " "), "ServiceRequest.reasonCode") {
		t.Errorf("outcome expressions %v, want ServiceRequest.reasonCode", paths)
	}
	id := strings.Split(strings.TrimPrefix(r.header.Get("Location"), srv.URL+"/fhir/ServiceRequest/"), "/")[0]
	if o := f.orders(t, store.OrderQuery{Placer: "UPD-1"}); o[0].Status != order.StatusIncomplete {
		t.Fatalf("order status %s, want incomplete", o[0].Status)
	}
	// The corrected request, with the version it replaces, completes the order.
	fixed := append(bytes.TrimSuffix(mriRequest("UPD-1"), []byte("}")), []byte(`,"id":"`+id+`"}`)...)
	if r := fhirDo(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+id, fixed, "If-Match", `W/"9"`); r.status != http.StatusPreconditionFailed {
		t.Errorf("PUT with a stale If-Match: %d, want 412 (%s)", r.status, r.raw)
	}
	if r := fhirDo(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+id, fixed, "If-Match", `W/"1"`); r.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.status, r.raw)
	}
	if o := f.orders(t, store.OrderQuery{Placer: "UPD-1"}); o[0].Status != order.StatusPendingAuth {
		t.Errorf("after the correction: %s, want pending-authorization", o[0].Status)
	}
	revoked := bytes.Replace(fixed, []byte(`"status":"active"`), []byte(`"status":"revoked"`), 1)
	if r := fhirDo(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+id, revoked); r.status != http.StatusOK || r.body["status"] != "revoked" {
		t.Fatalf("PUT revoked: %d %s", r.status, r.raw)
	}
	if o := f.orders(t, store.OrderQuery{Placer: "UPD-1"}); o[0].Status != order.StatusCancelled {
		t.Errorf("after revoked: %s, want cancelled", o[0].Status)
	}
}

func TestFHIR_V2OrderVisible(t *testing.T) {
	f := newFixture(t, newChecker(t))
	srv := fhirServer(t, f)
	if got := f.send(t, radiologyORM("V1", "P900", nil)).Get("MSA-1"); got != "AA" {
		t.Fatalf("ORM: %s", got)
	}
	o := f.orders(t, store.OrderQuery{Placer: "P900"})[0]
	r := fhirDo(t, "GET", srv.URL+"/fhir/ServiceRequest/"+o.ID, nil)
	if r.status != http.StatusOK || r.body["status"] != "active" || !bytes.Contains(r.raw, []byte(`"P900"`)) {
		t.Fatalf("GET v2 order as ServiceRequest: %d %s", r.status, r.raw)
	}
	if s := fhirDo(t, "GET", srv.URL+"/fhir/ServiceRequest?identifier=P900", nil); s.body["total"] != 1.0 {
		t.Errorf("search by the v2 placer number: %s", s.raw)
	}
	// A FHIR client cannot rewrite an order its HL7 sender owns.
	if r := fhirDo(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+o.ID, mriRequest("P900")); r.status != http.StatusConflict && r.status != http.StatusBadRequest {
		t.Errorf("PUT on a v2 order: %d, want 409", r.status)
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
				f := newFixture(t, newChecker(t))
				srv := fhirServer(t, f)
				switch {
				case head.ResourceType == "ServiceRequest":
					r := fhirDo(t, "POST", srv.URL+"/fhir/ServiceRequest", data)
					if r.status != http.StatusCreated {
						t.Fatalf("POST: %d %s", r.status, r.raw)
					}
					back := fhirDo(t, "GET", srv.URL+"/fhir/ServiceRequest/"+fmt.Sprint(r.body["id"]), nil)
					if back.status != http.StatusOK {
						t.Fatalf("read back: %d %s", back.status, back.raw)
					}
				case head.ResourceType == "Bundle" && head.Type == "transaction":
					r := fhirDo(t, "POST", srv.URL+"/fhir", data)
					if r.status != http.StatusOK || r.body["type"] != "transaction-response" {
						t.Fatalf("transaction: %d %s", r.status, r.raw)
					}
					if n := len(f.orders(t, store.OrderQuery{})); n == 0 {
						t.Error("the transaction created no order")
					}
				default:
					t.Skip("not a ServiceRequest or transaction")
				}
			})
		}
	}
}

// TestFHIR_TransactionKeepsJSON: a transaction's references between entries are
// rewritten in the text, so the ServiceRequest reads back with its numbers as written
// (a decimal's trailing zero, an integer past float64), its string escapes and its
// member order, where decoding into any and encoding again would change each.
func TestFHIR_TransactionKeepsJSON(t *testing.T) {
	f := newFixture(t, newChecker(t))
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
	r := fhirDo(t, "POST", srv.URL+"/fhir", bundle)
	if r.status != http.StatusOK {
		t.Fatalf("transaction: %d %s", r.status, r.raw)
	}
	var ids []string
	for _, e := range r.body["entry"].([]any) {
		loc, _ := e.(map[string]any)["response"].(map[string]any)["location"].(string)
		ids = append(ids, strings.Split(loc, "/_history/")[0]) // Type/id
	}
	if len(ids) != 3 || !strings.HasPrefix(ids[2], "ServiceRequest/") {
		t.Fatalf("transaction response locations %q", ids)
	}
	read := fhirDo(t, "GET", srv.URL+"/fhir/"+ids[2], nil)
	if read.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", ids[2], read.status, read.raw)
	}
	for _, want := range []string{
		`{"resourceType":"ServiceRequest","id":"` + strings.TrimPrefix(ids[2], "ServiceRequest/") + `","meta":{`,
		`},` + extensions + `,"status":"active","intent":"order","identifier":`,
		`"subject":{"reference":"` + ids[0] + `"},"requester":{"reference":"` + ids[1] + `"},"authoredOn":"2026-11-22T09:00:00Z",` + note + `}`,
	} {
		if !bytes.Contains(read.raw, []byte(want)) {
			t.Errorf("GET %s = %s\nwant it to contain %s", ids[2], read.raw, want)
		}
	}
}

// TestFHIR_ConditionalCreateNewIdentifier: a conditional create of a new order finds
// nothing through the indexes and creates it; it never scans the orders inside the write
// transaction (which once made it slow in proportion to the store).
func TestFHIR_ConditionalCreateNewIdentifier(t *testing.T) {
	f := newFixture(t, newChecker(t))
	srv := fhirServer(t, f)
	for i := range 30 {
		placer := fmt.Sprint("NEW-", i)
		r := fhirDo(t, "POST", srv.URL+"/fhir/ServiceRequest", mriRequest(placer), "If-None-Exist", "identifier=https://app.example.org/orders|"+placer)
		if r.status != http.StatusCreated {
			t.Fatalf("conditional create %d: %d %s", i, r.status, r.raw)
		}
	}
	// An identifier that is not the placer number finds its order through the index.
	other := bytes.Replace(mriRequest("PL-77"), []byte(`"identifier":[{"type"`), []byte(`"identifier":[{"system":"urn:oid:9.9","value":"VISIT-5"},{"type"`), 1)
	if r := fhirDo(t, "POST", srv.URL+"/fhir/ServiceRequest", other); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	for query, want := range map[string]float64{"identifier=VISIT-5": 1, "identifier=urn:oid:9.9|VISIT-5": 1, "identifier=NEW-7": 1, "identifier=NOPE": 0} {
		if r := fhirDo(t, "GET", srv.URL+"/fhir/ServiceRequest?"+query, nil); r.body["total"] != want {
			t.Errorf("search %s: total %v, want %v", query, r.body["total"], want)
		}
	}
	if r := fhirDo(t, "POST", srv.URL+"/fhir/ServiceRequest", mriRequest("NEW-3"), "If-None-Exist", "identifier=VISIT-5"); r.status != http.StatusOK {
		t.Errorf("conditional create matching by a secondary identifier: %d, want 200", r.status)
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
		err := f.db.Update(t.Context(), func(tx store.Tx) error {
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
	warning := func(r fhirResp) string {
		for _, e := range r.body["entry"].([]any) {
			e := e.(map[string]any)
			if e["search"].(map[string]any)["mode"] == "outcome" {
				b, _ := json.Marshal(e["resource"])
				return string(b)
			}
		}
		return ""
	}
	search := func(query string) fhirResp {
		t.Helper()
		r := fhirDo(t, "GET", srv.URL+"/fhir/"+query, nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", query, r.status, r.raw)
		}
		return r
	}
	put(0, store.MaxLimit)
	if r := search("ServiceRequest?patient=MRN0&_count=1"); r.body["total"] != float64(store.MaxLimit/3+1) || warning(r) != "" {
		t.Errorf("%d orders: total %v, outcome %q; want %d and no warning", store.MaxLimit, r.body["total"], warning(r), store.MaxLimit/3+1)
	}
	put(store.MaxLimit, store.MaxLimit+1) // one more than a scan examines: PL0 drops out
	for _, query := range []string{"ServiceRequest?patient=MRN0&_count=1", "DiagnosticReport?patient=MRN0"} {
		if w := warning(search(query)); !strings.Contains(w, "only the newest 1000 candidate orders were examined") {
			t.Errorf("%s past the scan limit: outcome %q, want the warning", query, w)
		}
	}
	// Indexed parameters reach every order: no warning, and the oldest order is found.
	if r := search("ServiceRequest?identifier=PL0"); r.body["total"] != 1.0 || warning(r) != "" {
		t.Errorf("identifier=PL0: total %v, outcome %q; want 1 and no warning", r.body["total"], warning(r))
	}
	created := fhirDo(t, "POST", srv.URL+"/fhir/ServiceRequest", mriRequest("APP-COND"), "If-None-Exist", "patient=MRN77")
	if created.status != http.StatusPreconditionFailed || !strings.Contains(string(created.raw), "identifier") {
		t.Errorf("conditional create on a scan: %d %s; want 412 asking for an identifier", created.status, created.raw)
	}
	if o := f.orders(t, store.OrderQuery{Placer: "APP-COND"}); len(o) != 0 {
		t.Errorf("the refused conditional create stored %d orders", len(o))
	}
}
