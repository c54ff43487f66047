package jsontext

import (
	"errors"
	"strconv"
)

// ErrNotObject is returned by [Compact] for valid JSON text that is not an object.
var ErrNotObject = errors.New("jsontext: JSON text is not an object")

// SyntaxError is the error for text that is not valid JSON (RFC 8259), or that nests
// deeper than [MaxDepth].
type SyntaxError struct {
	// Offset is the offset in the input of the byte where the text stops being valid
	// (its length when the text ends too soon).
	Offset int64
}

func (e *SyntaxError) Error() string {
	return "jsontext: invalid JSON at offset " + strconv.FormatInt(e.Offset, 10)
}
