package fhirmap

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
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

// quote quotes a value for an issue's diagnostics, cut after 40 bytes.
func quote(s string) string {
	if len(s) > 40 {
		cut := 40
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return `"` + s + `"`
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
// which decode themselves from JSON strings (codes have no quotes or backslashes). It reports false for a code outside the
// value set.
func enumOf[T any, PT interface {
	*T
	UnmarshalJSON([]byte) error
}](code string) (T, bool) {
	var v T
	if code == "" || strings.ContainsAny(code, "\"\\") {
		return v, false
	}
	if err := PT(&v).UnmarshalJSON([]byte(`"` + code + `"`)); err != nil {
		return v, false
	}
	return v, true
}

// nameUUID returns a version 5 (SHA-1, name-based) UUID of the parts, so that the same
// content always gets the same id: Bundle fullUrls and report ids are stable. The
// namespace is the version 5 UUID of https://github.com/radbridge/radbridge in the
// RFC 9562 URL namespace, 8aa60274-f362-521b-ab51-9ad41b9187fc (TestNameUUID checks it).
func nameUUID(parts ...string) string {
	ns := [16]byte{0x8a, 0xa6, 0x02, 0x74, 0xf3, 0x62, 0x52, 0x1b, 0xab, 0x51, 0x9a, 0xd4, 0x1b, 0x91, 0x87, 0xfc}
	return formatUUID(uuid5(ns, strings.Join(parts, "\x00")))
}

// formatUUID writes u in the 8-4-4-4-12 form.
func formatUUID(u [16]byte) string {
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
