package hl7

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// DefaultMaxMessageSize is the largest message a Scanner accepts unless told otherwise.
const DefaultMaxMessageSize = 16 << 20

// Scanner reads the messages of a file or stream one at a time: plain concatenated
// messages, HL7 batch files (FHS/BHS ... BTS/FTS), or messages wrapped in MLLP framing
// bytes. Each message starts at an MSH segment; the batch envelope segments are not part
// of any message and are reported through Envelope. Text before the first MSH that is
// not an envelope segment is returned as a message of its own, so that Parse reports it.
//
// It is modelled on bufio.Scanner and is not safe for concurrent use.
type Scanner struct {
	s   *bufio.Scanner
	env Envelope
}

// Envelope is what a Scanner saw of a batch envelope: the raw header segments (copies)
// and the message counts the trailers declared.
type Envelope struct {
	FileHeader  []byte // FHS segment, nil when absent
	BatchHeader []byte // the last BHS segment, nil when absent
	Batches     int    // BHS segments seen
	Messages    int    // messages returned so far
	// Declared is the sum of the BTS-1 message counts of the batches seen, or -1 when no
	// trailer declared a count.
	Declared int
}

// NewScanner returns a Scanner reading from r, with messages of up to
// DefaultMaxMessageSize bytes.
func NewScanner(r io.Reader) *Scanner {
	sc := &Scanner{s: bufio.NewScanner(r), env: Envelope{Declared: -1}}
	sc.s.Buffer(make([]byte, 0, 64<<10), DefaultMaxMessageSize)
	sc.s.Split(splitMessages)
	return sc
}

// Buffer sets the largest message the scanner accepts. It must be called before Scan.
func (sc *Scanner) Buffer(max int) { sc.s.Buffer(make([]byte, 0, min(max, 64<<10)), max) }

// Scan advances to the next message and reports whether there is one.
func (sc *Scanner) Scan() bool {
	for sc.s.Scan() {
		tok := sc.s.Bytes()
		switch segmentID(tok) {
		case "FHS":
			sc.env.FileHeader = bytes.Clone(tok)
		case "BHS":
			sc.env.BatchHeader = bytes.Clone(tok)
			sc.env.Batches++
		case "BTS":
			sc.declare(tok)
		case "FTS":
		default:
			sc.env.Messages++
			return true
		}
	}
	return false
}

// declare adds a BTS-1 batch message count to the envelope.
func (sc *Scanner) declare(bts []byte) {
	if len(bts) < 5 {
		return
	}
	f := bts[4:]
	if i := bytes.IndexByte(f, bts[3]); i >= 0 {
		f = f[:i]
	}
	n := atoi(string(f))
	if n == 0 && !digits(string(bytes.TrimSpace(f))) {
		return
	}
	if sc.env.Declared < 0 {
		sc.env.Declared = 0
	}
	sc.env.Declared += n
}

// Bytes returns the current message, from its first segment to the end of its last one,
// without the terminator, blank lines or framing bytes after it; ParseBatch gives the
// exact bytes of each message. The slice is valid until the next call to Scan.
func (sc *Scanner) Bytes() []byte { return sc.s.Bytes() }

// Err returns the first error other than io.EOF; a message larger than the limit is
// reported as ErrTooLarge.
func (sc *Scanner) Err() error {
	err := sc.s.Err()
	if errors.Is(err, bufio.ErrTooLong) {
		return ErrTooLarge
	}
	return err
}

// Envelope returns what the scanner has seen of a batch envelope so far.
func (sc *Scanner) Envelope() Envelope { return sc.env }

// segmentID returns the ID of an envelope token, or "" for a message.
func segmentID(tok []byte) string {
	if len(tok) < 3 {
		return ""
	}
	switch id := string(tok[:3]); id {
	case "FHS", "BHS", "BTS", "FTS":
		if len(tok) == 3 || !isAlnum(tok[3]) {
			return id
		}
	}
	return ""
}

func isAlnum(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// splitMessages is a bufio.SplitFunc returning one message (from MSH to the line before
// the next MSH or envelope segment) or one envelope segment per token, with the line
// terminators and framing bytes around them trimmed.
func splitMessages(data []byte, atEOF bool) (int, []byte, error) {
	start := skipBlank(data, 0)
	if start == len(data) {
		if atEOF {
			return len(data), nil, nil
		}
		return start, nil, nil
	}
	envelope := segmentID(data[start:]) != ""
	for i := start; i < len(data); i++ {
		if data[i] != '\r' && data[i] != '\n' {
			continue
		}
		if envelope {
			return i + 1, data[start:i], nil
		}
		next := skipBlank(data, i)
		if next == len(data) {
			break // need more data to see what the next line is
		}
		// An envelope segment with no fields ("BTS") is known only at the end of the
		// input: before that, more bytes may follow its ID.
		if startsMessage(data[next:]) || atEOF && len(data)-next == 3 && segmentID(data[next:]) != "" {
			return next, trimEnd(data[start:i]), nil
		}
		i = next - 1
	}
	if atEOF {
		return len(data), trimEnd(data[start:lastLineEnd(data, start)]), nil
	}
	return start, nil, nil
}

// lastLineEnd returns the end of data without the blank lines that may follow its last
// line terminator (blanks after it belong to no segment; the line itself may end in
// blanks that are part of its last field).
func lastLineEnd(data []byte, start int) int {
	end := len(data)
	for i := len(data) - 1; i >= start; i-- {
		switch data[i] {
		case '\r', '\n':
			end = i + 1
		case ' ', '\t', 0x0b, 0x1c:
		default:
			return end
		}
	}
	return end
}

// startsMessage reports whether b starts with MSH or an envelope segment ID.
func startsMessage(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	return (string(b[:3]) == "MSH" && !isAlnum(b[3])) || segmentID(b) != ""
}

func trimEnd(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case '\r', '\n', 0x1c:
			b = b[:len(b)-1]
		default:
			return b
		}
	}
	return b
}
