package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds JSON nesting; deeper input is rejected before it can exhaust the stack.
const maxDepth = 64

// maxScanIssues bounds the issues one scan reports.
const maxScanIssues = 50

// syntaxError is a request body that is not JSON. Offset is the 0-based byte offset
// of the first bad byte; Line and Column (1-based, column in bytes) locate it too.
type syntaxError struct {
	Offset       int
	Line, Column int
	Msg          string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at line %d, column %d (byte offset %d): %s", e.Line, e.Column, e.Offset, e.Msg)
}

// facts are the top-level string members of a resource the handlers need.
type facts struct {
	ResourceType string
	ID           string
	Status       string
	Intent       string
	Priority     string
	Type         string // Bundle.type
	// HasResourceType is true when a resourceType member is present, string or not.
	HasResourceType bool
}

// scanIssue is a violation of the FHIR JSON rules (https://hl7.org/fhir/R4/json.html):
// an empty string, object or array, a null property value, or a repeated property.
type scanIssue struct {
	Path string // relative to the resource root, e.g. "identifier[0].value"
	Code string
	Msg  string
}

// frame is one step of the path to the current value: an object key or array index.
type frame struct {
	key   []byte // raw key (may hold escapes); nil for an array element
	index int
}

// scanner checks JSON syntax and the FHIR JSON rules in one pass, without building
// values. It allocates only on the error path (and for keys with escapes).
type scanner struct {
	data   []byte
	pos    int
	stack  []frame
	keys   [][]byte // decoded keys of the open objects, innermost last
	issues []scanIssue
	facts  facts
	// notText is what the last string scanned holds that is not text (see str), "" when
	// nothing.
	notText string
}

// scan checks data. It returns a *syntaxError for input that is not one JSON value
// (or nests deeper than maxDepth); otherwise the top-level facts of the root object
// and the FHIR JSON rule violations found.
func scan(data []byte) (facts, []scanIssue, *syntaxError) {
	s := scanner{data: data, stack: make([]frame, 0, 16), keys: make([][]byte, 0, 64)}
	s.ws()
	if s.pos >= len(s.data) {
		return facts{}, nil, s.syntax("empty input")
	}
	isObject := s.data[s.pos] == '{'
	if err := s.value(); err != nil {
		return facts{}, nil, err
	}
	s.ws()
	if s.pos < len(s.data) {
		return facts{}, nil, s.syntax("unexpected data after the top-level value")
	}
	if !isObject {
		return facts{}, []scanIssue{{Code: "structure", Msg: "a FHIR resource must be a JSON object"}}, nil
	}
	return s.facts, s.issues, nil
}

func (s *scanner) syntax(format string, args ...any) *syntaxError {
	off := min(s.pos, len(s.data))
	line := 1 + bytes.Count(s.data[:off], []byte{'\n'})
	col := off - bytes.LastIndexByte(s.data[:off], '\n')
	msg := fmt.Sprintf(format, args...)
	if off == len(s.data) && !strings.HasPrefix(msg, "unexpected end") && msg != "empty input" {
		msg = "unexpected end of input: " + msg
	}
	return &syntaxError{Offset: off, Line: line, Column: col, Msg: msg}
}

func (s *scanner) issue(code, format string, args ...any) {
	if len(s.issues) >= maxScanIssues {
		return
	}
	s.issues = append(s.issues, scanIssue{Path: s.path(), Code: code, Msg: fmt.Sprintf(format, args...)})
}

// path renders the current position as a FHIRPath-like relative path.
func (s *scanner) path() string {
	var b strings.Builder
	for _, f := range s.stack {
		if f.key == nil {
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.Write(decodeKey(f.key))
	}
	return b.String()
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value() *syntaxError {
	if s.pos >= len(s.data) {
		return s.syntax("unexpected end of input")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		start := s.pos
		if err := s.str(); err != nil {
			return err
		}
		if s.pos-start == 2 {
			s.issue("value", "empty string: FHIR JSON does not allow \"\"; omit the property")
		}
		if s.notText != "" {
			s.issue("value", "%s", s.notText)
		}
		return nil
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.syntax("unexpected character %q", c)
	}
}

func (s *scanner) literal(lit string) *syntaxError {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(lit)) {
		return s.syntax("invalid literal (expected %s)", lit)
	}
	s.pos += len(lit)
	return nil
}

func (s *scanner) object() *syntaxError {
	if len(s.stack) >= maxDepth {
		return s.syntax("nesting deeper than %d levels", maxDepth)
	}
	s.pos++ // {
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.issue("structure", "empty object: FHIR JSON does not allow {}; omit the property")
		return nil
	}
	firstKey := len(s.keys)
	defer func() { s.keys = s.keys[:firstKey] }()
	var set map[string]struct{} // replaces the linear duplicate check in large objects
	for {
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.syntax("expected a property name in double quotes")
		}
		start := s.pos
		if err := s.str(); err != nil {
			return err
		}
		key := s.data[start+1 : s.pos-1]
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.syntax("expected ':' after a property name")
		}
		s.pos++
		s.ws()
		s.stack = append(s.stack, frame{key: key})
		dk := decodeKey(key)
		if seen(s.keys[firstKey:], &set, dk) {
			s.issue("structure", "property appears more than once")
		}
		s.keys = append(s.keys, dk)
		if s.pos < len(s.data) && s.data[s.pos] == 'n' {
			s.issue("structure", "null is not allowed as a property value; omit the property")
		}
		vstart := s.pos
		if err := s.value(); err != nil {
			return err
		}
		if len(s.stack) == 1 {
			s.recordFact(key, s.data[vstart:s.pos])
		}
		s.stack = s.stack[:len(s.stack)-1]
		s.ws()
		if s.pos >= len(s.data) {
			return s.syntax("unexpected end of input inside an object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.syntax("expected ',' or '}' after a property value")
		}
	}
}

func (s *scanner) array() *syntaxError {
	if len(s.stack) >= maxDepth {
		return s.syntax("nesting deeper than %d levels", maxDepth)
	}
	s.pos++ // [
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		s.issue("structure", "empty array: FHIR JSON does not allow []; omit the property")
		return nil
	}
	s.stack = append(s.stack, frame{})
	for i := 0; ; i++ {
		s.stack[len(s.stack)-1].index = i
		s.ws()
		if err := s.value(); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) {
			return s.syntax("unexpected end of input inside an array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.stack = s.stack[:len(s.stack)-1]
			return nil
		default:
			return s.syntax("expected ',' or ']' after an array element")
		}
	}
}

// str consumes a string, checking escapes, control characters and UTF-8. It sets
// notText when the string, valid JSON, holds what FHIR strings must not: an escaped
// control character other than tab, CR and LF (R4 datatypes, string: "Strings SHOULD
// not contain Unicode character points below 32", except those three), which radbridge
// refuses rather than store and pass on, or an escaped surrogate that is not half of a
// pair, which is no character at all.
func (s *scanner) str() *syntaxError {
	s.notText = ""
	s.pos++ // opening quote
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return nil
		case c == '\\':
			if s.pos+1 >= len(s.data) {
				return s.syntax("unterminated escape")
			}
			switch s.data[s.pos+1] {
			case 'b', 'f':
				s.notControl(s.data[s.pos : s.pos+2])
				s.pos += 2
			case '"', '\\', '/', 'n', 'r', 't':
				s.pos += 2
			case 'u':
				if s.pos+6 > len(s.data) || !isHex4(s.data[s.pos+2:s.pos+6]) {
					return s.syntax(`invalid \u escape`)
				}
				s.escapedRune()
			default:
				return s.syntax("invalid escape \\%c", s.data[s.pos+1])
			}
		case c < 0x20:
			return s.syntax("control character 0x%02x in a string must be escaped", c)
		case c < utf8.RuneSelf:
			s.pos++
		default:
			r, n := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && n <= 1 {
				return s.syntax("invalid UTF-8")
			}
			s.pos += n
		}
	}
	return s.syntax("unterminated string")
}

// escapedRune consumes the valid \u escape at s.pos, and the one after it when the two
// are a surrogate pair, noting a control character or a lone surrogate.
func (s *scanner) escapedRune() {
	esc := s.data[s.pos : s.pos+6]
	r := hex4(esc[2:])
	s.pos += 6
	switch {
	case r < 0x20 && r != '\t' && r != '\n' && r != '\r':
		s.notControl(esc)
	case r >= 0xd800 && r < 0xdc00:
		if next := s.data[s.pos:]; len(next) >= 6 && next[0] == '\\' && next[1] == 'u' && isHex4(next[2:6]) {
			if lo := hex4(next[2:6]); lo >= 0xdc00 && lo < 0xe000 {
				s.pos += 6
				return
			}
		}
		fallthrough
	case r >= 0xdc00 && r < 0xe000:
		if s.notText == "" {
			s.notText = "unpaired surrogate " + string(esc) + " in a string: it is not a Unicode character"
		}
	}
}

// notControl notes an escaped control character.
func (s *scanner) notControl(esc []byte) {
	if s.notText == "" {
		s.notText = "control character " + string(esc) + " in a string: FHIR strings hold no control character but tab, CR and LF"
	}
}

// hex4 is the value of four hex digits (isHex4).
func hex4(b []byte) uint32 {
	var r uint32
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			r = r<<4 | uint32(c-'0')
		case c >= 'a':
			r = r<<4 | uint32(c-'a'+10)
		default:
			r = r<<4 | uint32(c-'A'+10)
		}
	}
	return r
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// number consumes an RFC 8259 number.
func (s *scanner) number() *syntaxError {
	d := s.data
	if d[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(d) && d[s.pos] == '0':
		s.pos++
	case s.pos < len(d) && d[s.pos] >= '1' && d[s.pos] <= '9':
		s.digits()
	default:
		return s.syntax("invalid number")
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if !s.digits() {
			return s.syntax("invalid number: digits expected after '.'")
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if !s.digits() {
			return s.syntax("invalid number: digits expected in the exponent")
		}
	}
	return nil
}

func (s *scanner) digits() bool {
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos > start
}

// recordFact keeps the top-level members the handlers look at.
func (s *scanner) recordFact(key, raw []byte) {
	k := decodeKey(key)
	if string(k) == "resourceType" {
		s.facts.HasResourceType = true
	}
	if len(raw) < 2 || raw[0] != '"' {
		return
	}
	var dst *string
	switch string(k) {
	case "resourceType":
		dst = &s.facts.ResourceType
	case "id":
		dst = &s.facts.ID
	case "status":
		dst = &s.facts.Status
	case "intent":
		dst = &s.facts.Intent
	case "priority":
		dst = &s.facts.Priority
	case "type":
		dst = &s.facts.Type
	default:
		return
	}
	*dst = decodeString(raw)
}

// decodeString returns the value of a valid quoted JSON string.
func decodeString(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw[1 : len(raw)-1])
	}
	return v
}

// decodeKey returns the value of a raw (unquoted) key, decoding escapes if any.
func decodeKey(key []byte) []byte {
	if bytes.IndexByte(key, '\\') < 0 {
		return key
	}
	q := make([]byte, 0, len(key)+2)
	q = append(append(append(q, '"'), key...), '"')
	return []byte(decodeString(q))
}

// linearKeys is the object size up to which duplicate keys are found by a linear scan;
// larger (hostile) objects switch to a map so the check stays linear overall.
const linearKeys = 32

// seen reports whether the decoded key k is among keys, the decoded earlier keys of
// the same object, switching to *set once the object is large.
func seen(keys [][]byte, set *map[string]struct{}, k []byte) bool {
	if *set == nil && len(keys) < linearKeys {
		for _, o := range keys {
			if bytes.Equal(o, k) {
				return true
			}
		}
		return false
	}
	if *set == nil {
		*set = make(map[string]struct{}, 2*len(keys))
		for _, o := range keys {
			(*set)[string(o)] = struct{}{}
		}
	}
	if _, dup := (*set)[string(k)]; dup {
		return true
	}
	(*set)[string(k)] = struct{}{}
	return false
}
