// Package enginetest builds radbridge's pipeline from real parts for the tests of the
// packages above the store: a bbolt store in t.TempDir(), the engine with the default
// rules, optionally a running delivery worker, and the FHIR and engine API handlers on
// a real loopback HTTP server. It also holds the sample messages several packages'
// tests send. Only tests import it.
package enginetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/api"
	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/fhirserver"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// Clock is the time a Fixture's engine reads unless Options.Clock says otherwise.
var Clock = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// Options configure a Fixture; the zero value is an engine without checks on a fresh
// store, with no delivery worker.
type Options struct {
	// Checker checks orders; nil means none (see Checker for the default rules).
	Checker engine.Checker
	// Engine is the engine's configuration.
	Engine engine.Config
	// Destinations, when set, start a delivery worker with them; it stops at the end
	// of the test.
	Destinations []delivery.Destination
	// Deliver starts a delivery worker even with no destinations (for Subscriptions).
	Deliver bool
	// Clock replaces the fixed Clock; time.Now when RealClock is set.
	Clock     func() time.Time
	RealClock bool
	// Metrics are the engine's metrics; nil records none.
	Metrics *engine.Metrics
}

// Fixture is an engine on a real store, and its FHIR backend.
type Fixture struct {
	Engine *engine.Engine
	DB     *bolt.DB
	FHIR   *fhirserver.Server
	// Worker is the delivery worker, nil unless Options asked for one.
	Worker *delivery.Worker
}

// New opens a store in a temporary directory and builds the engine on it; everything
// is closed at the end of the test.
func New(tb testing.TB, opts Options) *Fixture {
	tb.Helper()
	db, err := bolt.Open(bolt.Config{Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	eng, err := engine.New(opts.Engine, db, opts.Checker, nil, opts.Metrics)
	if err != nil {
		db.Close()
		tb.Fatal(err)
	}
	switch {
	case opts.Clock != nil:
		eng.SetClock(opts.Clock)
	case !opts.RealClock:
		eng.SetClock(func() time.Time { return Clock })
	}
	f := &Fixture{Engine: eng, DB: db, FHIR: fhirserver.New(eng, db)}
	if len(opts.Destinations) == 0 && !opts.Deliver {
		tb.Cleanup(func() { db.Close() })
		return f
	}
	worker, err := delivery.New(delivery.Config{Destinations: opts.Destinations}, db, nil, delivery.Deps{})
	if err != nil {
		db.Close()
		tb.Fatal(err)
	}
	eng.SetDeliverer(worker)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- worker.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done; db.Close() })
	f.Worker = worker
	return f
}

// Checker returns the checks with the default rules and code table.
func Checker(tb testing.TB) *rules.Checker {
	tb.Helper()
	c, err := rules.New(rules.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Send hands raw to the engine as an MLLP message and returns the parsed
// acknowledgment, nil when the sender asked for none.
func (f *Fixture) Send(tb testing.TB, raw []byte) *hl7.Message {
	tb.Helper()
	ack, err := f.Engine.HandleV2(tb.Context(), raw)
	if err != nil {
		tb.Fatalf("HandleV2: %v", err)
	}
	if ack == nil {
		return nil
	}
	m, err := hl7.Parse(ack)
	if err != nil {
		tb.Fatalf("ACK does not parse: %v\n%q", err, ack)
	}
	return m
}

// View runs fn in a read transaction and fails the test if it fails.
func (f *Fixture) View(tb testing.TB, fn func(tx store.ReadTx) error) {
	tb.Helper()
	if err := f.DB.View(tb.Context(), fn); err != nil {
		tb.Fatalf("View: %v", err)
	}
}

// Orders lists the stored orders q selects.
func (f *Fixture) Orders(tb testing.TB, q store.OrderQuery) []*order.Order {
	tb.Helper()
	var out []*order.Order
	f.View(tb, func(tx store.ReadTx) error {
		var err error
		out, _, err = tx.Orders(q)
		return err
	})
	return out
}

// Server serves the fixture's FHIR API under /fhir and its engine API under /api
// (prior-authorization questions answered by pa, when not nil) on a loopback HTTP
// server closed at the end of the test.
func (f *Fixture) Server(tb testing.TB, pa api.Preauther) *httptest.Server {
	tb.Helper()
	h, err := fhir.NewHandler(fhir.Config{}, f.FHIR, nil)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := api.Config{Engine: f.Engine, Store: f.DB, Preauth: pa}
	if f.Worker != nil {
		cfg.Deliverer = f.Worker
	}
	a, err := api.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	r := mux.NewRouter()
	h.Routes(r)
	a.Routes(r)
	srv := httptest.NewServer(r)
	tb.Cleanup(srv.Close)
	return srv
}

// Response is an HTTP answer as Do read it.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any // Raw decoded, when it is a JSON object
	Raw    []byte
}

// Do sends a request with a FHIR JSON body and the given header name/value pairs.
func Do(tb testing.TB, method, url string, body []byte, headers ...string) Response {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	out := Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body) // not every answer is an object
	return out
}

// CR turns a readable message (segments on lines) into CR-terminated segments.
func CR(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimPrefix(s, "\n"), "\n", "\r"))
}

// RadiologyORM is a complete MRI brain order (ORM^O01 from HOSP_A, control ID ctl,
// placer number placer) that needs prior authorization and carries it, unless edit
// changes its text.
func RadiologyORM(ctl, placer string, edit func(string) string) []byte {
	msg := `
MSH|^~\&|EHR|HOSP_A|RADBRIDGE|IMG|20261122093000||ORM^O01^ORM_O01|` + ctl + `|P|2.5.1
PID|1||MRN55^^^HOSP_A^MR||DOE^JANE||19800102|F
PV1|1|O
ORC|NW|` + placer + `^EHR|||||||20261122092500|||1234567893^SMITH^JOHN^^^^^^NPI^L^^^NPI
OBR|1|` + placer + `^EHR||70553^MRI BRAIN W/WO^C4|||20261122092500||||||||||||||||||MR|||||||R51.9^Headache^I10
DG1|1||R51.9^Headache, unspecified^I10
IN1|1|PPO1|AETNA01|AETNA||||||||||AUTH-1`
	if edit != nil {
		msg = edit(msg)
	}
	return CR(msg)
}

// MRIRequest is a complete, checkable MRI ServiceRequest with a contained patient and
// practitioner, from the app https://app.example.org.
func MRIRequest(placer string) []byte {
	return []byte(`{"resourceType":"ServiceRequest","status":"active","intent":"order",
 "meta":{"source":"https://app.example.org"},
 "contained":[{"resourceType":"Patient","id":"p","identifier":[{"system":"urn:oid:1.2.3","value":"MRN77"}],"name":[{"family":"Doe","given":["Jane"]}],"birthDate":"1980-01-02","gender":"female"},
  {"resourceType":"Practitioner","id":"dr","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}],"name":[{"family":"Smith","given":["John"]}]}],
 "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"PLAC"}]},"system":"https://app.example.org/orders","value":"` + placer + `"}],
 "code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"70553","display":"MRI brain w/wo contrast"}]},
 "subject":{"reference":"#p"},"requester":{"reference":"#dr"},"authoredOn":"2026-11-22T09:00:00Z",
 "reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R51.9","display":"Headache"}],"text":"Headache"}]}`)
}
