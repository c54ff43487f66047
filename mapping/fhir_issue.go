package mapping

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// FHIRSeverity is an OperationOutcome.issue.severity code (FHIR R4 issue-severity).
type FHIRSeverity string

// The FHIR issue severities.
const (
	FHIRFatal       FHIRSeverity = "fatal"
	FHIRError       FHIRSeverity = "error"
	FHIRWarning     FHIRSeverity = "warning"
	FHIRInformation FHIRSeverity = "information"
)

// The OperationOutcome.issue.code values (FHIR R4 issue-type) the FHIR mapping reports.
const (
	FHIRCodeStructure    = "structure"     // not JSON, or not a FHIR resource
	FHIRCodeRequired     = "required"      // a required element is missing
	FHIRCodeValue        = "value"         // an element's value is not usable
	FHIRCodeNotSupported = "not-supported" // a resource type or element the mapping does not read
	FHIRCodeNotFound     = "not-found"     // a reference that resolves to nothing given
	FHIRCodeInformation  = "informational"
)

// FHIRIssue is one finding of the FHIR mapping, shaped as an OperationOutcome issue so that
// the FHIR API can return it as it is. Issues are data, not errors: the mapping keeps
// going and leaves what it cannot read empty.
type FHIRIssue struct {
	Severity FHIRSeverity `json:"severity"`
	// Code is an issue-type code, one of the FHIRCode constants.
	Code string `json:"code"`
	// Expression is a FHIRPath to the element, e.g. "ServiceRequest.subject" or, for a
	// resource in a Bundle, "Bundle.entry[2].resource.subject"; empty for the whole input.
	Expression string `json:"expression,omitempty"`
	// Diagnostics says what was wrong and what the mapping did about it.
	Diagnostics string `json:"diagnostics"`
}

// issues collects FHIR issues for one resource; base is the FHIRPath of the resource.
type issues struct {
	base string
	list []FHIRIssue
}

func (is *issues) add(sev FHIRSeverity, code, path, text string) {
	expr := is.base
	if path != "" {
		expr += "." + path
	}
	is.list = append(is.list, FHIRIssue{Severity: sev, Code: code, Expression: expr, Diagnostics: text})
}

// rebase rewrites the expressions of list from the resource type to the resource's place
// in a Bundle: "ServiceRequest.subject" becomes "Bundle.entry[2].resource.subject".
func rebase(list []FHIRIssue, from, to string) []FHIRIssue {
	for i := range list {
		if rest, ok := strings.CutPrefix(list[i].Expression, from); ok {
			list[i].Expression = to + rest
		}
	}
	return list
}

// fhirTime formats t as a FHIR dateTime or instant; "" for the zero time.
func fhirTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// parseFHIRTime reads a FHIR dateTime (YYYY, YYYY-MM, YYYY-MM-DD, or a full time with a
// zone); dates read as midnight UTC. It reports false for anything else.
func parseFHIRTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// enumOf reads a FHIR code into one of the generated enum types of the samply models,
// which decode themselves from JSON strings. It reports false for a code outside the
// value set.
func enumOf[T any, PT interface {
	*T
	UnmarshalJSON([]byte) error
}](code string) (T, bool) {
	var v T
	b, err := json.Marshal(code)
	if err != nil {
		return v, false
	}
	if err := PT(&v).UnmarshalJSON(b); err != nil {
		return v, false
	}
	return v, true
}

// uuidNamespace is the namespace of radbridge's name-based UUIDs: the version 5 UUID of
// the URL https://github.com/radbridge/radbridge in the RFC 9562 URL namespace.
var uuidNamespace = func() [16]byte {
	url := [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	return uuid5(url, "https://github.com/radbridge/radbridge")
}()

// nameUUID returns a version 5 (SHA-1, name-based) UUID of the parts, so that the same
// content always gets the same id: Bundle fullUrls and report ids are stable.
func nameUUID(parts ...string) string {
	u := uuid5(uuidNamespace, strings.Join(parts, "\x00"))
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

func uuid5(ns [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return u
}
