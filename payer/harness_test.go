package payer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/internal/jsontext"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/payer"
	"github.com/radbridge/radbridge/rules"
	"github.com/radbridge/radbridge/store"
)

// clock is the fake clock the engine and the payer service read.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// corpusFile reads a PAS example of the corpus copy in testdata/priorauth/pas.
func corpusFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "priorauth", "pas", "br-payer__"+name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Corpus answers.
const (
	approvedAnswer = "ClaimResponse-PractitionerRequestorResponseExample"
	pendedAnswer   = "ClaimResponse-PractitionerRequestorPendingResponseExample"
	deniedAnswer   = "ClaimResponse-RejectionResponseExample"
	errorAnswer    = "ClaimResponse-ErrorResponseExample"
	inquiryAnswer  = "ClaimResponse-PASClaimInquiryResponseExample"
)

// payerRequest is one request the fake payer received.
type payerRequest struct {
	Path, Key, Auth, Claim string
	Bundle                 map[string]any
	Raw                    []byte
}

// fakePayer is a payer's PAS endpoint on a loopback server. It answers each request
// with the corpus ClaimResponse answer(claim) names, its identifier and request set to
// the Claim it answers, in a PAS response Bundle. It is idempotent as a payer must be:
// a request repeated (same Claim identifier) gets the first answer again. dropFirst
// makes it close the connection, having read the request, without answering the first
// time it sees a claim: the answer is lost on the way back.
type fakePayer struct {
	tb        testing.TB
	srv       *httptest.Server
	mu        sync.Mutex
	requests  []payerRequest
	answered  map[string][]byte // by claim
	answer    func(path, claim string) string
	edit      func(cr []byte) []byte // applied to the ClaimResponse before it is sent
	dropFirst bool
	dropped   map[string]bool
}

func newFakePayer(tb testing.TB, answer func(path, claim string) string) *fakePayer {
	fp := &fakePayer{tb: tb, answered: map[string][]byte{}, dropped: map[string]bool{}, answer: answer}
	fp.srv = httptest.NewServer(http.HandlerFunc(fp.serve))
	tb.Cleanup(fp.srv.Close)
	return fp
}

func (fp *fakePayer) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var b map[string]any
	if err := json.Unmarshal(raw, &b); err != nil {
		http.Error(w, "not JSON", http.StatusBadRequest)
		return
	}
	claim := claimOf(b)
	fp.mu.Lock()
	fp.requests = append(fp.requests, payerRequest{Path: r.URL.Path, Key: r.Header.Get("Idempotency-Key"),
		Auth: r.Header.Get("Authorization"), Claim: claim, Bundle: b, Raw: raw})
	key := r.URL.Path + " " + claim
	doc, seen := fp.answered[key]
	drop := fp.dropFirst && !fp.dropped[claim]
	fp.dropped[claim] = true
	if !seen {
		cr := answerFor(fp.tb, fp.answer(r.URL.Path, claim), claim)
		if fp.edit != nil {
			cr = fp.edit(cr)
		}
		doc = []byte(`{"resourceType":"Bundle","type":"collection","timestamp":"2026-03-01T10:00:00Z","entry":[{"fullUrl":"urn:uuid:00000000-0000-4000-8000-000000000001","resource":` +
			string(cr) + `}]}`)
		fp.answered[key] = doc
	}
	fp.mu.Unlock()
	if drop {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	w.Write(doc)
}

// answerFor is the corpus ClaimResponse file, its identifier and request naming claim.
func answerFor(tb testing.TB, file, claim string) []byte {
	tb.Helper()
	obj, err := jsontext.Compact(corpusFile(tb, file))
	if err != nil {
		tb.Fatal(err)
	}
	id := `{"system":"` + rules.DefaultClaimSystem + `","value":"` + claim + `"}`
	cr := obj.AppendSet(nil, "identifier", []byte(`[`+id+`]`))
	if obj, err = jsontext.Compact(cr); err != nil {
		tb.Fatal(err)
	}
	return obj.AppendSet(nil, "request", []byte(`{"identifier":`+id+`}`))
}

func claimOf(b map[string]any) string {
	entries, _ := b["entry"].([]any)
	if len(entries) == 0 {
		return ""
	}
	res, _ := entries[0].(map[string]any)["resource"].(map[string]any)
	ids, _ := res["identifier"].([]any)
	if len(ids) == 0 {
		return ""
	}
	v, _ := ids[0].(map[string]any)["value"].(string)
	return v
}

func (fp *fakePayer) got() []payerRequest {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return append([]payerRequest(nil), fp.requests...)
}

// distinctClaims counts the distinct Claim identifiers the payer received at path.
func (fp *fakePayer) distinctClaims(path string) int {
	seen := map[string]bool{}
	for _, r := range fp.got() {
		if r.Path == path {
			seen[r.Claim] = true
		}
	}
	return len(seen)
}

// harness is the engine with the default rules on a real store, the payer service
// following its orders to the fake payer (profile AETNA01, the IN1-3 payer of the test
// orders), and a running delivery worker; the engine and the service read clk.
type harness struct {
	f      *enginetest.Fixture
	svc    *payer.Service
	payer  *fakePayer
	clk    *clock
	notify *httptest.Server
	worker *delivery.Worker
}

var start = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

const (
	submitPath  = "/fhir/Claim/$submit"
	inquirePath = "/fhir/Claim/$inquire"
)

func newHarness(t *testing.T, answer func(path, claim string) string, tweak func(*rules.PayerProfile)) *harness {
	t.Helper()
	clk := &clock{now: start}
	checker := enginetest.Checker(t)
	f := enginetest.New(t, enginetest.Options{Checker: checker, Clock: clk.Now})
	fp := newFakePayer(t, answer)
	token := filepath.Join(t.TempDir(), "acme.token")
	if err := os.WriteFile(token, []byte("payer-token-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	prof := rules.PayerProfile{ID: "AETNA01", Name: "Aetna", PAS: &rules.PAS{URL: fp.srv.URL + "/fhir", TokenFile: token}}
	if tweak != nil {
		tweak(&prof)
	}
	rc, err := rules.New(rules.Config{Payers: []rules.PayerProfile{prof}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := payer.New(payer.Config{Profiles: []rules.PayerProfile{prof}}, f.DB, rc, payer.Deps{Now: clk.Now, HTTP: fp.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	f.Engine.SetAuthorizer(svc)
	w, err := delivery.New(delivery.Config{Destinations: svc.Destinations(), PollInterval: 20 * time.Millisecond,
		Backoff: delivery.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond, Jitter: -1}},
		f.DB, nil, delivery.Deps{Senders: svc.Senders()})
	if err != nil {
		t.Fatal(err)
	}
	f.Engine.SetDeliverer(w)
	svc.SetNotifier(w)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	mux := http.NewServeMux()
	mux.Handle(payer.NotifyPath, svc.NotifyHandler())
	ns := httptest.NewServer(mux)
	t.Cleanup(ns.Close)
	return &harness{f: f, svc: svc, payer: fp, clk: clk, notify: ns, worker: w}
}

// orm is a complete MRI brain order from HOSP_A that needs prior authorization and
// carries none, for payer AETNA01; priority is OBR-5 (S for stat, R routine).
func orm(ctl, placer, control, priority string) []byte {
	return enginetest.CR(`
MSH|^~\&|EHR|HOSP_A|RADBRIDGE|IMG|20260301095500||ORM^O01^ORM_O01|` + ctl + `|P|2.5.1
PID|1||MRN55^^^HOSP_A^MR||DOE^JANE||19800102|F
PV1|1|O
ORC|` + control + `|` + placer + `^EHR|||||||20260301095000|||1234567893^SMITH^JOHN^^^^^^NPI^L^^^NPI
OBR|1|` + placer + `^EHR||70553^MRI BRAIN W/WO^C4|` + priority + `||20260301095000||||||||||||||||||MR|||||||R51.9^Headache^I10
DG1|1||R51.9^Headache, unspecified^I10
IN1|1|PPO1|AETNA01|AETNA`)
}

// send hands an ORM to the engine and returns the order it made or changed.
func (h *harness) send(t *testing.T, raw []byte) *order.Order {
	t.Helper()
	res, err := h.f.Engine.Handle(t.Context(), raw)
	if err != nil || len(res.OrderIDs) != 1 {
		t.Fatalf("Handle = %+v, %v", res, err)
	}
	return h.order(t, res.OrderIDs[0])
}

func (h *harness) order(t testing.TB, id string) *order.Order {
	t.Helper()
	var o *order.Order
	h.f.View(t, func(tx store.ReadTx) (err error) {
		o, err = tx.Order(id)
		return err
	})
	return o
}

// wait polls the store until cond holds for order id, and returns the order.
func (h *harness) wait(t *testing.T, id string, what string, cond func(*order.Order) bool) *order.Order {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		o := h.order(t, id)
		if cond(o) {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s never got %s: status %s, authorization %+v", id, what, o.Status, o.Authorization)
		}
		<-tick.C
	}
}

func (h *harness) waitAuth(t *testing.T, id string, st order.AuthStatus) *order.Order {
	t.Helper()
	return h.wait(t, id, "authorization "+string(st), func(o *order.Order) bool { return o.Authorization.Status == st })
}

// postNotify posts a notification to the service's endpoint as the payer would.
func (h *harness) postNotify(t *testing.T, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(h.notify.URL+payer.NotifyPath, "application/fhir+json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// causes lists the causes of the order's history.
func causes(o *order.Order) []string {
	var out []string
	for _, tr := range o.History {
		out = append(out, tr.Cause)
	}
	return out
}

func hasCause(o *order.Order, sub string) bool {
	for _, c := range causes(o) {
		if strings.Contains(c, sub) {
			return true
		}
	}
	return false
}

func findingCodes(o *order.Order) []string {
	var out []string
	for _, f := range o.Findings {
		out = append(out, f.Code)
	}
	return out
}
