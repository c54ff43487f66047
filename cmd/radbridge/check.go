package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/mapping/fhirmap"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

// checkResult is one line of `radbridge check --json` output; the shape is a contract
// (see DESIGN.md).
type checkResult struct {
	File      string         `json:"file"`
	Index     int            `json:"index"`
	Kind      string         `json:"kind"` // "hl7v2" or "fhir"
	Type      string         `json:"type"`
	Version   string         `json:"version,omitempty"`
	ControlID string         `json:"control_id,omitempty"`
	Errors    []checkError   `json:"errors"`
	Findings  []checkFinding `json:"findings,omitzero"` // present ([] when none) for orders only
	Preauth   *checkPreauth  `json:"preauth,omitempty"`

	parsed bool
}

type checkError struct {
	Location string `json:"location"`
	Code     int    `json:"code"`
	Severity string `json:"severity"`
	Text     string `json:"text"`
}

type checkFinding struct {
	Code     string `json:"code"`
	Location string `json:"location"`
	FHIRPath string `json:"fhir_path"`
	Severity string `json:"severity"`
	Text     string `json:"text"`
}

type checkPreauth struct {
	CPT             string `json:"cpt"`
	Required        bool   `json:"required"`
	RecordsRequired bool   `json:"records_required"`
	Exempt          bool   `json:"exempt"`
	Reason          string `json:"reason"`
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per message")
	configPath := fs.String("config", "", "configuration file (prior_auth payer profiles)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: radbridge check [--json] FILE...  (FILE may be - for standard input)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "radbridge check: config: %v\n", err)
		return 2
	}
	checker, err := rules.New(cfg.PriorAuth)
	if err != nil {
		fmt.Fprintf(stderr, "radbridge check: config: %v\n", err)
		return 2
	}
	validator, err := fhir.NewValidator()
	if err != nil {
		fmt.Fprintf(stderr, "radbridge check: %v\n", err)
		return 1
	}
	code := 0
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, name := range fs.Args() {
		results, err := checkFile(name, validator, checker)
		if err != nil {
			fmt.Fprintf(stderr, "radbridge check: %v\n", err)
			code = 1
			continue
		}
		for _, r := range results {
			if !r.parsed {
				code = 1
			}
			if *asJSON {
				if err := enc.Encode(r); err != nil {
					fmt.Fprintf(stderr, "radbridge check: %v\n", err)
					return 1
				}
				continue
			}
			printCheck(stdout, r)
		}
	}
	return code
}

func checkFile(name string, validator *fhir.Validator, checker *rules.Checker) ([]checkResult, error) {
	data, err := readInput(name)
	if err != nil {
		return nil, err
	}
	if looksLikeJSON(data) {
		return []checkResult{checkFHIR(name, data, validator, checker)}, nil
	}
	return checkHL7(name, data, checker)
}

// looksLikeJSON reports whether the first non-blank byte opens a JSON value.
func looksLikeJSON(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n\ufeff")
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

func checkHL7(name string, data []byte, checker *rules.Checker) ([]checkResult, error) {
	var out []checkResult
	sc := hl7.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		r := checkResult{File: name, Index: len(out) + 1, Kind: "hl7v2", Errors: []checkError{}}
		m, err := hl7.Parse(sc.Bytes())
		if err != nil {
			var pe *hl7.ParseError
			if !errors.As(err, &pe) {
				return nil, err
			}
			if h, ok := hl7.SalvageHeader(sc.Bytes()); ok {
				r.Type, r.Version, r.ControlID = h.MessageType(), h.Version, h.ControlID
			}
			r.Errors = append(r.Errors, issueJSON(pe.Issue()))
			out = append(out, r)
			continue
		}
		h := m.Header()
		r.Type, r.Version, r.ControlID, r.parsed = h.MessageType(), h.Version, h.ControlID, true
		for _, is := range m.Validate() {
			r.Errors = append(r.Errors, issueJSON(is))
		}
		switch r.Type {
		case "ORM^O01", "OMI^O23", "OML^O21":
			checkOrders(&r, m, checker)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		out = append(out, checkResult{File: name, Index: 1, Kind: "hl7v2", Errors: []checkError{{
			Code: hl7.CodeSegmentSequence, Severity: "E", Text: "no HL7 message found"}}})
	}
	return out, nil
}

// checkOrders maps the message's orders and runs the checks on each: findings of every
// order (located in its own segment group) and the prior-authorization verdict of the
// first order.
func checkOrders(r *checkResult, m *hl7.Message, checker *rules.Checker) {
	vos, issues := mapping.FromV2(m)
	for _, is := range issues {
		r.Errors = append(r.Errors, issueJSON(is))
	}
	r.Findings = []checkFinding{}
	now := time.Now()
	for i, vo := range vos {
		o := vo.Order
		checker.Check(o, now)
		for _, f := range o.Findings {
			r.Findings = append(r.Findings, checkFinding{Code: f.Code, Location: engine.FindingLocation(f, vo.Occurrence).String(),
				FHIRPath: f.FHIRPath, Severity: string(f.Severity), Text: f.Text})
		}
		if i == 0 {
			r.Preauth = preauthOf(o, checker)
		}
	}
}

// preauthOf is the prior-authorization verdict for an order's procedure, class and
// primary plan.
func preauthOf(o *order.Order, checker *rules.Checker) *checkPreauth {
	payer := ""
	if len(o.Coverage) > 0 {
		payer = o.Coverage[0].Plan
	}
	v := checker.Preauth(o.Procedure.CPT, o.EncounterClass, payer)
	p := &checkPreauth{CPT: v.CPT, Required: v.Required, RecordsRequired: v.RecordsRequired, Exempt: v.Exempt, Reason: v.Reason}
	if o.Procedure.CPT == "" {
		p.Reason = "no CPT code on the order: prior authorization cannot be determined"
	}
	return p
}

func issueJSON(is hl7.Issue) checkError {
	sev := is.Severity
	if sev == 0 {
		sev = hl7.SeverityError
	}
	return checkError{Location: is.Location.String(), Code: is.Code, Severity: sev.String(), Text: is.Text}
}

// checkFHIR runs a FHIR JSON resource through the API's validation gate and, for a
// ServiceRequest or a Bundle holding some, maps and checks the orders like HL7 v2 ones.
func checkFHIR(name string, data []byte, v *fhir.Validator, checker *rules.Checker) checkResult {
	r := checkResult{File: name, Index: 1, Kind: "fhir", Errors: []checkError{}}
	typ, verr := v.Validate(data)
	r.Type = typ
	if verr != nil {
		for _, is := range verr.Issues {
			r.Errors = append(r.Errors, checkError{Location: is.Expression, Code: fhirIssueCode(is.Code), Severity: "E", Text: is.Diagnostics})
		}
		if verr.Status == http.StatusBadRequest {
			return r // not a FHIR resource at all
		}
	}
	r.parsed = true
	if typ != "ServiceRequest" && typ != "Bundle" {
		return r
	}
	orders, issues := fhirmap.FromFHIR(data)
	for _, is := range issues {
		sev := "W"
		if is.Severity == fhirmap.FHIRError || is.Severity == fhirmap.FHIRFatal {
			sev = "E"
		}
		r.Errors = append(r.Errors, checkError{Location: is.Expression, Code: fhirIssueCode(is.Code), Severity: sev, Text: is.Diagnostics})
	}
	if len(orders) == 0 {
		return r
	}
	r.Findings = []checkFinding{}
	now := time.Now()
	for i, fo := range orders {
		o := fo.Order
		checker.Check(o, now)
		for _, f := range o.Findings {
			r.Findings = append(r.Findings, checkFinding{Code: f.Code, Location: f.Location, FHIRPath: f.FHIRPath, Severity: string(f.Severity), Text: f.Text})
		}
		if i == 0 {
			r.Preauth = preauthOf(o, checker)
		}
	}
	return r
}

// fhirIssueCode gives an OperationOutcome issue type the HL7 table 0357 code the check
// output carries for every error.
func fhirIssueCode(code string) int {
	switch code {
	case "required":
		return hl7.CodeRequiredField
	case "code-invalid":
		return hl7.CodeTableValue
	case "not-supported":
		return hl7.CodeUnsupportedType
	}
	return hl7.CodeDataType
}

func printCheck(w io.Writer, r checkResult) {
	status := "ok"
	if !r.parsed {
		status = "NOT PARSED"
	}
	fmt.Fprintf(w, "%s #%d %s %s", r.File, r.Index, r.Kind, r.Type)
	if r.Version != "" {
		fmt.Fprintf(w, " v%s", r.Version)
	}
	if r.ControlID != "" {
		fmt.Fprintf(w, " control_id=%s", r.ControlID)
	}
	fmt.Fprintf(w, ": %s\n", status)
	for _, e := range r.Errors {
		loc := e.Location
		if loc == "" {
			loc = "-"
		}
		fmt.Fprintf(w, "  %s %s [%d] %s\n", e.Severity, loc, e.Code, e.Text)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  finding %s %s (%s, %s): %s\n", f.Severity, f.Code, f.Location, f.FHIRPath, f.Text)
	}
	if p := r.Preauth; p != nil {
		verdict := "not required"
		switch {
		case p.Exempt:
			verdict = "exempt"
		case p.RecordsRequired:
			verdict = "required, with medical records"
		case p.Required:
			verdict = "required"
		}
		fmt.Fprintf(w, "  prior authorization %s: %s\n", verdict, p.Reason)
	}
}
