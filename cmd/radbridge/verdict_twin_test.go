package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/hl7/mllp"
)

// verdictConfig is a prior_auth configuration exercising every part of the verdicts:
// the PPO profile of the config docs, a networks table, hospital facilities, a site
// setting code and a default facility NPI.
const verdictConfig = `prior_auth:
  networks_file: %NETWORKS%
  facility_npi: "1245319599"
  hospital_facilities: [HOSP_A]
  setting_codes:
    - {field: PV1-18, code: UCH, setting: hospital-urgent-care}
  payers:
    - id: KPWA-PPO
      name: Kaiser WA PPO
      match: {payer_id: KPWA, plan_type: PPO}
      rules:
        - {modality: CT, prior_auth: not_required, note: "PPO: CT not managed"}
    - id: KPWA
      name: Kaiser WA
      match: {payer_id: KPWA}
`

const verdictNetworks = "payer,plan,network,facility_npi,effective_from,effective_to\n" +
	"KPWA,,KP-WEST,1245319599,2025-01-01,2026-12-31\n"

// seg builds a segment from its numbered fields, so that the test need not count bars.
func seg(name string, fields map[int]string) string {
	n := 0
	for f := range fields {
		n = max(n, f)
	}
	vals := make([]string, n)
	for f, v := range fields {
		vals[f-1] = v
	}
	return name + "|" + strings.Join(vals, "|")
}

// verdictOrder is an ORM^O01 for the verdict twin test: PV1 and OBR-27 as given, the
// diagnosis in DG1-3 and OBR-31, the coverage as an IN1.
func verdictOrder(ctl, placer string, pv1 map[int]string, cpt, obr27, dx, in1 string) string {
	pv1[1] = "1"
	return strings.Join([]string{
		`MSH|^~\&|EHR|HOSP_A|RADBRIDGE|IMG|20261122093000||ORM^O01^ORM_O01|` + ctl + `|P|2.5.1`,
		`PID|1||MRN` + placer + `^^^HOSP_A^MR||DOE^JANE||19800102|F`,
		seg("PV1", pv1),
		`ORC|NW|` + placer + `^EHR|||||||20261122092500|||1234567893^SMITH^JOHN^^^^^^NPI^L^^^NPI`,
		seg("OBR", map[int]string{1: "1", 2: placer + "^EHR", 4: cpt, 7: "20261122092500", 27: obr27, 31: dx}),
		`DG1|1||` + dx,
		in1,
	}, "\r") + "\r"
}

// TestVerdicts_PreauthCheckServe: for the same orders, `radbridge preauth --json`,
// `radbridge check --json` and a real `radbridge serve` (read back through /api) give
// the same prior-authorization and ready-to-schedule verdicts: they share one code
// path, the checker serve uses.
func TestVerdicts_PreauthCheckServe(t *testing.T) {
	dir := t.TempDir()
	networks := filepath.Join(dir, "networks.csv")
	os.WriteFile(networks, []byte(verdictNetworks), 0o644)
	cfgPath := filepath.Join(dir, "radbridge.yaml")
	os.WriteFile(cfgPath, []byte(strings.ReplaceAll(verdictConfig, "%NETWORKS%", networks)), 0o644)

	const kp, kpPPO, acme = "IN1|1|GOLD|KPWA|Kaiser||||||||20260101|||HMO", "IN1|1|PPO-1|KPWA|Kaiser||||||||20260101|||PPO",
		"IN1|1|X|ACME|Acme||||||||20260101|||HMO"
	out := map[int]string{2: "O"}
	orders := map[string]string{
		// An MRI ordered in the ER for an outpatient exam two weeks later: required.
		"PV01": verdictOrder("V1", "PV01", map[int]string{2: "E"}, "70553^MRI BRAIN^C4", "^^^20261206", "R51.9^Headache^I10", kp),
		// Ordered and provided in the ER (stat): exempt.
		"PV02": verdictOrder("V2", "PV02", map[int]string{2: "E"}, "70553^MRI BRAIN^C4", "^^^^^S", "R51.9^Headache^I10", kp),
		// Freestanding urgent care: required; hospital urgent care (site code): exempt.
		"PV03": verdictOrder("V3", "PV03", map[int]string{2: "O", 3: "UC1^^^NORTH_UC", 18: "UC"}, "70553^MRI BRAIN^C4", "", "R51.9^Headache^I10", kp),
		"PV04": verdictOrder("V4", "PV04", map[int]string{2: "O", 18: "UCH"}, "70553^MRI BRAIN^C4", "", "R51.9^Headache^I10", kp),
		// MRI of the TMJ, not in the table: required by its CPT range.
		"PV05": verdictOrder("V5", "PV05", out, "70336^MRI TMJ^C4", "", "M26.609^TMJ disorder^I10", kp),
		// Brain SPECT for depression: records.
		"PV06": verdictOrder("V6", "PV06", out, "78607^SPECT BRAIN^C4", "", "F32.9^Depression^I10", kp),
		// Lung screening with a screening diagnosis: not required.
		"PV07": verdictOrder("V7", "PV07", out, "71271^LDCT^C4", "", "Z12.2^Lung cancer screening^I10", kp),
		// The PPO plan: CT not required.
		"PV08": verdictOrder("V8", "PV08", out, "74177^CT ABD PELVIS^C4", "", "R10.9^Abdominal pain^I10", kpPPO),
		// An unknown payer, and out of the network table.
		"PV09": verdictOrder("V9", "PV09", out, "71046^CHEST XR^C4", "", "R05.9^Cough^I10", acme),
		// The facility leaves KPWA's network on 2026-12-31: a January exam is out.
		"PV10": verdictOrder("V10", "PV10", out, "71046^CHEST XR^C4", "^^^20270105", "R05.9^Cough^I10", kp),
	}
	var files []string
	placerOf := map[string]string{}
	for placer, msg := range orders {
		p := filepath.Join(dir, placer+".hl7")
		os.WriteFile(p, []byte(msg), 0o644)
		files = append(files, p)
		placerOf[p] = placer
	}

	// verdict is what the three must agree on, keyed by placer number.
	type verdict struct {
		Status, Required, Records, Ready any
		Reasons                          []any
	}
	fromPreauth, fromCheck, fromServe := map[string]verdict{}, map[string]verdict{}, map[string]verdict{}
	reasons := map[string]string{}

	code, stdout, stderr := runCmd(t, append([]string{"preauth", "--json", "--config", cfgPath}, files...)...)
	if code != 0 {
		t.Fatalf("preauth: exit %d: %s", code, stderr)
	}
	for _, l := range decodeLines(t, stdout) {
		r := l["ready_to_schedule"].(map[string]any)
		placer := l["placer"].(string)
		fromPreauth[placer] = verdict{l["status"], l["required"], l["records_required"], r["ready"], r["reasons"].([]any)}
		reasons[placer] = l["reason"].(string)
	}

	code, stdout, stderr = runCmd(t, append([]string{"check", "--json", "--config", cfgPath}, files...)...)
	if code == 2 || code == 1 {
		t.Fatalf("check: exit %d: %s", code, stderr)
	}
	for _, l := range decodeLines(t, stdout) {
		p := l["preauth"].(map[string]any)
		r := l["ready_to_schedule"].(map[string]any)
		placer := placerOf[l["file"].(string)]
		fromCheck[placer] = verdict{p["status"], p["required"], p["records_required"], r["ready"], r["reasons"].([]any)}
		if reasons[placer] != p["reason"] {
			t.Errorf("%s: preauth reason %q, check reason %q", placer, reasons[placer], p["reason"])
		}
	}

	srv := startServer(t, t.TempDir(), "--config", cfgPath)
	client := &mllp.Client{Addr: srv.mllp}
	defer client.Close()
	for _, p := range files {
		data, _ := os.ReadFile(p)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		if _, err := client.Send(ctx, bytes.TrimRight(data, "\r")); err != nil {
			t.Fatalf("send %s: %v", p, err)
		}
		cancel()
	}
	for placer := range fromPreauth {
		var body struct {
			Items []struct {
				Authorization map[string]any `json:"authorization"`
				Ready         map[string]any `json:"ready_to_schedule"`
			} `json:"items"`
		}
		srv.getJSON(t, "/api/orders?placer="+placer, &body)
		if len(body.Items) != 1 {
			t.Fatalf("serve: %d orders with placer %s", len(body.Items), placer)
		}
		it := body.Items[0]
		fromServe[placer] = verdict{it.Authorization["status"], it.Authorization["required"], it.Authorization["records_required"],
			it.Ready["ready"], it.Ready["reasons"].([]any)}
	}

	if len(fromPreauth) != len(orders) || len(fromCheck) != len(orders) {
		t.Fatalf("preauth gave %d orders, check %d, want %d", len(fromPreauth), len(fromCheck), len(orders))
	}
	for placer, want := range fromServe {
		if !reflect.DeepEqual(fromPreauth[placer], want) || !reflect.DeepEqual(fromCheck[placer], want) {
			t.Errorf("%s:\n serve   %+v\n preauth %+v\n check   %+v", placer, want, fromPreauth[placer], fromCheck[placer])
		}
	}

	// And the verdicts are the issue's.
	// The engine API names the model's pending "required" (DESIGN.md, the wave-2 authorization statuses).
	wantStatus := map[string]string{"PV01": "required", "PV02": "exempt", "PV03": "required", "PV04": "exempt", "PV05": "required",
		"PV06": "required", "PV07": "not-required", "PV08": "not-required", "PV09": "not-required", "PV10": "not-required"}
	for placer, st := range wantStatus {
		if got := fromServe[placer].Status; got != st {
			t.Errorf("%s: authorization status %v, want %s (%s)", placer, got, st, reasons[placer])
		}
	}
	if fromServe["PV06"].Records != true {
		t.Errorf("brain SPECT for F32.9: records_required %v, want true", fromServe["PV06"].Records)
	}
	for placer, ready := range map[string]bool{"PV07": true, "PV08": true, "PV09": false, "PV10": false, "PV02": true} {
		if fromServe[placer].Ready != ready {
			t.Errorf("%s: ready %v, want %v: %v", placer, fromServe[placer].Ready, ready, fromServe[placer].Reasons)
		}
	}
	if !strings.Contains(reasons["PV05"], "not in the imaging code table") || !strings.Contains(reasons["PV01"], "not provided during it") {
		t.Errorf("reasons: TMJ %q, ER later %q", reasons["PV05"], reasons["PV01"])
	}
}
