package delivery_test

import (
	"bytes"
	"errors"
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
	"github.com/radbridge/radbridge/store"
)

const report = `{"resourceType":"DiagnosticReport","status":"final","code":{"text":"XR CHEST 2V"}}`

// fhirServer is an httptest FHIR endpoint that answers each POST with the next of
// answers (the last one repeats) and records the requests.
type fhirServer struct {
	*httptest.Server
	conns  atomic.Int32 // connections opened
	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
}

type answer struct {
	code       int
	retryAfter string
}

func newFHIRServer(t testing.TB, answers ...answer) *fhirServer {
	t.Helper()
	s := &fhirServer{}
	filler := bytes.Repeat([]byte("x"), 8<<10) // a body the client has to drain
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		a := answers[min(len(s.reqs), len(answers)-1)]
		s.reqs, s.bodies = append(s.reqs, r), append(s.bodies, string(body))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/fhir+json")
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		if a.code == http.StatusCreated {
			w.Header().Set("Location", "/fhir/DiagnosticReport/1/_history/1")
		}
		w.WriteHeader(a.code)
		w.Write(filler)
	}))
	s.Config.ConnState = func(_ net.Conn, cs http.ConnState) {
		if cs == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *fhirServer) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.reqs...)
}

// 503 with Retry-After, then 500, then 201: delivered, the Retry-After honoured, the
// same Idempotency-Key on every attempt, and one connection for all (bodies drained).
func TestWorker_Run_HTTPRetryAfter(t *testing.T) {
	checkGoroutines(t)
	clk := newFakeClock()
	st := openStore(t, t.TempDir())
	srv := newFHIRServer(t, answer{code: 503, retryAfter: "120"}, answer{code: 500}, answer{code: 201})
	ids := putItems(t, st, clk.Now(), "app", delivery.KindFHIR, "", []byte(report))
	w := newWorker(t, st, clk, delivery.Config{Destinations: []delivery.Destination{{Name: "app", FHIR: srv.URL + "/fhir/"}}}, delivery.Deps{})
	stop := run(t, w)

	tm := clk.next(t)
	wantWait(t, tm, 120*time.Second) // Retry-After beats the 1 s backoff
	if got := item(t, st, ids[0]); !strings.Contains(got.LastError, "503") || !strings.Contains(got.LastError, "retry after 2m0s") {
		t.Errorf("LastError after a 503 = %q, want the status and the wait", got.LastError)
	}
	clk.fire(tm)
	tm = clk.next(t)
	wantWait(t, tm, 2*time.Second) // the backoff of a second failure
	clk.fire(tm)
	clk.waitIdle(t)
	stop()

	got := item(t, st, ids[0])
	if got.State != store.OutboxDelivered || got.Receipt != "201" || got.Attempts != 3 {
		t.Errorf("item = %s, receipt %q, %d attempts; want delivered, 201, 3", got.State, got.Receipt, got.Attempts)
	}
	reqs := srv.requests()
	if len(reqs) != 3 {
		t.Fatalf("server got %d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if k := r.Header.Get("Idempotency-Key"); k != got.Key {
			t.Errorf("request %d: Idempotency-Key %q, want %q", i, k, got.Key)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/fhir+json" {
			t.Errorf("request %d: Content-Type %q", i, ct)
		}
		if r.Method != http.MethodPost || r.URL.Path != "/fhir/DiagnosticReport" {
			t.Errorf("request %d: %s %s, want POST /fhir/DiagnosticReport", i, r.Method, r.URL.Path)
		}
		if srv.bodies[i] != report {
			t.Errorf("request %d: body %q, want the payload", i, srv.bodies[i])
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections for 3 requests, want 1: response bodies not drained", n)
	}
}

// A Retry-After longer than RetryAfterCap waits RetryAfterCap.
func TestWorker_Run_RetryAfterCapped(t *testing.T) {
	checkGoroutines(t)
	for _, tc := range []struct {
		name, retryAfter string
	}{
		{name: "seconds", retryAfter: "86400"},
		{name: "date", retryAfter: time.Date(2030, 1, 2, 12, 0, 0, 0, time.UTC).Format(http.TimeFormat)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			st := openStore(t, t.TempDir())
			srv := newFHIRServer(t, answer{code: 429, retryAfter: tc.retryAfter}, answer{code: 200})
			putItems(t, st, clk.Now(), "app", delivery.KindFHIR, "", []byte(report))
			w := newWorker(t, st, clk, delivery.Config{
				Destinations:  []delivery.Destination{{Name: "app", FHIR: srv.URL}},
				RetryAfterCap: 10 * time.Minute,
			}, delivery.Deps{})
			stop := run(t, w)
			tm := clk.next(t)
			wantWait(t, tm, 10*time.Minute)
			clk.fire(tm)
			clk.waitIdle(t)
			stop()
		})
	}
}

func TestHTTPSender_Send(t *testing.T) {
	checkGoroutines(t)
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		payload     string
		kind        string
		answer      answer
		wantPath    string
		wantReceipt string
		wantWait    time.Duration // a RetryAfterError's, if not zero
		wantRefused bool
		wantErr     bool
	}{
		{name: "created", payload: report, answer: answer{code: 201}, wantPath: "/fhir/DiagnosticReport", wantReceipt: "201"},
		{name: "ok", payload: report, answer: answer{code: 200}, wantPath: "/fhir/DiagnosticReport", wantReceipt: "200"},
		{name: "other resource", payload: `{"resourceType":"Observation"}`, answer: answer{code: 201}, wantPath: "/fhir/Observation", wantReceipt: "201"},
		{name: "transaction", payload: `{"resourceType":"Bundle","type":"transaction"}`, answer: answer{code: 200}, wantPath: "/fhir", wantReceipt: "200"},
		{name: "unavailable", payload: report, answer: answer{code: 503}, wantErr: true},
		{name: "unavailable, retry after", payload: report, answer: answer{code: 503, retryAfter: "30"}, wantErr: true, wantWait: 30 * time.Second},
		{name: "too many, retry date", payload: report, answer: answer{code: 429, retryAfter: now.Add(time.Minute).Format(http.TimeFormat)}, wantErr: true, wantWait: time.Minute},
		{name: "bad retry after", payload: report, answer: answer{code: 503, retryAfter: "soon"}, wantErr: true},
		{name: "unprocessable", payload: report, answer: answer{code: 422, retryAfter: "30"}, wantErr: true, wantRefused: true},
		{name: "unauthorized", payload: report, answer: answer{code: 401}, wantErr: true, wantRefused: true},
		{name: "redirect not followed", payload: report, answer: answer{code: 302}, wantErr: true, wantRefused: true},
		{name: "request timeout", payload: report, answer: answer{code: 408}, wantErr: true},
		{name: "not json", payload: "MSH|^~\\&|", wantErr: true},
		{name: "no resource type", payload: `{"status":"final"}`, wantErr: true},
		{name: "path in resource type", payload: `{"resourceType":"../admin"}`, wantErr: true},
		{name: "wrong kind", kind: delivery.KindHL7v2, payload: report, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFHIRServer(t, tc.answer)
			s := delivery.NewHTTPSender(srv.URL+"/fhir", nil)
			s.Now = func() time.Time { return now }
			defer s.Close()
			it := &store.OutboxItem{ID: "out-1", Kind: tc.kind, Payload: []byte(tc.payload), Key: "k1"}
			receipt, err := s.Send(t.Context(), it)
			if (err != nil) != tc.wantErr || receipt != tc.wantReceipt {
				t.Fatalf("Send() = %q, %v; want %q, error %v", receipt, err, tc.wantReceipt, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "final") {
				t.Errorf("Send() error %q quotes the payload", err)
			}
			var ra *delivery.RetryAfterError
			if gotWait := errors.As(err, &ra); gotWait != (tc.wantWait != 0) || gotWait && ra.Wait != tc.wantWait {
				t.Errorf("Send() = %v, want a RetryAfterError of %v: %v", err, tc.wantWait, gotWait)
			}
			if refused := errors.Is(err, delivery.ErrRefused); refused != tc.wantRefused {
				t.Errorf("errors.Is(%v, ErrRefused) = %v, want %v", err, refused, tc.wantRefused)
			}
			if tc.wantRefused && !strings.Contains(err.Error(), "refuses") {
				t.Errorf("Send() error %q does not say the destination refuses the item", err)
			}
			if tc.wantPath != "" {
				if reqs := srv.requests(); len(reqs) != 1 || reqs[0].URL.Path != tc.wantPath {
					t.Errorf("requests %v, want one POST to %s", reqs, tc.wantPath)
				}
			}
		})
	}
}

// A network error is a plain, retryable failure.
func TestHTTPSender_Send_Unreachable(t *testing.T) {
	s := delivery.NewHTTPSender("http://"+reserveAddr(t)+"/fhir", nil)
	defer s.Close()
	_, err := s.Send(t.Context(), &store.OutboxItem{ID: "out-1", Payload: []byte(report)})
	if err == nil || errors.Is(err, delivery.ErrRefused) {
		t.Errorf("Send() = %v, want a connection error that is not a refusal", err)
	}
	if !strings.HasPrefix(err.Error(), "fhir: POST DiagnosticReport") {
		t.Errorf("Send() error %q, want it to name the request", err)
	}
}
