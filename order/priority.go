package order

import "strings"

// Priority is the requested urgency of an order, with the FHIR request-priority codes.
type Priority string

// The priorities. The zero value means none was sent.
const (
	PriorityUnset   Priority = ""
	PriorityRoutine Priority = "routine"
	PriorityUrgent  Priority = "urgent"
	PriorityASAP    Priority = "asap"
	PriorityStat    Priority = "stat"
)

// ParsePriority reads a priority, case-insensitively, from a FHIR request-priority code
// (routine, urgent, asap, stat) or an HL7 v2 priority (table 0027, in TQ1-9, ORC-7.6 or
// OBR-27.6):
//
//	S   stat            -> stat
//	A   ASAP            -> asap
//	R   routine         -> routine
//	T   timing critical -> urgent   (must happen at a set time: treated as expedited)
//	P   preop           -> urgent   (needed before a scheduled surgery)
//	C   callback        -> routine  (concerns how results are reported, not urgency)
//	PRN as needed       -> routine
//
// It reports false for anything else, including the empty string.
func ParsePriority(s string) (Priority, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "ROUTINE", "R", "C", "PRN":
		return PriorityRoutine, true
	case "URGENT", "T", "P":
		return PriorityUrgent, true
	case "ASAP", "A":
		return PriorityASAP, true
	case "STAT", "S":
		return PriorityStat, true
	}
	return PriorityUnset, false
}

// Expedited reports whether p asks for faster than routine handling (urgent, asap or
// stat); prior authorization uses the shorter due-by for such orders.
func (p Priority) Expedited() bool {
	switch p {
	case PriorityUrgent, PriorityASAP, PriorityStat:
		return true
	}
	return false
}
