package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Media types. Responses always use fhirJSON.
const (
	mediaFHIRJSON = "application/fhir+json"
	fhirJSON      = mediaFHIRJSON + "; charset=utf-8"
)

// detailSystem is the code system of Issue.Details codes (radbridge finding codes).
const detailSystem = "urn:radbridge:issue"

// outcomeJSON is the JSON form of an OperationOutcome
// (https://hl7.org/fhir/R4/operationoutcome.html).
type outcomeJSON struct {
	ResourceType string      `json:"resourceType"`
	Issue        []issueJSON `json:"issue"`
}

type issueJSON struct {
	Severity    string       `json:"severity"`
	Code        string       `json:"code"`
	Details     *conceptJSON `json:"details,omitempty"`
	Diagnostics string       `json:"diagnostics,omitempty"`
	Expression  []string     `json:"expression,omitempty"`
}

type conceptJSON struct {
	Coding []codingJSON `json:"coding,omitempty"`
	Text   string       `json:"text,omitempty"`
}

type codingJSON struct {
	System string `json:"system,omitempty"`
	Code   string `json:"code,omitempty"`
}

// newOutcome renders issues as an OperationOutcome. An OperationOutcome needs at least
// one issue, so an empty list becomes one information issue.
func newOutcome(issues []Issue) *outcomeJSON {
	o := &outcomeJSON{ResourceType: "OperationOutcome", Issue: make([]issueJSON, 0, max(1, len(issues)))}
	for _, is := range issues {
		j := issueJSON{Severity: is.Severity, Code: is.Code, Diagnostics: is.Diagnostics}
		if j.Severity == "" {
			j.Severity = "error"
		}
		if j.Code == "" {
			j.Code = "processing"
		}
		if is.Expression != "" {
			j.Expression = []string{is.Expression}
		}
		if is.Details != "" {
			j.Details = &conceptJSON{Coding: []codingJSON{{System: detailSystem, Code: is.Details}}}
		}
		o.Issue = append(o.Issue, j)
	}
	if len(o.Issue) == 0 {
		o.Issue = append(o.Issue, issueJSON{Severity: "information", Code: "informational", Diagnostics: "ok"})
	}
	return o
}

// errorf returns an *Error with one error issue.
func errorf(status int, code, expression, format string, args ...any) *Error {
	return &Error{Status: status, Issues: []Issue{{
		Severity: "error", Code: code, Expression: expression, Diagnostics: fmt.Sprintf(format, args...),
	}}}
}

// defaultCode is the issue code for an *Error that carries no issues.
func defaultCode(status int) string {
	switch status {
	case http.StatusNotFound, http.StatusGone:
		return "not-found"
	case http.StatusConflict, http.StatusPreconditionFailed:
		return "conflict"
	case http.StatusRequestEntityTooLarge:
		return "too-long"
	case http.StatusMethodNotAllowed, http.StatusNotAcceptable, http.StatusUnsupportedMediaType:
		return "not-supported"
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return "invalid"
	case http.StatusTooManyRequests:
		return "throttled"
	}
	return "processing"
}

// writeJSON writes v as a FHIR JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only our own types are marshalled; this is a programming error
		status = http.StatusInternalServerError
		b = []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"exception","diagnostics":"response encoding failed"}]}`)
	}
	writeRaw(w, status, b)
}

// writeRaw writes a ready JSON body.
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", fhirJSON)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b) // a failed write means the client is gone; nothing to do
}

// WriteError answers e as an OperationOutcome with status e.Status (500 when it is
// not a 4xx or 5xx status), as the Handler answers its own errors. It is for
// middleware in front of the Handler that refuses a request before it reaches it.
func WriteError(w http.ResponseWriter, e *Error) { writeError(w, e) }

// writeError answers e as an OperationOutcome.
func writeError(w http.ResponseWriter, e *Error) {
	status := e.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	issues := e.Issues
	if len(issues) == 0 {
		issues = []Issue{{Severity: "error", Code: defaultCode(status), Diagnostics: http.StatusText(status)}}
	}
	writeJSON(w, status, newOutcome(issues))
}

// fail answers err from the backend (or from the handler itself) as an
// OperationOutcome; see outcomeOf.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, op string, err error) {
	writeError(w, h.outcomeOf(r, op, err))
}

// outcomeOf maps an error to a status and issues: *Error as it is, ErrNotFound as
// 404, anything else as 500 with a generic issue; the text of an unexpected error is
// logged, never returned.
func (h *Handler) outcomeOf(r *http.Request, op string, err error) *Error {
	var fe *Error
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.Is(err, ErrNotFound):
		return errorf(http.StatusNotFound, "not-found", "", "resource not found")
	case r.Context().Err() != nil && errors.Is(err, context.Canceled):
		h.log.DebugContext(r.Context(), "fhir request cancelled", slog.String("op", op))
		return errorf(http.StatusServiceUnavailable, "transient", "", "request cancelled")
	}
	h.log.ErrorContext(r.Context(), "fhir backend failed", slog.String("op", op), slog.Any("err", err))
	return &Error{Status: http.StatusInternalServerError, Issues: []Issue{{
		Severity: "fatal", Code: "exception", Diagnostics: "internal error; the server log has details",
	}}}
}
