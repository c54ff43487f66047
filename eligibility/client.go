// Package eligibility is a minimal client of payers' eligibility services: it posts a
// FHIR R4 CoverageEligibilityRequest with purpose validation for an order's primary
// coverage and reads the CoverageEligibilityResponse (FHIR R4, "CoverageEligibility
// Request" and "CoverageEligibilityResponse", http://hl7.org/fhir/R4/). It implements
// rules.Eligibility, which package rules consumes in Checker.Verify.
//
// It is deliberately small: one POST, no retries (the question is asked while a
// message waits for its acknowledgment), no authentication. The payer workflow (PAS,
// CDS Hooks) may provide a fuller client behind the same interface.
//
// # Caveats
//
//   - Only validation is asked (is the coverage in force on the date of service); the
//     benefits and authorization requirements of a response are not read.
//   - Only the response's first insurance entry is read.
package eligibility

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

// Defaults of [Config].
const (
	// DefaultTimeout bounds one question: 5 seconds, as it holds up an acknowledgment.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxResponse is the largest response read: 1 MiB.
	DefaultMaxResponse = 1 << 20
)

// Config configures a [Client].
type Config struct {
	// Timeout bounds one question, connection to last byte. Default: 5s
	// ([DefaultTimeout]); zero means the default; negative is invalid.
	Timeout time.Duration
	// MaxResponse is the largest response body read, in bytes; a larger one is an
	// error. Default: 1 MiB; zero means the default; negative is invalid.
	MaxResponse int64
}

// Validate names the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Timeout < 0:
		return fmt.Errorf("eligibility: timeout %v is negative", c.Timeout)
	case c.MaxResponse < 0:
		return fmt.Errorf("eligibility: max_response %d is negative", c.MaxResponse)
	}
	return nil
}

// Client asks eligibility services. It is safe for concurrent use.
type Client struct {
	http *http.Client
	max  int64
	now  func() time.Time
}

var _ rules.Eligibility = (*Client)(nil)

// New returns a Client with its own http.Client. now is its clock (nil: time.Now),
// for the request's created time.
func New(cfg Config, now func() time.Time) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxResponse == 0 {
		cfg.MaxResponse = DefaultMaxResponse
	}
	if now == nil {
		now = time.Now
	}
	return &Client{http: &http.Client{Timeout: cfg.Timeout}, max: cfg.MaxResponse, now: now}, nil
}

// ErrNotVerified wraps every answer that does not say whether the coverage is in force:
// an error outcome, an OperationOutcome, a queued answer, an answer without inforce.
var ErrNotVerified = errors.New("eligibility: coverage not verified")

// Check posts the CoverageEligibilityRequest for q to q.URL and reads the answer:
// Active is the first insurance entry's inforce. Any other answer (an HTTP status
// other than 2xx, a body that is not a CoverageEligibilityResponse, outcome error or
// queued, no inforce) is an error, never an eligible coverage.
func (c *Client) Check(ctx context.Context, q rules.EligibilityQuery) (rules.EligibilityResult, error) {
	body, err := json.Marshal(request(q, c.now()))
	if err != nil {
		return rules.EligibilityResult{}, fmt.Errorf("eligibility: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, q.URL, bytes.NewReader(body))
	if err != nil {
		return rules.EligibilityResult{}, fmt.Errorf("eligibility: %w", err)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := c.http.Do(req)
	if err != nil {
		return rules.EligibilityResult{}, fmt.Errorf("eligibility: ask %s: %w", q.Payer, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.max+1))
	io.Copy(io.Discard, resp.Body) // drain, so that the connection is reused
	if err != nil {
		return rules.EligibilityResult{}, fmt.Errorf("eligibility: read the answer of %s: %w", q.Payer, err)
	}
	if int64(len(data)) > c.max {
		return rules.EligibilityResult{}, fmt.Errorf("eligibility: the answer of %s is over %d bytes", q.Payer, c.max)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return rules.EligibilityResult{}, fmt.Errorf("%w: %s answered %s%s", ErrNotVerified, q.Payer, resp.Status, issueText(data))
	}
	return readResponse(data)
}

// request builds the CoverageEligibilityRequest: purpose validation, the patient and
// the coverage by identifier (logical references), the payer as insurer, the date of
// service, the performing facility by NPI.
func request(q rules.EligibilityQuery, now time.Time) *fhir.CoverageEligibilityRequest {
	o := q.Order
	r := &fhir.CoverageEligibilityRequest{
		Status:       fhir.FinancialResourceStatusCodesActive,
		Purpose:      []fhir.EligibilityRequestPurpose{fhir.EligibilityRequestPurposeValidation},
		Created:      now.Format(time.RFC3339),
		ServicedDate: ptr(q.Date),
		Patient:      fhir.Reference{Type: ptr("Patient")},
	}
	if n := strings.Trim(strings.TrimSpace(o.Patient.Family)+", "+strings.TrimSpace(o.Patient.Given), ", "); n != "" {
		r.Patient.Display = &n
	}
	if len(o.Patient.Identifiers) > 0 {
		id := o.Patient.Identifiers[0]
		r.Patient.Identifier = &fhir.Identifier{Value: ptr(id.Value), System: uriOnly(id.System)}
	}
	var cov order.Coverage
	if len(o.Coverage) > 0 {
		cov = o.Coverage[0]
	}
	r.Insurer = fhir.Reference{Type: ptr("Organization"), Display: ptr(cov.PayerName)}
	if cov.Payer != "" {
		r.Insurer.Identifier = &fhir.Identifier{Value: ptr(cov.Payer)}
	}
	coverage := fhir.Reference{Type: ptr("Coverage")}
	if cov.MemberID != "" {
		coverage.Identifier = &fhir.Identifier{Value: ptr(cov.MemberID), Type: &fhir.CodeableConcept{Coding: []fhir.Coding{{
			System: ptr("http://terminology.hl7.org/CodeSystem/v2-0203"), Code: ptr("MB")}}}}
	}
	r.Insurance = []fhir.CoverageEligibilityRequestInsurance{{Focal: ptrBool(true), Coverage: coverage}}
	if o.Performer.NPI != "" {
		r.Facility = &fhir.Reference{Type: ptr("Organization"), Display: ptr(o.Performer.Name),
			Identifier: &fhir.Identifier{System: ptr("http://hl7.org/fhir/sid/us-npi"), Value: ptr(o.Performer.NPI)}}
	}
	return r
}

// response is what Check reads of a CoverageEligibilityResponse (or OperationOutcome).
type response struct {
	ResourceType string `json:"resourceType"`
	Outcome      string `json:"outcome"`
	Disposition  string `json:"disposition"`
	Insurance    []struct {
		Inforce *bool `json:"inforce"`
	} `json:"insurance"`
	Error []struct {
		Code concept `json:"code"`
	} `json:"error"`
	Issue []struct {
		Diagnostics string  `json:"diagnostics"`
		Details     concept `json:"details"`
	} `json:"issue"`
}

type concept struct {
	Text   string `json:"text"`
	Coding []struct {
		Code    string `json:"code"`
		Display string `json:"display"`
	} `json:"coding"`
}

func (c concept) words() string {
	if c.Text != "" {
		return c.Text
	}
	for _, cd := range c.Coding {
		if cd.Display != "" {
			return cd.Display
		}
		if cd.Code != "" {
			return cd.Code
		}
	}
	return ""
}

func readResponse(data []byte) (rules.EligibilityResult, error) {
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return rules.EligibilityResult{}, fmt.Errorf("%w: the answer is not JSON: %v", ErrNotVerified, err)
	}
	switch {
	case r.ResourceType == "OperationOutcome":
		return rules.EligibilityResult{}, fmt.Errorf("%w: OperationOutcome%s", ErrNotVerified, issueText(data))
	case r.ResourceType != "CoverageEligibilityResponse":
		return rules.EligibilityResult{}, fmt.Errorf("%w: the answer is a %q, not a CoverageEligibilityResponse", ErrNotVerified, r.ResourceType)
	case r.Outcome == "error":
		msg := r.Disposition
		for _, e := range r.Error {
			if w := e.Code.words(); w != "" {
				msg = strings.TrimPrefix(msg+"; "+w, "; ")
			}
		}
		return rules.EligibilityResult{}, fmt.Errorf("%w: outcome error: %s", ErrNotVerified, msg)
	case r.Outcome != "complete" && r.Outcome != "partial":
		return rules.EligibilityResult{}, fmt.Errorf("%w: outcome %q", ErrNotVerified, r.Outcome)
	case len(r.Insurance) == 0 || r.Insurance[0].Inforce == nil:
		return rules.EligibilityResult{}, fmt.Errorf("%w: the response does not say whether the coverage is in force", ErrNotVerified)
	}
	return rules.EligibilityResult{Active: *r.Insurance[0].Inforce, Detail: r.Disposition}, nil
}

// issueText is ": " and the first issue's words of an OperationOutcome body, or "".
func issueText(data []byte) string {
	var r response
	if json.Unmarshal(data, &r) != nil {
		return ""
	}
	for _, is := range r.Issue {
		if w := is.Diagnostics; w != "" {
			return ": " + w
		}
		if w := is.Details.words(); w != "" {
			return ": " + w
		}
	}
	return ""
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func ptrBool(b bool) *bool { return &b }

// uriOnly is s when it is a URI (FHIR Identifier.system), else nil: a v2 namespace is
// not a system.
func uriOnly(s string) *string {
	if strings.Contains(s, ":") {
		return &s
	}
	return nil
}
