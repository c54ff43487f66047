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

// Create POSTs resource (JSON) as a new typ resource to Base and returns the HTTP
// status and the Location header. idempotencyKey, when not empty, is sent as the
// Idempotency-Key header so that a server that honours it stores a redelivered
// resource once. Network failures are returned wrapped; answers outside 2xx are
// *StatusError. The response body is always drained and closed.
func (c *Client) Create(ctx context.Context, typ string, resource []byte, idempotencyKey string) (status int, location string, err error) {
	if c.HTTP == nil {
		return 0, "", errors.New("fhir client: nil HTTP client")
	}
	if typ == "" || !validTypeName(typ) {
		return 0, "", fmt.Errorf("fhir client: invalid resource type %q", typ)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.Base, "/")+"/"+typ, bytes.NewReader(resource))
	if err != nil {
		return 0, "", fmt.Errorf("fhir client: %w", err)
	}
	req.Header.Set("Content-Type", fhirJSON)
	req.Header.Set("Accept", mediaFHIRJSON)
	req.Header.Set("Prefer", "return=minimal")
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("fhir client: post %s: %w", typ, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		loc := resp.Header.Get("Location")
		if loc == "" {
			loc = resp.Header.Get("Content-Location")
		}
		return resp.StatusCode, loc, nil
	}
	se := &StatusError{Status: resp.StatusCode, RetryAfter: c.retryAfter(resp.Header.Get("Retry-After"))}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	se.Issues = outcomeIssues(body)
	return resp.StatusCode, "", se
}

// retryAfter parses Retry-After: delay-seconds or an HTTP date.
func (c *Client) retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	return max(0, t.Sub(now()))
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

// validTypeName reports whether s looks like a FHIR resource type name.
func validTypeName(s string) bool {
	if s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
