//go:build interop

package main

// Interoperability tests against MLLP peers that nobody here wrote: Debian's
// python3-hl7 (its mllp_send tool and its hl7.mllp asyncio client and server) and
// the npm packages node-hl7-client and node-hl7-server. `make interop` installs them
// and runs these tests; a peer that is missing fails its subtest and says how to get it.
// The peer scripts live in testdata/interop.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radbridge/radbridge/auth"
	"github.com/radbridge/radbridge/hl7"
)

// peerTimeout bounds one run of a peer program.
const peerTimeout = 30 * time.Second

// interopFixtures are the orders every peer exchanges, in this order. Both are
// complete, so radbridge answers AA.
var interopFixtures = []string{"orm_o01_v251.hl7", "orm_o01_v23.hl7"}

// sentMessage is a fixture written out with a control ID of the test's own.
type sentMessage struct {
	path      string
	controlID string
}

// peerAck is one exchange as a client peer saw it, in the peer's own parse.
type peerAck struct {
	Sent string `json:"sent"`
	MSA1 string `json:"msa_1"`
	MSA2 string `json:"msa_2"`
	Ack  string `json:"ack"`
}

// TestInterop_Serve: third-party MLLP clients send orders to radbridge serve and
// each gets an AA whose MSA-2 is the MSH-10 it sent; radbridge stored each message
// with that ACK code.
func TestInterop_Serve(t *testing.T) {
	tests := []struct {
		name string
		// run sends msgs to addr with the peer and returns what the peer says it got.
		run func(t *testing.T, addr string, msgs []sentMessage) []peerAck
	}{
		{"python-hl7/mllp_send", runMLLPSend},
		{"python-hl7/asyncio-client", func(t *testing.T, addr string, msgs []sentMessage) []peerAck {
			py := pythonHL7(t)
			host, port := splitAddr(t, addr)
			args := append([]string{interopPath(t, "python_client.py"), host, port}, paths(msgs)...)
			return decodeAcks(t, runPeer(t, py, args...))
		}},
		{"node-hl7-client", func(t *testing.T, addr string, msgs []sentMessage) []peerAck {
			node := nodePackage(t, "node-hl7-client")
			host, port := splitAddr(t, addr)
			args := append([]string{interopPath(t, "node_client.js"), host, port}, paths(msgs)...)
			return decodeAcks(t, runPeer(t, node, args...))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			srv := startServer(t, t.TempDir())
			msgs := writeMessages(t, tc.name)
			acks := tc.run(t, srv.mllp, msgs)
			if len(acks) != len(msgs) {
				t.Fatalf("%s reported %d ACKs for %d messages: %+v", tc.name, len(acks), len(msgs), acks)
			}
			for i, m := range msgs {
				a := acks[i]
				t.Logf("sent %s, got ACK %q", m.controlID, a.Ack)
				if a.Sent != "" && a.Sent != m.controlID {
					t.Errorf("message %d: the peer read MSH-10 %q, want %q", i+1, a.Sent, m.controlID)
				}
				if a.MSA1 != "AA" || a.MSA2 != m.controlID {
					t.Errorf("message %d: MSA-1 %q MSA-2 %q, want AA %s", i+1, a.MSA1, a.MSA2, m.controlID)
				}
				assertStored(t, srv, m.controlID)
			}
			t.Logf("%s: %d messages in %v", tc.name, len(msgs), time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestInterop_Send: radbridge send delivers orders to third-party MLLP servers,
// accepts their ACKs and exits 0, and the servers received the messages it sent.
func TestInterop_Send(t *testing.T) {
	t.Run("python-hl7/asyncio-server", func(t *testing.T) {
		start := time.Now()
		py := pythonHL7(t)
		peer := startPeer(t, py, interopPath(t, "python_server.py"), "--host", "127.0.0.1", "--port", "0")
		addr := peer.listening(t)
		msgs := writeMessages(t, "pyserver")
		// One radbridge send run: both messages go over one kept connection.
		sendAndCheck(t, addr, msgs...)
		peer.expectReceived(t, msgs)
		t.Logf("python-hl7 server: %d messages in %v", len(msgs), time.Since(start).Round(time.Millisecond))
	})

	t.Run("node-hl7-server", func(t *testing.T) {
		start := time.Now()
		node := nodePackage(t, "node-hl7-server")
		addr := freePort(t)
		_, port := splitAddr(t, addr)
		peer := startPeer(t, node, interopPath(t, "node_server.js"), port)
		addr = peer.listening(t)
		// node-hl7-server 2.5.0 answers a second message on a kept connection with the
		// first message's ACK as well (seen here; Bugs5382/node-hl7-server#102), so each message
		// goes in a run of its own, on a connection of its own.
		msgs := writeMessages(t, "nodeserver")
		for _, m := range msgs {
			sendAndCheck(t, addr, m)
		}
		peer.expectReceived(t, msgs)

		// On a kept connection radbridge must never take another message's ACK for AA.
		more := writeMessages(t, "nodekeep")
		out, err := runRadbridgeSend(t, addr, more...)
		results := parseSendOutput(t, out)
		allAA := len(results) == len(more)
		for i, r := range results {
			if i >= len(more) || r.controlID != more[i].controlID {
				t.Fatalf("radbridge send reported %+v, want the messages in the order sent\n%s", results, out)
			}
			t.Logf("kept connection, %s: %s (MSA-2 %q)", r.controlID, r.verdict, r.msa2)
			if r.verdict == "AA" && r.msa2 != r.controlID {
				t.Errorf("radbridge send took an ACK with MSA-2 %q as AA for %s\n%s", r.msa2, r.controlID, out)
			}
			allAA = allAA && r.verdict == "AA"
		}
		if allAA != (err == nil) {
			t.Errorf("radbridge send exit: %v, but all AA is %v\n%s", err, allAA, out)
		}
		t.Logf("node-hl7-server: %d messages in %v", len(msgs)+len(more), time.Since(start).Round(time.Millisecond))
	})
}

// interopPath is the absolute path of a file in testdata/interop.
func interopPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "interop", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeMessages writes the fixtures with segments ended by CR and control IDs unique
// to this run and peer.
func writeMessages(t *testing.T, peer string) []sentMessage {
	t.Helper()
	tag := strings.ToUpper(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(peer, ""))
	stamp := time.Now().UTC().Format("150405.000")
	dir := t.TempDir()
	var out []sentMessage
	for i, name := range interopFixtures {
		b, err := os.ReadFile(interopPath(t, name))
		if err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("IOP-%s-%s-%d", tag, strings.ReplaceAll(stamp, ".", ""), i+1)
		b = setControlID(t, normalizeTerminators(bytes.TrimRight(b, "\r\n")), id)
		p := filepath.Join(dir, fmt.Sprintf("%d-%s", i+1, name))
		if err := os.WriteFile(p, append(b, '\r'), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, sentMessage{path: p, controlID: id})
	}
	return out
}

// setControlID replaces MSH-10 of a message whose segments end in CR.
func setControlID(t *testing.T, msg []byte, id string) []byte {
	t.Helper()
	msh, rest, _ := bytes.Cut(msg, []byte("\r"))
	if len(msh) < 4 || !bytes.HasPrefix(msh, []byte("MSH")) {
		t.Fatalf("fixture does not start with MSH: %.40q", msg)
	}
	fields := bytes.Split(msh, msh[3:4])
	if len(fields) < 10 {
		t.Fatalf("fixture MSH has no MSH-10: %q", msh)
	}
	fields[9] = []byte(id) // fields[0] is "MSH", fields[1] is MSH-2
	out := bytes.Join(fields, msh[3:4])
	if len(rest) > 0 {
		out = append(append(out, '\r'), rest...)
	}
	return out
}

func paths(msgs []sentMessage) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.path)
	}
	return out
}

func splitAddr(t *testing.T, addr string) (host, port string) {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		t.Fatalf("address %q has no port", addr)
	}
	return addr[:i], addr[i+1:]
}

// pythonHL7 returns a Python interpreter that imports python-hl7's hl7.mllp. Debian's
// python3-hl7 installs for /usr/bin/python3, which need not be the python3 on PATH.
func pythonHL7(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	var tried []string
	for _, py := range candidates {
		cmd := exec.Command(py, "-c", "import hl7, hl7.mllp; print(hl7.__version__)")
		cmd.Dir = t.TempDir() // not the repository root, whose hl7/ folder would shadow the package
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Logf("python-hl7 %s under %s", strings.TrimSpace(string(out)), py)
			return py
		}
		tried = append(tried, fmt.Sprintf("%s: %v: %s", py, err, lastLine(out)))
	}
	t.Fatalf("python-hl7 is not installed (Debian package python3-hl7); run `make interop`, which installs it.\ntried:\n  %s",
		strings.Join(tried, "\n  "))
	return ""
}

// nodePackage returns the node binary after checking that pkg is installed in
// testdata/interop/node_modules.
func nodePackage(t *testing.T, pkg string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (Node.js 20.15 or later is needed for %s): %v", pkg, err)
	}
	b, err := os.ReadFile(interopPath(t, filepath.Join("node_modules", pkg, "package.json")))
	if err != nil {
		t.Fatalf("%s is not installed: run `make interop`, which runs npm ci in cmd/radbridge/testdata/interop: %v", pkg, err)
	}
	var meta struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatalf("%s/package.json: %v", pkg, err)
	}
	v, _ := exec.Command(node, "--version").Output()
	t.Logf("%s %s under node %s", pkg, meta.Version, strings.TrimSpace(string(v)))
	return node
}

// runPeer runs a peer program to completion and returns its standard output; a
// non-zero exit fails the test.
func runPeer(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), peerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	if stderr.Len() > 0 {
		t.Logf("%s stderr:\n%s", filepath.Base(name), stderr.Bytes())
	}
	return stdout.Bytes()
}

// runMLLPSend sends every message over one connection with python-hl7's mllp_send
// tool and reads the ACK frames it prints, with radbridge's own parser.
func runMLLPSend(t *testing.T, addr string, msgs []sentMessage) []peerAck {
	t.Helper()
	pythonHL7(t)
	tool, err := exec.LookPath("mllp_send")
	if err != nil {
		t.Fatalf("mllp_send is not installed (Debian package python3-hl7); run `make interop`, which installs it: %v", err)
	}
	v, _ := exec.Command(tool, "--version").Output()
	t.Logf("mllp_send %s", strings.TrimSpace(string(v)))
	// mllp_send --loose reads plain messages, one after another, from one file.
	var all []byte
	for _, m := range msgs {
		b, err := os.ReadFile(m.path)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	file := filepath.Join(t.TempDir(), "all.hl7")
	if err := os.WriteFile(file, all, 0o644); err != nil {
		t.Fatal(err)
	}
	host, port := splitAddr(t, addr)
	out := runPeer(t, tool, "--loose", "--file", file, "--port", port, host)
	// It prints each ACK as received: <VT>ACK<FS><CR>, then a newline.
	var acks []peerAck
	for _, frame := range bytes.Split(out, []byte{0x1c}) {
		frame = bytes.Trim(frame, "\x0b\r\n")
		if len(frame) == 0 {
			continue
		}
		m, err := hl7.Parse(frame)
		if err != nil {
			t.Fatalf("mllp_send printed an ACK radbridge cannot parse: %v\n%q", err, frame)
		}
		acks = append(acks, peerAck{MSA1: m.Get("MSA-1"), MSA2: m.Get("MSA-2"), Ack: string(frame)})
	}
	return acks
}

func decodeAcks(t *testing.T, out []byte) []peerAck {
	t.Helper()
	var acks []peerAck
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var a peerAck
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("peer output line %q: %v", sc.Bytes(), err)
		}
		acks = append(acks, a)
	}
	return acks
}

// assertStored checks radbridge's side: the message is stored once, answered AA,
// and made an order.
func assertStored(t *testing.T, srv *server, controlID string) {
	t.Helper()
	var msgs struct {
		Total int `json:"total"`
		Items []struct {
			ControlID string `json:"control_id"`
			AckCode   string `json:"ack_code"`
			OrderID   string `json:"order_id"`
		} `json:"items"`
	}
	srv.getJSON(t, "/api/messages?control_id="+controlID, &msgs)
	if msgs.Total != 1 || len(msgs.Items) != 1 || msgs.Items[0].AckCode != "AA" || msgs.Items[0].OrderID == "" {
		t.Errorf("GET /api/messages?control_id=%s = %+v, want one message with ack_code AA and an order", controlID, msgs)
	}
}

// runRadbridgeSend runs radbridge send with the messages' files and returns its
// combined output and exit error.
func runRadbridgeSend(t *testing.T, addr string, msgs ...sentMessage) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), peerTimeout)
	defer cancel()
	args := append([]string{"send", "--addr", addr, "--timeout", "10s"}, paths(msgs)...)
	out, err := exec.CommandContext(ctx, binary(t), args...).CombinedOutput()
	return string(out), err
}

// sendAndCheck runs radbridge send and requires exit 0 and an AA echoing each
// message's control ID.
func sendAndCheck(t *testing.T, addr string, msgs ...sentMessage) {
	t.Helper()
	out, err := runRadbridgeSend(t, addr, msgs...)
	if err != nil {
		t.Fatalf("radbridge send: %v\n%s", err, out)
	}
	results := parseSendOutput(t, out)
	if len(results) != len(msgs) {
		t.Fatalf("radbridge send reported %d exchanges for %d messages\n%s", len(results), len(msgs), out)
	}
	for i, r := range results {
		if r.controlID != msgs[i].controlID || r.verdict != "AA" || r.msa2 != msgs[i].controlID {
			t.Errorf("radbridge send, message %d: %+v, want AA for %s\n%s", i+1, r, msgs[i].controlID, out)
		}
	}
	t.Logf("radbridge send:\n%s", out)
}

// sendResult is one exchange as radbridge send printed it.
type sendResult struct {
	controlID, verdict, msa2 string
}

var sendHeader = regexp.MustCompile(`^== .* #\d+ (\S+): (.+)$`)

// parseSendOutput reads radbridge send's "== FILE #N ID: VERDICT" lines and the ACK
// printed under each.
func parseSendOutput(t *testing.T, out string) []sendResult {
	t.Helper()
	var results []sendResult
	var ack []string
	flush := func() {
		if len(results) > 0 && len(ack) > 0 {
			if m, err := hl7.Parse([]byte(strings.Join(ack, "\r"))); err == nil {
				results[len(results)-1].msa2 = m.Get("MSA-2")
			}
		}
		ack = nil
	}
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\r\n")
		if m := sendHeader.FindStringSubmatch(line); m != nil {
			flush()
			results = append(results, sendResult{controlID: m[1], verdict: m[2]})
			continue
		}
		if len(results) > 0 && (strings.HasPrefix(line, "MSH") || len(ack) > 0) && !strings.HasPrefix(line, "radbridge send:") {
			ack = append(ack, line)
		}
	}
	flush()
	return results
}

// peer is a server peer process, with its output lines as they arrive.
type peer struct {
	name   string
	stdout *lineWriter
	stderr *lineWriter
}

// startPeer starts a server peer that prints "LISTENING HOST:PORT" when ready. The
// process is killed when the test ends.
func startPeer(t *testing.T, name string, args ...string) *peer {
	t.Helper()
	p := &peer{name: filepath.Base(args[0]), stdout: newLineWriter(), stderr: newLineWriter()}
	cmd := exec.Command(name, args...)
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if s := p.stderr.String(); s != "" {
			t.Logf("%s stderr:\n%s", p.name, s)
		}
	})
	return p
}

// next returns the peer's next output line, failing the test if none comes in time.
func (p *peer) next(t *testing.T) string {
	t.Helper()
	select {
	case line := <-p.stdout.lines:
		return line
	case <-time.After(15 * time.Second):
		t.Fatalf("%s said nothing more in 15s\nstdout:\n%s\nstderr:\n%s", p.name, p.stdout.String(), p.stderr.String())
		return ""
	}
}

// listening waits for the peer's LISTENING line and returns its address.
func (p *peer) listening(t *testing.T) string {
	t.Helper()
	line := p.next(t)
	addr, ok := strings.CutPrefix(line, "LISTENING ")
	if !ok {
		t.Fatalf("%s: first line %q, want LISTENING HOST:PORT\nstderr:\n%s", p.name, line, p.stderr.String())
	}
	return addr
}

// expectReceived reads one line per message and checks the peer received them in
// order, answering each with an AA of its own making that echoes the control ID.
func (p *peer) expectReceived(t *testing.T, msgs []sentMessage) {
	t.Helper()
	for i, m := range msgs {
		var got struct {
			Received string `json:"received"`
			Type     string `json:"type"`
			Ack      string `json:"ack"`
		}
		line := p.next(t)
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("%s line %q: %v", p.name, line, err)
		}
		t.Logf("%s received %s (%s), answered %q", p.name, got.Received, got.Type, got.Ack)
		if got.Received != m.controlID {
			t.Errorf("%s: message %d has MSH-10 %q, want %q", p.name, i+1, got.Received, m.controlID)
		}
	}
}

// lineWriter collects a process's output and hands out complete lines. It is safe
// for concurrent use.
type lineWriter struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	lines   chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 1024)} }

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(b)
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(w.partial[:i]), "\r")
		w.partial = w.partial[i+1:]
		select {
		case w.lines <- line:
		default:
			return len(b), errors.New("lineWriter: more than 1024 unread lines")
		}
	}
	return len(b), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// fhirKitSummary is what testdata/interop/fhir_client.js printed: each exchange as
// fhir-kit-client returned it.
type fhirKitSummary struct {
	Library   string `json:"library"`
	Version   string `json:"version"`
	Anonymous struct {
		Status int `json:"status"`
	} `json:"anonymous"`
	Create struct {
		Status      int    `json:"status"`
		ID          string `json:"id"`
		Location    string `json:"location"`
		ETag        string `json:"etag"`
		ContentType string `json:"content_type"`
	} `json:"create"`
	Read struct {
		Status         int    `json:"status"`
		ID             string `json:"id"`
		ResourceStatus string `json:"resource_status"`
		VersionID      string `json:"version_id"`
	} `json:"read"`
	Search struct {
		Status int      `json:"status"`
		Type   string   `json:"type"`
		Total  int      `json:"total"`
		IDs    []string `json:"ids"`
	} `json:"search"`
	ConditionalMatch struct {
		Status int    `json:"status"`
		ID     string `json:"id"`
	} `json:"conditional_match"`
	ConditionalNew struct {
		Status int    `json:"status"`
		ID     string `json:"id"`
	} `json:"conditional_new"`
	Duplicate struct {
		Status       int    `json:"status"`
		ResourceType string `json:"resource_type"`
		Outcome      string `json:"outcome"`
	} `json:"duplicate"`
	FHIRVersion string `json:"fhir_version"`
}

// TestInterop_FHIRKitClient: the npm FHIR client fhir-kit-client is refused a search
// without a token (401), then with the admin token as its bearerToken creates a
// ServiceRequest on radbridge serve (201 with an id, Location and ETag), reads it back
// (same id, status active), finds it by identifier (total 1), creates it again with
// If-None-Exist (200, the same id, nothing new), creates another conditionally (201)
// and is refused an unconditional duplicate (409 OperationOutcome). On radbridge's
// side each placer number is one ready order from FHIR.
func TestInterop_FHIRKitClient(t *testing.T) {
	start := time.Now()
	node := nodePackage(t, "fhir-kit-client")
	srv := startServer(t, t.TempDir())
	stamp := strings.ReplaceAll(time.Now().UTC().Format("150405.000"), ".", "")
	placer, newPlacer := "IOP-FKC-"+stamp+"-1", "IOP-FKC-"+stamp+"-2"
	out := runPeer(t, node, interopPath(t, "fhir_client.js"), "http://"+srv.web+"/fhir", placer, newPlacer,
		filepath.Join(srv.dataDir, auth.AdminTokenFile))
	var got fhirKitSummary
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("fhir_client.js printed %q: %v", out, err)
	}
	t.Logf("%s %s exchanged:\n%s", got.Library, got.Version, out)

	if got.Anonymous.Status != 401 {
		t.Errorf("search without a token: %+v, want 401", got.Anonymous)
	}
	c := got.Create
	if c.Status != 201 || c.ID == "" || !strings.Contains(c.Location, "/ServiceRequest/"+c.ID) || c.ETag == "" ||
		!strings.HasPrefix(c.ContentType, "application/fhir+json") {
		t.Errorf("create: %+v, want 201 with an id, a Location naming it, an ETag and application/fhir+json", c)
	}
	if r := got.Read; r.Status != 200 || r.ID != c.ID || r.ResourceStatus != "active" || r.VersionID == "" {
		t.Errorf("read: %+v, want 200, id %s, status active and a versionId", r, c.ID)
	}
	if s := got.Search; s.Status != 200 || s.Type != "searchset" || s.Total != 1 || len(s.IDs) != 1 || s.IDs[0] != c.ID {
		t.Errorf("search identifier=%s: %+v, want a searchset with total 1: %s", placer, s, c.ID)
	}
	if m := got.ConditionalMatch; m.Status != 200 || m.ID != c.ID {
		t.Errorf("conditional create of an existing order: %+v, want 200 and id %s", m, c.ID)
	}
	if n := got.ConditionalNew; n.Status != 201 || n.ID == "" || n.ID == c.ID {
		t.Errorf("conditional create of a new order: %+v, want 201 and a new id", n)
	}
	if d := got.Duplicate; d.Status != 409 || d.ResourceType != "OperationOutcome" {
		t.Errorf("unconditional duplicate: %+v, want 409 with an OperationOutcome", d)
	}
	if got.FHIRVersion != "4.0.1" {
		t.Errorf("CapabilityStatement fhirVersion %q, want 4.0.1", got.FHIRVersion)
	}

	for p, id := range map[string]string{placer: c.ID, newPlacer: got.ConditionalNew.ID} {
		var orders struct {
			Total int `json:"total"`
			Items []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
				Source string `json:"source"`
			} `json:"items"`
		}
		srv.getJSON(t, "/api/orders?placer="+p, &orders)
		if orders.Total != 1 || len(orders.Items) != 1 || orders.Items[0].ID != id || orders.Items[0].Source != "fhir" || orders.Items[0].Status != "ready" {
			t.Errorf("GET /api/orders?placer=%s = %+v, want one ready order %s from fhir", p, orders, id)
		}
	}
	t.Logf("fhir-kit-client: 7 exchanges in %v", time.Since(start).Round(time.Millisecond))
}
