package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func decodeLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestCheck_JSON(t *testing.T) {
	dir := t.TempDir()
	batch := filepath.Join(dir, "batch.hl7")
	if err := os.WriteFile(batch, []byte("BHS|^~\\&|A\r"+
		"MSH|^~\\&|EHR|HOSP|RB|IMG|20261122||ORM^O01^ORM_O01|C1|P|2.3\rPID|1||M1||DOE^J||19800230\r"+
		"MSH|^^^^|EHR|HOSP|RB|IMG|20261122||ORM^O01|C2|P|2.3\r"+
		"BTS|2\r"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, "check", "--json", batch, "../../testdata/hl7v2/radbridge__oru_r01_radiology.hl7")
	if code != 1 {
		t.Errorf("exit code %d, want 1 (one message would be rejected); stderr %s", code, stderr)
	}
	lines := decodeLines(t, stdout)
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3:\n%s", len(lines), stdout)
	}
	first := lines[0]
	if first["file"] != batch || first["index"] != 1.0 || first["kind"] != "hl7v2" || first["type"] != "ORM^O01" || first["version"] != "2.3" || first["control_id"] != "C1" {
		t.Errorf("first message = %v", first)
	}
	// An ORM without ORC holds no order at all: serve stores it and answers AE with ERR
	// 101 at ORC (the birth date is not checked by serve, so not by check either).
	errs := first["errors"].([]any)
	if first["ack_code"] != "AE" || len(errs) != 1 {
		t.Fatalf("first message: ack %v, errors %v; want AE with one error (ORC)", first["ack_code"], errs)
	}
	if e := errs[0].(map[string]any); e["location"] != "ORC" || e["code"] != 101.0 || e["severity"] != "E" || e["text"] == "" {
		t.Errorf("error = %v, want ORC 101", e)
	}
	second := lines[1]
	if second["index"] != 2.0 || second["control_id"] != "C2" || second["ack_code"] != "AR" {
		t.Errorf("second message = %v, want C2 rejected with AR", second)
	}
	e2 := second["errors"].([]any)[0].(map[string]any)
	if e2["location"] != "MSH-2" || e2["code"] != 102.0 {
		t.Errorf("second message error = %v, want MSH-2 102", e2)
	}
	// A result for an order the store does not hold is kept and answered with ERR 204.
	third := lines[2]
	if errs := third["errors"].([]any); third["type"] != "ORU^R01" || len(errs) != 1 || errs[0].(map[string]any)["code"] != 204.0 {
		t.Errorf("radiology ORU = %v, want one error 204 (no such order)", third)
	}
}

// TestCheck_ExitCodes: 0 when everything would be accepted with nothing to fix, 3 when
// something would be accepted with errors to fix, 1 when something would be rejected
// or could not be read, 2 on bad usage; the worst input decides.
func TestCheck_ExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.hl7")
	os.WriteFile(good, benchMessage("X", 1, "20261122100000"), 0o644)
	fixable := "../../testdata/hl7v2/radbridge__oru_r01_radiology.hl7" // no such order: AE 204
	rejected := "../../testdata/hl7v2/dcm4che__ADT^A40-PatientMerge.hl7"
	if code, out, _ := runCmd(t, "check", good); code != 0 || !strings.Contains(out, ": accepted (AA)") {
		t.Errorf("check good file: exit %d, want 0:\n%s", code, out)
	}
	if code, out, _ := runCmd(t, "check", good, fixable); code != 3 || !strings.Contains(out, "accepted, needs fixing") {
		t.Errorf("check a result for no order: exit %d, want 3:\n%s", code, out)
	}
	if code, out, _ := runCmd(t, "check", rejected, fixable); code != 1 || !strings.Contains(out, "rejected (AR)") {
		t.Errorf("check an ADT: exit %d, want 1:\n%s", code, out)
	}
	for _, help := range []string{"-h", "--help"} {
		if code, _, _ := runCmd(t, "check", help); code != 0 {
			t.Errorf("check %s: exit %d, want 0", help, code)
		}
	}
	empty := filepath.Join(dir, "empty.hl7")
	os.WriteFile(empty, nil, 0o644)
	if code, _, stderr := runCmd(t, "check", empty); code != 1 || !strings.Contains(stderr, "no HL7 v2 message") {
		t.Errorf("check an empty file: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := runCmd(t, "check"); code != 2 {
		t.Errorf("check with no file: exit %d, want 2", code)
	}
	if code, _, _ := runCmd(t, "check", "--nope", good); code != 2 {
		t.Errorf("check with a bad flag: exit %d, want 2", code)
	}
	if code, _, stderr := runCmd(t, "check", filepath.Join(t.TempDir(), "missing.hl7")); code != 1 || !strings.Contains(stderr, "missing.hl7") {
		t.Errorf("check missing file: exit %d, stderr %q", code, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"resourceType": "ServiceRequest",]`), 0o644)
	if code, stdout, _ := runCmd(t, "check", "--json", bad); code != 1 || !strings.Contains(stdout, `"kind":"fhir"`) {
		t.Errorf("check invalid JSON: exit %d, out %s", code, stdout)
	}
}

func TestRun_Usage(t *testing.T) {
	if code, _, _ := runCmd(t); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
	if code, _, _ := runCmd(t, "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	if code, out, _ := runCmd(t, "help"); code != 0 || !strings.Contains(out, "check") {
		t.Errorf("help: exit %d, out %q", code, out)
	}
}

func TestCheck_OrderFindingsAndPreauth(t *testing.T) {
	dir := t.TempDir()
	complete := filepath.Join(dir, "complete.hl7")
	os.WriteFile(complete, benchMessage("C", 1, "20261122100000"), 0o644)
	// The same MRI order without its ICD-10 diagnosis and with a bad NPI check digit.
	broken := strings.NewReplacer("DG1|1||R51.9^Headache, unspecified^I10|||A\r", "", "R51.9^Headache^I10", "",
		"1234567893^SMITH", "1234567890^SMITH").Replace(string(benchMessage("C", 2, "20261122100000")))
	brokenPath := filepath.Join(dir, "broken.hl7")
	os.WriteFile(brokenPath, []byte(broken), 0o644)

	code, stdout, stderr := runCmd(t, "check", "--json", complete, brokenPath)
	if code != 3 {
		t.Fatalf("exit %d, want 3 (the broken order is stored with errors); stderr %s", code, stderr)
	}
	lines := decodeLines(t, stdout)
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	pa := lines[0]["preauth"].(map[string]any)
	if lines[0]["ack_code"] != "AA" || lines[1]["ack_code"] != "AE" {
		t.Errorf("ack codes %v, %v; want AA, AE", lines[0]["ack_code"], lines[1]["ack_code"])
	}
	if pa["cpt"] != "70553" || pa["required"] != true || pa["exempt"] != false || pa["reason"] == "" {
		t.Errorf("preauth = %v, want 70553 required", pa)
	}
	for _, f := range lines[0]["findings"].([]any) {
		if f.(map[string]any)["severity"] == "error" {
			t.Errorf("complete order has an error finding %v", f)
		}
	}
	found := map[string]map[string]any{}
	for _, f := range lines[1]["findings"].([]any) {
		fm := f.(map[string]any)
		found[fm["code"].(string)] = fm
	}
	for code, want := range map[string][2]string{
		"provider.npi-invalid": {"ORC-12", "ServiceRequest.requester"},
		"diagnosis.missing":    {"DG1-3", "ServiceRequest.reasonCode"},
	} {
		f, ok := found[code]
		if !ok {
			t.Errorf("no %s finding in %v", code, lines[1]["findings"])
			continue
		}
		if f["location"] != want[0] || f["fhir_path"] != want[1] || f["severity"] != "error" || f["text"] == "" {
			t.Errorf("%s = %v, want location %s, fhir_path %s", code, f, want[0], want[1])
		}
	}
	if code, out, _ := runCmd(t, "check", brokenPath); code != 3 || !strings.Contains(out, "finding error provider.npi-invalid") || !strings.Contains(out, "prior authorization required") {
		t.Errorf("text output (exit %d):\n%s", code, out)
	}
}

func TestCheck_FHIR(t *testing.T) {
	dir := t.TempDir()
	invalid := filepath.Join(dir, "invalid.json")
	os.WriteFile(invalid, []byte(`{"resourceType":"ServiceRequest","status":"bogus","intent":"order","subject":{"reference":"Patient/1"}}`), 0o644)
	code, stdout, _ := runCmd(t, "check", "--json", "../../testdata/fhir/fhir-r4-spec__servicerequest-example-pgx.json", invalid)
	if code != 1 {
		t.Errorf("exit %d, want 1: the invalid one would be refused", code)
	}
	lines := decodeLines(t, stdout)
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), stdout)
	}
	pgx := lines[0]
	if pgx["kind"] != "fhir" || pgx["type"] != "ServiceRequest" || pgx["preauth"] == nil || pgx["ack_code"] != "201" {
		t.Errorf("valid ServiceRequest = %v", pgx)
	}
	found := false
	for _, f := range pgx["findings"].([]any) {
		if f.(map[string]any)["code"] == "procedure.not-cpt" && f.(map[string]any)["fhir_path"] == "ServiceRequest.code" {
			found = true
		}
	}
	if !found {
		t.Errorf("a LOINC-coded request has no procedure.not-cpt finding: %v", pgx["findings"])
	}
	bad := lines[1]["errors"].([]any)
	if lines[1]["ack_code"] != "400" && lines[1]["ack_code"] != "422" {
		t.Errorf("invalid status: ack_code %v, want the 4xx serve answers", lines[1]["ack_code"])
	}
	if len(bad) == 0 || bad[0].(map[string]any)["location"] != "ServiceRequest.status" {
		t.Errorf("invalid status: errors %v, want one at ServiceRequest.status", bad)
	}
	if code, _, _ := runCmd(t, "check", "--json", filepath.Join(dir, "missing.json")); code != 1 {
		t.Errorf("missing file: exit %d", code)
	}
}

// send refuses a file that holds no HL7 v2 message instead of printing nothing.
func TestSend_NoMessage(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty.hl7": "", "text.hl7": "hello, this is not HL7\n"} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(content), 0o644)
		code, stdout, stderr := runCmd(t, "send", "--addr", "127.0.0.1:1", path)
		if code != 1 || !strings.Contains(stderr, "no HL7 v2 message") || stdout != "" {
			t.Errorf("send %s: exit %d, stdout %q, stderr %q; want 1 and a message", name, code, stdout, stderr)
		}
	}
}
