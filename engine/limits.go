package engine

import (
	"strconv"
	"unicode/utf8"

	"github.com/radbridge/radbridge/hl7"
)

// Limits on the values of an HL7 v2 message that key stored records or find them:
// checked before anything reaches the store, so that a value no store can take as a key
// (bbolt's keys end at 32 KiB) is a rejection the sender can read, never a failure that
// leaves it without an acknowledgment, resending for ever. Each is the length HL7 gives
// the value, in characters (HL7 v2.5.1 chapter 2A, data types); a longer value is AR
// with ERR 104 (value too long) at its location.
//
// MSH-10 is bounded by hl7.MaxControlIDLength (199, whose comment says why for every
// version).
const (
	// MaxIdentifierLength bounds the order numbers an order is keyed and matched by:
	// placer and filler numbers (ORC-2.1, ORC-3.1, OBR-2.1, OBR-3.1) and the accession
	// number (IPC-1.1, OBR-18.1). They are the first component of an EI, Entity
	// Identifier, an ST of 199 (v2.5.1 section 2.A.28; the whole EI is 427: 199, 20 for
	// the namespace ID, 199 for the universal ID, 6 for its type, and the separators).
	MaxIdentifierLength = 199
	// MaxSenderLength bounds MSH-3 and MSH-4, the sending application and facility,
	// which key a sender's messages and orders: an HD, Hierarchic Designator, is 227
	// (v2.5.1 section 2.A.33: 20 for the namespace ID, 199 for the universal ID, 6 for
	// its type, and the separators).
	MaxSenderLength = 227
	// DefaultMaxOrdersPerMessage is Config.MaxOrdersPerMessage's default.
	DefaultMaxOrdersPerMessage = 100
)

// keyFields are the fields whose first component keys or finds an order, by segment.
var keyFields = map[string][]int{
	"ORC": {2, 3},     // placer and filler order numbers
	"OBR": {2, 3, 18}, // placer and filler order numbers, accession (placer field 1)
	"IPC": {1},        // accession identifier
}

// maxLimitIssues bounds the issues checkLimits reports, so that a message of thousands
// of long values is not answered with an acknowledgment as large.
const maxLimitIssues = 20

// checkLimits reports the values of m that exceed the limits above, and the order
// groups (ORC, OBR) past Config.MaxOrdersPerMessage; what names the groups in the text
// ("orders", "results").
func (e *Engine) checkLimits(m *hl7.Message, what string) []hl7.Issue {
	var issues []hl7.Issue
	occ := map[string]int{}
	for _, s := range m.Segments() {
		name := s.Name()
		fields, ok := keyFields[name]
		if !ok {
			continue
		}
		occ[name]++
		if n := occ[name]; n == e.cfg.MaxOrdersPerMessage+1 && (name == "ORC" || name == "OBR") {
			issues = append(issues, hl7.Issue{Location: hl7.Location{Segment: name, Occurrence: n}, Code: hl7.CodeSegmentSequence,
				Severity: hl7.SeverityError, Text: "the message holds more than " + strconv.Itoa(e.cfg.MaxOrdersPerMessage) + " " + name +
					" segments: radbridge takes at most that many " + what + " in one message; send them in several messages"})
		}
		for _, f := range fields {
			if n, over := tooLong(s.Field(f).Rep(1).Component(1), MaxIdentifierLength); over {
				issues = append(issues, hl7.Issue{Location: hl7.Location{Segment: name, Occurrence: occ[name], Field: f, Component: 1},
					Code: hl7.CodeValueTooLong, Severity: hl7.SeverityError,
					Text: name + "-" + strconv.Itoa(f) + ".1 is " + strconv.Itoa(n) + " characters long; HL7 allows an identifier " +
						strconv.Itoa(MaxIdentifierLength)})
			}
		}
		if len(issues) >= maxLimitIssues {
			break
		}
	}
	return issues
}

// tooLong reports whether v's text is longer than limit characters, and its length
// when it is. Decoding never makes a value longer than its encoded bytes (an escape
// sequence stands for fewer characters than it takes), so a short value is not decoded.
func tooLong(v hl7.Value, limit int) (int, bool) {
	if len(v.Bytes()) <= limit {
		return 0, false
	}
	n := utf8.RuneCountInString(v.String())
	return n, n > limit
}

// textTooLong is tooLong for text already decoded.
func textTooLong(s string, limit int) bool {
	return len(s) > limit && utf8.RuneCountInString(s) > limit
}
