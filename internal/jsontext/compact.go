package jsontext

import "iter"

// MaxDepth is the deepest nesting of objects and arrays [Compact] and
// [RewriteReferences] accept. The FHIR validation gate allows less.
const MaxDepth = 10000

// Object is one JSON object in compact form (no insignificant whitespace) and the spans
// of its top-level members. Get one from [Compact] or [Member.Object]; the zero Object
// has no members and no text. An Object is a read-only view: copying it is cheap, and
// the bytes it and its members return must not be modified.
type Object struct {
	buf []byte
	ms  []span
}

// span is a member of an object: buf[key:] starts with its `"name":value`, buf[val:]
// with the value. The member ends where the next one starts, before the comma, or
// before the closing brace. plain is the name's isPlain, worked out once for Is.
type span struct {
	key, val int
	plain    bool
}

// Member is one member of an [Object]: its name and value as they are in the compacted
// text. Only the members an Object yields are members; the zero Member is not one.
type Member struct {
	raw   []byte // `"name":value`
	val   int    // the value's offset in raw
	plain bool   // the name decodes to the bytes between its quotes
}

// Compact checks that data is one JSON value (RFC 8259, as [encoding/json.Valid]
// checks it) and an object, and returns it without insignificant whitespace (the bytes
// [encoding/json.Compact] writes) with the spans of its top-level members, in one pass.
// The error is a [*SyntaxError] for invalid text and [ErrNotObject] for any other
// value. The Object does not share memory with data.
func Compact(data []byte) (Object, error) {
	obj := Object{ms: make([]span, 0, 32)}
	buf, err := appendCompact(make([]byte, 0, len(data)), data, &obj.ms)
	if err != nil {
		return Object{}, err
	}
	if buf[0] != '{' {
		return Object{}, ErrNotObject
	}
	obj.buf = buf
	return obj, nil
}

// Bytes returns the object's compact text.
func (o Object) Bytes() []byte { return o.buf[:len(o.buf):len(o.buf)] }

// Len returns the number of members.
func (o Object) Len() int { return len(o.ms) }

// Members yields the object's members in the order of the text, duplicates included.
func (o Object) Members() iter.Seq[Member] {
	return func(yield func(Member) bool) {
		for i := range o.ms {
			if !yield(o.member(i)) {
				return
			}
		}
	}
}

// Last returns the last member named name: the one encoding/json keeps when it decodes
// the object.
func (o Object) Last(name string) (Member, bool) {
	for i := len(o.ms) - 1; i >= 0; i-- {
		if m := o.member(i); m.Is(name) {
			return m, true
		}
	}
	return Member{}, false
}

// member returns the i'th member.
func (o Object) member(i int) Member {
	s, end := o.ms[i], len(o.buf)-1
	if i+1 < len(o.ms) {
		end = o.ms[i+1].key - 1
	}
	return Member{raw: o.buf[s.key:end:end], val: s.val - s.key, plain: s.plain}
}

// Name returns the member's name, unescaped.
func (m Member) Name() string { return Unquote(m.raw[:m.val-1]) }

// Is reports whether the member's name, unescaped, is name. It does not allocate
// when the name is written without escapes and in valid UTF-8.
func (m Member) Is(name string) bool {
	if m.plain {
		return string(m.raw[1:m.val-2]) == name
	}
	return Unquote(m.raw[:m.val-1]) == name
}

// Value returns the member's value: compact, valid JSON text.
func (m Member) Value() []byte { return m.raw[m.val:] }

// Bytes returns the whole member, `"name":value`, as it is in the object's text.
func (m Member) Bytes() []byte { return m.raw }

// Object returns the member's value as an Object when it is an object; it shares the
// parent's text.
func (m Member) Object() (Object, bool) {
	v := m.Value()
	if v[0] != '{' {
		return Object{}, false
	}
	return Object{buf: v, ms: members(v)}, true
}

// members lists the members of the object at the start of buf, compacted valid JSON.
func members(buf []byte) []span {
	var ms []span
	for i := 1; buf[i] != '}'; {
		keyEnd := SkipValue(buf, i)
		val := keyEnd + 1 // after ':'
		end := SkipValue(buf, val)
		ms = append(ms, span{key: i, val: val, plain: isPlain(buf[i:keyEnd])})
		i = end
		if buf[i] == ',' {
			i++
		}
	}
	return ms
}

// appendCompact appends the one JSON value in data to dst without insignificant
// whitespace. It fails on anything json.Valid rejects. When the value is an object and
// ms is not nil, the spans (in dst) of its members are appended to *ms.
func appendCompact(dst, data []byte, ms *[]span) ([]byte, error) {
	var stack []byte // open containers: '{' or '['
	needKey := false // inside an object, before a member's name
	i := 0
	bad := func() ([]byte, error) { return nil, &SyntaxError{Offset: int64(i)} }
	for {
		i = SkipSpace(data, i)
		if needKey {
			n := stringLen(data[i:])
			if n < 0 {
				return bad()
			}
			if ms != nil && len(stack) == 1 {
				*ms = append(*ms, span{key: len(dst), plain: isPlain(data[i : i+n])})
			}
			dst = append(dst, data[i:i+n]...)
			i = SkipSpace(data, i+n)
			if i >= len(data) || data[i] != ':' {
				return bad()
			}
			dst = append(dst, ':')
			if ms != nil && len(stack) == 1 {
				(*ms)[len(*ms)-1].val = len(dst)
			}
			i = SkipSpace(data, i+1)
			needKey = false
		}
		if i >= len(data) {
			return bad()
		}
		switch c := data[i]; c {
		case '{', '[':
			if len(stack) == MaxDepth {
				return bad()
			}
			dst = append(dst, c)
			i = SkipSpace(data, i+1)
			if i < len(data) && data[i] == c+2 { // '}' is '{'+2, ']' is '['+2
				dst = append(dst, c+2)
				i++
				break
			}
			stack = append(stack, c)
			needKey = c == '{'
			continue
		case '"':
			n := stringLen(data[i:])
			if n < 0 {
				return bad()
			}
			dst = append(dst, data[i:i+n]...)
			i += n
		default:
			n := scalarLen(data[i:])
			if n < 0 {
				return bad()
			}
			dst = append(dst, data[i:i+n]...)
			i += n
		}
		// A value is complete at the level of len(stack): a ',' or the end of
		// containers follows, each of which completes a value a level up.
		for {
			i = SkipSpace(data, i)
			if len(stack) == 0 {
				if i != len(data) {
					return bad()
				}
				return dst, nil
			}
			if i >= len(data) {
				return bad()
			}
			top := stack[len(stack)-1]
			if data[i] == ',' {
				dst = append(dst, ',')
				i++
				needKey = top == '{'
				break
			}
			if data[i] != top+2 {
				return bad()
			}
			dst = append(dst, top+2)
			i++
			stack = stack[:len(stack)-1]
		}
	}
}

// stringLen returns the length of the JSON string at the start of b, quotes included,
// or -1 when b does not start with a valid one. Like encoding/json it accepts any
// byte from 0x20 up, invalid UTF-8 included.
func stringLen(b []byte) int {
	if len(b) == 0 || b[0] != '"' {
		return -1
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= len(b) {
				return -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return -1
				}
				i += 5
			default:
				return -1
			}
		case c < 0x20:
			return -1
		}
	}
	return -1
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// scalarLen returns the length of the number, true, false or null at the start of b,
// or -1 when there is none.
func scalarLen(b []byte) int {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(b) >= len(lit) && string(b[:len(lit)]) == lit {
			return len(lit)
		}
	}
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}
