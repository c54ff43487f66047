package engine_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/internal/allowlist"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/store"
)

// subscribingFixture is a delivering fixture whose Subscriptions may use endpoints
// under allow and the given header names.
func subscribingFixture(tb testing.TB, allow []string, headers ...string) *fixture {
	tb.Helper()
	urls, err := allowlist.New(allow)
	if err != nil {
		tb.Fatal(err)
	}
	return enginetest.New(tb, enginetest.Options{Checker: enginetest.Checker(tb), Deliver: true, RealClock: true,
		Engine: engine.Config{Subscriptions: engine.SubscriptionPolicy{Allow: urls, AllowHeaders: headers}}})
}

// hookServer is a rest-hook endpoint that records every request it gets.
type hookServer struct {
	*httptest.Server
	mu   sync.Mutex
	got  []*http.Request
	seen chan struct{}
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{seen: make(chan struct{}, 16)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		h.mu.Lock()
		h.got = append(h.got, r)
		h.mu.Unlock()
		h.seen <- struct{}{}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) requests() []*http.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*http.Request(nil), h.got...)
}

func subscriptionJSON(endpoint string, headers ...string) []byte {
	hs := ""
	for i, h := range headers {
		if i == 0 {
			hs = `,"header":[`
		} else {
			hs += ","
		}
		hs += `"` + h + `"`
	}
	if hs != "" {
		hs += "]"
	}
	return []byte(`{"resourceType":"Subscription","status":"requested","reason":"results","criteria":"DiagnosticReport?status=final",
 "channel":{"type":"rest-hook","endpoint":"` + endpoint + `","payload":"application/fhir+json"` + hs + `}}`)
}

// wantRefusal checks a 422 OperationOutcome whose one issue is business-rule at expr.
func wantRefusal(t *testing.T, r enginetest.Response, expr string, mention ...string) {
	t.Helper()
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %s", r.Status, r.Raw)
	}
	issues, _ := r.Body["issue"].([]any)
	if len(issues) != 1 {
		t.Fatalf("issues %s, want one", r.Raw)
	}
	is := issues[0].(map[string]any)
	exprs, _ := is["expression"].([]any)
	if is["code"] != "business-rule" || len(exprs) != 1 || exprs[0] != expr {
		t.Errorf("issue %v, want business-rule at %s", is, expr)
	}
	for _, m := range mention {
		if d, _ := is["diagnostics"].(string); !strings.Contains(d, m) {
			t.Errorf("diagnostics %q do not mention %q", d, m)
		}
	}
}

// sendResult stores an order and its final report, which notifies every Subscription.
func sendResult(t *testing.T, f *fixture, ctl string) {
	t.Helper()
	if got := f.Send(t, enginetest.RadiologyORM(ctl+"O", "P"+ctl, nil)).Get("MSA-1"); got != "AA" {
		t.Fatalf("ORM: %s", got)
	}
	oru := enginetest.CR(`
MSH|^~\&|RIS|RADIOLOGY|EHR|HOSP_A|20261122110000||ORU^R01^ORU_R01|` + ctl + `R|P|2.5.1
PID|1||MRN55^^^HOSP_A^MR||DOE^JANE
OBR|1|P` + ctl + `^EHR|F` + ctl + `^RIS|70553^MRI BRAIN W/WO^C4|||20261122100000||||||||||||||||||F
OBX|1|TX|18782-3^Study observation^LN|1|Unremarkable study.||||||F`)
	if got := f.Send(t, oru).Get("MSA-1"); got != "AA" {
		t.Fatalf("ORU: %s", got)
	}
}

func storedSubscriptions(t *testing.T, f *fixture) int {
	t.Helper()
	var n int
	f.View(t, func(tx store.ReadTx) error {
		list, _, err := tx.Resources("Subscription", store.MaxLimit)
		n = len(list)
		return err
	})
	return n
}

// With no allowed endpoints every Subscription is refused, saying how to allow one.
func TestSubscription_NoneAllowed(t *testing.T) {
	hook := newHookServer(t)
	f := subscribingFixture(t, nil)
	srv := fhirServer(t, f)
	r := f.Do(t, "POST", srv.URL+"/fhir/Subscription", subscriptionJSON(hook.URL+"/hook"))
	wantRefusal(t, r, "Subscription.channel.endpoint", "fhir.subscriptions.allow")
	if n := storedSubscriptions(t, f); n != 0 {
		t.Errorf("%d Subscriptions stored, want 0", n)
	}
}

// Endpoints outside the allowlist and headers outside allow_headers are refused, and
// nothing reaches them; the allowed Subscription alone is notified, with its header.
func TestSubscription_Allowlist(t *testing.T) {
	good, evil := newHookServer(t), newHookServer(t)
	f := subscribingFixture(t, []string{good.URL + "/hooks"}, "Authorization")
	srv := fhirServer(t, f)
	post := func(body []byte) enginetest.Response {
		return f.Do(t, "POST", srv.URL+"/fhir/Subscription", body)
	}
	goodHost := strings.TrimPrefix(good.URL, "http://")
	for _, endpoint := range []string{
		evil.URL + "/hooks",
		good.URL + "/hooksevil",
		good.URL + "/hooks/../admin",
		"http://" + goodHost + "@" + strings.TrimPrefix(evil.URL, "http://") + "/hooks",
		strings.Replace(good.URL, "http://", "https://", 1) + "/hooks",
	} {
		wantRefusal(t, post(subscriptionJSON(endpoint)), "Subscription.channel.endpoint", "fhir.subscriptions.allow")
	}
	r := post(subscriptionJSON(good.URL+"/hooks/a", "Authorization: Bearer ok", "X-Api-Key: k-secret-1"))
	wantRefusal(t, r, "Subscription.channel.header[1]", "X-Api-Key", "allow_headers")
	wantRefusal(t, post(subscriptionJSON(good.URL+"/hooks/a", "Idempotency-Key: x")), "Subscription.channel.header[0]")
	wantRefusal(t, post(subscriptionJSON(good.URL+"/hooks/a", `Authorization: Bearer a\r\nX-Api-Key: k-secret-2`)), "Subscription.channel.header[0]")
	if bytes.Contains(r.Raw, []byte("k-secret")) {
		t.Errorf("the refusal quotes a header value: %s", r.Raw)
	}
	if n := storedSubscriptions(t, f); n != 0 {
		t.Fatalf("%d refused Subscriptions stored, want 0", n)
	}

	ok := post(subscriptionJSON(good.URL+"/hooks/a", "authorization: Bearer ok"))
	if ok.Status != http.StatusCreated {
		t.Fatalf("allowed Subscription: %d %s", ok.Status, ok.Raw)
	}
	sendResult(t, f, "AL1")
	select {
	case <-good.seen:
	case <-time.After(10 * time.Second):
		t.Fatal("the allowed endpoint was not notified")
	}
	if reqs := good.requests(); len(reqs) != 1 || reqs[0].Method != http.MethodPut || !strings.HasPrefix(reqs[0].URL.Path, "/hooks/a/DiagnosticReport/") ||
		reqs[0].Header.Get("Authorization") != "Bearer ok" {
		t.Errorf("allowed endpoint got %v", reqs)
	}
	if reqs := evil.requests(); len(reqs) != 0 {
		t.Errorf("a refused endpoint got %d requests", len(reqs))
	}
}

// A Subscription stored while its endpoint was allowed gets nothing once the
// configuration no longer allows it: it is not registered at start-up and no result is
// queued for it.
func TestSubscription_RefusedAfterConfigChange(t *testing.T) {
	hook := newHookServer(t)
	f := subscribingFixture(t, []string{hook.URL})
	srv := fhirServer(t, f)
	if r := f.Do(t, "POST", srv.URL+"/fhir/Subscription", subscriptionJSON(hook.URL+"/hook")); r.Status != http.StatusCreated {
		t.Fatalf("Subscription: %d %s", r.Status, r.Raw)
	}

	// The same store under a configuration that allows nothing.
	eng, err := engine.New(engine.Config{}, f.DB, enginetest.Checker(t), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := delivery.New(delivery.Config{}, f.DB, nil, delivery.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	eng.SetDeliverer(w)
	if err := eng.Resubscribe(t.Context()); err != nil {
		t.Fatal(err)
	}
	sendResult(t, &enginetest.Fixture{Engine: eng, DB: f.DB}, "RC1")
	var items []*store.OutboxItem
	f.View(t, func(tx store.ReadTx) error {
		var err error
		items, _, err = tx.Outbox(store.OutboxQuery{})
		return err
	})
	for _, it := range items {
		if strings.HasPrefix(it.Destination, "subscription/") {
			t.Errorf("outbox item %s queued for %s, which the configuration refuses", it.ID, it.Destination)
		}
	}
	if reqs := hook.requests(); len(reqs) != 0 {
		t.Errorf("the refused endpoint got %d requests", len(reqs))
	}
}
