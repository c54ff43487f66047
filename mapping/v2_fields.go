package mapping

import (
	"bytes"
	"strings"
	"time"

	"github.com/radbridge/radbridge/hl7"
)

// This file holds the small readers every v2 mapping uses. They trim blanks, read an
// explicit null ("") as empty, and read identifiers and codes from the first
// subcomponent, so that a sender's stray subcomponent (PESEL&HIS) does not leak into an
// identifier.

// text returns the whole value's text (first repetition, components and all), trimmed.
func text(v hl7.Value) string { return strings.TrimSpace(v.String()) }

// first returns the first subcomponent of the first component of the first repetition:
// the primitive that an ID, a code or a number is.
func first(v hl7.Value) string { return strings.TrimSpace(v.Sub(1).String()) }

// raw returns the first subcomponent of the first component of the first repetition,
// unescaped and trimmed, without copying when it holds no escape sequence: for
// comparisons that keep nothing. The bytes must not be modified or retained.
func raw(v hl7.Value) []byte { return bytes.TrimSpace(v.Sub(1).Unescaped()) }

// comp returns the first subcomponent of component n of the value's first repetition.
func comp(v hl7.Value, n int) string { return strings.TrimSpace(v.Component(n).Sub(1).String()) }

// compText returns component n of the value's first repetition as text, subcomponent
// separators included (free text such as a CWE's text component).
func compText(v hl7.Value, n int) string { return strings.TrimSpace(v.Component(n).String()) }

// coding is one code triplet of a CE/CWE/CNE value.
type coding struct {
	Code, Text, System string
}

func (c coding) empty() bool { return c.Code == "" && c.Text == "" }

// preferred returns the primary triplet, or the alternate one when the primary carries
// neither code nor text.
func preferred(v hl7.Value) coding {
	p := coding{Code: comp(v, 1), Text: compText(v, 2), System: comp(v, 3)}
	if p.empty() {
		return coding{Code: comp(v, 4), Text: compText(v, 5), System: comp(v, 6)}
	}
	return p
}

// label returns the text of a coding, or its code when it has no text.
func (c coding) label() string {
	if c.Text != "" {
		return c.Text
	}
	return c.Code
}

// version is an HL7 v2 version as a comparable number: 2.3 -> 230, 2.3.1 -> 231,
// 2.5.1 -> 251, 2.8 -> 280. It is 0 when MSH-12 is empty or not of the form 2.x[.y].
type version int

func parseVersion(s string) version {
	s = strings.TrimSpace(s)
	if len(s) < 3 || s[0] != '2' || s[1] != '.' {
		return 0
	}
	minor, patch := 0, 0
	rest := s[2:]
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' && i < 2 {
		minor = minor*10 + int(rest[i]-'0')
		i++
	}
	if i == 0 {
		return 0
	}
	if i < len(rest) {
		if rest[i] != '.' || i+1 >= len(rest) || rest[i+1] < '0' || rest[i+1] > '9' {
			return 0
		}
		patch = int(rest[i+1] - '0')
	}
	return version(200 + minor*10 + patch)
}

// readTime reads component 1 of a TS/DTM field. It reports ok=false for a malformed
// value; an empty value gives the zero time and ok=true.
func readTime(v hl7.Value) (t time.Time, p hl7.Precision, ok bool) {
	s := strings.TrimSpace(v.Component(1).String())
	t, p, err := hl7.ParseTime(s, time.UTC)
	return t, p, err == nil
}

// counter numbers segment occurrences as the walk meets them: the n-th PID is
// occurrence n. It keeps a short list instead of a map, in place for the first 16
// segment IDs; messages use few.
type counter struct {
	names  [16]string
	counts [16]int
	n      int
	more   map[string]int
}

func (c *counter) next(name string) int {
	for i := range c.n {
		if c.names[i] == name {
			c.counts[i]++
			return c.counts[i]
		}
	}
	if c.n < len(c.names) {
		c.names[c.n], c.counts[c.n] = name, 1
		c.n++
		return 1
	}
	if c.more == nil {
		c.more = map[string]int{}
	}
	c.more[name]++
	return c.more[name]
}

// issue builds an hl7.Issue at segment(occ)-field.
func issue(seg string, occ, field, code int, sev hl7.Severity, msg string) hl7.Issue {
	return hl7.Issue{
		Location: hl7.Location{Segment: seg, Occurrence: occ, Field: field},
		Code:     code, Severity: sev, Text: msg,
	}
}

// where formats segment(occ)-field for issue texts, as hl7.Location does.
func where(seg string, occ, field int) string {
	return hl7.Location{Segment: seg, Occurrence: occ, Field: field}.String()
}
