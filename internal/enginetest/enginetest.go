// Package enginetest builds radbridge's pipeline from real parts for the tests of the
// packages above the store: a bbolt store in t.TempDir(), the engine with the default
// rules, optionally a running delivery worker, and the FHIR and engine API handlers on
// a real loopback HTTP server behind the real authentication middleware, with a token
// of every scope made for the fixture (Fixture.Token, sent by Fixture.Do). It also
// holds the sample messages several packages' tests send. Only tests import it.
package enginetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	bbolt "go.etcd.io/bbolt"

	"github.com/radbridge/radbridge/api"
	"github.com/radbridge/radbridge/auth"
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
	// Dir is the data directory; a new temporary one when empty.
	Dir string
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
	// Token is a bearer token with every scope (auth.AllScopes) for Server, random
	// per fixture.
	Token string
}

// New opens a store in a temporary directory and builds the engine on it; everything
// is closed at the end of the test.
func New(tb testing.TB, opts Options) *Fixture {
	tb.Helper()
	dir := opts.Dir
	if dir == "" {
		dir = tb.TempDir()
	}
	db, err := bolt.Open(bolt.Config{Dir: dir})
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
	f := &Fixture{Engine: eng, DB: db, FHIR: fhirserver.New(eng, db), Token: rand.Text() + rand.Text()}
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
// server closed at the end of the test. Requests need Fixture.Token as their bearer
// token, as Fixture.Do sends it.
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
	sum := sha256.Sum256([]byte(f.Token))
	authn, err := auth.New(auth.Config{Dir: tb.TempDir(),
		Tokens: []auth.Token{{Name: "enginetest", SHA256: hex.EncodeToString(sum[:]), Scopes: auth.AllScopes()}}})
	if err != nil {
		tb.Fatal(err)
	}
	r := mux.NewRouter()
	h.Routes(r)
	a.Routes(r)
	r.Use(authn.Middleware)
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

// Do sends a request as Do does, with the fixture's token.
func (f *Fixture) Do(tb testing.TB, method, url string, body []byte, headers ...string) Response {
	tb.Helper()
	return Do(tb, method, url, body, append([]string{"Authorization", "Bearer " + f.Token}, headers...)...)
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

// CorruptOrder writes bytes that do not decode over the stored order with the given
// placer number in the store in dir, which must be closed, through bbolt itself, as bit
// rot in the file would; the test fails when there is no such order.
func CorruptOrder(tb testing.TB, dir, placer string) {
	tb.Helper()
	corrupt(tb, dir, "orders", func(v []byte) bool {
		var o order.Order
		return json.Unmarshal(v, &o) == nil && o.Placer == placer
	})
}

// CorruptMessage is CorruptOrder for the record of the message with the given control
// ID (the first one found).
func CorruptMessage(tb testing.TB, dir, controlID string) {
	tb.Helper()
	corrupt(tb, dir, "messages", func(v []byte) bool {
		var m store.Message
		return json.Unmarshal(v, &m) == nil && m.ControlID == controlID
	})
}

// corrupt writes bytes that do not decode over the first value of the bucket that
// match selects.
func corrupt(tb testing.TB, dir, bucket string, match func(v []byte) bool) {
	tb.Helper()
	b, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	defer b.Close()
	var key []byte
	err = b.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket([]byte(bucket))
		if bk == nil {
			return errors.New("no bucket " + bucket)
		}
		c := bk.Cursor()
		for k, v := c.First(); k != nil && key == nil; k, v = c.Next() {
			if len(v) > 4 && match(v[:len(v)-4]) { // a JSON record, sealed with its CRC-32C
				key = bytes.Clone(k)
			} else if match(v) { // as written before values were sealed
				key = bytes.Clone(k)
			}
		}
		if key == nil {
			return nil
		}
		return bk.Put(key, []byte("\x00{\"id\":\"bit rot"))
	})
	if err != nil || key == nil {
		tb.Fatalf("corrupting a record of %s: found %v, %v", bucket, key != nil, err)
	}
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
