package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
)

// serveInProcess runs serve with cfg (defaults applied, listening on loopback ports) in
// this process until the end of the test, and returns once it is ready, with the admin
// token it created ("" when the configuration names one).
func serveInProcess(t *testing.T, cfg *config) string {
	t.Helper()
	cfg.DataDir, cfg.MLLP.Addr, cfg.HTTP.Addr = t.TempDir(), loopbackPort(t), loopbackPort(t)
	return serveConfigured(t, cfg, slog.New(slog.DiscardHandler), nil)
}

// serveConfigured runs serve as serveInProcess does, with cfg's addresses and data
// directory as they are, logging to log; client, when not nil, is what asks for
// readiness (over HTTPS when cfg says so).
func serveConfigured(t *testing.T, cfg *config, log *slog.Logger, client *http.Client) string {
	t.Helper()
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	scheme := "http"
	if cfg.HTTP.TLS.Cert != "" {
		scheme = "https"
	}
	if client == nil {
		client = http.DefaultClient
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, err := client.Get(scheme + "://" + cfg.HTTP.Addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return adminToken(t, cfg.DataDir)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready: %v", err)
		}
	}
}

// metricsText returns the /metrics page of the server at httpAddr, read with token.
func metricsText(t *testing.T, httpAddr, token string) string {
	t.Helper()
	resp := getAuth(t, "http://"+httpAddr+"/metrics", token)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServe_MLLPConnsPerAddr: with mllp.max_conns_per_addr 1, a second connection from
// the same address is closed before anything is read, and /metrics counts it.
func TestServe_MLLPConnsPerAddr(t *testing.T) {
	cfg := new(config)
	cfg.MLLP.MaxConnsPerAddr = 1
	token := serveInProcess(t, cfg)
	first := &mllp.Client{Addr: cfg.MLLP.Addr, CheckAck: hl7.CheckAck}
	defer first.Close()
	if _, err := first.Send(t.Context(), benchMessage("CAP", 1, "20261101080000")); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	second, err := net.Dial("tcp", cfg.MLLP.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := second.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("second connection from the same address: Read = %d, %v; want EOF (closed at once)", n, err)
	}
	m := metricsText(t, cfg.HTTP.Addr, token)
	for _, want := range []string{
		`radbridge_mllp_connections_refused_total{cap="max_conns_per_addr"} 1`,
		`radbridge_mllp_connections_refused_total{cap="max_conns"} 0`,
		"radbridge_mllp_connections_open 1",
		"radbridge_mllp_frames_total 1",
		"radbridge_mllp_frame_budget_bytes 0",
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
