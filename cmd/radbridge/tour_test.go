//go:build tour

package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTour runs the README's tour as a newcomer would: a fresh clone of the committed
// tree (nothing beside it), `make run` with its listen addresses moved to free loopback
// ports, then the tour's commands as written (the addresses replaced), every one of
// which must succeed. Run with go test -tags tour -run TestTour ./cmd/radbridge; .ci/run
// does.
func TestTour(t *testing.T) {
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v", err)
	}
	clone := filepath.Join(t.TempDir(), "radbridge")
	if out, err := exec.Command("git", "clone", "--quiet", strings.TrimSpace(string(top)), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	readme, err := os.ReadFile(filepath.Join(clone, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script := tourScript(t, readme)
	mllpAddr, httpAddr := freePort(t), freePort(t)
	script = strings.NewReplacer("127.0.0.1:2575", mllpAddr, "127.0.0.1:8080", httpAddr).Replace(script)

	run := exec.Command("make", "run", "MLLP_ADDR="+mllpAddr, "HTTP_ADDR="+httpAddr)
	run.Dir = clone
	var runLog bytes.Buffer
	run.Stdout, run.Stderr = &runLog, &runLog
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // make and the server it starts
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-run.Process.Pid, syscall.SIGTERM)
		run.Wait()
	}()
	deadline := time.Now().Add(5 * time.Minute) // make run builds first
	for {
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("make run never got ready:\n%s", runLog.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	sh := exec.Command("bash", "-euo", "pipefail", "-c", script)
	sh.Dir = clone
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("the tour failed: %v\n--- script\n%s\n--- output\n%s", err, script, out)
	}
	for _, want := range []string{
		"MSA|AA|TOUR-ORM-1", `"status":"pending-authorization"`, `"resourceType":"ServiceRequest"`,
		`"resourceType":"Task"`, `"status":"ready"`, "MSA|AA|TOUR-ORU-1", `"resourceType":"DiagnosticReport"`,
		`"resourceType":"OperationOutcome"`, "Bearer", "accepted", "prior authorization required", `"type": "transaction"`,
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the tour's output lacks %q:\n%s", want, out)
		}
	}
}

// tourScript is the shell block that follows the tour marker in the README.
func tourScript(t *testing.T, readme []byte) string {
	t.Helper()
	_, after, ok := bytes.Cut(readme, []byte("<!-- tour:"))
	if !ok {
		t.Fatal("README.md has no tour marker")
	}
	_, block, ok := bytes.Cut(after, []byte("```sh\n"))
	if !ok {
		t.Fatal("no ```sh block after the tour marker")
	}
	block, _, ok = bytes.Cut(block, []byte("```"))
	if !ok {
		t.Fatal("the tour's block does not end")
	}
	return string(block)
}
