package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/api"
	"github.com/radbridge/radbridge/auth"
	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/fhirserver"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// checkResult is one line of `radbridge check --json` output; the shape is a contract
// (see DESIGN.md), extended with ack_code.
type checkResult struct {
	File      string `json:"file"`
	Index     int    `json:"index"`
	Kind      string `json:"kind"` // "hl7v2" or "fhir"
	Type      string `json:"type"`
	Version   string `json:"version,omitempty"`
	ControlID string `json:"control_id,omitempty"`
	// AckCode is what serve answers: MSA-1 for HL7 v2 (AA, AE, AR, or CA, CR in
	// enhanced mode), the HTTP status for FHIR ("201", "422", ...).
	AckCode  string         `json:"ack_code"`
	Errors   []checkError   `json:"errors"`
	Findings []checkFinding `json:"findings,omitzero"` // present ([] when none) for orders only
	Preauth  *checkPreauth  `json:"preauth,omitempty"`
	// ReadyToSchedule is the stored order's verdict, as /api shows it.
	ReadyToSchedule *checkReady `json:"ready_to_schedule,omitempty"`

	verdict  checkVerdict
	orderIDs []string // the orders the message stored
}

type checkError struct {
	Location string `json:"location"`
	Code     int    `json:"code"`
	Severity string `json:"severity"`
	Text     string `json:"text"`
}

type checkFinding struct {
	Code     string `json:"code"`
	Class    string `json:"class,omitempty"`
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
	// Status is the authorization status serve stores: not-required, undetermined,
	// exempt, pending, approved, ...
	Status string `json:"status"`
	Reason string `json:"reason"`
	// PayerUnknown: no payer profile matched the order's coverage (defaults applied).
	PayerUnknown bool `json:"payer_unknown,omitempty"`
}

// checkReady is an order's ready_to_schedule: {ready, reasons}, reasons [] when none.
type checkReady struct {
	Ready   bool     `json:"ready"`
	Reasons []string `json:"reasons"`
}

// checkVerdict sums up one answer; the exit code is the worst over all inputs.
type checkVerdict int

// The verdicts, in order of severity, and the exit codes they give.
const (
	verdictAccepted checkVerdict = iota // stored, nothing to fix: exit 0
	verdictFix                          // stored, with errors the sender must fix: exit 3
	verdictRejected                     // not processed (AR/CR, 4xx/5xx, unreadable): exit 1
)

func (v checkVerdict) exitCode() int {
	switch v {
	case verdictFix:
		return 3
	case verdictRejected:
		return 1
	}
	return 0
}

func (v checkVerdict) String() string {
	switch v {
	case verdictFix:
		return "accepted, needs fixing"
	case verdictRejected:
		return "rejected"
	}
	return "accepted"
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per message")
	configPath := fs.String("config", "", "configuration file (processing_ids, prior_auth payer profiles), as serve reads it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: radbridge check [--json] [--config FILE] FILE...  (FILE may be - for standard input)

Runs every message through the same pipeline as serve, on an empty throwaway store, and
prints the answer serve would give. Exit status: 0 when every message would be accepted
with nothing to fix, 3 when some would be accepted with errors the sender must fix (AE,
or findings of severity error), 1 when some would be rejected or could not be read, 2 on
bad usage.`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
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
	ctx := context.Background()
	off, err := newOffline(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "radbridge check: %v\n", err)
		return 2
	}
	defer off.close()
	worst := verdictAccepted
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, name := range fs.Args() {
		results, err := off.checkFile(ctx, name)
		if err != nil {
			fmt.Fprintf(stderr, "radbridge check: %v\n", err)
			worst = max(worst, verdictRejected)
			continue
		}
		for _, r := range results {
			worst = max(worst, r.verdict)
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
	return worst.exitCode()
}

// offline is serve's pipeline on a throwaway store: every message goes through the
// engine (HL7 v2) or the FHIR handlers (FHIR) exactly as serve would take it, so that
// check answers what serve would answer on an empty data directory. Messages are taken
// in order and see the ones before them (a second new order with the same placer
// number is refused, as serve would).
type offline struct {
	dir  string
	db   *bolt.DB
	eng  *engine.Engine
	fhir http.Handler
}

func newOffline(ctx context.Context, cfg *config) (*offline, error) {
	checker, err := cfg.checker()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dir, err := os.MkdirTemp("", "radbridge-check-")
	if err != nil {
		return nil, err
	}
	db, err := bolt.Open(bolt.Config{Dir: dir, NoSync: true}) // nothing here outlives the run
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	off := &offline{dir: dir, db: db}
	if off.eng, err = engine.New(engine.Config{ProcessingIDs: cfg.ProcessingIDs, Location: time.Local, MaxOrdersPerMessage: cfg.MaxOrdersPerMessage}, db, checker, nil, nil); err != nil {
		off.close()
		return nil, err
	}
	h, err := fhir.NewHandler(fhir.Config{BaseURL: "http://radbridge.invalid", SoftwareVersion: version}, fhirserver.New(off.eng, db), nil)
	if err != nil {
		off.close()
		return nil, err
	}
	r := mux.NewRouter()
	h.Routes(r)
	off.fhir = r
	return off, nil
}

func (off *offline) close() {
	off.db.Close()
	os.RemoveAll(off.dir)
}

func (off *offline) checkFile(ctx context.Context, name string) ([]checkResult, error) {
	data, err := readInput(name)
	if err != nil {
		return nil, err
	}
	if looksLikeJSON(data) {
		r, err := off.checkFHIR(ctx, name, data)
		if err != nil {
			return nil, err
		}
		return []checkResult{r}, nil
	}
	return off.checkHL7(ctx, name, data)
}

// looksLikeJSON reports whether the first non-blank byte opens a JSON value.
func looksLikeJSON(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n\ufeff")
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

func (off *offline) checkHL7(ctx context.Context, name string, data []byte) ([]checkResult, error) {
	var out []checkResult
	sc := hl7.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		raw := bytes.Clone(sc.Bytes())
		r := checkResult{File: name, Index: len(out) + 1, Kind: "hl7v2", Errors: []checkError{}}
		if h, ok := hl7.SalvageHeader(raw); ok {
			r.Type, r.Version, r.ControlID = h.MessageType(), h.Version, h.ControlID
		}
		res, err := off.eng.Handle(ctx, raw)
		if err != nil {
			return nil, fmt.Errorf("%s: message %d: %w", name, r.Index, err)
		}
		r.AckCode = res.AckCode
		ack, err := hl7.Parse([]byte(res.Ack))
		if err != nil {
			return nil, fmt.Errorf("%s: message %d: the acknowledgment does not parse: %w", name, r.Index, err)
		}
		findings := map[string]bool{} // the ERRs that are findings: location and text
		for _, f := range res.Findings {
			findings[f.At.String()+"\x00"+f.Finding.Text] = true
		}
		fixable := false
		for _, is := range hl7.ReadIssues(ack) {
			fixable = fixable || is.Severity == hl7.SeverityError
			if !findings[is.Location.String()+"\x00"+is.Text] {
				r.Errors = append(r.Errors, issueJSON(is))
			}
		}
		if isOrderMessage(r.Type) && hl7.AckCode(r.AckCode).Accepted() || r.AckCode == string(hl7.AE) {
			r.Findings = []checkFinding{}
		}
		for _, f := range res.Findings {
			r.Findings = append(r.Findings, findingJSON(f.Finding, f.At.String()))
		}
		r.orderIDs = res.OrderIDs
		if r.Preauth, r.ReadyToSchedule, err = off.preauth(ctx, res.OrderIDs); err != nil {
			return nil, err
		}
		r.verdict = hl7Verdict(hl7.AckCode(r.AckCode), fixable)
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no HL7 v2 message found (a message starts with MSH)", name)
	}
	return out, nil
}

func isOrderMessage(typ string) bool {
	switch typ {
	case "ORM^O01", "OMI^O23", "OML^O21":
		return true
	}
	return false
}

// hl7Verdict sums up an acknowledgment: refused, stored with errors to fix, or stored.
func hl7Verdict(code hl7.AckCode, hasErrors bool) checkVerdict {
	switch {
	case code == hl7.AR || code == hl7.CR || code == hl7.CE:
		return verdictRejected
	case code == hl7.AE || hasErrors:
		return verdictFix
	}
	return verdictAccepted
}

func findingJSON(f order.Finding, location string) checkFinding {
	return checkFinding{Code: f.Code, Class: string(f.Kind()), Location: location, FHIRPath: f.FHIRPath, Severity: string(f.Severity), Text: f.Text}
}

// preauth is the prior-authorization verdict, and the ready-to-schedule one, serve
// stored for the first of the orders.
func (off *offline) preauth(ctx context.Context, orderIDs []string) (*checkPreauth, *checkReady, error) {
	if len(orderIDs) == 0 {
		return nil, nil, nil
	}
	o, err := off.order(ctx, orderIDs[0])
	if err != nil {
		return nil, nil, err
	}
	p, r := orderVerdict(o)
	return &p, &r, nil
}

// order reads a stored order.
func (off *offline) order(ctx context.Context, id string) (*order.Order, error) {
	var o *order.Order
	err := off.db.View(ctx, func(tx store.ReadTx) error {
		var err error
		o, err = tx.Order(id)
		return err
	})
	return o, err
}

// orderVerdict is a stored order's verdicts as check and preauth print them.
func orderVerdict(o *order.Order) (checkPreauth, checkReady) {
	a := o.Authorization
	p := checkPreauth{CPT: o.Procedure.CPT, Required: a.Required && !a.Exempt, RecordsRequired: a.RecordsRequired && !a.Exempt,
		Exempt: a.Exempt, Status: string(api.APIStatus(a.Status)), Reason: a.Reason, PayerUnknown: a.PayerUnknown}
	r := checkReady{Ready: o.ReadyToSchedule.Ready, Reasons: o.ReadyToSchedule.Reasons}
	if r.Reasons == nil {
		r.Reasons = []string{}
	}
	return p, r
}

func issueJSON(is hl7.Issue) checkError {
	sev := is.Severity
	if sev == 0 {
		sev = hl7.SeverityError
	}
	return checkError{Location: is.Location.String(), Code: is.Code, Severity: sev.String(), Text: is.Text}
}

// checkFHIR posts the resource to the FHIR API as a client would: a transaction or
// batch Bundle to the base, any other resource to its type, asking for the
// OperationOutcome (Prefer: return=OperationOutcome).
func (off *offline) checkFHIR(ctx context.Context, name string, data []byte) (checkResult, error) {
	r := checkResult{File: name, Index: 1, Kind: "fhir", Errors: []checkError{}}
	var head struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
	}
	path := "/fhir"
	if json.Unmarshal(data, &head) == nil && head.ResourceType != "" {
		r.Type = head.ResourceType
		if head.ResourceType != "Bundle" || (head.Type != "transaction" && head.Type != "batch") {
			path += "/" + head.ResourceType
		}
	}
	// As serve with authentication off: every scope, and the remote address as client.
	ctx = auth.NewContext(ctx, &auth.Principal{Scopes: auth.NewScopes(auth.AllScopes())})
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Prefer", "return=OperationOutcome")
	w := httptest.NewRecorder()
	off.fhir.ServeHTTP(w, req)
	r.AckCode = strconv.Itoa(w.Code)
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Severity string `json:"severity"`
			Code     string `json:"code"`
			Details  struct {
				Coding []struct{ System, Code string }
			} `json:"details"`
			Diagnostics string   `json:"diagnostics"`
			Expression  []string `json:"expression"`
		} `json:"issue"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &oo) // a Bundle response has no issues to read
	fixable := false
	for _, is := range oo.Issue {
		expr := strings.Join(is.Expression, ", ")
		fixable = fixable || is.Severity == "error" || is.Severity == "fatal"
		if c := is.Details.Coding; len(c) > 0 && c[0].System == "urn:radbridge:issue" {
			r.Findings = append(r.Findings, checkFinding{Code: c[0].Code, Location: expr, FHIRPath: expr, Severity: is.Severity, Text: is.Diagnostics})
			continue
		}
		if is.Severity == "information" && is.Code == "informational" {
			continue // what was done ("created ServiceRequest/..."), or "ok"
		}
		r.Errors = append(r.Errors, checkError{Location: expr, Code: fhirIssueCode(is.Code), Severity: fhirSeverity(is.Severity), Text: is.Diagnostics})
	}
	orderIDs, err := off.lastOrders(ctx)
	if err != nil {
		return r, err
	}
	if len(orderIDs) > 0 && r.Findings == nil {
		r.Findings = []checkFinding{}
	}
	r.orderIDs = orderIDs
	if r.Preauth, r.ReadyToSchedule, err = off.preauth(ctx, orderIDs); err != nil {
		return r, err
	}
	switch {
	case w.Code >= 300:
		r.verdict = verdictRejected
	case fixable:
		r.verdict = verdictFix
	}
	return r, nil
}

// lastOrders lists the orders the last message stored made, none when it made none.
func (off *offline) lastOrders(ctx context.Context) ([]string, error) {
	var ids []string
	err := off.db.View(ctx, func(tx store.ReadTx) error {
		msgs, _, err := tx.Messages(store.MessageQuery{Limit: 1})
		if err == nil && len(msgs) == 1 {
			ids = msgs[0].OrderIDs
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	return ids, err
}

func fhirSeverity(s string) string {
	switch s {
	case "fatal", "error":
		return "E"
	case "warning":
		return "W"
	}
	return "I"
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
	case "duplicate", "conflict":
		return hl7.CodeDuplicateKey
	case "not-found":
		return hl7.CodeUnknownKey
	case "exception", "transient":
		return hl7.CodeInternal
	}
	return hl7.CodeDataType
}

func printCheck(w io.Writer, r checkResult) {
	fmt.Fprintf(w, "%s #%d %s %s", r.File, r.Index, r.Kind, r.Type)
	if r.Version != "" {
		fmt.Fprintf(w, " v%s", r.Version)
	}
	if r.ControlID != "" {
		fmt.Fprintf(w, " control_id=%s", r.ControlID)
	}
	fmt.Fprintf(w, ": %s (%s)\n", r.verdict, r.AckCode)
	for _, e := range r.Errors {
		loc := e.Location
		if loc == "" {
			loc = "-"
		}
		fmt.Fprintf(w, "  %s %s [%d] %s\n", e.Severity, loc, e.Code, e.Text)
	}
	for _, f := range r.Findings {
		where := f.Location + ", " + f.FHIRPath
		if f.Location == f.FHIRPath {
			where = f.FHIRPath
		}
		fmt.Fprintf(w, "  finding %s %s (%s): %s\n", f.Severity, f.Code, where, f.Text)
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
		case p.Status == string(order.AuthUndetermined):
			verdict = "undetermined"
		}
		fmt.Fprintf(w, "  prior authorization %s: %s\n", verdict, p.Reason)
	}
	printReady(w, r.ReadyToSchedule)
}

// printReady writes a ready-to-schedule verdict, one reason a line.
func printReady(w io.Writer, r *checkReady) {
	if r == nil {
		return
	}
	verdict := "not ready to schedule"
	if r.Ready {
		verdict = "ready to schedule"
	}
	fmt.Fprintf(w, "  %s\n", verdict)
	for _, s := range r.Reasons {
		fmt.Fprintf(w, "    %s\n", s)
	}
}
