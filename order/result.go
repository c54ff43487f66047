package order

import (
	"strings"
	"time"
)

// ResultStatus is the status of one version of a result (report).
type ResultStatus string

// The result statuses.
const (
	ResultPreliminary ResultStatus = "preliminary"
	ResultFinal       ResultStatus = "final"
	// ResultCorrected is a final result that replaces an earlier one.
	ResultCorrected ResultStatus = "corrected"
	// ResultCancelled means no result will come: the exam was cancelled by the filler.
	ResultCancelled ResultStatus = "cancelled"
	// ResultEnteredInError retracts an earlier result with the same ID.
	ResultEnteredInError ResultStatus = "entered-in-error"
)

// ParseResultStatus reads a result status, case-insensitively, from HL7 v2 OBR-25
// (table 0123) or OBX-11 (table 0085), or from FHIR DiagnosticReport.status:
//
//	P preliminary, A some results available, R not verified,
//	partial, preliminary                              -> preliminary
//	F final, U changed to final without retransmission,
//	final                                             -> final
//	C correction, corrected, amended, appended        -> corrected
//	X cancelled / cannot be obtained, cancelled       -> cancelled
//	W posted wrong, D deleted, entered-in-error       -> entered-in-error
//
// It reports false for anything else, including the codes that mean "no result yet"
// (O, I, S, Y, Z, FHIR registered): they are not results. S is also refused because it
// means "scheduled" in OBR-25 but "partial" in OBX-11.
func ParseResultStatus(s string) (ResultStatus, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "P", "A", "R", "PARTIAL", "PRELIMINARY":
		return ResultPreliminary, true
	case "F", "U", "FINAL":
		return ResultFinal, true
	case "C", "CORRECTED", "AMENDED", "APPENDED":
		return ResultCorrected, true
	case "X", "CANCELLED":
		return ResultCancelled, true
	case "W", "D", "ENTERED-IN-ERROR":
		return ResultEnteredInError, true
	}
	return "", false
}

// Result is one version of a radiology report (ORU^R01 OBR/OBX / DiagnosticReport).
// Versions of the same report share an ID.
type Result struct {
	// ID identifies the report across versions: the filler's report or accession id
	// (OBR-3 or OBR-18) or the DiagnosticReport identifier. An empty ID never matches
	// another result.
	ID     string       `json:"id,omitempty"`
	Status ResultStatus `json:"status,omitempty"`
	// Text is the narrative report (TX/FT OBX values joined / presentedForm text).
	Text string `json:"text,omitempty"`
	// Observations are the coded parts: impressions, findings, measurements.
	Observations []Observation `json:"observations,omitempty"`
	// Interpreter is the radiologist (OBR-32 / DiagnosticReport.resultsInterpreter).
	Interpreter Provider `json:"interpreter,omitzero"`
	// Issued is when this version was released (OBR-22 / DiagnosticReport.issued).
	Issued time.Time `json:"issued,omitzero"`
	// MessageID is the engine's id of the message that carried this version.
	MessageID string `json:"message_id,omitempty"`
	// Presented holds rendered forms of the report, such as a PDF (OBX ED /
	// DiagnosticReport.presentedForm).
	Presented []Attachment `json:"presented_form,omitempty"`
}

// Observation is one OBX / Observation of a result.
type Observation struct {
	// ID is the OBX-4 sub-id or the Observation id.
	ID     string `json:"id,omitempty"`
	Code   string `json:"code,omitempty"`
	System string `json:"system,omitempty"`
	Text   string `json:"text,omitempty"`
	// ValueType is the v2 data type of Value (OBX-2), e.g. "TX", "FT", "CWE", "NM".
	ValueType string `json:"value_type,omitempty"`
	Value     string `json:"value,omitempty"`
	Units     string `json:"units,omitempty"`
	// Status is the observation status as sent (OBX-11 / Observation.status).
	Status string `json:"status,omitempty"`
}

// Attachment is a rendered document, such as a PDF report (FHIR Attachment).
type Attachment struct {
	ContentType string `json:"content_type,omitempty"`
	Title       string `json:"title,omitempty"`
	// Data is the document itself; it marshals to JSON as base64.
	Data []byte `json:"data,omitempty"`
}

// CurrentResults returns the latest version of each report, in the order the reports
// first arrived. A retracted report is returned as its entered-in-error version. The
// results share their Observations and Presented slices with o: do not modify them.
func (o *Order) CurrentResults() []Result {
	var out []Result
	at := map[string]int{}
	for _, r := range o.Results {
		if i, ok := at[r.ID]; ok && r.ID != "" {
			out[i] = r
			continue
		}
		at[r.ID] = len(out)
		out = append(out, r)
	}
	return out
}

// latestResult returns the latest version of the report id.
func (o *Order) latestResult(id string) (Result, bool) {
	if id == "" {
		return Result{}, false
	}
	for i := len(o.Results) - 1; i >= 0; i-- {
		if o.Results[i].ID == id {
			return o.Results[i], true
		}
	}
	return Result{}, false
}
