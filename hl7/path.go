package hl7

import (
	"strconv"
)

// Location names a position in a message in the usual notation: "PID-3",
// "PID-3(2).1" (second repetition, first component), "OBX(2)-5" (the second OBX),
// "PID-3.4.2". It is also the ERL data type of ERR-2. Zero fields are unspecified.
type Location struct {
	Segment    string
	Occurrence int // which segment with this ID (1 = the first); 0 means the first
	Field      int
	Rep        int // 0 means the first repetition
	Component  int
	Sub        int
}

// String formats the location; repetition and occurrence 1 are implied and not written.
func (l Location) String() string {
	return string(l.appendTo(make([]byte, 0, 16)))
}

func (l Location) appendTo(b []byte) []byte {
	b = append(b, l.Segment...)
	if l.Occurrence > 1 {
		b = append(b, '(')
		b = strconv.AppendInt(b, int64(l.Occurrence), 10)
		b = append(b, ')')
	}
	if l.Field <= 0 {
		return b
	}
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(l.Field), 10)
	if l.Rep > 1 {
		b = append(b, '(')
		b = strconv.AppendInt(b, int64(l.Rep), 10)
		b = append(b, ')')
	}
	if l.Component > 0 {
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(l.Component), 10)
		if l.Sub > 0 {
			b = append(b, '.')
			b = strconv.AppendInt(b, int64(l.Sub), 10)
		}
	}
	return b
}

// ParsePath parses a location such as "PID-3", "PID-3(2).1", "OBX(2)-5", "MSH-9.2" or
// "PID-3.4.2". Square brackets may stand for parentheses ("PID-3[2]") and a dot for the
// dash after the segment ID ("PID.3.1"). A failure wraps ErrPath.
func ParsePath(s string) (Location, error) {
	var l Location
	bad := func() (Location, error) { return Location{}, &PathError{Path: s} }
	if len(s) < 3 || !validSegmentID([]byte(s[:3]), 0) {
		return bad()
	}
	l.Segment, s = s[:3], s[3:]
	var ok bool
	if l.Occurrence, s, ok = index(s); !ok {
		return bad()
	}
	if s == "" {
		return l, nil
	}
	if s[0] != '-' && s[0] != '.' {
		return bad()
	}
	if l.Field, s, ok = number(s[1:]); !ok {
		return bad()
	}
	if l.Rep, s, ok = index(s); !ok {
		return bad()
	}
	if s != "" && s[0] == '.' {
		if l.Component, s, ok = number(s[1:]); !ok {
			return bad()
		}
		if s != "" && s[0] == '.' {
			if l.Sub, s, ok = number(s[1:]); !ok {
				return bad()
			}
		}
	}
	if s != "" {
		return bad()
	}
	return l, nil
}

// index reads an optional "(n)" or "[n]".
func index(s string) (int, string, bool) {
	if s == "" || (s[0] != '(' && s[0] != '[') {
		return 0, s, true
	}
	closer := byte(')')
	if s[0] == '[' {
		closer = ']'
	}
	n, rest, ok := number(s[1:])
	if !ok || rest == "" || rest[0] != closer {
		return 0, s, false
	}
	return n, rest[1:], true
}

// number reads a positive decimal number.
func number(s string) (int, string, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && i < 6 {
		i++
	}
	if i == 0 {
		return 0, s, false
	}
	n, _ := strconv.Atoi(s[:i])
	return n, s[i:], n > 0
}

// PathError reports a path that ParsePath cannot read.
type PathError struct {
	Path string
}

func (e *PathError) Error() string { return "hl7: invalid path " + strconv.Quote(e.Path) }

// Unwrap returns ErrPath.
func (e *PathError) Unwrap() error { return ErrPath }

// Value returns the value at a location. A location that names no field returns the
// whole segment's text as a value.
func (m *Message) Value(l Location) Value {
	occ := max(l.Occurrence, 1)
	seg, ok := m.Occurrence(l.Segment, occ)
	if !ok {
		return Value{}
	}
	if l.Field == 0 {
		return Value{b: seg.Bytes()}
	}
	v := seg.Field(l.Field)
	if l.Rep > 0 {
		v = v.Rep(l.Rep)
	}
	if l.Component > 0 {
		v = v.Component(l.Component)
		if l.Sub > 0 {
			v = v.Sub(l.Sub)
		}
	}
	return v
}

// Get returns the text at path (see ParsePath), or "" when the path is malformed or
// names nothing present. As with HAPI's Terser, Get reads a primitive: a path that
// names no component reads the first component of the field's first (or named)
// repetition, and one that names no subcomponent reads the first subcomponent, so
// "PID-3" is the patient identifier itself; use Value for a whole field or component. Get is a
// convenience for tools and tests; hot paths use Segment.Field and the Value methods,
// which do not allocate.
func (m *Message) Get(path string) string {
	l, err := ParsePath(path)
	if err != nil || l.Field == 0 {
		return ""
	}
	l.Component = max(l.Component, 1)
	l.Sub = max(l.Sub, 1)
	return m.Value(l).String()
}
