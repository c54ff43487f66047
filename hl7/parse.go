package hl7

import (
	"bytes"
	"encoding/binary"
	"iter"
	"math"
	"math/bits"
)

// Message is a parsed HL7 v2 message: the raw bytes and an index of where each segment
// and field starts. It is a read-only view; see the package doc for the lifetime rules.
type Message struct {
	raw    []byte
	enc    encoding
	segs   []Segment
	fields []int32 // start offset of every field, segment after segment
	notes  []Issue // tolerated irregularities found while parsing

	// Typical messages index into these, so that parsing allocates only the Message.
	segBuf   [16]Segment
	fieldBuf [256]int32
}

// Segment is a view of one segment of a Message.
type Segment struct {
	m     *Message
	start int32 // offset of the segment ID
	end   int32 // offset just past the segment's last byte (before its terminator)
	first int32 // index into m.fields of the first separator-delimited field
	n     int32 // number of separator-delimited fields
	base  int32 // HL7 field number of m.fields[first]: 2 for MSH, 1 otherwise
	index int32 // 1-based position of the segment in the message
}

// Parse parses one ER7-encoded message. The returned Message refers to b, which must not
// be modified while the message is in use.
//
// A failure is reported as a *ParseError wrapping one of ErrNoHeader, ErrDelimiters,
// ErrSegmentName, ErrSecondMessage, ErrBatch or ErrTooLarge, with the position of the
// problem.
func Parse(b []byte) (*Message, error) {
	m := new(Message)
	if err := m.parse(b); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Message) parse(b []byte) error {
	if len(b) > math.MaxInt32 {
		return &ParseError{Err: ErrTooLarge}
	}
	start := 0
	if bytes.HasPrefix(b, utf8BOM) {
		start = len(utf8BOM)
	}
	start = skipBlank(b, start)
	if len(b)-start < 4 || string(b[start:start+3]) != "MSH" {
		if len(b)-start >= 3 && (string(b[start:start+3]) == "FHS" || string(b[start:start+3]) == "BHS") {
			return &ParseError{Segment: string(b[start : start+3]), SegIndex: 1, Offset: int64(start), Err: ErrBatch}
		}
		return &ParseError{SegIndex: 1, Offset: int64(start), Err: ErrNoHeader}
	}
	fs := b[start+3]
	encEnd := start + 4
	for encEnd < len(b) && b[encEnd] != fs && b[encEnd] != '\r' && b[encEnd] != '\n' {
		encEnd++
	}
	d, repaired, ok := readDelimiters(fs, b[start+4:encEnd])
	if !ok {
		f := 2
		if !usableDelimiter(fs) {
			f = 1
		}
		return &ParseError{Segment: "MSH", SegIndex: 1, Field: f, Offset: int64(start + 3), Err: ErrDelimiters}
	}
	m.raw = b
	m.enc = encoding{Delimiters: d, mshEnc: int32(encEnd)}
	if repaired {
		m.notes = append(m.notes, Issue{Location: Location{Segment: "MSH", Field: 2}, Code: CodeDataType,
			Severity: SeverityWarning, Text: "MSH-2 encoding characters were escaped; read as " + d.EncodingCharacters()})
	}

	nl := bytes.Count(b, []byte{'\n'}) + bytes.Count(b, []byte{'\r'}) + 1
	if m.segs = m.segBuf[:0]; nl > len(m.segBuf) {
		m.segs = make([]Segment, 0, nl)
	}
	if nf := bytes.Count(b, []byte{fs}) + nl; nf > len(m.fieldBuf) {
		m.fields = make([]int32, 0, nf)
	} else {
		m.fields = m.fieldBuf[:0]
	}

	for pos := start; pos < len(b); {
		pos = skipBlank(b, pos)
		if pos >= len(b) {
			break
		}
		end, err := m.addSegment(pos)
		if err != nil {
			return err
		}
		pos = end + 1
	}
	m.enc.charset = detectCharset(m)
	return nil
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// skipBlank skips line terminators, blanks before a segment ID, and MLLP framing bytes.
func skipBlank(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case '\r', '\n', ' ', '\t', 0x0b, 0x1c:
			i++
		default:
			return i
		}
	}
	return i
}

// addSegment indexes the segment that starts at start and returns the offset of its
// terminator (len(m.raw) for the last segment without one).
func (m *Message) addSegment(start int) (int, error) {
	b, fs := m.raw, m.enc.Field
	idx := int32(len(m.segs) + 1)
	if !validSegmentID(b[start:min(start+4, len(b))], fs) {
		return 0, &ParseError{SegIndex: int(idx), Offset: int64(start), Err: ErrSegmentName}
	}
	seg := Segment{m: m, start: int32(start), first: int32(len(m.fields)), base: 1, index: idx}
	switch {
	case idx == 1:
		seg.base = 2 // the first separator-delimited field of MSH is MSH-2
	case string(b[start:start+3]) == "MSH":
		return 0, &ParseError{Segment: "MSH", SegIndex: int(idx), Offset: int64(start), Err: ErrSecondMessage}
	}
	end := start + 3
	if end < len(b) && b[end] == fs {
		m.fields = append(m.fields, int32(end+1))
		end = m.scanFields(end + 1)
	}
	seg.end = int32(end)
	seg.n = int32(len(m.fields)) - seg.first
	m.segs = append(m.segs, seg)
	return end, nil
}

// validSegmentID reports whether line starts with a segment ID followed by the field
// separator, a line terminator or the end of the input.
// scanFields records the start of every field after a field separator from i to the end
// of the segment and returns the offset of the segment's terminator (or len(m.raw)).
//
// HL7 fields are short, so bytes.IndexByte per field costs more in call overhead than it
// saves, and a byte-at-a-time loop is dominated by unpredictable branches. This scans
// eight bytes per step instead: swar.match gives the exact positions of the separators
// and terminators in a word, and only those positions are visited.
func (m *Message) scanFields(i int) int {
	b := m.raw
	fsWord := broadcast(m.enc.Field)
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		seps := matchBytes(x, fsWord)
		// CR and LF are below 0x0E; most words hold no byte that low, and one test
		// rules both out.
		if (x-lowBytes)&^x&highBits != 0 {
			if ends := matchBytes(x, crWord) | matchBytes(x, lfWord); ends != 0 {
				k := bits.TrailingZeros64(ends) // bit 8n+7 marks byte n
				m.addFieldStarts(i, seps&(1<<k-1))
				return i + k>>3
			}
		}
		m.addFieldStarts(i, seps)
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case m.enc.Field:
			m.fields = append(m.fields, int32(i+1))
		case '\r', '\n':
			return i
		}
	}
	return i
}

// addFieldStarts records a field start after every separator that mask marks in the
// word at offset i.
func (m *Message) addFieldStarts(i int, mask uint64) {
	for mask != 0 {
		m.fields = append(m.fields, int32(i+bits.TrailingZeros64(mask)>>3+1))
		mask &= mask - 1
	}
}

const (
	highBits = 0x8080808080808080
	lowBytes = 0x0e0e0e0e0e0e0e0e // (x-lowBytes)&^x&highBits != 0 iff some byte of x < 0x0E
	lows7    = 0x7f7f7f7f7f7f7f7f
	crWord   = 0x0d0d0d0d0d0d0d0d
	lfWord   = 0x0a0a0a0a0a0a0a0a
)

// broadcast repeats c in every byte of a word.
func broadcast(c byte) uint64 { return uint64(c) * 0x0101010101010101 }

// matchBytes returns a mask with bit 8n+7 set exactly where byte n of x equals the byte
// repeated in pattern (no false positives: the high bit of each byte is handled apart
// from the carry of the low seven).
func matchBytes(x, pattern uint64) uint64 {
	y := x ^ pattern
	return ^((y&lows7 + lows7) | y | lows7)
}

func validSegmentID(line []byte, fs byte) bool {
	if len(line) < 3 || (len(line) > 3 && line[3] != fs && line[3] != '\r' && line[3] != '\n') {
		return false
	}
	if line[0] < 'A' || line[0] > 'Z' {
		return false
	}
	for _, c := range line[1:3] {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Bytes returns the message exactly as it was given to Parse: the same slice, byte for
// byte. Parse neither copies nor normalises its input, so whatever it tolerated is still
// there: CR, LF or CRLF segment terminators, blank lines, leading blanks, a byte order
// mark and MLLP framing bytes. This is what to store or show as the raw message; use
// AppendMessage for the message re-encoded with CR terminators and nothing around it.
// The slice belongs to the caller of Parse and must not be modified while m is in use.
func (m *Message) Bytes() []byte { return m.raw }

// Delimiters returns the message's delimiters.
func (m *Message) Delimiters() Delimiters { return m.enc.Delimiters }

// Segments returns every segment in order. The slice belongs to the message and must not
// be modified.
func (m *Message) Segments() []Segment { return m.segs }

// Segment returns the first segment with the given ID.
func (m *Message) Segment(name string) (Segment, bool) {
	for _, s := range m.segs {
		if s.Is(name) {
			return s, true
		}
	}
	return Segment{}, false
}

// Occurrence returns the n-th (1-based) segment with the given ID.
func (m *Message) Occurrence(name string, n int) (Segment, bool) {
	for _, s := range m.segs {
		if s.Is(name) {
			if n--; n == 0 {
				return s, true
			}
		}
	}
	return Segment{}, false
}

// All returns the segments with the given ID, in order.
func (m *Message) All(name string) iter.Seq[Segment] {
	return func(yield func(Segment) bool) {
		for _, s := range m.segs {
			if s.Is(name) && !yield(s) {
				return
			}
		}
	}
}

// Notes returns the irregularities that Parse tolerated, such as an escaped MSH-2.
func (m *Message) Notes() []Issue { return m.notes }

// Clone returns a deep copy of m that does not share the parsed bytes.
func (m *Message) Clone() *Message {
	c := new(Message)
	*c = *m
	c.raw = bytes.Clone(m.raw)
	c.fields = append(c.fieldBuf[:0:len(c.fieldBuf)], m.fields...)
	c.segs = append(c.segBuf[:0:len(c.segBuf)], m.segs...)
	for i := range c.segs {
		c.segs[i].m = c
	}
	c.notes = append([]Issue(nil), m.notes...)
	return c
}

// Is reports whether the segment's ID is name.
func (s Segment) Is(name string) bool {
	return s.m != nil && len(name) == 3 && string(s.m.raw[s.start:s.start+3]) == name
}

// Name returns the segment ID, e.g. "PID".
func (s Segment) Name() string {
	if s.m == nil {
		return ""
	}
	return internName(s.m.raw[s.start : s.start+3])
}

// Index returns the 1-based position of the segment in its message.
func (s Segment) Index() int { return int(s.index) }

// Bytes returns the segment's text as received, without its terminator. It must not be
// modified.
func (s Segment) Bytes() []byte {
	if s.m == nil {
		return nil
	}
	return s.m.raw[s.start:s.end]
}

// NumFields returns the number of the last field present in the segment (PID|1|2 has 2).
func (s Segment) NumFields() int {
	if s.n == 0 {
		return 0
	}
	return int(s.n + s.base - 1)
}

// Field returns field n (1-based, HL7 numbering) of the segment, or an empty value if the
// segment has fewer fields. MSH-1 and MSH-2 are returned literally.
func (s Segment) Field(n int) Value {
	if s.m == nil || n < 1 {
		return Value{}
	}
	if s.base == 2 && n <= 2 {
		if n == 1 {
			return Value{b: s.m.raw[s.start+3 : s.start+4], enc: &literal}
		}
		return Value{b: s.m.raw[s.start+4 : s.m.enc.mshEnc], enc: &literal}
	}
	i := int32(n) - s.base
	if i >= s.n {
		return Value{}
	}
	from := s.m.fields[s.first+i]
	to := s.end
	if i+1 < s.n {
		to = s.m.fields[s.first+i+1] - 1
	}
	return Value{b: s.m.raw[from:to], enc: &s.m.enc}
}

// internName returns the segment ID as a string without allocating for common IDs.
func internName(b []byte) string {
	switch string(b) {
	case "MSH":
		return "MSH"
	case "MSA":
		return "MSA"
	case "ERR":
		return "ERR"
	case "EVN":
		return "EVN"
	case "PID":
		return "PID"
	case "PD1":
		return "PD1"
	case "PV1":
		return "PV1"
	case "PV2":
		return "PV2"
	case "ORC":
		return "ORC"
	case "OBR":
		return "OBR"
	case "OBX":
		return "OBX"
	case "NTE":
		return "NTE"
	case "DG1":
		return "DG1"
	case "IN1":
		return "IN1"
	case "IN2":
		return "IN2"
	case "TQ1":
		return "TQ1"
	case "AL1":
		return "AL1"
	case "GT1":
		return "GT1"
	case "NK1":
		return "NK1"
	case "SPM":
		return "SPM"
	}
	return string(b)
}
