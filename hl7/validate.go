package hl7

import (
	"strings"
)

// timestampFields lists fields of type TS/DTM that Validate checks, by segment ID.
var timestampFields = map[string][]int{
	"MSH": {7},
	"EVN": {2, 3, 6},
	"PID": {7, 29},
	"PV1": {44, 45},
	"ORC": {9, 15},
	"OBR": {6, 7, 8, 14, 22},
	"OBX": {12, 14, 19},
	"TQ1": {7, 8},
	"DG1": {5},
}

// Validate reports what is wrong with the message that Parse could tolerate: required MSH
// fields missing (MSH-9, MSH-10, MSH-12: code 101, error), MSH-7 and MSH-11 missing
// (warning), a version HL7 never published (203), and malformed timestamps in the common
// TS/DTM fields (102). Problems Parse tolerated (Notes) are included. It never fails; an
// empty result means nothing was found.
func (m *Message) Validate() []Issue {
	out := append([]Issue(nil), m.notes...)
	msh := m.segs[0]
	req := func(field int, sev Severity, what string) {
		if strings.TrimSpace(msh.Field(field).String()) == "" {
			out = append(out, Issue{Location: Location{Segment: "MSH", Field: field}, Code: CodeRequiredField,
				Severity: sev, Text: "MSH-" + itoa(field) + " (" + what + ") is required"})
		}
	}
	if strings.TrimSpace(msh.Field(9).Component(1).String()) == "" {
		out = append(out, Issue{Location: Location{Segment: "MSH", Field: 9}, Code: CodeRequiredField,
			Severity: SeverityError, Text: "MSH-9 (message type) is required"})
	}
	req(10, SeverityError, "message control ID")
	req(12, SeverityError, "version ID")
	req(7, SeverityWarning, "date/time of message")
	req(11, SeverityWarning, "processing ID")
	if v := strings.TrimSpace(msh.Field(12).Component(1).String()); v != "" && !KnownVersion(v) {
		out = append(out, Issue{Location: Location{Segment: "MSH", Field: 12}, Code: CodeUnsupportedVersion,
			Severity: SeverityError, Text: "MSH-12 version " + quote(v) + " is not an HL7 v2 version"})
	}
	occ := map[string]int{}
	for _, s := range m.segs {
		name := s.Name()
		occ[name]++
		for _, f := range timestampFields[name] {
			v := s.Field(f)
			if v.IsEmpty() || v.IsNull() {
				continue
			}
			if _, _, err := v.Time(nil); err != nil {
				out = append(out, Issue{Location: Location{Segment: name, Occurrence: occ[name], Field: f},
					Code: CodeDataType, Severity: SeverityError,
					Text: name + "-" + itoa(f) + " is not a valid timestamp: " + quote(v.String())})
			}
		}
	}
	return out
}

// KnownVersion reports whether v is a published HL7 v2 version (2.1 to 2.8.2).
func KnownVersion(v string) bool {
	switch v {
	case "2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2":
		return true
	}
	return false
}
