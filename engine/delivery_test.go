package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// provider is facility A's MLLP listener: it keeps what it receives and answers AA.
func provider(t testing.TB) (addr string, got <-chan []byte) {
	t.Helper()
	ch := make(chan []byte, 1<<16)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &mllp.Server{Handler: mllp.HandlerFunc(func(_ context.Context, msg []byte, _ mllp.ConnInfo) ([]byte, error) {
		m, err := hl7.Parse(msg)
		if err != nil {
			return nil, err
		}
		ch <- bytes.Clone(msg)
		return hl7.AppendAck(nil, m.Header(), hl7.Ack{Code: hl7.AA, ControlID: "P" + m.Header().ControlID, Time: time.Now()}), nil
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String(), ch
}

// deliveringFixture is an engine on a real store with the given routes, and a running
// delivery worker with the given destinations, stopped at the end of the test.
func deliveringFixture(tb testing.TB, routes []engine.Route, dests []delivery.Destination) *fixture {
	return enginetest.New(tb, enginetest.Options{Checker: enginetest.Checker(tb), Engine: engine.Config{Routes: routes},
		Destinations: dests, Deliver: true, RealClock: true})
}

// fhirServer serves the FHIR API of a fixture's engine over real HTTP.
func fhirServer(t *testing.T, f *fixture) *httptest.Server { return f.Server(t, nil) }

func TestDelivery_EndToEnd(t *testing.T) {
	mllpAddr, oru := provider(t)
	posted := make(chan []byte, 4)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/DiagnosticReport") {
			posted <- b
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"resourceType":"DiagnosticReport","id":"x"}`))
	}))
	defer app.Close()
	f := deliveringFixture(t, []engine.Route{
		{Destination: "ehr-a", Kind: "hl7v2", SendingFacility: "HOSP_A"},
		{Destination: "app-x", Kind: "fhir", FHIRSource: "https://app.example.org"},
	}, []delivery.Destination{{Name: "ehr-a", MLLP: mllpAddr}, {Name: "app-x", FHIR: app.URL + "/fhir"}})
	db := f.DB

	// HL7 v2: order from facility A, report from the RIS, ORU^R01 back to facility A.
	if got := f.Send(t, enginetest.RadiologyORM("D1", "P1000", nil)).Get("MSA-1"); got != "AA" {
		t.Fatalf("ORM: %s", got)
	}
	report := enginetest.CR(`
MSH|^~\&|RIS|RADIOLOGY|EHR|HOSP_A|20261122110000||ORU^R01^ORU_R01|R1|P|2.5.1
PID|1||MRN55^^^HOSP_A^MR||DOE^JANE
OBR|1|P1000^EHR|F77^RIS|70553^MRI BRAIN W/WO^C4|||20261122100000|||||||||||||||20261122105900|||F||||||||1992999999&RAD&READER
OBX|1|TX|18782-3^Study observation^LN|1|No acute intracranial abnormality.||||||F`)
	if got := f.Send(t, report).Get("MSA-1"); got != "AA" {
		t.Fatalf("ORU: %s", got)
	}
	select {
	case msg := <-oru:
		m, err := hl7.Parse(msg)
		if err != nil {
			t.Fatal(err)
		}
		if m.Get("MSH-9") != "ORU" || m.Get("MSH-6") != "HOSP_A" || m.Get("OBR-2") != "P1000" || m.Get("PID-3") != "MRN55" {
			t.Errorf("ORU^R01 to facility A: MSH-9 %q MSH-6 %q OBR-2 %q PID-3 %q", m.Get("MSH-9"), m.Get("MSH-6"), m.Get("OBR-2"), m.Get("PID-3"))
		}
		if !strings.Contains(string(msg), "No acute intracranial abnormality.") {
			t.Errorf("the report text is missing: %q", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no ORU^R01 reached facility A")
	}
	waitStatus(t, f, "P1000", order.StatusDelivered)

	// FHIR: the app's order, its report posted back to the app.
	srv := fhirServer(t, f)
	created := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", enginetest.MRIRequest("APP-9"))
	if created.Status != http.StatusCreated {
		t.Fatalf("ServiceRequest: %d %s", created.Status, created.Raw)
	}
	id := created.Body["id"].(string)
	dr := []byte(`{"resourceType":"DiagnosticReport","status":"final","identifier":[{"value":"RPT-9"}],
 "code":{"coding":[{"system":"http://loinc.org","code":"18748-4"}]},"basedOn":[{"reference":"ServiceRequest/` + id + `"}],
 "conclusion":"Normal MRI of the brain."}`)
	if r := f.Do(t, "POST", srv.URL+"/fhir/DiagnosticReport", dr); r.Status != http.StatusCreated {
		t.Fatalf("DiagnosticReport: %d %s", r.Status, r.Raw)
	}
	select {
	case body := <-posted:
		var got map[string]any
		json.Unmarshal(body, &got)
		if got["resourceType"] != "DiagnosticReport" || !bytes.Contains(body, []byte("ServiceRequest/"+id)) || !bytes.Contains(body, []byte("Normal MRI of the brain.")) {
			t.Errorf("the app received %s", body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no DiagnosticReport reached the app")
	}
	waitStatus(t, f, "APP-9", order.StatusDelivered)
	if r := f.Do(t, "GET", srv.URL+"/fhir/DiagnosticReport?based-on=ServiceRequest/"+id, nil); r.Body["total"] != 1.0 {
		t.Errorf("DiagnosticReport search: %s", r.Raw)
	}

	// A report for no known order is kept and refused.
	orphan := bytes.Replace(dr, []byte("ServiceRequest/"+id), []byte("ServiceRequest/ord-999"), 1)
	if r := f.Do(t, "POST", srv.URL+"/fhir/DiagnosticReport", orphan); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("orphan report: %d, want 422", r.Status)
	}
	var kept int
	if err := db.View(t.Context(), func(tx store.ReadTx) error {
		var err error
		_, kept, err = tx.Messages(store.MessageQuery{Type: "DiagnosticReport"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if kept != 2 {
		t.Errorf("%d DiagnosticReport messages kept, want 2 (the orphan too)", kept)
	}
}

func waitStatus(t *testing.T, f *fixture, placer string, want order.Status) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		o := f.Orders(t, store.OrderQuery{Placer: placer})
		if len(o) == 1 && o[0].Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s never reached %s: %+v", placer, want, o)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDelivery_Subscription(t *testing.T) {
	hooks := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks <- r
		bodies <- b
		w.WriteHeader(http.StatusOK)
	}))
	defer endpoint.Close()
	f := subscribingFixture(t, []string{endpoint.URL + "/hook"}, "Authorization")
	srv := fhirServer(t, f)

	bad := f.Do(t, "POST", srv.URL+"/fhir/Subscription", []byte(`{"resourceType":"Subscription","status":"requested","reason":"x",
 "criteria":"Observation?code=1","channel":{"type":"rest-hook","endpoint":"`+endpoint.URL+`"}}`))
	if bad.Status != http.StatusUnprocessableEntity {
		t.Errorf("Subscription on Observations: %d, want 422 (%s)", bad.Status, bad.Raw)
	}
	sub := f.Do(t, "POST", srv.URL+"/fhir/Subscription", []byte(`{"resourceType":"Subscription","status":"requested","reason":"results",
 "criteria":"DiagnosticReport?status=final","channel":{"type":"rest-hook","endpoint":"`+endpoint.URL+`/hook","payload":"application/fhir+json","header":["Authorization: Bearer s3cret"]}}`))
	if sub.Status != http.StatusCreated || sub.Body["status"] != "active" {
		t.Fatalf("Subscription: %d %s", sub.Status, sub.Raw)
	}
	if got := f.Send(t, enginetest.RadiologyORM("S1", "P2000", nil)).Get("MSA-1"); got != "AA" {
		t.Fatalf("ORM: %s", got)
	}
	oru := enginetest.CR(`
MSH|^~\&|RIS|RADIOLOGY|EHR|HOSP_A|20261122110000||ORU^R01^ORU_R01|S2|P|2.5.1
PID|1||MRN55^^^HOSP_A^MR||DOE^JANE
OBR|1|P2000^EHR|F2000^RIS|70553^MRI BRAIN W/WO^C4|||20261122100000||||||||||||||||||F
OBX|1|TX|18782-3^Study observation^LN|1|Unremarkable study.||||||F`)
	if got := f.Send(t, oru).Get("MSA-1"); got != "AA" {
		t.Fatalf("ORU: %s", got)
	}
	select {
	case r := <-hooks:
		body := <-bodies
		if r.Method != http.MethodPut || !strings.HasPrefix(r.URL.Path, "/hook/DiagnosticReport/") || r.Header.Get("Authorization") != "Bearer s3cret" {
			t.Errorf("notification: %s %s, Authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		if !bytes.Contains(body, []byte("Unremarkable study.")) {
			t.Errorf("notification body %s", body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription was not notified")
	}
}

// BenchmarkResultsEndToEnd: results delivered per second end to end. Orders are loaded
// first; then 16 senders hand the engine ORU^R01s, each is stored with its outbox item
// (fsync), and the delivery worker sends an ORU^R01 to facility A's loopback MLLP
// provider, which acknowledges it; the clock stops when the last one is delivered.
func BenchmarkResultsEndToEnd(b *testing.B) {
	addr, got := provider(b)
	f := deliveringFixture(b, []engine.Route{{Destination: "ehr-a", Kind: "hl7v2", SendingFacility: "HOSP_A"}},
		[]delivery.Destination{{Name: "ehr-a", MLLP: addr}})
	eng, ctx := f.Engine, context.Background()
	for i := range b.N {
		if _, err := eng.HandleV2(ctx, enginetest.RadiologyORM(fmt.Sprint("BO", i), fmt.Sprint("BP", i), nil)); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				oru := enginetest.CR(fmt.Sprintf("\nMSH|^~\\&|RIS|RADIOLOGY|EHR|HOSP_A|20261122110000||ORU^R01^ORU_R01|BR%d|P|2.5.1\nPID|1||MRN55^^^HOSP_A^MR||DOE^JANE\n"+
					"OBR|1|BP%d^EHR|BF%d^RIS|70553^MRI BRAIN W/WO^C4|||20261122100000||||||||||||||||||F\nOBX|1|TX|18782-3^Study observation^LN|1|No acute abnormality.||||||F", i, i, i))
				if _, err := eng.HandleV2(ctx, oru); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for range b.N {
		<-got
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "results/s")
}
