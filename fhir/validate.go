package fhir

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
)

// gate is the validation gate every inbound resource passes before it reaches the
// Backend. It runs three checks and reports every finding as an OperationOutcome
// issue with a FHIRPath expression:
//
//  1. scan: JSON syntax (400 with line, column and byte offset) and the FHIR JSON
//     rules the R4 parser below lets through: no "", {}, [] or null property values,
//     no repeated properties (https://hl7.org/fhir/R4/json.html);
//  2. required bindings of the top-level codes (ServiceRequest.status/intent/priority,
//     DiagnosticReport.status, Task.status/intent, Subscription.status);
//  3. the google/fhir R4 validating unmarshaller: structure, unknown elements, data
//     types and primitive formats, all required-binding enums, required elements,
//     reference formats, contained resources and Bundle entries.
//
// A gate is safe for concurrent use: jsonformat.Unmarshaller (v0.7.4) keeps only
// read-only configuration after construction, every call uses its own state, and its
// package-level caches are guarded (sync.Map, sync.RWMutex); the race-enabled tests
// validate from many goroutines.
type gate struct {
	um *jsonformat.Unmarshaller
}

func newGate() (*gate, error) {
	um, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
	if err != nil {
		return nil, fmt.Errorf("fhir R4 unmarshaller: %w", err)
	}
	um.MaxNestingDepth = maxDepth
	return &gate{um: um}, nil
}

// check validates data as one resource whose type must be want ("" accepts any type).
// It returns the resource's top-level facts, or an *Error: 400 when the body is not
// JSON, not an object, has no resourceType or one other than want; 422 when it is
// not a valid R4 resource.
func (g *gate) check(data []byte, want string) (facts, *Error) {
	f, scanned, synErr := scan(data)
	if synErr != nil {
		return f, errorf(http.StatusBadRequest, "structure", "", "%s", synErr.Error())
	}
	for _, si := range scanned {
		if si.Path == "" { // the root is not an object
			return f, errorf(http.StatusBadRequest, "structure", "", "%s", si.Msg)
		}
	}
	switch {
	case !f.HasResourceType:
		return f, errorf(http.StatusBadRequest, "required", want, "resourceType is missing")
	case f.ResourceType == "":
		return f, errorf(http.StatusBadRequest, "structure", joinPath(want, "resourceType"), "resourceType must be a non-empty string")
	case want != "" && f.ResourceType != want:
		return f, errorf(http.StatusBadRequest, "invalid", "resourceType",
			"resourceType %q does not match the type in the URL (%s)", f.ResourceType, want)
	}
	root := f.ResourceType
	issues := make([]Issue, 0, len(scanned))
	for _, si := range scanned {
		issues = append(issues, Issue{Severity: "error", Code: si.Code, Expression: joinPath(root, si.Path), Diagnostics: si.Msg})
	}
	issues = append(issues, checkBindings(f, root)...)
	if root == "Bundle" {
		issues = append(issues, entryBindings(data)...)
	}
	issues = g.unmarshal(data, root, issues)
	if len(issues) > 0 {
		return f, unprocessable(issues)
	}
	return f, nil
}

// unmarshal runs the google/fhir validating unmarshaller and appends its findings to
// issues, skipping findings at an expression already reported. Findings without a
// path are placed at root.
func (g *gate) unmarshal(data []byte, root string, issues []Issue) []Issue {
	var rep reporter
	_, err := g.um.UnmarshalWithErrorReporter(data, &rep)
	var found []gateFinding
	if err != nil {
		found = findingsOf(err, root)
	}
	for i, e := range rep.errs {
		found = append(found, findingsOf(e, rep.paths[i])...)
	}
	for _, fd := range found {
		is := fd.issue()
		if !hasExpression(issues, is.Expression) {
			issues = append(issues, is)
		}
	}
	return issues
}

func hasExpression(issues []Issue, expr string) bool {
	for _, is := range issues {
		if is.Expression == expr {
			return true
		}
	}
	return false
}

// reporter collects the validation errors google/fhir reports (required elements,
// id, reference and primitive formats). Its warnings are dropped: they do not make a
// resource invalid and the success responses have no place for them.
type reporter struct {
	paths []string
	errs  []error
}

func (r *reporter) ReportValidationError(path string, err error) error {
	r.paths = append(r.paths, path)
	r.errs = append(r.errs, err)
	return nil
}

func (r *reporter) ReportValidationWarning(string, error) error { return nil }

// gateFinding is one google/fhir error: the element path in its notation
// ("Bundle.entry[0].resource.ServiceRequest.status"), a short category ("code type
// mismatch", `missing required field "status"`, "unknown field", ...) and details.
type gateFinding struct {
	path, details, diagnostics string
}

// findingsOf extracts findings from a google/fhir error. Its error types
// (jsonpbhelper.UnmarshalError and UnmarshalErrorList) live in an internal package,
// so their exported Path, Details and Diagnostics fields are read by reflection; an
// error of any other shape becomes one finding carrying its text.
func findingsOf(err error, path string) []gateFinding {
	var out []gateFinding
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Slice {
		for i := range v.Len() {
			if fd, ok := findingOf(v.Index(i)); ok {
				out = append(out, fd)
			}
		}
	} else if fd, ok := findingOf(v); ok {
		out = append(out, fd)
	}
	if len(out) == 0 {
		out = append(out, gateFinding{details: err.Error()})
	}
	for i := range out {
		if out[i].path == "" {
			out[i].path = path
		}
	}
	return out
}

func findingOf(v reflect.Value) (gateFinding, bool) {
	if v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return gateFinding{}, false
	}
	e := v.Elem()
	field := func(name string) (string, bool) {
		f := e.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.String {
			return "", false
		}
		return f.String(), true
	}
	details, ok := field("Details")
	if !ok {
		return gateFinding{}, false
	}
	path, _ := field("Path")
	diag, _ := field("Diagnostics")
	return gateFinding{path: path, details: details, diagnostics: diag}, true
}

// issue maps a finding to an OperationOutcome issue: the path becomes FHIRPath (the
// resource-type step google/fhir inserts after Bundle.entry.resource and contained
// is dropped), a missing or unknown element is appended to the path, and the
// category picks the issue code. The categories are google/fhir v0.7.4 wording,
// pinned by TestGate_Check_Expressions.
func (fd gateFinding) issue() Issue {
	expr := fhirPath(fd.path)
	code := "value"
	switch {
	case strings.HasPrefix(fd.details, `missing required field "`):
		code = "required"
		expr = joinPath(expr, strings.TrimSuffix(strings.TrimPrefix(fd.details, `missing required field "`), `"`))
	case fd.details == "unknown field":
		code = "structure"
		if name, err := strconv.Unquote(fd.diagnostics); err == nil {
			expr = joinPath(expr, name)
		}
	case fd.details == "code type mismatch":
		code = "code-invalid"
	case fd.details == "invalid JSON", strings.HasPrefix(fd.details, "expected array"),
		strings.HasPrefix(fd.details, "unknown resource type"):
		code = "structure"
	}
	diag := fd.details
	if fd.diagnostics != "" {
		diag += ": " + fd.diagnostics
	}
	return Issue{Severity: "error", Code: code, Expression: expr, Diagnostics: diag}
}

// fhirPath turns a google/fhir element path into FHIRPath by dropping the resource
// type step after a resource slot: "Bundle.entry[3].resource.ServiceRequest.status"
// becomes "Bundle.entry[3].resource.status".
func fhirPath(p string) string {
	if !strings.Contains(p, "resource.") && !strings.Contains(p, "contained[") && !strings.Contains(p, "outcome.") {
		return p
	}
	segs := strings.Split(p, ".")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		if i > 0 && resourceSlot(segs[i-1]) && !strings.Contains(s, "[") {
			continue
		}
		out = append(out, s)
	}
	return strings.Join(out, ".")
}

// resourceSlot reports whether an element holds a whole resource.
func resourceSlot(seg string) bool {
	name, _, _ := strings.Cut(seg, "[")
	return name == "resource" || name == "contained" || name == "outcome"
}
