package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/radbridge/radbridge/auth"
)

// benchFHIRLine is bench fhir's summary line.
var benchFHIRLine = regexp.MustCompile(`^sent (\d+) requests over (\d+) clients in \S+: \d+ req/s; latency p50 \S+ p99 \S+ max \S+; failed (\d+)\n$`)

// runBenchFHIR runs bench fhir in process and returns its exit code, stdout and stderr.
func runBenchFHIR(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	code := cmdBench(t.Context(), append([]string{"fhir"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// wantSummary checks the summary line's counts.
func wantSummary(t *testing.T, out string, sent, clients, failed int) {
	t.Helper()
	m := benchFHIRLine.FindStringSubmatch(out)
	want := []string{fmt.Sprint(sent), fmt.Sprint(clients), fmt.Sprint(failed)}
	if m == nil || m[1] != want[0] || m[2] != want[1] || m[3] != want[2] {
		t.Errorf("bench fhir printed %q, want sent %s over %s clients, failed %s", out, want[0], want[1], want[2])
	}
}

// TestBenchResource_ValidJSON: every request is JSON, about 2 KB, with its own placer
// number and MRN.
func TestBenchResource_ValidJSON(t *testing.T) {
	b := benchResource("T", 7)
	var sr struct {
		ResourceType string            `json:"resourceType"`
		Identifier   []benchIdentifier `json:"identifier"`
		Contained    []struct {
			Identifier []benchIdentifier `json:"identifier"`
		} `json:"contained"`
	}
	if err := json.Unmarshal(b, &sr); err != nil {
		t.Fatalf("benchResource: %v\n%s", err, b)
	}
	if sr.ResourceType != "ServiceRequest" || len(sr.Identifier) != 1 || sr.Identifier[0].Value != "T7" ||
		len(sr.Contained) == 0 || sr.Contained[0].Identifier[0].Value != "MRNT7" {
		t.Errorf("benchResource(T, 7) = %s", b)
	}
	if n := len(b); n < 1500 || n > 2500 {
		t.Errorf("benchResource is %d bytes, want about 2 KB", n)
	}
}

// TestBenchFHIR_Serve: bench fhir against radbridge serve creates one complete, ready
// order per request; a second run with the same prefix is refused (409) unless it is
// conditional, which then creates nothing.
func TestBenchFHIR_Serve(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	srv := startServer(t, t.TempDir())
	base := "http://" + srv.web + "/fhir"
	tokenFile := filepath.Join(srv.dataDir, auth.AdminTokenFile)
	const count, clients = 24, 4
	code, out, errOut := runBenchFHIR(t, "--url", base, "--clients", fmt.Sprint(clients), "--count", fmt.Sprint(count), "--prefix", "BF")
	if code != 1 || !strings.Contains(errOut, "401 Unauthorized") {
		t.Errorf("bench fhir without a token: exit %d, want 1 with 401s\n%s%s", code, out, errOut)
	}
	code, out, errOut = runBenchFHIR(t, "--url", base, "--token-file", tokenFile, "--clients", fmt.Sprint(clients), "--count", fmt.Sprint(count), "--prefix", "BF")
	if code != 0 {
		t.Fatalf("bench fhir exited %d\n%s%s", code, out, errOut)
	}
	wantSummary(t, out, count, clients, 0)
	for i := 1; i <= count; i++ {
		var orders struct {
			Total int `json:"total"`
			Items []struct {
				Status        string `json:"status"`
				Source        string `json:"source"`
				Authorization struct {
					Number string `json:"number"`
				} `json:"authorization"`
				Findings []json.RawMessage `json:"findings"`
			} `json:"items"`
		}
		srv.getJSON(t, fmt.Sprintf("/api/orders?placer=BF%d", i), &orders)
		if orders.Total != 1 || len(orders.Items) != 1 {
			t.Fatalf("placer BF%d: %d orders, want 1", i, orders.Total)
		}
		if o := orders.Items[0]; o.Status != "ready" || o.Source != "fhir" || o.Authorization.Number != "AUTH778899" || len(o.Findings) != 0 {
			t.Errorf("placer BF%d: %+v, want a ready FHIR order with AUTH778899 and no findings", i, o)
		}
	}

	code, out, errOut = runBenchFHIR(t, "--url", base, "--token-file", tokenFile, "--clients", "2", "--count", "3", "--prefix", "BF")
	if code != 1 || !strings.Contains(errOut, "409 Conflict") {
		t.Errorf("resend without If-None-Exist: exit %d, want 1 with 409s\n%s%s", code, out, errOut)
	}
	wantSummary(t, out, 3, 2, 3)

	code, out, errOut = runBenchFHIR(t, "--url", base, "--token-file", tokenFile, "--clients", "2", "--count", fmt.Sprint(count), "--prefix", "BF", "--conditional")
	if code != 0 {
		t.Errorf("conditional resend: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runBenchFHIR(t, "--url", base, "--token-file", tokenFile, "--clients", "2", "--count", "4", "--prefix", "BG", "--conditional")
	if code != 0 {
		t.Errorf("conditional create: exit %d\n%s%s", code, out, errOut)
	}
	var all struct {
		Total int `json:"total"`
	}
	srv.getJSON(t, "/api/orders", &all)
	if all.Total != count+4 {
		t.Errorf("%d orders in all, want %d", all.Total, count+4)
	}
}

// TestBenchFHIR_BadResponses: bench fhir counts every answer that is not a proper
// create as failed and exits 1. One fake server per failure mode.
func TestBenchFHIR_BadResponses(t *testing.T) {
	good := func(w http.ResponseWriter, r *http.Request) {
		var sr struct {
			Identifier []benchIdentifier `json:"identifier"`
		}
		json.NewDecoder(r.Body).Decode(&sr)
		w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
		w.Header().Set("Location", "http://"+r.Host+"/fhir/ServiceRequest/x1/_history/1")
		w.Header().Set("ETag", `W/"1"`)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"resourceType": "ServiceRequest", "id": "x1", "identifier": sr.Identifier})
	}
	tests := []struct {
		name string
		// wrap alters the good server's answer.
		wrap func(w http.ResponseWriter, r *http.Request)
		want string // in stderr
	}{
		{"no ETag", func(w http.ResponseWriter, r *http.Request) {
			good(headerFilter{w, "Etag", ""}, r)
		}, "without an ETag"},
		{"plain JSON", func(w http.ResponseWriter, r *http.Request) {
			good(headerFilter{w, "Content-Type", "application/json"}, r)
		}, `Content-Type "application/json"`},
		{"no Location", func(w http.ResponseWriter, r *http.Request) {
			good(headerFilter{w, "Location", ""}, r)
		}, "with Location \"\""},
		{"200 to an unconditional create", func(w http.ResponseWriter, r *http.Request) {
			good(statusWriter{w, http.StatusOK}, r)
		}, "200 OK"},
		{"OperationOutcome", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","diagnostics":"bad order"}]}`)
		}, "422 Unprocessable Entity: bad order"},
		{"someone else's resource", func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.NoBody
			good(w, r)
		}, "does not carry placer number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(tc.wrap))
			defer srv.Close()
			code, out, errOut := runBenchFHIR(t, "--url", srv.URL+"/fhir", "--clients", "2", "--count", "3", "--prefix", "X")
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("bench fhir: exit %d, stderr %q; want exit 1 and %q", code, errOut, tc.want)
			}
			wantSummary(t, out, 3, 2, 3)
		})
	}
	t.Run("good", func(t *testing.T) {
		tokenFile := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(tokenFile, []byte("bench-token\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer bench-token" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			good(w, r)
		}))
		defer srv.Close()
		code, out, errOut := runBenchFHIR(t, "--url", srv.URL+"/fhir/", "--token-file", tokenFile, "--clients", "2", "--count", "3", "--prefix", "X")
		if code != 0 {
			t.Errorf("bench fhir: exit %d\n%s%s", code, out, errOut)
		}
		wantSummary(t, out, 3, 2, 0)
	})
}

// TestBenchFHIR_Usage: bad flags are a usage error (exit 2), before any request.
func TestBenchFHIR_Usage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--url", "127.0.0.1:8080/fhir"},
		{"--url", "http://127.0.0.1:1/fhir", "--clients", "0"},
		{"--url", "http://127.0.0.1:1/fhir", "--prefix", `a"b`},
		{"--url", "http://127.0.0.1:1/fhir", "extra"},
	} {
		if code, _, errOut := runBenchFHIR(t, args...); code != 2 || !strings.Contains(errOut, "usage: radbridge bench fhir") {
			t.Errorf("bench fhir %q: exit %d, stderr %q; want 2 and the usage line", args, code, errOut)
		}
	}
}

// headerFilter replaces one response header, or drops it when value is empty.
type headerFilter struct {
	http.ResponseWriter
	key, value string
}

func (h headerFilter) WriteHeader(code int) {
	h.Header().Del(h.key)
	if h.value != "" {
		h.Header().Set(h.key, h.value)
	}
	h.ResponseWriter.WriteHeader(code)
}

// statusWriter answers with another status code.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s statusWriter) WriteHeader(int) { s.ResponseWriter.WriteHeader(s.code) }

// BenchmarkServe_FHIRCreate is bench fhir in one process with serve (the same wiring
// as the binary, GOGC 400 as cmdServe sets it), so that -cpuprofile sees the server:
// durable creates of the 2 KB ServiceRequest from 16 kept-alive clients. The profile
// also holds the clients; their work is under benchCreate and net/http's client side.
func BenchmarkServe_FHIRCreate(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	cfg, err := loadConfig("")
	if err != nil {
		b.Fatal(err)
	}
	cfg.DataDir, cfg.MLLP.Addr, cfg.HTTP.Addr = b.TempDir(), "127.0.0.1:0", loopbackPort(b)
	cfg.defaults()
	ctx, cancel := context.WithCancel(b.Context())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.DiscardHandler)) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	base := "http://" + cfg.HTTP.Addr
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("serve not ready: %v", err)
		}
	}
	tok, err := os.ReadFile(filepath.Join(cfg.DataDir, auth.AdminTokenFile))
	if err != nil {
		b.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	endpoint := base + "/fhir/ServiceRequest"
	var n atomic.Int64
	b.SetParallelism(8) // 16 clients with GOMAXPROCS 2
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		tr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true}
		defer tr.CloseIdleConnections()
		cl := &http.Client{Transport: tr}
		for pb.Next() {
			i := int(n.Add(1))
			if err := benchCreate(ctx, cl, endpoint, token, benchResource("P", i), "P"+strconv.Itoa(i), ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}

// loopbackPort returns a loopback address nothing listens on right now.
func loopbackPort(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The benchmarks of the mapping and the engine read what bench fhir posts from testdata;
// the file must stay the body bench fhir builds.
func TestBenchResource_TestdataCopy(t *testing.T) {
	file, err := os.ReadFile("../../testdata/fhir/radbridge__servicerequest-bench.json")
	if err != nil {
		t.Fatal(err)
	}
	want := append(fmt.Appendf(nil, benchServiceRequest, "X1", "X1"), '\n')
	if !bytes.Equal(file, want) {
		t.Errorf("testdata/fhir/radbridge__servicerequest-bench.json is not benchServiceRequest with X1 filled in:\n%s", file)
	}
}
