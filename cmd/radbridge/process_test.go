package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radbridge/radbridge/auth"
)

// Tests in this file run the real binary as separate processes.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds radbridge once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "radbridge-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "radbridge")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freePort returns a loopback address nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// server is a radbridge serve process.
type server struct {
	cmd       *exec.Cmd
	mllp, web string
	log       *os.File
	dataDir   string
	token     string // the admin token it made, "" when its configuration names one
}

func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	s := &server{mllp: freePort(t), web: freePort(t), dataDir: dataDir}
	logf, err := os.CreateTemp(t.TempDir(), "serve-*.log")
	if err != nil {
		t.Fatal(err)
	}
	s.log = logf
	args := append([]string{"serve", "--data", dataDir, "--mllp-addr", s.mllp, "--http-addr", s.web}, extra...)
	s.cmd = exec.Command(binary(t), args...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + s.web + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.token = adminToken(t, dataDir)
				return s
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("server not ready: %v\n%s", err, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp := getAuth(t, "http://"+s.web+path, s.token)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", path, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func readAcked(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r benchRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue // a line cut short by the kill
		}
		out[r.ControlID] = r.Ack
	}
	return out
}

func countLines(path string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), "\n")
}

// TestServe_CrashRecovery: while bench sends orders over 8 connections the server is
// killed with SIGKILL and restarted on the same data directory. Every message that got
// an AA is found; no order exists twice; resending every message yields the original
// ACKs and no new orders.
func TestServe_CrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	data := t.TempDir()
	srv := startServer(t, data)
	acked := filepath.Join(t.TempDir(), "acked.jsonl")
	const count = 2000
	bench := exec.Command(binary(t), "bench", "mllp", "--addr", srv.mllp, "--conns", "8", "--count", fmt.Sprint(count),
		"--prefix", "CRASH", "--acked", acked, "--timeout", "5s")
	var benchOut strings.Builder
	bench.Stdout, bench.Stderr = &benchOut, &benchOut
	if err := bench.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the server once a good number of messages are acknowledged.
	deadline := time.Now().Add(30 * time.Second)
	for countLines(acked) < 200 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()
	bench.Wait() // fails: its connections died with the server
	first := readAcked(t, acked)
	if len(first) < 200 || len(first) >= count {
		t.Fatalf("%d messages acknowledged before the kill; the test needs some but not all\n%s", len(first), benchOut.String())
	}

	srv = startServer(t, data)
	for id, ack := range first {
		if !strings.Contains(ack, "MSA|AA|"+id) {
			t.Fatalf("bench recorded a non-AA ACK for %s: %q", id, ack)
		}
		var msgs struct {
			Total int `json:"total"`
			Items []struct {
				AckCode string `json:"ack_code"`
				OrderID string `json:"order_id"`
			} `json:"items"`
		}
		srv.getJSON(t, "/api/messages?control_id="+id+"&sender=BENCH_FAC", &msgs)
		if msgs.Total != 1 || msgs.Items[0].AckCode != "AA" || msgs.Items[0].OrderID == "" {
			t.Fatalf("message %s after the crash: %+v, want one AA message with an order", id, msgs)
		}
		var orders struct {
			Total int `json:"total"`
		}
		srv.getJSON(t, "/api/orders?placer="+id, &orders)
		if orders.Total != 1 {
			t.Fatalf("placer %s: %d orders, want 1", id, orders.Total)
		}
	}
	var before struct {
		Total int `json:"total"`
	}
	srv.getJSON(t, "/api/orders", &before)

	// Resend everything that was acknowledged: the same ACKs, no new orders.
	resent := filepath.Join(t.TempDir(), "resent.jsonl")
	maxIndex := 0
	for id := range first {
		var n int
		fmt.Sscanf(strings.TrimPrefix(id, "CRASH"), "%d", &n)
		maxIndex = max(maxIndex, n)
	}
	out, err := exec.CommandContext(context.Background(), binary(t), "bench", "mllp", "--addr", srv.mllp, "--conns", "8",
		"--count", fmt.Sprint(maxIndex), "--prefix", "CRASH", "--acked", resent).CombinedOutput()
	if err != nil {
		t.Fatalf("resend: %v\n%s", err, out)
	}
	second := readAcked(t, resent)
	for id, ack := range first {
		if second[id] != ack {
			t.Fatalf("resend of %s got another ACK:\n%q\n%q", id, ack, second[id])
		}
	}
	var after struct {
		Total int `json:"total"`
	}
	srv.getJSON(t, "/api/orders", &after)
	// Messages in flight at the kill may have been committed without their ACK
	// arriving (their index can exceed maxIndex); resends of stored messages add
	// nothing, so only never-stored ones add orders, one each.
	if after.Total < before.Total || after.Total-before.Total > maxIndex-len(first) {
		t.Errorf("orders: %d before the resend, %d after; %d resent, %d of them acknowledged before", before.Total, after.Total, maxIndex, len(first))
	}
	for i := 1; i <= maxIndex; i += max(maxIndex/50, 1) {
		var orders struct {
			Total int `json:"total"`
		}
		srv.getJSON(t, fmt.Sprintf("/api/orders?placer=CRASH%d", i), &orders)
		if orders.Total != 1 {
			t.Fatalf("placer CRASH%d: %d orders after the resend, want 1", i, orders.Total)
		}
	}
	var all struct {
		Total int `json:"total"`
	}
	srv.getJSON(t, "/api/messages?sender=BENCH_FAC", &all)
	if all.Total != after.Total {
		t.Errorf("%d messages stored for %d orders: a message was processed twice", all.Total, after.Total)
	}
}

// TestServe_AdminTokenFile: with no configuration, the first serve makes
// DATA_DIR/admin.token (mode 0600) and logs its path, never the token; the token
// reads the API; a restart keeps it.
func TestServe_AdminTokenFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	data := t.TempDir()
	srv := startServer(t, data)
	path := filepath.Join(data, auth.AdminTokenFile)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin token file: %v, mode %v; want 0600", err, st.Mode())
	}
	if len(srv.token) < 43 {
		t.Fatalf("admin token %d characters long, want 256 bits or more", len(srv.token))
	}
	var orders struct{ Total int }
	srv.getJSON(t, "/api/orders", &orders)
	if err := srv.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()
	logged, err := os.ReadFile(srv.log.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logged), "admin token file created") || !strings.Contains(string(logged), path) ||
		strings.Contains(string(logged), srv.token) {
		t.Errorf("the log should name %s, never the token:\n%s", path, logged)
	}

	again := startServer(t, data)
	if again.token != srv.token {
		t.Error("a restart changed the admin token")
	}
	again.getJSON(t, "/api/orders", &orders)
}
