package hl7

import (
	"errors"
	"strconv"
)

// ErrNoHeader means the input does not start with an MSH segment.
var ErrNoHeader = errors.New("message does not start with an MSH segment")

// ErrDelimiters means MSH-1 or MSH-2 does not define a usable set of delimiters: a
// character repeats, is alphanumeric, or is a line terminator.
var ErrDelimiters = errors.New(`invalid delimiters: MSH-1 and MSH-2 need distinct, non-alphanumeric characters, normally |^~\&`)

// ErrSegmentName means a segment does not start with a three-character segment ID
// (an upper-case letter followed by two upper-case letters or digits).
var ErrSegmentName = errors.New("invalid segment ID")

// ErrSecondMessage means the input holds more than one message; read it with ParseBatch
// or a Scanner.
var ErrSecondMessage = errors.New("second MSH segment: input holds more than one message")

// ErrBatch means the input is an HL7 batch or file (it starts with FHS or BHS); read it
// with ParseBatch or a Scanner.
var ErrBatch = errors.New("batch header (FHS/BHS): input is a batch of messages, not one message")

// ErrTooLarge means the message exceeds the size this package can index (2 GiB) or the
// limit set on a Scanner.
var ErrTooLarge = errors.New("message too large")

// ErrPath means a path such as "PID-3(2).1" is not well formed.
var ErrPath = errors.New("invalid path")

// ErrTimestamp means a TS/DTM value is not of the form YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ].
var ErrTimestamp = errors.New("invalid timestamp")

// ErrMissingMSA means an acknowledgment has no MSA segment.
var ErrMissingMSA = errors.New("acknowledgment has no MSA segment")

// ErrAckMismatch means an acknowledgment's MSA-2 does not name the message that was sent.
var ErrAckMismatch = errors.New("acknowledgment is for another message")

// ParseError reports where a message could not be parsed. Positions are 1-based; a zero
// position is unknown or not applicable. Offset is the byte offset from the start of the
// input given to Parse.
type ParseError struct {
	Segment   string // segment ID, e.g. "PID"; empty when the ID itself is bad
	SegIndex  int    // segment number within the message (MSH is 1)
	Field     int
	Rep       int
	Component int
	Offset    int64
	Err       error
}

// Error formats the error as `hl7: PID-3.1 (segment 2, offset 57): invalid escape sequence`.
func (e *ParseError) Error() string {
	b := []byte("hl7: ")
	if loc := e.location(); loc != "" {
		b = append(b, loc...)
		b = append(b, ' ')
	}
	b = append(b, "(segment "...)
	b = strconv.AppendInt(b, int64(e.SegIndex), 10)
	b = append(b, ", offset "...)
	b = strconv.AppendInt(b, e.Offset, 10)
	b = append(b, "): "...)
	if e.Err != nil {
		b = append(b, e.Err.Error()...)
	}
	return string(b)
}

// Unwrap returns the underlying cause, one of the sentinel errors of this package.
func (e *ParseError) Unwrap() error { return e.Err }

// Location returns the position as an HL7 location such as "MSH-2" or "PID-3(2).1".
func (e *ParseError) Location() Location {
	return Location{Segment: e.Segment, Field: e.Field, Rep: e.Rep, Component: e.Component}
}

func (e *ParseError) location() string {
	if e.Segment == "" {
		return ""
	}
	return e.Location().String()
}

// Code returns the HL7 table 0357 error code that best describes the failure, for an
// ERR segment: 100 (segment sequence) for a missing MSH, a bad segment ID or a second
// message, 102 (data type) for unusable delimiters, 104 (value too long) for a message
// over the size limit.
func (e *ParseError) Code() int {
	switch {
	case errors.Is(e.Err, ErrDelimiters):
		return CodeDataType
	case errors.Is(e.Err, ErrTooLarge):
		return CodeValueTooLong
	}
	return CodeSegmentSequence
}

// Issue returns the failure as an Issue for an acknowledgment or report.
func (e *ParseError) Issue() Issue {
	text := e.Err.Error()
	if e.SegIndex > 0 {
		text = "segment " + strconv.Itoa(e.SegIndex) + " (byte " + strconv.FormatInt(e.Offset, 10) + "): " + text
	}
	return Issue{Location: e.Location(), Code: e.Code(), Severity: SeverityError, Text: text}
}
