package fhirserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/internal/allowlist"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// transactionSamples returns the transaction Bundles of the FHIR corpus: testdata's,
// and the shared corpus's when RADBRIDGE_CONFORMANCE_DIR names it.
func transactionSamples(t *testing.T) map[string][]byte {
	t.Helper()
	dirs := []string{"../testdata/fhir"}
	if d := os.Getenv("RADBRIDGE_CONFORMANCE_DIR"); d != "" {
		dirs = append(dirs, filepath.Join(d, "fhir"))
	}
	out := map[string][]byte{}
	for _, dir := range dirs {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var head struct{ ResourceType, Type string }
			if json.Unmarshal(data, &head) == nil && head.ResourceType == "Bundle" && head.Type == "transaction" {
				out[filepath.Base(p)] = data
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no transaction Bundle in the corpus")
	}
	return out
}

// txEntry is one entry of a transaction-response.
type txEntry struct {
	FullURL  string
	Response struct {
		Status, Location, Etag string
		Outcome                json.RawMessage
	}
}

func postTransaction(t *testing.T, f *enginetest.Fixture, url string, bundle []byte, headers ...string) (enginetest.Response, []txEntry) {
	t.Helper()
	r := f.Do(t, "POST", url+"/fhir", bundle, headers...)
	var b struct {
		Type  string
		Entry []txEntry
	}
	if r.Status == http.StatusOK && (json.Unmarshal(r.Raw, &b) != nil || b.Type != "transaction-response") {
		t.Fatalf("transaction: 200 without a transaction-response: %s", r.Raw)
	}
	return r, b.Entry
}

// TestFHIR_Transaction_LocationsReadBack: every Location of every transaction in the
// corpus reads back (the versioned one and the resource's own URL), each entry's
// fullUrl is its location's resource, and posting the transaction again answers the
// same resources for its conditional entries. A transaction that is refused answers
// 4xx with an OperationOutcome naming an entry, and stores nothing.
func TestFHIR_Transaction_LocationsReadBack(t *testing.T) {
	for name, bundle := range transactionSamples(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, enginetest.Checker(t))
			srv := fhirServer(t, f)
			r, entries := postTransaction(t, f, srv.URL, bundle)
			if r.Status != http.StatusOK {
				issues, _ := r.Body["issue"].([]any)
				if r.Status < 400 || r.Status > 499 || r.Body["resourceType"] != "OperationOutcome" || len(issues) == 0 ||
					!strings.Contains(string(r.Raw), `"expression":["Bundle.entry[`) {
					t.Fatalf("transaction: %d %s; want 200, or a 4xx OperationOutcome naming an entry", r.Status, r.Raw)
				}
				if n := len(f.Orders(t, store.OrderQuery{})); n != 0 {
					t.Errorf("a refused transaction stored %d orders", n)
				}
				t.Logf("refused: %s", r.Raw)
				return
			}
			first := map[int]string{}
			for i, e := range entries {
				loc := e.Response.Location
				if loc == "" || !strings.Contains(loc, "/_history/") {
					t.Fatalf("entry %d: location %q, want [type]/[id]/_history/[vid]", i, loc)
				}
				readBack(t, f, srv.URL, loc)
				own, _, _ := strings.Cut(loc, "/_history/")
				readBack(t, f, srv.URL, own)
				if e.FullURL != srv.URL+"/fhir/"+own {
					t.Errorf("entry %d: fullUrl %q, location %q", i, e.FullURL, loc)
				}
				first[i] = own
			}
			var doc struct {
				Entry []struct {
					Request struct{ Method, IfNoneExist string }
				}
			}
			if err := json.Unmarshal(bundle, &doc); err != nil {
				t.Fatal(err)
			}
			orders := len(f.Orders(t, store.OrderQuery{}))
			again, entries := postTransaction(t, f, srv.URL, bundle)
			if again.Status != http.StatusOK {
				t.Fatalf("the same transaction again: %d %s", again.Status, again.Raw)
			}
			for i, e := range entries {
				own, _, _ := strings.Cut(e.Response.Location, "/_history/")
				readBack(t, f, srv.URL, e.Response.Location)
				if req := doc.Entry[i].Request; req.IfNoneExist != "" || req.Method == http.MethodPut {
					if own != first[i] || e.Response.Status != "200 OK" {
						t.Errorf("entry %d again: %s %s, want 200 OK for %s", i, e.Response.Status, own, first[i])
					}
				}
			}
			if n := len(f.Orders(t, store.OrderQuery{})); n != orders && conditionalOrders(doc.Entry) {
				t.Errorf("the same transaction again: %d orders, want %d", n, orders)
			}
		})
	}
}

// conditionalOrders reports whether every POST entry is conditional, so that the same
// transaction posted twice creates nothing the second time.
func conditionalOrders(entries []struct {
	Request struct{ Method, IfNoneExist string }
}) bool {
	for _, e := range entries {
		if e.Request.Method == http.MethodPost && e.Request.IfNoneExist == "" {
			return false
		}
	}
	return true
}

// orderBundle is a transaction of a Patient, a Practitioner and a ServiceRequest that
// refers to both by fullUrl; patient and order are the conditions (ifNoneExist) of the
// Patient and ServiceRequest entries ("" for none), placer the order's placer number.
func orderBundle(placer, patient, order string) []byte {
	cond := func(c string) string {
		if c == "" {
			return ""
		}
		return `,"ifNoneExist":"` + c + `"`
	}
	return []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:7e0c8d52-0000-4000-8000-000000000001","request":{"method":"POST","url":"Patient"` + cond(patient) + `},
  "resource":{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.3","value":"MRN-TX"}],"name":[{"family":"Doe","given":["Jane"]}],"birthDate":"1980-01-02"}},
 {"fullUrl":"urn:uuid:7e0c8d52-0000-4000-8000-000000000002","request":{"method":"PUT","url":"Practitioner/dr-smith"},
  "resource":{"resourceType":"Practitioner","id":"dr-smith","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}],"name":[{"family":"Smith","given":["John"]}]}},
 {"fullUrl":"urn:uuid:7e0c8d52-0000-4000-8000-000000000003","request":{"method":"POST","url":"ServiceRequest"` + cond(order) + `},
  "resource":{"resourceType":"ServiceRequest","status":"active","intent":"order",
   "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"PLAC"}]},"system":"https://app.example.org/orders","value":"` + placer + `"}],
   "code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"70553"}]},
   "subject":{"reference":"urn:uuid:7e0c8d52-0000-4000-8000-000000000001"},
   "requester":{"reference":"urn:uuid:7e0c8d52-0000-4000-8000-000000000002"},"authoredOn":"2026-11-22T09:00:00Z",
   "reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R51.9"}],"text":"Headache"}]}}]}`)
}

// TestFHIR_Transaction_Conditions: ifNoneExist is honoured for orders and for the
// resources kept with them (a match is the entry's result, and the references to its
// fullUrl name it), and ifMatch for PUT entries; a failed condition stores nothing.
func TestFHIR_Transaction_Conditions(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	srv := fhirServer(t, f)
	bundle := orderBundle("TX-C1", "identifier=urn:oid:1.2.3|MRN-TX", "identifier=https://app.example.org/orders|TX-C1")
	r, first := postTransaction(t, f, srv.URL, bundle)
	if r.Status != http.StatusOK {
		t.Fatalf("transaction: %d %s", r.Status, r.Raw)
	}
	for i, want := range []string{"201 Created", "201 Created", "201 Created"} {
		if first[i].Response.Status != want {
			t.Errorf("entry %d: %s, want %s", i, first[i].Response.Status, want)
		}
	}
	patient, _, _ := strings.Cut(first[0].Response.Location, "/_history/")
	sr := readBack(t, f, srv.URL, first[2].Response.Location)
	if subj := sr.Body["subject"].(map[string]any)["reference"]; subj != patient {
		t.Errorf("subject %v, want %s", subj, patient)
	}
	if req := sr.Body["requester"].(map[string]any)["reference"]; req != "Practitioner/dr-smith" {
		t.Errorf("requester %v, want the PUT's id", req)
	}

	// The same Bundle again: both conditions match, nothing is created; the PUT is a
	// new version of the Practitioner.
	_, again := postTransaction(t, f, srv.URL, bundle)
	for i, want := range []string{"200 OK", "200 OK", "200 OK"} {
		if again[i].Response.Status != want {
			t.Errorf("again, entry %d: %s, want %s", i, again[i].Response.Status, want)
		}
	}
	if again[0].Response.Location != first[0].Response.Location || again[2].Response.Location != first[2].Response.Location {
		t.Errorf("again: locations %q %q, want %q %q", again[0].Response.Location, again[2].Response.Location,
			first[0].Response.Location, first[2].Response.Location)
	}
	if again[1].Response.Location != "Practitioner/dr-smith/_history/2" {
		t.Errorf("again: Practitioner at %q, want version 2", again[1].Response.Location)
	}
	if n := len(f.Orders(t, store.OrderQuery{Placer: "TX-C1"})); n != 1 {
		t.Errorf("%d orders TX-C1, want 1", n)
	}

	// A new order for the same patient: the Patient entry matches, and the new order's
	// subject is the Patient the first transaction created.
	r, third := postTransaction(t, f, srv.URL, orderBundle("TX-C2", "identifier=urn:oid:1.2.3|MRN-TX", ""))
	if r.Status != http.StatusOK || third[0].Response.Status != "200 OK" || third[2].Response.Status != "201 Created" {
		t.Fatalf("second order: %d %s", r.Status, r.Raw)
	}
	if subj := readBack(t, f, srv.URL, third[2].Response.Location).Body["subject"].(map[string]any)["reference"]; subj != patient {
		t.Errorf("second order's subject %v, want the matched %s", subj, patient)
	}
	if o := f.Orders(t, store.OrderQuery{Placer: "TX-C2"}); len(o) != 1 || o[0].Patient.Family != "Doe" {
		t.Errorf("second order: %+v, want one with the patient read", o)
	}

	// ifMatch: a stale version refuses the whole transaction.
	stale := bytes.Replace(orderBundle("TX-C3", "", ""), []byte(`"url":"Practitioner/dr-smith"`), []byte(`"url":"Practitioner/dr-smith","ifMatch":"W/\"1\""`), 1)
	r, _ = postTransaction(t, f, srv.URL, stale)
	if r.Status != http.StatusPreconditionFailed || !strings.Contains(string(r.Raw), "Bundle.entry[1]") {
		t.Errorf("stale ifMatch: %d %s, want 412 at Bundle.entry[1]", r.Status, r.Raw)
	}
	if n := len(f.Orders(t, store.OrderQuery{Placer: "TX-C3"})); n != 0 {
		t.Errorf("the refused transaction stored %d orders", n)
	}
	current := bytes.Replace(stale, []byte(`W/\"1\"`), []byte(`W/\"3\"`), 1) // versions 1, 2 and 3 above
	if r, e := postTransaction(t, f, srv.URL, current); r.Status != http.StatusOK || e[1].Response.Location != "Practitioner/dr-smith/_history/4" {
		t.Errorf("current ifMatch: %d %s", r.Status, r.Raw)
	}

	// A condition that matches two resources is 412.
	twice := bytes.Replace(orderBundle("TX-C4", "", ""), []byte(`"MRN-TX"`), []byte(`"MRN-2"`), 1)
	postTransaction(t, f, srv.URL, twice)
	postTransaction(t, f, srv.URL, bytes.Replace(twice, []byte("TX-C4"), []byte("TX-C5"), 1))
	r, _ = postTransaction(t, f, srv.URL, orderBundle("TX-C6", "identifier=MRN-2", ""))
	if r.Status != http.StatusPreconditionFailed || !strings.Contains(string(r.Raw), "Bundle.entry[0].request.ifNoneExist") {
		t.Errorf("ambiguous ifNoneExist: %d %s, want 412", r.Status, r.Raw)
	}
}

// TestFHIR_Transaction_PutServiceRequest: PUT ServiceRequest/{id} in a transaction
// changes the order whose ServiceRequest that is, as an update does alone; one that
// names no order creates it when the id is a UUID, its ServiceRequest keeping the id (its
// Task, results and searches refer to it so), and refuses the transaction otherwise
// (400, nothing stored); one that names another sender's order is 409.
func TestFHIR_Transaction_PutServiceRequest(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	srv := fhirServer(t, f)
	put := func(placer, id, status string) []byte {
		b := orderBundle(placer, "", "")
		b = bytes.Replace(b, []byte(`"method":"POST","url":"ServiceRequest"`), []byte(`"method":"PUT","url":"ServiceRequest/`+id+`"`), 1)
		return bytes.Replace(b, []byte(`"resourceType":"ServiceRequest","status":"active"`), []byte(`"resourceType":"ServiceRequest","id":"`+id+`","status":"`+status+`"`), 1)
	}
	const cid = "d765ef90-6bb0-11ed-a340-acde48001122"
	r, created := postTransaction(t, f, srv.URL, put("TX-P1", cid, "active"))
	if r.Status != http.StatusOK || created[2].Response.Status != "201 Created" || created[2].Response.Location != "ServiceRequest/"+cid+"/_history/1" {
		t.Fatalf("PUT ServiceRequest/%s creating its order: %d %s", cid, r.Status, r.Raw)
	}
	o := f.Orders(t, store.OrderQuery{Placer: "TX-P1"})
	if len(o) != 1 || o[0].ServiceRequestID() != cid || o[0].ID == cid {
		t.Fatalf("orders: %+v, want one whose ServiceRequest is %s", o, cid)
	}
	if back := readBack(t, f, srv.URL, "ServiceRequest/"+cid); back.Body["subject"] == nil {
		t.Errorf("ServiceRequest/%s: %s", cid, back.Raw)
	}
	if r := f.Do(t, "GET", srv.URL+"/fhir/ServiceRequest/"+o[0].ID, nil); r.Status != http.StatusNotFound {
		t.Errorf("GET ServiceRequest/%s (the order's own id): %d, want 404: the ServiceRequest is %s", o[0].ID, r.Status, cid)
	}
	for query, want := range map[string]string{
		"ServiceRequest?identifier=TX-P1":     `"id":"` + cid + `"`,
		"Task?based-on=ServiceRequest/" + cid: `"reference":"ServiceRequest/` + cid + `"`,
	} {
		if s := f.Do(t, "GET", srv.URL+"/fhir/"+query, nil); s.Body["total"] != 1.0 || !strings.Contains(string(s.Raw), want) {
			t.Errorf("GET %s: %s, want one match with %s", query, s.Raw, want)
		}
	}
	// The same PUT again changes the order.
	r, entries := postTransaction(t, f, srv.URL, put("TX-P1", cid, "on-hold"))
	if r.Status != http.StatusOK || entries[2].Response.Status != "200 OK" || entries[2].Response.Location != "ServiceRequest/"+cid+"/_history/2" {
		t.Fatalf("PUT ServiceRequest/%s again: %d %s", cid, r.Status, r.Raw)
	}
	if o := f.Orders(t, store.OrderQuery{Placer: "TX-P1"}); len(o) != 1 || o[0].Status != order.StatusOnHold {
		t.Errorf("orders after the second PUT: %+v, want the one order, on hold", o)
	}
	report := []byte(`{"resourceType":"DiagnosticReport","status":"final","code":{"text":"MRI brain"},
 "basedOn":[{"reference":"ServiceRequest/` + cid + `"}],"conclusion":"Normal."}`)
	if dr := f.Do(t, "POST", srv.URL+"/fhir/DiagnosticReport", report); dr.Status != http.StatusCreated ||
		!strings.Contains(string(dr.Raw), `"reference":"ServiceRequest/`+cid+`"`) {
		t.Errorf("DiagnosticReport based on ServiceRequest/%s: %d %s", cid, dr.Status, dr.Raw)
	}

	// A new UUID with the placer number of that order is a second order: 409.
	if r, _ := postTransaction(t, f, srv.URL, put("TX-P1", "0d2b1c9e-94a4-4f0e-8f43-3b6f1f0d8a11", "active")); r.Status != http.StatusConflict {
		t.Errorf("a second order with placer TX-P1: %d %s, want 409", r.Status, r.Raw)
	}
	// An unknown id that is not a UUID: 400, nothing stored.
	patients := f.Do(t, "GET", srv.URL+"/fhir/"+strings.Split(created[0].Response.Location, "/_history/")[0], nil)
	r, _ = postTransaction(t, f, srv.URL, put("TX-P2", "sr-123", "active"))
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Raw), "Bundle.entry[2].request.url") || !strings.Contains(string(r.Raw), "POST") {
		t.Errorf("PUT of an unknown ServiceRequest: %d %s, want 400 telling to POST", r.Status, r.Raw)
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 1 {
		t.Errorf("%d orders after the refused transactions, want 1", n)
	}
	if again := f.Do(t, "GET", srv.URL+"/fhir/"+strings.Split(created[0].Response.Location, "/_history/")[0], nil); !bytes.Equal(again.Raw, patients.Raw) {
		t.Errorf("the refused transaction changed the Patient: %s", again.Raw)
	}

	if got := f.Send(t, enginetest.RadiologyORM("TXV2", "P-TX", nil)).Get("MSA-1"); got != "AA" {
		t.Fatalf("ORM: %s", got)
	}
	v2 := f.Orders(t, store.OrderQuery{Placer: "P-TX"})[0]
	if r, _ := postTransaction(t, f, srv.URL, put("P-TX", v2.ID, "active")); r.Status != http.StatusConflict {
		t.Errorf("PUT of a v2 order in a transaction: %d %s, want 409", r.Status, r.Raw)
	}
}

// TestFHIR_Update_Create: a PUT alone creates an order when its id is a UUID, as in a
// transaction, and is 404 with the rule otherwise.
func TestFHIR_Update_Create(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	srv := fhirServer(t, f)
	const cid = "3f1e7a52-6d3e-4b0e-9a53-2f4c1d7e8a01"
	body := bytes.Replace(enginetest.MRIRequest("UC-1"), []byte(`"status":"active"`), []byte(`"id":"`+cid+`","status":"active"`), 1)
	r := f.Do(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+cid, body)
	if r.Status != http.StatusCreated || !strings.HasSuffix(r.Header.Get("Location"), "/ServiceRequest/"+cid+"/_history/1") {
		t.Fatalf("PUT creating: %d %q %s", r.Status, r.Header.Get("Location"), r.Raw)
	}
	readBack(t, f, srv.URL, r.Header.Get("Location"))
	if r := f.Do(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+cid, body, "If-Match", `W/"1"`); r.Status != http.StatusOK {
		t.Errorf("PUT updating: %d %s", r.Status, r.Raw)
	}
	other := "4f1e7a52-6d3e-4b0e-9a53-2f4c1d7e8a02"
	ifMatch := bytes.Replace(body, []byte(cid), []byte(other), 1)
	if r := f.Do(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+other, ifMatch, "If-Match", `W/"1"`); r.Status != http.StatusPreconditionFailed {
		t.Errorf("PUT with If-Match of a ServiceRequest that does not exist: %d %s, want 412", r.Status, r.Raw)
	}
	plain := bytes.Replace(body, []byte(cid), []byte("sr-9"), 1)
	if r := f.Do(t, "PUT", srv.URL+"/fhir/ServiceRequest/sr-9", plain); r.Status != http.StatusNotFound || !strings.Contains(string(r.Raw), "UUID") {
		t.Errorf("PUT of an unknown id: %d %s, want 404 with the rule", r.Status, r.Raw)
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
}

// TestFHIR_Transaction_Tasks: a Task sent with its order is kept as sent, reads back and
// is listed by a based-on search beside the order's own Task; an id of the engine's
// Tasks is refused.
func TestFHIR_Transaction_Tasks(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	srv := fhirServer(t, f)
	task := `,{"fullUrl":"urn:uuid:7e0c8d52-0000-4000-8000-000000000004","request":{"method":"POST","url":"Task"},
  "resource":{"resourceType":"Task","status":"requested","intent":"order","basedOn":[{"reference":"urn:uuid:7e0c8d52-0000-4000-8000-000000000003"}]}}]}`
	bundle := append(bytes.TrimSuffix(orderBundle("TX-T1", "", ""), []byte("]}")), task...)
	r, entries := postTransaction(t, f, srv.URL, bundle)
	if r.Status != http.StatusOK || len(entries) != 4 {
		t.Fatalf("transaction: %d %s", r.Status, r.Raw)
	}
	sr, _, _ := strings.Cut(entries[2].Response.Location, "/_history/")
	kept := readBack(t, f, srv.URL, entries[3].Response.Location)
	if ref := kept.Body["basedOn"].([]any)[0].(map[string]any)["reference"]; ref != sr {
		t.Errorf("Task basedOn %v, want %s", ref, sr)
	}
	s := f.Do(t, "GET", srv.URL+"/fhir/Task?based-on="+sr, nil)
	if s.Status != http.StatusOK || s.Body["total"] != 2.0 {
		t.Errorf("Task?based-on=%s: %d %s, want the order's Task and the kept one", sr, s.Status, s.Raw)
	}
	engineTask := `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"PUT","url":"Task/ord-9-task"},
  "resource":{"resourceType":"Task","id":"ord-9-task","status":"requested","intent":"order"}}]}`
	if r, _ := postTransaction(t, f, srv.URL, []byte(engineTask)); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Raw), "-task") {
		t.Errorf("PUT Task/ord-9-task: %d %s, want 400", r.Status, r.Raw)
	}
}

// TestFHIR_Subscription_ClientServiceRequestID: a subscription to the results of a
// ServiceRequest its client created with its own id is notified of them.
func TestFHIR_Subscription_ClientServiceRequestID(t *testing.T) {
	hooks := make(chan []byte, 4)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks <- b
	}))
	defer endpoint.Close()
	allow, err := allowlist.New([]string{endpoint.URL})
	if err != nil {
		t.Fatal(err)
	}
	f := enginetest.New(t, enginetest.Options{Checker: enginetest.Checker(t), Deliver: true,
		Engine: engine.Config{Subscriptions: engine.SubscriptionPolicy{Allow: allow}}})
	srv := fhirServer(t, f)
	const cid = "5a6b7c8d-0000-4000-8000-00000000c1d0"
	sub := f.Do(t, "POST", srv.URL+"/fhir/Subscription", []byte(`{"resourceType":"Subscription","status":"requested","reason":"results",
 "criteria":"DiagnosticReport?based-on=ServiceRequest/`+cid+`","channel":{"type":"rest-hook","endpoint":"`+endpoint.URL+`","payload":"application/fhir+json"}}`))
	if sub.Status != http.StatusCreated {
		t.Fatalf("Subscription: %d %s", sub.Status, sub.Raw)
	}
	body := bytes.Replace(enginetest.MRIRequest("SUB-1"), []byte(`"status":"active"`), []byte(`"id":"`+cid+`","status":"active"`), 1)
	if r := f.Do(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+cid, body); r.Status != http.StatusCreated {
		t.Fatalf("PUT: %d %s", r.Status, r.Raw)
	}
	report := []byte(`{"resourceType":"DiagnosticReport","status":"final","code":{"text":"MRI brain"},
 "basedOn":[{"reference":"ServiceRequest/` + cid + `"}],"conclusion":"Normal."}`)
	if r := f.Do(t, "POST", srv.URL+"/fhir/DiagnosticReport", report); r.Status != http.StatusCreated {
		t.Fatalf("DiagnosticReport: %d %s", r.Status, r.Raw)
	}
	select {
	case b := <-hooks:
		if !bytes.Contains(b, []byte(`"reference":"ServiceRequest/`+cid+`"`)) {
			t.Errorf("notification %s, want the report based on ServiceRequest/%s", b, cid)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription was not notified")
	}
}
