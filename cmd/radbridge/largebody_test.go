package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// heldHandler answers 200 with the length of the body it read, after waiting for
// release when the body is over 100 bytes; entered gets a value once it has read it.
type heldHandler struct {
	entered chan int
	release chan struct{}
}

func (h heldHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.entered <- len(b)
	if len(b) > 100 {
		<-h.release
	}
	fmt.Fprintf(w, "%d %d", len(b), r.ContentLength)
}

func newLargeBodyServer(t *testing.T, threshold int64, slots int) (*httptest.Server, heldHandler, prometheus.Gatherer) {
	t.Helper()
	h := heldHandler{entered: make(chan int, 16), release: make(chan struct{})}
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(limitLargeBodies(threshold, slots, reg, slog.New(slog.DiscardHandler))(h))
	t.Cleanup(srv.Close)
	return srv, h, reg
}

// post sends body to url; chunked hides its length, so that it streams.
func post(t *testing.T, url string, body []byte, chunked bool) *http.Response {
	t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // not a type whose length net/http knows
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readString(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLimitLargeBodies_RefusesBeyondSlots(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			srv, h, reg := newLargeBodyServer(t, 100, 1)
			large := bytes.Repeat([]byte("L"), 1000)
			first := make(chan *http.Response, 1)
			go func() {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/fhir/ServiceRequest", bodyOf(large, chunked))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					close(first)
					return
				}
				first <- resp
			}()
			if n := recv(t, h.entered); n != len(large) {
				t.Fatalf("first large request: handler read %d bytes, want %d", n, len(large))
			}

			// The slot is taken: another large body is refused, before it is read.
			for _, tc := range []struct {
				path, contentType, want string
			}{
				{path: "/fhir/ServiceRequest", contentType: "application/fhir+json", want: `"code":"throttled"`},
				{path: "/fhir", contentType: "application/fhir+json", want: `"resourceType":"OperationOutcome"`},
				{path: "/api/orders/ord-1/authorization", contentType: "application/json", want: `{"error":"the server is serving as many requests`},
			} {
				resp := post(t, srv.URL+tc.path, large, chunked)
				body := readString(t, resp)
				if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" ||
					!strings.HasPrefix(resp.Header.Get("Content-Type"), tc.contentType) || !strings.Contains(body, tc.want) {
					t.Errorf("POST %s while the slot is taken: %s, Retry-After %q, %s %s; want 503, Retry-After 1, %s with %s",
						tc.path, resp.Status, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), body, tc.contentType, tc.want)
				}
			}
			// A small body is never held up.
			if resp := post(t, srv.URL+"/fhir/ServiceRequest", []byte("small"), chunked); resp.StatusCode != http.StatusOK {
				t.Errorf("small body while the slot is taken: %s, want 200", resp.Status)
			}
			if n := recv(t, h.entered); n != len("small") {
				t.Errorf("small body: handler read %d bytes, want %d", n, len("small"))
			}

			close(h.release)
			if resp, ok := <-first; !ok || resp.StatusCode != http.StatusOK {
				t.Fatalf("first large request: %v, want 200", resp)
			} else {
				resp.Body.Close()
			}
			if resp := post(t, srv.URL+"/fhir/ServiceRequest", large, chunked); resp.StatusCode != http.StatusOK {
				t.Errorf("large body once the slot is free: %s, want 200", resp.Status)
			}
			if got := refusedTotal(t, reg); got != 3 {
				t.Errorf("radbridge_http_large_bodies_refused_total = %v, want 3", got)
			}
		})
	}
}

// A body of unknown length is handed on whole, small ones with their length now known.
func TestLimitLargeBodies_ChunkedBodyIntact(t *testing.T) {
	srv, h, _ := newLargeBodyServer(t, 100, 1)
	close(h.release)
	for _, size := range []int{0, 1, 100, 101, 5000} {
		resp := post(t, srv.URL+"/fhir/ServiceRequest", bytes.Repeat([]byte("c"), size), true)
		want := fmt.Sprintf("%d %d", size, size)
		if size > 100 {
			want = fmt.Sprintf("%d -1", size) // streamed on: its length stays unknown
		}
		if got := readString(t, resp); resp.StatusCode != http.StatusOK || got != want {
			t.Errorf("chunked body of %d bytes: %s %q, want 200 %q", size, resp.Status, got, want)
		}
		<-h.entered
	}
}

func TestLimitLargeBodies_NoSlotsMeansNoLimit(t *testing.T) {
	srv, h, _ := newLargeBodyServer(t, 100, -1)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			resp, err := http.Post(srv.URL+"/fhir/ServiceRequest", "application/fhir+json", bytes.NewReader(bytes.Repeat([]byte("L"), 1000)))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("large body with no limit: %s, want 200", resp.Status)
				}
			}
			errs <- err
		}()
	}
	for range 3 {
		recv(t, h.entered) // all three are served at once
	}
	close(h.release)
	for range 3 {
		if err := recv(t, errs); err != nil {
			t.Error(err)
		}
	}
}

func bodyOf(b []byte, chunked bool) io.Reader {
	if chunked {
		return io.MultiReader(bytes.NewReader(b))
	}
	return bytes.NewReader(b)
}

// refusedTotal returns radbridge_http_large_bodies_refused_total from g.
func refusedTotal(t *testing.T, g prometheus.Gatherer) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "radbridge_http_large_bodies_refused_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("radbridge_http_large_bodies_refused_total not registered")
	return 0
}

// recv returns the next value from ch, failing t after 20 s.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("timed out waiting on channel")
		panic("unreachable")
	}
}

// TestServe_LargeBodiesRefused: with http.max_concurrent_large_bodies 1, a create whose
// large body is still arriving holds the slot; another large create is answered 503 with
// Retry-After and an OperationOutcome, and counted in /metrics.
func TestServe_LargeBodiesRefused(t *testing.T) {
	cfg := new(config)
	cfg.HTTP.MaxConcurrentLargeBodies = 1
	token := serveInProcess(t, cfg)
	slow, err := net.Dial("tcp", cfg.HTTP.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST /fhir/ServiceRequest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/fhir+json\r\nContent-Length: %d\r\n\r\n{", token, 2<<20)
	body := largeServiceRequest("LB1", 2_000_000)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if strings.Contains(metricsText(t, cfg.HTTP.Addr, token), "radbridge_http_large_bodies_in_flight 1\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow create never took the slot")
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+cfg.HTTP.Addr+"/fhir/ServiceRequest", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Code string `json:"code"`
		} `json:"issue"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&oo); err != nil || resp.StatusCode != http.StatusServiceUnavailable ||
		resp.Header.Get("Retry-After") == "" || oo.ResourceType != "OperationOutcome" || len(oo.Issue) != 1 || oo.Issue[0].Code != "throttled" {
		t.Errorf("large create while another is read: %s, Retry-After %q, %+v (%v); want 503 with Retry-After and a throttled OperationOutcome",
			resp.Status, resp.Header.Get("Retry-After"), oo, err)
	}
	if m := metricsText(t, cfg.HTTP.Addr, token); !strings.Contains(m, "radbridge_http_large_bodies_refused_total 1\n") {
		t.Error("/metrics does not count the refusal")
	}
}

// largeServiceRequest is bench fhir's ServiceRequest with placer number placer and a
// contained Binary (the clinical records a prior authorization asks for, as base64 of
// pseudo-random bytes) that brings it to about size bytes.
func largeServiceRequest(placer string, size int) []byte {
	body := benchResource("", 0)
	body = bytes.ReplaceAll(body, []byte(`"MRN0"`), []byte(strconv.Quote("MRN"+placer)))
	body = bytes.ReplaceAll(body, []byte(`"value":"0"`), []byte(`"value":`+strconv.Quote(placer)))
	raw := make([]byte, (size-len(body))*3/4)
	rng := rand.NewChaCha8([32]byte{1})
	rng.Read(raw)
	binary := `{"resourceType":"Binary","id":"records","contentType":"application/pdf","data":"` + base64.StdEncoding.EncodeToString(raw) + `"},`
	body = bytes.Replace(body, []byte(`"contained":[`), []byte(`"contained":[`+binary), 1)
	return bytes.Replace(body, []byte(`"supportingInfo":[`), []byte(`"supportingInfo":[{"reference":"#records","display":"clinical records"},`), 1)
}
