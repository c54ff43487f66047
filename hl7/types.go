package hl7

import (
	"strings"
	"time"
)

// Precision is how much of a TS/DTM value was given.
type Precision uint8

// Precisions, coarsest first.
const (
	PrecisionNone Precision = iota
	PrecisionYear
	PrecisionMonth
	PrecisionDay
	PrecisionHour
	PrecisionMinute
	PrecisionSecond
	PrecisionFraction
)

// ParseTime parses an HL7 TS or DTM value, YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ];
// only the first component is read, so the older TS form with a degree of precision in
// its second component is accepted. A value without an offset is read in loc (UTC when
// loc is nil). An empty value returns the zero time and PrecisionNone without error; a
// malformed one wraps ErrTimestamp.
func ParseTime(s string, loc *time.Location) (time.Time, Precision, error) {
	if i := strings.IndexByte(s, '^'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, PrecisionNone, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	bad := func() (time.Time, Precision, error) {
		return time.Time{}, PrecisionNone, &TimeError{Value: s}
	}
	body, zone := s, ""
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		body, zone = s[:i], s[i:]
	}
	frac := ""
	if i := strings.IndexByte(body, '.'); i >= 0 {
		body, frac = body[:i], body[i+1:]
		if len(body) != 14 || len(frac) == 0 || len(frac) > 4 || !digits(frac) {
			return bad()
		}
	}
	if !digits(body) {
		return bad()
	}
	var prec Precision
	switch len(body) {
	case 4:
		prec = PrecisionYear
	case 6:
		prec = PrecisionMonth
	case 8:
		prec = PrecisionDay
	case 10:
		prec = PrecisionHour
	case 12:
		prec = PrecisionMinute
	case 14:
		prec = PrecisionSecond
	default:
		return bad()
	}
	f := [6]int{0, 1, 1, 0, 0, 0}
	for i := 0; i*2+4 <= len(body) && i < 6; i++ {
		if i == 0 {
			f[0] = atoiDigits(body[:4])
			continue
		}
		f[i] = atoiDigits(body[2+i*2 : 4+i*2])
	}
	if f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > daysIn(f[1], f[0]) || f[3] > 23 || f[4] > 59 || f[5] > 59 {
		return bad()
	}
	nsec := 0
	if frac != "" {
		prec = PrecisionFraction
		nsec = atoiDigits(frac)
		for i := len(frac); i < 9; i++ {
			nsec *= 10
		}
	}
	if zone != "" {
		if len(zone) != 5 || !digits(zone[1:]) {
			return bad()
		}
		h, m := atoiDigits(zone[1:3]), atoiDigits(zone[3:5])
		if h > 14 || m > 59 {
			return bad()
		}
		off := h*3600 + m*60
		if zone[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	return time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], nsec, loc), prec, nil
}

// TimeError reports a malformed TS/DTM value.
type TimeError struct{ Value string }

func (e *TimeError) Error() string { return "hl7: invalid timestamp " + quote(e.Value) }

// Unwrap returns ErrTimestamp.
func (e *TimeError) Unwrap() error { return ErrTimestamp }

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return `"` + s + `"`
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

func atoiDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func daysIn(month, year int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// FormatTime formats t as an HL7 DTM to the given precision, with its UTC offset when the
// precision includes a time of day (e.g. 20261122143000+0000).
func FormatTime(t time.Time, p Precision) string {
	if t.IsZero() {
		return ""
	}
	layouts := [...]string{"", "2006", "200601", "20060102", "2006010215", "200601021504", "20060102150405", "20060102150405.0000"}
	if p == PrecisionNone || int(p) >= len(layouts) {
		p = PrecisionSecond
	}
	s := t.Format(layouts[p])
	if p >= PrecisionHour {
		s += t.Format("-0700")
	}
	return s
}

// Time returns the value read as a TS/DTM in loc; see ParseTime.
func (v Value) Time(loc *time.Location) (time.Time, Precision, error) {
	return ParseTime(v.String(), loc)
}

// HD is a hierarchic designator (an assigning authority or facility).
type HD struct {
	Namespace, UniversalID, UniversalIDType string
}

// CX is an extended composite identifier (PID-3, for example).
type CX struct {
	ID                 string // CX.1
	CheckDigit         string // CX.2
	AssigningAuthority HD     // CX.4
	IDType             string // CX.5, table 0203 (MR, PI, NPI, ...)
	AssigningFacility  HD     // CX.6
}

// XCN is an extended composite ID number and name for persons (ORC-12, OBR-16, ...).
type XCN struct {
	ID                 string // XCN.1
	Family             string // XCN.2 (first subcomponent: the surname)
	Given              string // XCN.3
	Middle             string // XCN.4
	Suffix             string // XCN.5
	Prefix             string // XCN.6
	Degree             string // XCN.7
	AssigningAuthority HD     // XCN.9
	IDType             string // XCN.13 (NPI, DN, ...)
}

// XPN is an extended person name (PID-5).
type XPN struct {
	Family, Given, Middle, Suffix, Prefix string
}

// CWE is a coded element (CE, CNE and CWE share their first six components).
type CWE struct {
	Code, Text, System          string // .1, .2, .3
	AltCode, AltText, AltSystem string // .4, .5, .6
}

// IsEmpty reports whether no component is valued.
func (c CWE) IsEmpty() bool { return c == CWE{} }

func hdOf(v Value) HD {
	return HD{Namespace: v.Sub(1).String(), UniversalID: v.Sub(2).String(), UniversalIDType: v.Sub(3).String()}
}

// HD reads the value (its first repetition) as a hierarchic designator.
func (v Value) HD() HD {
	return HD{Namespace: v.Component(1).String(), UniversalID: v.Component(2).String(), UniversalIDType: v.Component(3).String()}
}

// CX reads the value (its first repetition) as a CX; use Rep(n).CX() for others.
func (v Value) CX() CX {
	return CX{
		ID:                 v.Component(1).String(),
		CheckDigit:         v.Component(2).String(),
		AssigningAuthority: hdOf(v.Component(4)),
		IDType:             v.Component(5).String(),
		AssigningFacility:  hdOf(v.Component(6)),
	}
}

// XCN reads the value (its first repetition) as an XCN.
func (v Value) XCN() XCN {
	return XCN{
		ID:                 v.Component(1).String(),
		Family:             v.Component(2).Sub(1).String(),
		Given:              v.Component(3).String(),
		Middle:             v.Component(4).String(),
		Suffix:             v.Component(5).String(),
		Prefix:             v.Component(6).String(),
		Degree:             v.Component(7).String(),
		AssigningAuthority: hdOf(v.Component(9)),
		IDType:             v.Component(13).String(),
	}
}

// XPN reads the value (its first repetition) as an XPN.
func (v Value) XPN() XPN {
	return XPN{
		Family: v.Component(1).Sub(1).String(),
		Given:  v.Component(2).String(),
		Middle: v.Component(3).String(),
		Suffix: v.Component(4).String(),
		Prefix: v.Component(5).String(),
	}
}

// CWE reads the value (its first repetition) as a CWE/CE/CNE.
func (v Value) CWE() CWE {
	return CWE{
		Code: v.Component(1).String(), Text: v.Component(2).String(), System: v.Component(3).String(),
		AltCode: v.Component(4).String(), AltText: v.Component(5).String(), AltSystem: v.Component(6).String(),
	}
}
