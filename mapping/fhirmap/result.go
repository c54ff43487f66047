package fhirmap

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/radbridge/radbridge/order"
)

// FHIRResult is a result read from a DiagnosticReport, with what identifies its order.
type FHIRResult struct {
	Result order.Result
	// BasedOn are the ids of the ServiceRequests the report names in basedOn
	// ("ServiceRequest/{id}", relative or absolute).
	BasedOn []string
	// Identifiers are the values of the report's identifiers and of the identifiers on
	// its basedOn references: placer, filler or accession numbers.
	Identifiers []string
}

// FromFHIRDiagnosticReport reads a DiagnosticReport as an order result:
//
//	Result.ID        identifier[0].value (else the resource id)
//	Result.Status    status (registered and partial read as preliminary; amended
//	                 and appended as corrected)
//	Result.Text      conclusion, else the text/plain presentedForm, else text.div
//	                 without markup
//	Result.Presented the non-text presentedForm attachments (a PDF, say), decoded
//	Observations     conclusionCode, one observation each (CWE)
//	Interpreter      resultsInterpreter[0]: its NPI identifier and display
//	Issued           issued
//
// It never fails: what cannot be read is an issue.
func FromFHIRDiagnosticReport(data []byte) (FHIRResult, []FHIRIssue) {
	var out FHIRResult
	var dr fhir.DiagnosticReport
	if err := json.Unmarshal(data, &dr); err != nil {
		return out, []FHIRIssue{{Severity: FHIRError, Code: FHIRCodeStructure, Diagnostics: "not a DiagnosticReport: " + err.Error()}}
	}
	var issues []FHIRIssue
	r := &out.Result
	for _, id := range dr.Identifier {
		if id.Value != nil && *id.Value != "" {
			if r.ID == "" {
				r.ID = *id.Value
			}
			out.Identifiers = append(out.Identifiers, *id.Value)
		}
	}
	if r.ID == "" && dr.Id != nil {
		r.ID = *dr.Id
	}
	status := dr.Status.Code()
	switch status {
	case "registered", "partial":
		status = "preliminary"
	}
	if s, ok := order.ParseResultStatus(status); ok {
		r.Status = s
	} else {
		issues = append(issues, FHIRIssue{Severity: FHIRError, Code: FHIRCodeValue, Expression: "DiagnosticReport.status",
			Diagnostics: "status " + quote(status) + " is not a result status"})
	}
	for _, ref := range dr.BasedOn {
		if ref.Reference != nil {
			if i := strings.LastIndex(*ref.Reference, "ServiceRequest/"); i >= 0 {
				out.BasedOn = append(out.BasedOn, strings.SplitN((*ref.Reference)[i+len("ServiceRequest/"):], "/", 2)[0])
			}
		}
		if ref.Identifier != nil && ref.Identifier.Value != nil {
			out.Identifiers = append(out.Identifiers, *ref.Identifier.Value)
		}
	}
	if dr.Conclusion != nil {
		r.Text = *dr.Conclusion
	}
	for i, a := range dr.PresentedForm {
		ct := ""
		if a.ContentType != nil {
			ct = *a.ContentType
		}
		var body []byte
		if a.Data != nil {
			b, err := base64.StdEncoding.DecodeString(*a.Data)
			if err != nil {
				issues = append(issues, FHIRIssue{Severity: FHIRWarning, Code: FHIRCodeValue,
					Expression: "DiagnosticReport.presentedForm[" + strconv.Itoa(i) + "].data", Diagnostics: "data is not base64; the attachment is left out"})
				continue
			}
			body = b
		}
		if strings.HasPrefix(ct, "text/plain") {
			if r.Text == "" {
				r.Text = string(body)
			}
			continue
		}
		if len(body) > 0 {
			title := ""
			if a.Title != nil {
				title = *a.Title
			}
			r.Presented = append(r.Presented, order.Attachment{ContentType: ct, Title: title, Data: body})
		}
	}
	if r.Text == "" && dr.Text != nil {
		r.Text = stripTags(dr.Text.Div)
	}
	for _, cc := range dr.ConclusionCode {
		if len(cc.Coding) > 0 { // the first coding of each conclusion code
			c := cc.Coding[0]
			ob := order.Observation{ValueType: "CWE", Status: string(r.Status)}
			if c.Code != nil {
				ob.Code, ob.Value = *c.Code, *c.Code
			}
			if c.System != nil {
				ob.System = *c.System
			}
			if c.Display != nil {
				ob.Text = *c.Display
			}
			r.Observations = append(r.Observations, ob)
		}
	}
	if len(dr.ResultsInterpreter) > 0 {
		ref := dr.ResultsInterpreter[0]
		if ref.Display != nil {
			r.Interpreter.Family = *ref.Display
		}
		if ref.Identifier != nil && ref.Identifier.Value != nil {
			if ref.Identifier.System != nil && *ref.Identifier.System == "http://hl7.org/fhir/sid/us-npi" {
				r.Interpreter.NPI = *ref.Identifier.Value
			} else {
				r.Interpreter.ID = *ref.Identifier.Value
			}
		}
	}
	if dr.Issued != nil {
		if t, err := time.Parse(time.RFC3339Nano, *dr.Issued); err == nil {
			r.Issued = t
		}
	}
	if r.Text == "" && len(r.Presented) == 0 && len(r.Observations) == 0 {
		issues = append(issues, FHIRIssue{Severity: FHIRWarning, Code: FHIRCodeRequired, Expression: "DiagnosticReport.conclusion",
			Diagnostics: "the report carries no text, attachment or coded conclusion"})
	}
	return out, issues
}

// stripTags returns the text of an XHTML fragment without its markup.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, c := range s {
		switch {
		case c == '<':
			in = true
		case c == '>':
			in = false
		case !in:
			b.WriteRune(c)
		}
	}
	return strings.TrimSpace(b.String())
}
