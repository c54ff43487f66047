package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
)

// twinInputs lists the sample files check and serve are compared on: testdata's, and
// the shared conformance corpus's when RADBRIDGE_CONFORMANCE_DIR names it (make
// conformance).
func twinInputs(t *testing.T) []string {
	t.Helper()
	dirs := []string{"../../testdata/hl7v2", "../../testdata/fhir"}
	if d := os.Getenv("RADBRIDGE_CONFORMANCE_DIR"); d != "" {
		dirs = append(dirs, filepath.Join(d, "hl7v2"), filepath.Join(d, "fhir"))
	}
	var out []string
	for _, d := range dirs {
		for _, pat := range []string{"*.hl7", "*.json"} {
			m, err := filepath.Glob(filepath.Join(d, pat))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m...)
		}
	}
	if len(out) < 20 {
		t.Fatalf("only %d sample files found", len(out))
	}
	return out
}

// answer is one message's answer, normalised so that check's and serve's compare:
// the code, and every problem as "location code" (HL7 v2, table 0357 codes) or
// "expression severity text" (FHIR), sorted.
type answer struct {
	code     string
	problems []string
}

// TestCheck_AgreesWithServe: check is serve's offline twin. Every sample file goes
// through `check --json` and, in the same order, to a real `radbridge serve` on a fresh
// data directory (MLLP for HL7 v2, HTTP for FHIR); both give the same ACK code and the
// same ERR locations and codes (HL7 v2), the same status and OperationOutcome issues
// (FHIR), message by message.
func TestCheck_AgreesWithServe(t *testing.T) {
	files := twinInputs(t)
	code, stdout, stderr := runCmd(t, append([]string{"check", "--json"}, files...)...)
	if code == 2 {
		t.Fatalf("check: exit 2: %s", stderr)
	}
	var fromCheck []answer
	for _, line := range decodeLines(t, stdout) {
		a := answer{code: line["ack_code"].(string)}
		fhirKind := line["kind"] == "fhir"
		for _, e := range line["errors"].([]any) {
			m := e.(map[string]any)
			if fhirKind {
				a.problems = append(a.problems, m["location"].(string)+" "+m["severity"].(string)+" "+baseURL.ReplaceAllString(m["text"].(string), "(see BASE/metadata)"))
				continue
			}
			a.problems = append(a.problems, m["location"].(string)+" "+strconv.Itoa(int(m["code"].(float64))))
		}
		if fs, ok := line["findings"].([]any); ok {
			for _, f := range fs {
				m := f.(map[string]any)
				if fhirKind {
					a.problems = append(a.problems, m["fhir_path"].(string)+" "+fhirSeverity(m["severity"].(string))+" "+m["text"].(string))
					continue
				}
				a.problems = append(a.problems, m["location"].(string)+" "+strconv.Itoa(classCode(m["class"].(string))))
			}
		}
		slices.Sort(a.problems)
		fromCheck = append(fromCheck, a)
	}

	srv := startServer(t, t.TempDir())
	client := &mllp.Client{Addr: srv.mllp}
	defer client.Close()
	var fromServe []answer
	skipped := map[int]bool{} // messages whose sender asked for no acknowledgment
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if looksLikeJSON(data) {
			fromServe = append(fromServe, postFHIR(t, srv, data))
			continue
		}
		sc := hl7.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			raw := bytes.Clone(sc.Bytes())
			if h, ok := hl7.SalvageHeader(raw); ok && h.Enhanced() && (!h.WantsAccept(true) || !h.WantsAccept(false)) {
				// The answer may not come; send it all the same so that the store sees
				// what check's did, and leave the message out of the comparison.
				skipped[len(fromServe)] = true
				fromServe = append(fromServe, answer{})
				ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
				client.Send(ctx, raw)
				cancel()
				continue
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			ack, err := client.Send(ctx, raw)
			cancel()
			if err != nil {
				t.Fatalf("%s: send: %v", name, err)
			}
			m, err := hl7.Parse(ack)
			if err != nil {
				t.Fatalf("%s: the ACK does not parse: %v", name, err)
			}
			a := answer{code: m.Get("MSA-1")}
			for _, is := range hl7.ReadIssues(m) {
				a.problems = append(a.problems, is.Location.String()+" "+strconv.Itoa(is.Code))
			}
			slices.Sort(a.problems)
			fromServe = append(fromServe, a)
		}
	}
	if len(fromServe) != len(fromCheck) {
		t.Fatalf("serve answered %d messages, check %d", len(fromServe), len(fromCheck))
	}
	compared := 0
	for i := range fromServe {
		if skipped[i] {
			continue
		}
		compared++
		if fromServe[i].code != fromCheck[i].code || !slices.Equal(fromServe[i].problems, fromCheck[i].problems) {
			t.Errorf("message %d: serve %q %q\ncheck %q %q", i+1, fromServe[i].code, fromServe[i].problems, fromCheck[i].code, fromCheck[i].problems)
		}
	}
	t.Logf("%d messages from %d files compared (%d without an acknowledgment left out)", compared, len(files), len(skipped))
}

// baseURL matches the server's base URL in a text, which check cannot know.
var baseURL = regexp.MustCompile(`\(see https?://\S+/metadata\)`)

// classCode is the HL7 table 0357 code the ACK gives a finding of the class.
func classCode(class string) int {
	switch class {
	case "invalid":
		return hl7.CodeDataType
	case "unknown":
		return hl7.CodeTableValue
	case "informational":
		return 0
	}
	return hl7.CodeRequiredField
}

// postFHIR posts a resource to serve as check does and normalises the answer.
func postFHIR(t *testing.T, srv *server, data []byte) answer {
	t.Helper()
	var head struct{ ResourceType, Type string }
	path := "/fhir"
	if json.Unmarshal(data, &head) == nil && head.ResourceType != "" &&
		(head.ResourceType != "Bundle" || (head.Type != "transaction" && head.Type != "batch")) {
		path += "/" + head.ResourceType
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+srv.web+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Prefer", "return=OperationOutcome")
	req.Header.Set("Authorization", "Bearer "+srv.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{code: strconv.Itoa(resp.StatusCode)}
	var oo struct {
		Issue []struct {
			Severity, Code, Diagnostics string
			Details                     *struct{}
			Expression                  []string
		}
	}
	_ = json.Unmarshal(body, &oo)
	for _, is := range oo.Issue {
		if is.Severity == "information" && is.Code == "informational" && is.Details == nil {
			continue // what was done ("created ...")
		}
		a.problems = append(a.problems, strings.Join(is.Expression, ", ")+" "+fhirSeverity(is.Severity)+" "+baseURL.ReplaceAllString(is.Diagnostics, "(see BASE/metadata)"))
	}
	slices.Sort(a.problems)
	return a
}
