package fhir

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestClient_Create_Created(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/fhir/DiagnosticReport":
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		case r.Header.Get("Content-Type") != "application/fhir+json; charset=utf-8":
			t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
		case r.Header.Get("Idempotency-Key") != "outbox-42":
			t.Errorf("Idempotency-Key %q", r.Header.Get("Idempotency-Key"))
		case string(b) != `{"resourceType":"DiagnosticReport"}`:
			t.Errorf("body %s", b)
		}
		w.Header().Set("Location", "https://app.example.org/fhir/DiagnosticReport/9/_history/1")
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	c := &Client{Base: srv.URL + "/fhir/", HTTP: srv.Client()}
	status, loc, err := c.Create(t.Context(), "DiagnosticReport", []byte(`{"resourceType":"DiagnosticReport"}`), "outbox-42")
	if err != nil || status != http.StatusCreated || loc != "https://app.example.org/fhir/DiagnosticReport/9/_history/1" {
		t.Fatalf("Create = %d, %q, %v", status, loc, err)
	}
}

func TestClient_Create_StatusError(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var newConns atomic.Int32
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		body       string
		wait       time.Duration
		retryable  bool
		code       string
	}{
		{"503 seconds", 503, "7", `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient","diagnostics":"busy"}]}`, 7 * time.Second, true, "transient"},
		{"429 date", 429, now.Add(90 * time.Second).Format(http.TimeFormat), "slow down", 90 * time.Second, true, ""},
		{"503 past date", 503, now.Add(-time.Minute).Format(http.TimeFormat), "", 0, true, ""},
		{"422", 422, "", `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","expression":["DiagnosticReport.status"]}]}`, 0, false, "invalid"},
		{"501", 501, "bogus", strings.Repeat("x", 3<<20), 0, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			newConns.Store(0)
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					newConns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			c := &Client{Base: srv.URL, HTTP: srv.Client(), now: func() time.Time { return now }}
			for range 2 {
				status, _, err := c.Create(t.Context(), "DiagnosticReport", []byte(`{}`), "")
				se, ok := errors.AsType[*StatusError](err)
				if !ok || status != tc.status || se.Status != tc.status {
					t.Fatalf("Create = %d, %v; want *StatusError %d", status, err, tc.status)
				}
				if se.RetryAfter != tc.wait || se.Retryable() != tc.retryable {
					t.Errorf("RetryAfter %v Retryable %v, want %v %v", se.RetryAfter, se.Retryable(), tc.wait, tc.retryable)
				}
				if got := ""; len(se.Issues) > 0 {
					got = se.Issues[0].Code
					if got != tc.code {
						t.Errorf("issue code %q, want %q", got, tc.code)
					}
				} else if tc.code != "" {
					t.Errorf("no issues, want code %q", tc.code)
				}
			}
			// Small bodies are drained, so the connection is reused; a body above the
			// drain limit closes it.
			if want := int32(1); len(tc.body) < maxDrain && newConns.Load() != want {
				t.Errorf("%d connections for two calls, want %d (body not drained?)", newConns.Load(), want)
			}
		})
	}
}

func TestClient_Create_Errors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := &Client{Base: url, HTTP: &http.Client{Timeout: time.Second}}
	if _, _, err := c.Create(t.Context(), "DiagnosticReport", []byte(`{}`), ""); err == nil {
		t.Error("Create to a closed server succeeded")
	} else if _, ok := errors.AsType[*StatusError](err); ok {
		t.Errorf("network failure reported as StatusError: %v", err)
	}
	if _, _, err := (&Client{Base: url}).Create(t.Context(), "DiagnosticReport", nil, ""); err == nil {
		t.Error("nil HTTP client accepted")
	}
	if _, _, err := c.Create(t.Context(), "../x", nil, ""); err == nil {
		t.Error("bad type accepted")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{in: "", wantOK: false},
		{in: "120", want: 2 * time.Minute, wantOK: true},
		{in: " 0 ", want: 0, wantOK: true},
		{in: "99999999999999999999", want: time.Duration(1<<63-1) / time.Second * time.Second, wantOK: true},
		{in: "-5", wantOK: false},
		{in: "1.5", wantOK: false},
		{in: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second, wantOK: true},
		{in: "Tuesday, 01-Jan-30 12:01:00 GMT", want: time.Minute, wantOK: true}, // RFC 850, obsolete but allowed
		{in: now.Add(-time.Hour).Format(http.TimeFormat), want: 0, wantOK: true},
		{in: "tomorrow", wantOK: false},
	} {
		got, ok := ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

// Do answers every status (an error only without an answer), targets the base itself
// for an empty path, keeps the caller's Content-Type, and reads an OperationOutcome
// outside 2xx.
func TestClient_Do(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fhir":
			if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/fhir+json" || r.Header.Get("X-Token") != "t1" {
				t.Errorf("base request %s %q %q", r.Method, r.Header.Get("Content-Type"), r.Header.Get("X-Token"))
			}
			w.WriteHeader(http.StatusOK)
		case "/fhir/Patient/7":
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"conflict","expression":["Patient.id"]}]}`)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
	}))
	defer srv.Close()
	c := &Client{Base: srv.URL + "/fhir/", HTTP: srv.Client()}
	h := http.Header{"Content-Type": {"application/fhir+json"}, "X-Token": {"t1"}}
	resp, err := c.Do(t.Context(), http.MethodPost, "", []byte(`{"resourceType":"Bundle"}`), h)
	if err != nil || resp.Status != http.StatusOK || resp.Issues != nil {
		t.Fatalf("Do to the base = %+v, %v", resp, err)
	}
	resp, err = c.Do(t.Context(), http.MethodPut, "Patient/7", []byte(`{"resourceType":"Patient","id":"7"}`), nil)
	if err != nil || resp.Status != http.StatusConflict || resp.StatusLine != "409 Conflict" ||
		len(resp.Issues) != 1 || resp.Issues[0].Code != "conflict" || resp.Issues[0].Expression != "Patient.id" {
		t.Fatalf("Do answered 409 = %+v, %v", resp, err)
	}
}

func TestClient_Exchange(t *testing.T) {
	const answer = `{"resourceType":"Bundle","type":"collection","entry":[]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fhir/Claim/$submit":
			io.WriteString(w, answer)
		case "/fhir/big":
			io.WriteString(w, strings.Repeat("x", 101))
		default:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}`)
		}
	}))
	defer srv.Close()
	c := &Client{Base: srv.URL + "/fhir", HTTP: srv.Client()}
	resp, body, err := c.Exchange(t.Context(), http.MethodPost, "Claim/$submit", []byte(`{}`), nil, 100)
	if err != nil || resp.Status != http.StatusOK || string(body) != answer {
		t.Fatalf("Exchange = %+v, %q, %v; want 200 and the answer", resp, body, err)
	}
	if _, _, err := c.Exchange(t.Context(), http.MethodPost, "big", nil, nil, 100); !errors.Is(err, ErrAnswerTooLarge) {
		t.Errorf("Exchange of 101 bytes with max 100 = %v, want ErrAnswerTooLarge", err)
	}
	resp, body, err = c.Exchange(t.Context(), http.MethodPost, "other", nil, nil, 100)
	if err != nil || resp.Status != http.StatusBadRequest || body != nil || len(resp.Issues) != 1 {
		t.Errorf("Exchange answered 400 = %+v, %q, %v; want the issues and no body", resp, body, err)
	}
}
