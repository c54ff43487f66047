package jsontext

import "encoding/json"

// RewriteReferences returns doc with the value of each member named "reference", at
// any depth and inside arrays, replaced by refs[v] when it is a string whose decoded
// value v is a key of refs; the new value is quoted as encoding/json quotes it. Every
// other byte of doc is kept: whitespace, numbers as written, escapes, member order. A
// FHIR Reference (https://hl7.org/fhir/R4/references.html) keeps its target there, so
// this is how a transaction's references between its entries are resolved.
//
// doc must be one valid JSON value (RFC 8259); the error is a [*SyntaxError] when it
// is not. When nothing is replaced the result is doc itself, otherwise new memory.
func RewriteReferences(doc []byte, refs map[string]string) ([]byte, error) {
	var out []byte   // nil until a value is replaced
	last := 0        // doc[last:] is not in out yet
	var stack []byte // open containers: '{' or '['
	needKey := false // inside an object, before a member's name
	isRef := false   // the value that follows is that of a member named "reference"
	i := 0
	bad := func() ([]byte, error) { return nil, &SyntaxError{Offset: int64(i)} }
	for {
		i = SkipSpace(doc, i)
		if needKey {
			n := stringLen(doc[i:])
			if n < 0 {
				return bad()
			}
			isRef = isName(doc[i:i+n], "reference")
			i = SkipSpace(doc, i+n)
			if i >= len(doc) || doc[i] != ':' {
				return bad()
			}
			i = SkipSpace(doc, i+1)
			needKey = false
		}
		if i >= len(doc) {
			return bad()
		}
		switch c := doc[i]; c {
		case '{', '[':
			if len(stack) == MaxDepth {
				return bad()
			}
			isRef = false
			i = SkipSpace(doc, i+1)
			if i < len(doc) && doc[i] == c+2 { // '}' is '{'+2, ']' is '['+2
				i++
				break
			}
			stack = append(stack, c)
			needKey = c == '{'
			continue
		case '"':
			n := stringLen(doc[i:])
			if n < 0 {
				return bad()
			}
			if isRef {
				if to, ok := lookup(refs, doc[i:i+n]); ok {
					q, _ := json.Marshal(to) // a string always marshals
					out = append(append(out, doc[last:i]...), q...)
					last = i + n
				}
			}
			i += n
		default:
			n := scalarLen(doc[i:])
			if n < 0 {
				return bad()
			}
			i += n
		}
		isRef = false
		// A value is complete at the level of len(stack): a ',' or the end of
		// containers follows, each of which completes a value a level up.
		for {
			i = SkipSpace(doc, i)
			if len(stack) == 0 {
				if i != len(doc) {
					return bad()
				}
				if out == nil {
					return doc, nil
				}
				return append(out, doc[last:]...), nil
			}
			if i >= len(doc) {
				return bad()
			}
			top := stack[len(stack)-1]
			if doc[i] == ',' {
				i++
				needKey = top == '{'
				break
			}
			if doc[i] != top+2 {
				return bad()
			}
			i++
			stack = stack[:len(stack)-1]
		}
	}
}

// lookup returns refs[v] for the decoded value v of the quoted string q, without
// copying q when it is plain.
func lookup(refs map[string]string, q []byte) (string, bool) {
	if isPlain(q) {
		to, ok := refs[string(q[1:len(q)-1])]
		return to, ok
	}
	to, ok := refs[Unquote(q)]
	return to, ok
}
