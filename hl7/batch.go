package hl7

import (
	"bytes"
	"iter"
	"strconv"
	"strings"
)

// This file reads the HL7 batch protocol, HL7 v2.5.1 section 2.10.3. Its grammar is
//
//	[FHS] { [BHS] { [MSH ...] } [BTS] } [FTS]
//
// a file header and trailer around one or more batches, each an optional batch header,
// zero or more messages and an optional batch trailer. BTS-1 declares the number of
// messages in its batch and FTS-1 the number of batches in the file (the file trailer
// counts batches, not messages). FHS and BHS are laid out like MSH: field separator,
// encoding characters, sending and receiving application and facility, creation time,
// security, then FHS-9 file name/ID or BHS-9 batch name/ID/type (for the application
// processing it; HL7 gives it no further meaning), FHS-10/BHS-10 a free-text comment,
// FHS-11/BHS-11 the control ID of the file or batch and FHS-12/BHS-12 the control ID of
// the one it answers or replaces. Every message inside keeps its own MSH and its own
// delimiters.

// BatchFile is an HL7 batch read by ParseBatch: the optional file envelope (FHS/FTS)
// and the batches inside it. Every message of the input is in exactly one batch; the
// envelope's problems are reported in Issues and never cost a message.
//
// A BatchFile and everything in it refer to the bytes given to ParseBatch, which must
// not be modified while it is in use. It is safe for concurrent reads.
type BatchFile struct {
	Header  *BatchHeader  // FHS, nil when the input has none
	Trailer *BatchTrailer // FTS, nil when the input has none
	Batches []Batch       // in input order
	// Issues are what is wrong with the envelope: a BTS-1 or FTS-1 count that does not
	// match what the input holds (code 100, segment sequence error, at BTS-1 or FTS-1),
	// a count that is not a number (102), an unusable FHS-2 or BHS-2 (102), a file
	// header that does not come first or segments after the file trailer (100).
	Issues []Issue
}

// Batch is one batch of a BatchFile: its optional header and trailer and the messages
// between them. A batch without BHS is the run of messages between two envelope
// segments (or the whole input, for plain concatenated messages).
type Batch struct {
	Header   *BatchHeader  // BHS, nil when the batch has none
	Trailer  *BatchTrailer // BTS, nil when the batch has none
	Messages []BatchMessage
}

// BatchMessage is one message of a batch, as received.
type BatchMessage struct {
	// Bytes is the message exactly as it appears in the input, from the first byte of
	// its first segment through the terminator of its last one (CR, LF or CRLF, when
	// present; an MLLP FS right after the segment ends it instead), with any blank lines
	// between its segments: what a caller stores or forwards as the raw message. Parse
	// reads it. It starts with MSH, except for text that does not belong
	// to any message (a line before the first MSH of a batch that is no envelope
	// segment), which is kept as a message of its own so that Parse reports it.
	Bytes  []byte
	Offset int // where Bytes starts in the input
	Index  int // 1-based position among all the messages of the input
}

// BatchHeader is an FHS or BHS segment. The application and facility fields are kept
// encoded, as in Header.
type BatchHeader struct {
	Segment           string // "FHS" or "BHS"
	Delims            Delimiters
	SendingApp        string // FHS-3 / BHS-3, encoded
	SendingFacility   string // -4, encoded
	ReceivingApp      string // -5, encoded
	ReceivingFacility string // -6, encoded
	Time              string // -7, creation date/time as sent (see ParseTime)
	Security          string // -8
	Name              string // FHS-9 file name/ID, BHS-9 batch name/ID/type
	Comment           string // -10
	ControlID         string // -11, text
	RawControlID      string // -11 as sent; echoed in the answering batch's -12
	ReferenceID       string // -12, the control ID of the file or batch this one answers
	Bytes             []byte // the segment as received, without its terminator
	Offset            int    // where the segment starts in the input
}

// BatchTrailer is a BTS or FTS segment.
type BatchTrailer struct {
	Segment string // "BTS" or "FTS"
	// Count is BTS-1 (batch message count) or FTS-1 (file batch count); -1 when the
	// field is empty or not a number.
	Count   int
	Comment string // BTS-2 / FTS-2, as sent
	Bytes   []byte // the segment as received, without its terminator
	Offset  int    // where the segment starts in the input
}

// IsBatch reports whether b is an HL7 batch: its first segment, after what Parse skips
// (a byte order mark, blank lines, MLLP framing bytes), is FHS or BHS. Parse rejects such
// input with ErrBatch; read it with ParseBatch.
func IsBatch(b []byte) bool {
	i := skipBlank(b, skipBOM(b))
	switch segmentID(b[i:]) {
	case "FHS", "BHS":
		return true
	}
	return false
}

// NumMessages returns the number of messages in all the batches of f.
func (f *BatchFile) NumMessages() int {
	n := 0
	for _, b := range f.Batches {
		n += len(b.Messages)
	}
	return n
}

// Messages returns every message of f in input order, batch after batch.
func (f *BatchFile) Messages() iter.Seq[BatchMessage] {
	return func(yield func(BatchMessage) bool) {
		for _, b := range f.Batches {
			for _, m := range b.Messages {
				if !yield(m) {
					return
				}
			}
		}
	}
}

// ParseBatch reads an HL7 batch (HL7 v2.5.1 section 2.10.3): a file of one or more
// batches in an optional FHS/FTS envelope, each with an optional BHS/BTS envelope
// (FHS BHS ... BTS BHS ... BTS FTS, BHS ... BTS without FHS, an empty batch), or plain
// concatenated messages. It splits the input into messages, without parsing them (see
// BatchMessage), reads the envelope segments and checks BTS-1 and FTS-1 against what it
// found. Segments may end in CR, LF or CRLF; blank lines, blanks before a segment ID and
// MLLP framing bytes between segments are skipped, as Parse skips them, and so is an
// MLLP end-of-block character (FS) right after a segment, with what follows it on the
// line: a message framed <VT>...<FS><CR> without a final CR ends before the FS.
//
// Problems with the envelope are Issues of the result, not errors: every message is
// kept, so that each can be processed or rejected on its own. The only error is a
// *ParseError wrapping ErrNoHeader for input that holds no segment at all.
func ParseBatch(b []byte) (*BatchFile, error) {
	p := batchParser{b: b, f: &BatchFile{}, cur: -1, msgStart: -1}
	pos := skipBlank(b, skipBOM(b))
	if pos == len(b) {
		return nil, &ParseError{SegIndex: 1, Offset: int64(pos), Err: ErrNoHeader}
	}
	for pos < len(b) {
		end := pos
		for end < len(b) && b[end] != '\r' && b[end] != '\n' {
			end++
		}
		next := end
		switch {
		case next+1 < len(b) && b[next] == '\r' && b[next+1] == '\n':
			next += 2
		case next < len(b):
			next++
		}
		p.line(pos, end, next)
		pos = skipBlank(b, next)
	}
	p.endMessage()
	p.check()
	return p.f, nil
}

// batchParser is the state of ParseBatch between lines.
type batchParser struct {
	b        []byte
	f        *BatchFile
	cur      int // index of the open batch in f.Batches, -1 when none is open
	msgStart int // start of the open message, -1 when none is open
	msgEnd   int // end of its last line, terminator included
	messages int
	seen     bool // a segment came before the current one
	ended    bool // the file trailer has been read
	late     bool // a segment after it has been reported
	occ      map[string]int
}

// line handles the segment b[start:end], whose terminator ends at next.
func (p *batchParser) line(start, end, next int) {
	if e := end; e > start && p.b[e-1] == endOfBlock {
		for e > start && p.b[e-1] == endOfBlock {
			e--
		}
		end, next = e, e // an MLLP frame ends here: the FS and what follows are framing
	}
	seg := p.b[start:end]
	id := segmentID(seg)
	if p.ended && !p.late {
		p.late = true
		p.issueAt(Location{}, CodeSegmentSequence, "segment after the file trailer (FTS) at byte "+strconv.Itoa(start))
	}
	if id == "" {
		if p.msgStart < 0 || startsMessage(p.b[start:]) {
			p.endMessage()
			p.msgStart = start
		}
		p.msgEnd = next
	} else {
		p.endMessage()
		p.envelope(id, seg, start)
	}
	p.seen = true
}

// envelope handles an FHS, BHS, BTS or FTS segment.
func (p *batchParser) envelope(id string, seg []byte, start int) {
	if p.occ == nil {
		p.occ = map[string]int{}
	}
	p.occ[id]++
	switch id {
	case "FHS":
		if p.seen {
			p.issue(id, CodeSegmentSequence, "file header (FHS) at byte "+strconv.Itoa(start)+" does not start the input; ignored")
			return
		}
		p.f.Header = p.header(id, seg, start)
	case "BHS":
		p.f.Batches = append(p.f.Batches, Batch{Header: p.header(id, seg, start)})
		p.cur = len(p.f.Batches) - 1
	case "BTS":
		if p.cur < 0 { // a batch without BHS or messages: the trailer alone
			p.f.Batches = append(p.f.Batches, Batch{})
			p.cur = len(p.f.Batches) - 1
		}
		p.f.Batches[p.cur].Trailer = p.trailer(id, seg, start)
		p.cur = -1
	case "FTS":
		if p.f.Trailer != nil {
			p.issue(id, CodeSegmentSequence, "second file trailer (FTS) at byte "+strconv.Itoa(start)+"; ignored")
			return
		}
		p.f.Trailer = p.trailer(id, seg, start)
		p.cur = -1
		p.ended = true
	}
}

// endMessage adds the open message, if any, to the open batch (opening one without a
// header when none is open).
func (p *batchParser) endMessage() {
	if p.msgStart < 0 {
		return
	}
	if p.cur < 0 {
		p.f.Batches = append(p.f.Batches, Batch{})
		p.cur = len(p.f.Batches) - 1
	}
	p.messages++
	m := BatchMessage{Bytes: p.b[p.msgStart:p.msgEnd:p.msgEnd], Offset: p.msgStart, Index: p.messages}
	p.f.Batches[p.cur].Messages = append(p.f.Batches[p.cur].Messages, m)
	p.msgStart = -1
}

// header reads an FHS or BHS segment, which is laid out like MSH.
func (p *batchParser) header(id string, seg []byte, start int) *BatchHeader {
	h := &BatchHeader{Segment: id, Bytes: seg[:len(seg):len(seg)], Offset: start}
	m, err := Parse(append([]byte("MSH"), seg[3:]...))
	if err != nil {
		p.issue(id, CodeDataType, id+"-1 and "+id+"-2 (at byte "+strconv.Itoa(start)+") do not define usable delimiters")
		return h
	}
	s := m.segs[0]
	raw := func(n int) string { return string(bytes.TrimSpace(s.Field(n).Bytes())) }
	text := func(n int) string { return strings.TrimSpace(s.Field(n).String()) }
	h.Delims = m.enc.Delimiters
	h.SendingApp, h.SendingFacility, h.ReceivingApp, h.ReceivingFacility = raw(3), raw(4), raw(5), raw(6)
	h.Time, h.Security, h.Name, h.Comment = text(7), text(8), text(9), text(10)
	h.ControlID, h.RawControlID, h.ReferenceID = text(11), raw(11), text(12)
	return h
}

// trailer reads a BTS or FTS segment: count, comment.
func (p *batchParser) trailer(id string, seg []byte, start int) *BatchTrailer {
	t := &BatchTrailer{Segment: id, Count: -1, Bytes: seg[:len(seg):len(seg)], Offset: start}
	if len(seg) < 5 {
		return t
	}
	fields := bytes.Split(seg[4:], seg[3:4])
	count := string(bytes.TrimSpace(fields[0]))
	switch {
	case digits(count) && len(count) <= 9:
		t.Count = atoiDigits(count)
	case count != "":
		p.issueAt(Location{Segment: id, Occurrence: p.occ[id], Field: 1}, CodeDataType,
			id+"-1 is not a count: "+quote(count))
	}
	if len(fields) > 1 {
		t.Comment = string(bytes.TrimSpace(fields[1]))
	}
	return t
}

// check compares the declared counts with what the input holds.
func (p *batchParser) check() {
	bts := 0
	for _, b := range p.f.Batches {
		if b.Trailer == nil {
			continue
		}
		bts++
		if n := len(b.Messages); b.Trailer.Count >= 0 && b.Trailer.Count != n {
			p.issueAt(Location{Segment: "BTS", Occurrence: bts, Field: 1}, CodeSegmentSequence,
				"BTS-1 declares "+strconv.Itoa(b.Trailer.Count)+" messages; the batch holds "+strconv.Itoa(n))
		}
	}
	if t := p.f.Trailer; t != nil && t.Count >= 0 && t.Count != len(p.f.Batches) {
		p.issueAt(Location{Segment: "FTS", Field: 1}, CodeSegmentSequence,
			"FTS-1 declares "+strconv.Itoa(t.Count)+" batches; the file holds "+strconv.Itoa(len(p.f.Batches)))
	}
}

func (p *batchParser) issue(id string, code int, text string) {
	l := Location{Segment: id}
	if id != "" {
		l.Occurrence = p.occ[id]
	}
	p.issueAt(l, code, text)
}

func (p *batchParser) issueAt(l Location, code int, text string) {
	p.f.Issues = append(p.f.Issues, Issue{Location: l, Code: code, Severity: SeverityError, Text: text})
}

// endOfBlock is the MLLP end-of-block character (FS) that ends a framed message.
const endOfBlock = 0x1c

// skipBOM returns the offset after a UTF-8 byte order mark at the start of b, or 0.
func skipBOM(b []byte) int {
	if bytes.HasPrefix(b, utf8BOM) {
		return len(utf8BOM)
	}
	return 0
}
