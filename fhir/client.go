package fhir

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Client pushes resources to another FHIR server (results delivery: POST
// DiagnosticReport to the app that ordered). It makes one attempt per call: retries,
// backoff and dead-lettering belong to the caller, which gets the server's
// Retry-After in *StatusError. A Client is safe for concurrent use.
type Client struct {
	// Base is the server's FHIR base URL, e.g. "https://app.example.org/fhir".
	Base string
	// HTTP sends the requests; it must not be nil (there is no shared default
	// client). Its Timeout bounds each call, as does the context.
	HTTP *http.Client

	now func() time.Time // for Retry-After dates; nil means time.Now
}

// StatusError is an answer outside 2xx from the FHIR server.
type StatusError struct {
	Status int
	// RetryAfter is the server's Retry-After (seconds or an HTTP date, converted to a
	// wait); zero when absent or unparseable.
	RetryAfter time.Duration
	// Issues are the OperationOutcome issues of the response body, when it had one.
	// Their diagnostics may quote the pushed resource: store them, do not log them.
	Issues []Issue
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("fhir server answered %d %s", e.Status, http.StatusText(e.Status))
	if len(e.Issues) > 0 {
		s += " (" + e.Issues[0].Code + ")"
	}
	return s
}

// Retryable reports whether the same request may succeed later: 408, 429 and 5xx
// other than 501 Not Implemented.
func (e *StatusError) Retryable() bool {
	switch {
	case e.Status == http.StatusRequestTimeout, e.Status == http.StatusTooManyRequests:
		return true
	case e.Status == http.StatusNotImplemented:
		return false
	}
	return e.Status >= 500
}

// maxErrorBody bounds how much of an error response is read for its OperationOutcome;
// maxDrain bounds how much of any response is drained to reuse the connection.
const (
	maxErrorBody = 64 << 10
	maxDrain     = 1 << 20
)

// Response is a FHIR server's answer to Do.
type Response struct {
	// Status is the HTTP status code; StatusLine the status line as the server sent it,
	// e.g. "503 Service Unavailable".
	Status     int
	StatusLine string
	Header     http.Header
	// Issues are the OperationOutcome issues of an answer outside 2xx, when its body
	// held one. Their diagnostics may quote the pushed resource: store them, do not log
	// them.
	Issues []Issue
}

// Do sends one request to the server: method to Base joined with path ("" for Base
// itself, "DiagnosticReport", "Patient/7"), with body (nil for none) as FHIR JSON and
// the given header values added; Accept is FHIR JSON, and Content-Type too unless
// header sets it. It returns the answer whatever its status; an error only when there
// is none (network failures, wrapped). The response body is always drained (up to 1
// MiB, so that the connection is reused) and closed; outside 2xx its OperationOutcome
// is read into Issues.
func (c *Client) Do(ctx context.Context, method, path string, body []byte, header http.Header) (*Response, error) {
	resp, _, err := c.exchange(ctx, method, path, body, header, 0)
	return resp, err
}

// Exchange is Do for an operation whose answer matters (a PAS Claim/$submit): it also
// returns the body of a 2xx answer, at most max bytes of it; a longer body is an error
// (the exchange is then not a success the caller can read). Outside 2xx the body is
// nil and the issues are read as Do reads them.
func (c *Client) Exchange(ctx context.Context, method, path string, body []byte, header http.Header, max int64) (*Response, []byte, error) {
	return c.exchange(ctx, method, path, body, header, max)
}

// ErrAnswerTooLarge is returned by [Client.Exchange] for a 2xx answer longer than its max.
var ErrAnswerTooLarge = errors.New("fhir client: answer too large")

func (c *Client) exchange(ctx context.Context, method, path string, body []byte, header http.Header, keep int64) (*Response, []byte, error) {
	if c.HTTP == nil {
		return nil, nil, errors.New("fhir client: nil HTTP client")
	}
	target := strings.TrimRight(c.Base, "/")
	if path != "" {
		target += "/" + path
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("fhir client: %w", err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	if len(body) > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", fhirJSON)
	}
	req.Header.Set("Accept", mediaFHIRJSON)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("fhir client: %s %s: %w", method, or(path, "base"), err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		_ = resp.Body.Close()
	}()
	out := &Response{Status: resp.StatusCode, StatusLine: resp.Status, Header: resp.Header}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		out.Issues = outcomeIssues(b)
		return out, nil, nil
	}
	if keep <= 0 {
		return out, nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, keep+1))
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("fhir client: %s %s: reading the answer: %w", method, or(path, "base"), err)
	case int64(len(b)) > keep:
		return nil, nil, fmt.Errorf("%w: %s %s: more than %d bytes", ErrAnswerTooLarge, method, or(path, "base"), keep)
	}
	return out, b, nil
}

// Create POSTs resource (JSON) as a new typ resource to Base and returns the HTTP
// status and the Location header. idempotencyKey, when not empty, is sent as the
// Idempotency-Key header so that a server that honours it stores a redelivered
// resource once. Network failures are returned wrapped; answers outside 2xx are
// *StatusError.
func (c *Client) Create(ctx context.Context, typ string, resource []byte, idempotencyKey string) (status int, location string, err error) {
	if !ValidResourceType(typ) {
		return 0, "", fmt.Errorf("fhir client: invalid resource type %q", typ)
	}
	h := http.Header{"Prefer": {"return=minimal"}}
	if idempotencyKey != "" {
		h.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := c.Do(ctx, http.MethodPost, typ, resource, h)
	if err != nil {
		return 0, "", err
	}
	if resp.Status >= 200 && resp.Status < 300 {
		loc := resp.Header.Get("Location")
		if loc == "" {
			loc = resp.Header.Get("Content-Location")
		}
		return resp.Status, loc, nil
	}
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	wait, _ := ParseRetryAfter(resp.Header.Get("Retry-After"), now())
	return resp.Status, "", &StatusError{Status: resp.Status, RetryAfter: wait, Issues: resp.Issues}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ParseRetryAfter reads a Retry-After header value (RFC 9110 §10.2.3): delay-seconds
// or an HTTP-date, which is turned into a wait from now. A date in the past is a wait
// of zero. ok is false when the value is absent or malformed.
func ParseRetryAfter(v string, now time.Time) (wait time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		const maxSeconds = uint64(1<<63-1) / uint64(time.Second)
		n, err := strconv.ParseUint(v, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			n, err = maxSeconds, nil // absurdly long; callers cap their waits anyway
		}
		if err != nil {
			return 0, false
		}
		return time.Duration(min(n, maxSeconds)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// outcomeIssues reads the issues of an OperationOutcome body; nil for anything else.
func outcomeIssues(body []byte) []Issue {
	var o struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Severity    string   `json:"severity"`
			Code        string   `json:"code"`
			Diagnostics string   `json:"diagnostics"`
			Expression  []string `json:"expression"`
		} `json:"issue"`
	}
	if json.Unmarshal(body, &o) != nil || o.ResourceType != "OperationOutcome" {
		return nil
	}
	out := make([]Issue, 0, len(o.Issue))
	for _, is := range o.Issue {
		i := Issue{Severity: is.Severity, Code: is.Code, Diagnostics: is.Diagnostics}
		if len(is.Expression) > 0 {
			i.Expression = is.Expression[0]
		}
		out = append(out, i)
	}
	return out
}

// ValidResourceType reports whether s can be a FHIR resource type name: an upper-case
// letter followed by letters, at most 64 in all, as in "DiagnosticReport".
func ValidResourceType(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
