package mapping

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/radbridge/radbridge/hl7"
)

// mapper maps one message: it knows the message's delimiters and version and collects
// the issues found on the way. Its readers trim blanks, read an explicit null ("") as
// empty, and read identifiers and codes from the first subcomponent, so that a sender's
// stray subcomponent (PESEL&HIS) does not leak into an identifier.
type mapper struct {
	d      hl7.Delimiters
	v      version
	issues []hl7.Issue
	// msg is the message's bytes and text a copy of them, when the mapper shares text:
	// plain values are then substrings of text, which saves one allocation per string.
	msg  []byte
	text string
}

// newMapper returns a mapper for m.
func newMapper(m *hl7.Message) *mapper { return &mapper{d: m.Delimiters()} }

// shareText makes the strings the mapper returns from now on substrings of one copy of
// the message, so that they keep that copy alive: right for orders, whose every field
// comes from a small message, wrong for results that may carry megabytes of
// encapsulated data.
func (mp *mapper) shareText(m *hl7.Message) {
	mp.msg = m.Bytes()
	mp.text = string(mp.msg)
}

// str returns plain bytes of the message as a string: a substring of the shared text
// when b lies within the message bytes (found from the capacities, which sub-slicing
// preserves, and checked), a copy otherwise.
func (mp *mapper) str(b []byte) string {
	if mp.text != "" && len(b) > 0 {
		off := cap(mp.msg) - cap(b)
		if off >= 0 && off+len(b) <= len(mp.text) {
			if s := mp.text[off : off+len(b)]; s == string(b) {
				return s
			}
		}
	}
	return string(b)
}

// piece returns the bytes of subcomponent s of component n of the value's first
// repetition, as encoded; s = 0 means the whole component. It cuts the value as
// hl7.Value.Component and Sub do, in one pass and without building intermediate
// values. (Fields are short: a byte loop beats repeated bytes.IndexByte calls here.)
func (mp *mapper) piece(v hl7.Value, n, s int) []byte {
	b := v.Bytes()
	rep, cs, ss := mp.d.Repetition, mp.d.Component, mp.d.Subcomponent
	start, end, k := 0, len(b), 1
	for i, c := range b {
		if c == rep && rep != 0 {
			end = i
			break
		}
		if c == cs && cs != 0 {
			if k == n {
				end = i
				break
			}
			k++
			start = i + 1
		}
	}
	if k != n {
		return nil
	}
	b = b[start:end]
	if s == 0 {
		return b
	}
	start, end, k = 0, len(b), 1
	for i, c := range b {
		if c == ss && ss != 0 {
			if k == s {
				end = i
				break
			}
			k++
			start = i + 1
		}
	}
	if k != s {
		return nil
	}
	return b[start:end]
}

// plain reports whether b can be used as text as it is: ASCII without escapes.
func (mp *mapper) plain(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || (c == mp.d.Escape && c != 0) {
			return false
		}
	}
	return true
}

// get returns subcomponent s (0: all) of component n of the value's first repetition
// as trimmed text. Plain ASCII is copied from the message directly; anything with an
// escape sequence or non-ASCII bytes goes through hl7.Value.String, which decodes both.
func (mp *mapper) get(v hl7.Value, n, s int) string {
	b := mp.piece(v, n, s)
	if len(b) == 0 || (len(b) == 2 && b[0] == '"' && b[1] == '"') {
		return ""
	}
	if mp.plain(b) {
		return mp.str(bytes.TrimSpace(b))
	}
	x := v.Component(n)
	if s > 0 {
		x = x.Sub(s)
	}
	return strings.TrimSpace(x.String())
}

// first returns the first subcomponent of the first component of the first repetition:
// the primitive that an ID, a code or a number is.
func (mp *mapper) first(v hl7.Value) string { return mp.get(v, 1, 1) }

// comp returns the first subcomponent of component n of the value's first repetition.
func (mp *mapper) comp(v hl7.Value, n int) string { return mp.get(v, n, 1) }

// compText returns component n of the value's first repetition as text, subcomponent
// separators included (free text such as a CWE's text component).
func (mp *mapper) compText(v hl7.Value, n int) string { return mp.get(v, n, 0) }

// raw returns the first subcomponent of component n, trimmed, for comparisons that keep
// nothing: without copying when it is plain. The bytes must not be modified or retained.
func (mp *mapper) raw(v hl7.Value, n int) []byte {
	b := mp.piece(v, n, 1)
	if !mp.plain(b) {
		b = v.Component(n).Sub(1).Unescaped()
	}
	return bytes.TrimSpace(b)
}

// text returns the whole value's text (all repetitions and components), trimmed; for
// free text and issue messages.
func text(v hl7.Value) string { return strings.TrimSpace(v.String()) }

// coding is one code triplet of a CE/CWE/CNE value.
type coding struct {
	Code, Text, System string
}

func (c coding) empty() bool { return c.Code == "" && c.Text == "" }

// label returns the text of a coding, or its code when it has no text.
func (c coding) label() string {
	if c.Text != "" {
		return c.Text
	}
	return c.Code
}

// triplet reads the primary (at = 1) or alternate (at = 4) triplet of a coded value.
func (mp *mapper) triplet(v hl7.Value, at int) coding {
	return coding{Code: mp.comp(v, at), Text: mp.compText(v, at+1), System: mp.comp(v, at+2)}
}

// preferred returns the primary triplet, or the alternate one when the primary carries
// neither code nor text.
func (mp *mapper) preferred(v hl7.Value) coding {
	if p := mp.triplet(v, 1); !p.empty() {
		return p
	}
	return mp.triplet(v, 4)
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
func (mp *mapper) readTime(v hl7.Value) (t time.Time, p hl7.Precision, ok bool) {
	t, p, err := hl7.ParseTime(mp.comp(v, 1), time.UTC)
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

// report records an issue at segment(occ)-field; occ 0 and field 0 leave them out.
func (mp *mapper) report(seg string, occ, field, code int, sev hl7.Severity, msg string) {
	mp.issues = append(mp.issues, hl7.Issue{
		Location: hl7.Location{Segment: seg, Occurrence: occ, Field: field},
		Code:     code, Severity: sev, Text: msg,
	})
}

// where formats segment(occ)-field for issue texts, as hl7.Location does.
func where(seg string, occ, field int) string {
	return hl7.Location{Segment: seg, Occurrence: occ, Field: field}.String()
}

// quote quotes s for an issue text, shortened to about 40 bytes on a character
// boundary.
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
