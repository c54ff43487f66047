package jsontext

import "encoding/json"

// The Append functions write members into an object being appended to dst: dst holds
// the object's text from its '{' on, and each member gets the comma before it unless it
// is the first (dst ends with '{'). The caller writes the braces. Values are written as
// given, so the caller supplies valid JSON text.

// AppendName appends the name of a member and its colon, `"name":`, for the caller to
// append the value. name is escaped as encoding/json escapes it.
func AppendName(dst []byte, name string) []byte {
	dst = comma(dst)
	if plainName(name) {
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, '"', ':')
		return dst
	}
	q, _ := json.Marshal(name) // a string always marshals
	return append(append(dst, q...), ':')
}

// AppendMember appends the member m as it is.
func AppendMember(dst []byte, m Member) []byte {
	return append(comma(dst), m.raw...)
}

// AppendMembers appends the object's members that are named one of names, in the
// object's order, duplicates included.
func (o Object) AppendMembers(dst []byte, names ...string) []byte {
	for m := range o.Members() {
		if m.isOneOf(names) {
			dst = AppendMember(dst, m)
		}
	}
	return dst
}

// AppendMembersExcept appends the object's members that are not named any of names, in
// the object's order.
func (o Object) AppendMembersExcept(dst []byte, names ...string) []byte {
	for m := range o.Members() {
		if !m.isOneOf(names) {
			dst = AppendMember(dst, m)
		}
	}
	return dst
}

// AppendSet appends the whole object, braces included, with its member name set to
// value (valid JSON text): in place of the first member so named, any later ones
// dropped, or last when there is none. The other members are copied as they are.
func (o Object) AppendSet(dst []byte, name string, value []byte) []byte {
	dst = append(dst, '{')
	done := false
	for m := range o.Members() {
		switch {
		case !m.Is(name):
			dst = AppendMember(dst, m)
		case !done:
			dst = append(AppendName(dst, name), value...)
			done = true
		}
	}
	if !done {
		dst = append(AppendName(dst, name), value...)
	}
	return append(dst, '}')
}

func (m Member) isOneOf(names []string) bool {
	for _, name := range names {
		if m.Is(name) {
			return true
		}
	}
	return false
}

// comma appends the comma that separates a member from the one before it.
func comma(dst []byte) []byte {
	if len(dst) > 0 && dst[len(dst)-1] != '{' {
		return append(dst, ',')
	}
	return dst
}

// plainName reports whether name can be written between quotes as it is: printable
// ASCII without '"', '\\' or the characters encoding/json escapes for HTML.
func plainName(name string) bool {
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
