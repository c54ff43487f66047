package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/radbridge/radbridge/internal/jsontext"
	"github.com/radbridge/radbridge/order"
)

// The FHIR resources a client posts are stored as posted, with the id and meta the
// server assigns; reads and writes answer them with the order's current status. These
// functions make those edits on the JSON text: one pass checks the syntax, drops
// insignificant whitespace and notes where each top-level member is, then the members
// are copied with the server's in place of the client's. Nothing is decoded into
// values, so every other element (numbers, strings with their escapes, extensions) is
// kept as sent.

// errNotObject is JSON text that is not one object.
var errNotObject = errors.New("resource JSON is not an object")

// maxJSONDepth bounds nesting; the FHIR validation gate allows less.
const maxJSONDepth = 10000

// jsonObject is a compacted JSON object and the spans of its top-level members.
type jsonObject struct {
	buf []byte
	ms  []jsonMember
}

// jsonMember is one member of a compacted object: buf[key:end] is the whole
// `"name":value`, buf[val:end] the value.
type jsonMember struct {
	key, val, end int
}

// is reports whether the member's decoded name is name.
func (m jsonMember) is(buf []byte, name string) bool {
	q := buf[m.key : m.val-1] // the quoted name
	if bytes.IndexByte(q, '\\') < 0 {
		return string(q[1:len(q)-1]) == name
	}
	return jsontext.Unquote(q) == name
}

// compactObject checks that data is one JSON object (RFC 8259, as json.Valid does) and
// returns it without insignificant whitespace, with the spans of its top-level members.
func compactObject(data []byte) (jsonObject, error) {
	obj := jsonObject{ms: make([]jsonMember, 0, 32)}
	buf, err := appendCompact(make([]byte, 0, len(data)), data, &obj.ms)
	if err != nil {
		return jsonObject{}, err
	}
	if buf[0] != '{' {
		return jsonObject{}, errNotObject
	}
	obj.buf = buf
	return obj, nil
}

// members lists the members of the object that starts at buf[start], in compacted
// valid JSON.
func members(buf []byte, start int) []jsonMember {
	var ms []jsonMember
	for i := start + 1; buf[i] != '}'; {
		keyEnd := jsontext.SkipValue(buf, i)
		val := keyEnd + 1 // after ':'
		end := jsontext.SkipValue(buf, val)
		ms = append(ms, jsonMember{key: i, val: val, end: end})
		i = end
		if buf[i] == ',' {
			i++
		}
	}
	return ms
}

// withMeta returns the resource JSON with its id and meta.versionId and
// meta.lastUpdated set by the server, and every other element, the rest of meta
// included, kept as sent (without insignificant whitespace). resourceType, id and meta
// come first; id and meta replace any the resource had.
func withMeta(resource []byte, id string, version int, at time.Time) ([]byte, error) {
	obj, err := compactObject(resource)
	if err != nil {
		return nil, err
	}
	return obj.appendMeta(make([]byte, 0, len(obj.buf)+len(id)+80), id, version, at), nil
}

func (obj jsonObject) appendMeta(out []byte, id string, version int, at time.Time) []byte {
	buf := obj.buf
	out = append(out, '{')
	var meta *jsonMember // the last one, as a decoder would read it
	for i, m := range obj.ms {
		switch {
		case m.is(buf, "resourceType"):
			out = append(append(out, buf[m.key:m.end]...), ',')
		case m.is(buf, "meta"):
			meta = &obj.ms[i]
		}
	}
	out = order.AppendJSONString(append(out, `"id":`...), id)
	out = strconv.AppendInt(append(out, `,"meta":{"versionId":"`...), int64(version), 10)
	out = append(out, `","lastUpdated":`...)
	out = order.AppendJSONString(out, at.UTC().Format(time.RFC3339Nano))
	if meta != nil && buf[meta.val] == '{' {
		for _, m := range members(buf, meta.val) {
			if !m.is(buf, "versionId") && !m.is(buf, "lastUpdated") {
				out = append(append(out, ','), buf[m.key:m.end]...)
			}
		}
	}
	out = append(out, '}')
	for _, m := range obj.ms {
		if !m.is(buf, "resourceType") && !m.is(buf, "id") && !m.is(buf, "meta") {
			out = append(append(out, ','), buf[m.key:m.end]...)
		}
	}
	return append(out, '}')
}

// withStatus returns the resource JSON with its status element set (where it was, or
// last), every other element kept as sent (without insignificant whitespace).
func withStatus(resource []byte, status string) ([]byte, error) {
	obj, err := compactObject(resource)
	if err != nil {
		return nil, err
	}
	buf := obj.buf
	out := make([]byte, 0, len(buf)+len(status)+12)
	out = append(out, '{')
	done := false
	for _, m := range obj.ms {
		isStatus := m.is(buf, "status")
		if isStatus && done {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		if isStatus {
			out = order.AppendJSONString(append(out, `"status":`...), status)
			done = true
			continue
		}
		out = append(out, buf[m.key:m.end]...)
	}
	if !done {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = order.AppendJSONString(append(out, `"status":`...), status)
	}
	return append(out, '}'), nil
}

// stampRequest is withMeta for a ServiceRequest a client sent, which is stored so, and
// also returns it as it is served (renderServiceRequest): with status, the status of
// its order. served is stored itself when the request already has that status.
func stampRequest(resource []byte, id string, version int, at time.Time, status string) (stored, served []byte, err error) {
	obj, err := compactObject(resource)
	if err != nil {
		return nil, nil, err
	}
	stored = obj.appendMeta(make([]byte, 0, len(obj.buf)+len(id)+80), id, version, at)
	if obj.hasStatus(status) {
		return stored, stored, nil
	}
	served, err = withStatus(stored, status)
	return stored, served, err
}

// hasStatus reports whether the object has one status member and its value is status,
// written as appendJSONString writes it.
func (obj jsonObject) hasStatus(status string) bool {
	var val []byte
	for _, m := range obj.ms {
		if m.is(obj.buf, "status") {
			if val != nil {
				return false
			}
			val = obj.buf[m.val:m.end]
		}
	}
	return val != nil && bytes.Equal(val, order.AppendJSONString(nil, status))
}

// appendCompact appends the one JSON value in data to dst without insignificant
// whitespace. It fails on anything json.Valid rejects. When the value is an object and
// ms is not nil, the spans (in dst) of its members are appended to *ms.
func appendCompact(dst, data []byte, ms *[]jsonMember) ([]byte, error) {
	var stack []byte // open containers: '{' or '['
	needKey := false // inside an object, before a member's name
	i := 0
	bad := func() ([]byte, error) { return nil, &json.SyntaxError{Offset: int64(i)} }
	for {
		i = jsontext.SkipSpace(data, i)
		if needKey {
			n := stringLen(data[i:])
			if n < 0 {
				return bad()
			}
			if ms != nil && len(stack) == 1 {
				*ms = append(*ms, jsonMember{key: len(dst)})
			}
			dst = append(dst, data[i:i+n]...)
			i = jsontext.SkipSpace(data, i+n)
			if i >= len(data) || data[i] != ':' {
				return bad()
			}
			dst = append(dst, ':')
			if ms != nil && len(stack) == 1 {
				(*ms)[len(*ms)-1].val = len(dst)
			}
			i = jsontext.SkipSpace(data, i+1)
			needKey = false
		}
		if i >= len(data) {
			return bad()
		}
		switch c := data[i]; c {
		case '{', '[':
			if len(stack) == maxJSONDepth {
				return bad()
			}
			dst = append(dst, c)
			i = jsontext.SkipSpace(data, i+1)
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
			if ms != nil && len(stack) == 1 && stack[0] == '{' {
				(*ms)[len(*ms)-1].end = len(dst)
			}
			i = jsontext.SkipSpace(data, i)
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
