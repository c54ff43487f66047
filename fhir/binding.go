package fhir

import (
	"fmt"
	"net/http"
	"strings"
)

// binding is a required value-set binding on a top-level code element.
type binding struct {
	element  string // FHIRPath, e.g. "ServiceRequest.status"
	valueSet string // canonical URL of the value set
	codes    string // the allowed codes, "|"-separated
}

// Required bindings of R4 (https://hl7.org/fhir/R4/terminologies.html#required) on
// the top-level codes of the resources this server takes in. The google/fhir gate
// enforces them too (as proto enums); checking them here first gives a clearer
// diagnostic that lists the allowed codes.
const (
	codesRequestStatus   = "draft|active|on-hold|revoked|completed|entered-in-error|unknown"
	codesRequestIntent   = "proposal|plan|directive|order|original-order|reflex-order|filler-order|instance-order|option"
	codesRequestPriority = "routine|urgent|asap|stat"
	codesReportStatus    = "registered|partial|preliminary|final|amended|corrected|appended|cancelled|entered-in-error|unknown"
	codesTaskStatus      = "draft|requested|received|accepted|rejected|ready|cancelled|in-progress|on-hold|failed|completed|entered-in-error"
	codesTaskIntent      = "unknown|proposal|plan|order|original-order|reflex-order|filler-order|instance-order|option"
	codesSubStatus       = "requested|active|error|off"
)

// checkBindings returns an issue for every top-level code in f outside its required
// binding. Types without listed bindings pass.
func checkBindings(f facts, prefix string) []Issue {
	var out []Issue
	check := func(value string, b binding) {
		if value == "" || inCodes(b.codes, value) {
			return
		}
		out = append(out, Issue{
			Severity:   "error",
			Code:       "code-invalid",
			Expression: joinPath(prefix, b.element),
			Diagnostics: fmt.Sprintf("%q is not in the required value set %s (%s)",
				value, b.valueSet, strings.ReplaceAll(b.codes, "|", " | ")),
		})
	}
	vs := func(name string) string { return "http://hl7.org/fhir/ValueSet/" + name + "|4.0.1" }
	switch f.ResourceType {
	case "ServiceRequest":
		check(f.Status, binding{"status", vs("request-status"), codesRequestStatus})
		check(f.Intent, binding{"intent", vs("request-intent"), codesRequestIntent})
		check(f.Priority, binding{"priority", vs("request-priority"), codesRequestPriority})
	case "DiagnosticReport":
		check(f.Status, binding{"status", vs("diagnostic-report-status"), codesReportStatus})
	case "Task":
		check(f.Status, binding{"status", vs("task-status"), codesTaskStatus})
		check(f.Intent, binding{"intent", vs("task-intent"), codesTaskIntent})
		check(f.Priority, binding{"priority", vs("request-priority"), codesRequestPriority})
	case "Subscription":
		check(f.Status, binding{"status", vs("subscription-status"), codesSubStatus})
	}
	return out
}

// inCodes reports whether code is one of the "|"-separated codes (case-sensitive,
// as FHIR codes are).
func inCodes(codes, code string) bool {
	for c := range strings.SplitSeq(codes, "|") {
		if c == code {
			return true
		}
	}
	return false
}

// joinPath joins a path prefix ("Bundle.entry[2].resource", or the resource type)
// and a relative element path.
func joinPath(prefix, rel string) string {
	switch {
	case prefix == "":
		return rel
	case rel == "":
		return prefix
	case rel[0] == '[':
		return prefix + rel
	}
	return prefix + "." + rel
}

// unprocessable wraps validation issues as a 422.
func unprocessable(issues []Issue) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Issues: issues}
}
