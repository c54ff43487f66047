package hl7

// Delimiters are the separator and escape characters of a message, read from MSH-1 and
// MSH-2. A zero byte means the character is not defined by the message (MSH-2 may be
// shorter than four characters, and only v2.7 and later define a truncation character).
type Delimiters struct {
	Field        byte // MSH-1, normally '|'
	Component    byte // MSH-2.1, normally '^'
	Repetition   byte // MSH-2.2, normally '~'
	Escape       byte // MSH-2.3, normally '\'
	Subcomponent byte // MSH-2.4, normally '&'
	Truncation   byte // MSH-2.5 (v2.7+), normally '#'
}

// DefaultDelimiters are the delimiters HL7 recommends: |^~\&.
var DefaultDelimiters = Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&'}

// EncodingCharacters returns the MSH-2 value for d, e.g. `^~\&`.
func (d Delimiters) EncodingCharacters() string {
	b := make([]byte, 0, 5)
	for _, c := range []byte{d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation} {
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}

// valid reports whether every defined delimiter is distinct and usable.
func (d Delimiters) valid() bool {
	set := [...]byte{d.Field, d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation}
	for i, c := range set {
		if c == 0 {
			if i == 0 {
				return false
			}
			continue
		}
		if !usableDelimiter(c) {
			return false
		}
		for _, o := range set[:i] {
			if o == c {
				return false
			}
		}
	}
	return true
}

func usableDelimiter(c byte) bool {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return false
	case c == '\r', c == '\n', c == ' ', c == '\t', c >= 0x7f, c < 0x20:
		return false
	}
	return true
}

// readDelimiters decodes MSH-1 and the MSH-2 text enc. It reports whether the set is
// usable and whether a tolerance rule was needed: an MSH-2 copied through a text tool
// that escaped it with backslashes (`^\~\&` for `^~\&`) is read as the unescaped form.
func readDelimiters(field byte, enc []byte) (d Delimiters, repaired, ok bool) {
	if d, ok = delimitersFrom(field, enc); ok {
		return d, false, true
	}
	if len(enc) > 4 {
		fixed := make([]byte, 0, len(enc))
		for i := 0; i < len(enc); i++ {
			if enc[i] == '\\' && i+1 < len(enc) && enc[i+1] != '\\' && i+1 != len(enc)-1 {
				continue
			}
			fixed = append(fixed, enc[i])
		}
		if d, ok = delimitersFrom(field, fixed); ok {
			return d, true, true
		}
	}
	return Delimiters{}, false, false
}

func delimitersFrom(field byte, enc []byte) (Delimiters, bool) {
	if len(enc) == 0 || len(enc) > 5 {
		return Delimiters{}, false
	}
	d := Delimiters{Field: field}
	dst := [...]*byte{&d.Component, &d.Repetition, &d.Escape, &d.Subcomponent, &d.Truncation}
	for i, c := range enc {
		if !usableDelimiter(c) { // a NUL would otherwise read as "not defined"
			return Delimiters{}, false
		}
		*dst[i] = c
	}
	return d, d.valid()
}
