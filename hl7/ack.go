package hl7

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AckCode is MSA-1, the acknowledgment code (HL7 table 0008).
type AckCode string

// Acknowledgment codes. The A-codes are original-mode and enhanced-mode application
// acknowledgments; the C-codes are enhanced-mode accept (commit) acknowledgments.
const (
	AA AckCode = "AA" // application accept
	AE AckCode = "AE" // application error: stored, but the sender must fix something
	AR AckCode = "AR" // application reject: not processed
	CA AckCode = "CA" // commit accept
	CE AckCode = "CE" // commit error
	CR AckCode = "CR" // commit reject
)

// Accepted reports whether the code means the message was accepted (AA or CA).
func (c AckCode) Accepted() bool { return c == AA || c == CA }

// Commit returns the enhanced-mode accept code that corresponds to the original-mode
// code c: AA and AE are CA, AR is CR. An accept acknowledgment says whether the
// receiver safely stored the message (HL7 v2.5.1 section 2.9.3): a message accepted
// with errors the sender must fix was stored, so it is CA, its errors riding along as
// ERR segments. CE (commit error: the message could not be stored) corresponds to no
// original-mode answer and is never returned.
func (c AckCode) Commit() AckCode {
	switch c {
	case AA, AE:
		return CA
	case AR:
		return CR
	}
	return c
}

// Error condition codes, HL7 table 0357.
const (
	CodeSegmentSequence    = 100 // segment sequence error
	CodeRequiredField      = 101 // required field missing
	CodeDataType           = 102 // data type error
	CodeTableValue         = 103 // table value not found
	CodeValueTooLong       = 104 // value too long
	CodeUnsupportedType    = 200 // unsupported message type
	CodeUnsupportedEvent   = 201 // unsupported event code
	CodeUnsupportedProcID  = 202 // unsupported processing ID
	CodeUnsupportedVersion = 203 // unsupported version ID
	CodeUnknownKey         = 204 // unknown key identifier
	CodeDuplicateKey       = 205 // duplicate key identifier
	CodeRecordLocked       = 206 // application record locked
	CodeInternal           = 207 // application internal error
)

// CodeText returns the HL7 table 0357 description of an error code.
func CodeText(code int) string {
	switch code {
	case 0:
		return "Message accepted"
	case CodeSegmentSequence:
		return "Segment sequence error"
	case CodeRequiredField:
		return "Required field missing"
	case CodeDataType:
		return "Data type error"
	case CodeTableValue:
		return "Table value not found"
	case CodeValueTooLong:
		return "Value too long"
	case CodeUnsupportedType:
		return "Unsupported message type"
	case CodeUnsupportedEvent:
		return "Unsupported event code"
	case CodeUnsupportedProcID:
		return "Unsupported processing id"
	case CodeUnsupportedVersion:
		return "Unsupported version id"
	case CodeUnknownKey:
		return "Unknown key identifier"
	case CodeDuplicateKey:
		return "Duplicate key identifier"
	case CodeRecordLocked:
		return "Application record locked"
	case CodeInternal:
		return "Application internal error"
	}
	return "Error"
}

// Severity is ERR-4 (HL7 table 0516).
type Severity byte

// Severities.
const (
	SeverityError       Severity = 'E'
	SeverityWarning     Severity = 'W'
	SeverityInformation Severity = 'I'
)

// String returns "E", "W" or "I".
func (s Severity) String() string { return string(rune(s)) }

// Issue is one problem to report in an ERR segment: where, the table 0357 code, how
// severe, and text a person can act on.
type Issue struct {
	Location Location
	Code     int
	Severity Severity
	Text     string
}

// Header holds the MSH fields an acknowledgment needs. The application and facility
// fields are kept encoded, as they appear in the message, so that their components
// survive into the acknowledgment unchanged.
type Header struct {
	Delims            Delimiters
	SendingApp        string // MSH-3, encoded
	SendingFacility   string // MSH-4, encoded
	ReceivingApp      string // MSH-5, encoded
	ReceivingFacility string // MSH-6, encoded
	Type              string // MSH-9.1, e.g. "ORM"
	Event             string // MSH-9.2, e.g. "O01"
	Structure         string // MSH-9.3, e.g. "ORM_O01"
	ControlID         string // MSH-10 as text: escape sequences decoded, UTF-8
	RawControlID      string // MSH-10 as sent (escapes, character set); echoed in MSA-2
	ProcessingID      string // MSH-11, encoded
	Version           string // MSH-12.1, e.g. "2.5.1"
	AcceptAckType     string // MSH-15: AL, NE, ER, SU or empty
	AppAckType        string // MSH-16
	Charset           string // MSH-18, encoded
}

// Header returns the message's MSH fields.
func (m *Message) Header() Header {
	msh := m.segs[0]
	raw := func(n int) string { return string(bytes.TrimSpace(msh.Field(n).Bytes())) }
	text := func(v Value) string { return strings.TrimSpace(v.String()) }
	typ := msh.Field(9)
	return Header{
		Delims:            m.enc.Delimiters,
		SendingApp:        raw(3),
		SendingFacility:   raw(4),
		ReceivingApp:      raw(5),
		ReceivingFacility: raw(6),
		Type:              text(typ.Component(1)),
		Event:             text(typ.Component(2)),
		Structure:         text(typ.Component(3)),
		ControlID:         text(msh.Field(10)),
		RawControlID:      raw(10),
		ProcessingID:      raw(11),
		Version:           text(msh.Field(12).Component(1)),
		AcceptAckType:     strings.ToUpper(text(msh.Field(15))),
		AppAckType:        strings.ToUpper(text(msh.Field(16))),
		Charset:           raw(18),
	}
}

// MessageType returns "TYPE^EVENT" (e.g. "ORM^O01"), or just TYPE when there is no event.
func (h Header) MessageType() string {
	if h.Event == "" {
		return h.Type
	}
	return h.Type + "^" + h.Event
}

// Enhanced reports whether the sender asked for enhanced-mode acknowledgments (MSH-15 or
// MSH-16 valued).
func (h Header) Enhanced() bool { return h.AcceptAckType != "" || h.AppAckType != "" }

// WantsAccept reports whether, in enhanced mode, an accept acknowledgment with the given
// outcome should be sent at all (MSH-15: AL always, NE never, ER only on error, SU only
// on success). In original mode it is always true.
func (h Header) WantsAccept(accepted bool) bool {
	switch h.AcceptAckType {
	case "NE":
		return false
	case "ER":
		return !accepted
	case "SU":
		return accepted
	}
	return true
}

// SalvageHeader reads what it can of an MSH segment from input that Parse rejected, so
// that the rejection can still be acknowledged to the right sender with the right
// control ID. It reports false when the input has no recognisable MSH segment.
//
// When the MSH segment itself is well formed (Parse failed further on, or the input is
// a batch whose first message has a good header) the result is that segment's Header,
// exactly as Message.Header gives it. Otherwise the fields are read by splitting the
// line at MSH-1: ControlID and RawControlID are then MSH-10 as sent (nothing can be
// decoded without usable encoding characters), and Delims are HL7's recommended
// characters with the message's field separator, or all of HL7's recommended
// characters when that separator is one of them. An encoded field that holds the
// chosen field separator or an MLLP block character is left empty, so that it cannot
// break the structure or the framing of an acknowledgment.
func SalvageHeader(b []byte) (Header, bool) {
	i := bytes.Index(b, []byte("MSH"))
	if i < 0 {
		return Header{Delims: DefaultDelimiters}, false
	}
	line := b[i:]
	if j := bytes.IndexAny(line, "\r\n"); j >= 0 {
		line = line[:j]
	}
	if len(line) < 4 {
		return Header{Delims: DefaultDelimiters}, false
	}
	fs := line[3]
	if !usableDelimiter(fs) {
		return Header{Delims: DefaultDelimiters}, false
	}
	if m, err := Parse(line); err == nil {
		return m.Header(), true
	}
	parts := bytes.Split(line, []byte{fs})
	get := func(n int) string { // n is the MSH field number
		if n-1 < len(parts) {
			return string(bytes.TrimSpace(parts[n-1]))
		}
		return ""
	}
	d := DefaultDelimiters
	d.Field = fs
	if !d.valid() {
		d = DefaultDelimiters // fs is one of ^~\&: an acknowledgment cannot use it
	}
	first := func(s string) string { // first component, whatever the encoding characters
		if k := strings.IndexAny(s, "^~\\&"); k >= 0 {
			return s[:k]
		}
		return s
	}
	typ := strings.Split(get(9), "^")
	h := Header{
		Delims:            d,
		SendingApp:        safeRaw(get(3), d),
		SendingFacility:   safeRaw(get(4), d),
		ReceivingApp:      safeRaw(get(5), d),
		ReceivingFacility: safeRaw(get(6), d),
		Type:              first(typ[0]),
		ControlID:         get(10),
		RawControlID:      safeRaw(get(10), d),
		ProcessingID:      safeRaw(get(11), d),
		Version:           first(get(12)),
	}
	if len(typ) > 1 {
		h.Event = first(typ[1])
	}
	return h, true
}

// safeRaw keeps an encoded value only if it is safe to copy into a message with
// delimiters d: it holds no field separator, no line terminator and no MLLP block
// character (VT, FS), any of which would break the structure or the framing.
func safeRaw(s string, d Delimiters) string {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case d.Field, '\r', '\n', 0x0b, 0x1c:
			return ""
		}
	}
	return s
}

// DefaultAckVersion is the version of an acknowledgment to a message whose own version
// is unknown (it could not be parsed).
const DefaultAckVersion = "2.5.1"

// Ack describes an acknowledgment to build.
type Ack struct {
	Code      AckCode
	ControlID string    // MSH-10 of the acknowledgment itself
	Time      time.Time // MSH-7
	Text      string    // MSA-3, optional
	Issues    []Issue   // one ERR each (v2.5+), or repetitions of ERR-1 (v2.4 and older)
}

// AppendAck appends to dst an acknowledgment of the message whose header is h: MSH with
// sender and receiver swapped and the message's version, processing ID, character set
// and delimiters mirrored; MSA with MSA-2 echoing MSH-10; and the issues as ERR segments
// in the form the version defines (ERR-2..ERR-8 from v2.5, ERR-1 before).
//
// MSA-2 is "the message control ID of the message sent by the sending system", which
// the sender uses to match the acknowledgment with the message. Since the ACK uses the
// message's own delimiters and character set, MSA-2 is h.RawControlID copied byte for
// byte: an escape sequence, a component or truncation character, or a Latin-1 byte in
// MSH-10 comes back exactly as sent, also when MSH-2 defines no escape character and
// re-encoding the text could not represent it. Only when h.Delims is not a usable set
// (the ACK then falls back to DefaultDelimiters) or RawControlID is empty or would break
// the ACK's structure is MSA-2 h.ControlID encoded afresh. Either way MSA-2 holds at
// most MaxControlIDLength characters: a longer control ID is cut between characters or
// escape sequences, never inside one, and marked with the truncation character when
// MSH-2 defines one.
//
// The encoded header fields copied into the MSH segment (MSH-3 to MSH-6, MSH-11, MSH-18)
// are left out when they hold the ACK's field separator, a line terminator or an MLLP
// block character (VT, FS), which a salvaged or hand-built Header can carry.
func AppendAck(dst []byte, h Header, a Ack) []byte {
	d := h.Delims
	if !d.valid() {
		d = DefaultDelimiters
	}
	if h.Version == "" {
		h.Version = DefaultAckVersion // nothing to mirror: the input had no usable MSH-12
	}
	if h.ProcessingID = safeRaw(h.ProcessingID, d); h.ProcessingID == "" {
		h.ProcessingID = "P"
	}
	w := Writer{d: d, buf: dst}
	w.Segment("MSH").Field(3).Raw(safeRaw(h.ReceivingApp, d)).Field(4).Raw(safeRaw(h.ReceivingFacility, d)).
		Field(5).Raw(safeRaw(h.SendingApp, d)).Field(6).Raw(safeRaw(h.SendingFacility, d)).
		Set(7, FormatTime(a.Time, PrecisionSecond))
	structure := ""
	if versionAtLeast(h.Version, 2, 3, 1) {
		structure = "ACK"
	}
	w.Set(9, "ACK", h.Event, structure).Set(10, a.ControlID).Field(11).Raw(h.ProcessingID).Set(12, h.Version)
	if cs := safeRaw(h.Charset, d); cs != "" {
		w.Field(18).Raw(cs)
	}
	w.Segment("MSA").Set(1, string(a.Code)).Field(2).Raw(controlIDEcho(h, d))
	if a.Text != "" {
		w.Set(3, a.Text)
	}
	if len(a.Issues) == 0 {
		return w.Bytes()
	}
	if !versionAtLeast(h.Version, 2, 5, 0) {
		appendERR1(&w, a.Issues)
		return w.Bytes()
	}
	for _, is := range a.Issues {
		w.Segment("ERR")
		appendERL(&w, is.Location)
		w.Set(3, strconv.Itoa(is.Code), CodeText(is.Code), "HL70357")
		sev := is.Severity
		if sev == 0 {
			sev = SeverityError
		}
		w.Set(4, sev.String()).Set(8, is.Text)
	}
	return w.Bytes()
}

// controlIDEcho returns MSA-2 of an acknowledgment of h written with delimiters d:
// RawControlID when d are the message's own delimiters and it is safe to copy, else
// ControlID encoded with d; either cut to MaxControlIDLength.
func controlIDEcho(h Header, d Delimiters) string {
	if raw := safeRaw(h.RawControlID, d); raw != "" && d == h.Delims {
		return truncateEncoded(raw, d, MaxControlIDLength)
	}
	if h.ControlID == "" {
		return ""
	}
	return truncateEncoded(string(AppendEscaped(nil, h.ControlID, d)), d, MaxControlIDLength)
}

// appendERL writes ERR-2: segment ID ^ sequence ^ field ^ repetition ^ component ^ sub.
func appendERL(w *Writer, l Location) {
	if l.Segment == "" {
		return
	}
	parts := []string{l.Segment, itoa(max(l.Occurrence, 1)), itoa(l.Field), itoa(l.Rep), itoa(l.Component), itoa(l.Sub)}
	if l.Field > 0 && l.Rep == 0 {
		parts[3] = "1"
	}
	w.Set(2, parts...)
}

// appendERR1 writes one ERR segment whose ERR-1 (ELD) repeats once per issue:
// segment ^ sequence ^ field ^ code&text&HL70357. Without a repetition character
// (MSH-2 of one character) each issue gets an ERR segment of its own, and without a
// subcomponent character (MSH-2 shorter than four) ELD-4 holds the code alone.
func appendERR1(w *Writer, issues []Issue) {
	d := w.Delimiters()
	for i, is := range issues {
		switch {
		case i == 0 || d.Repetition == 0:
			w.Segment("ERR").Field(1)
		default:
			w.Rep()
		}
		seq := ""
		if is.Location.Segment != "" {
			seq = itoa(max(is.Location.Occurrence, 1))
		}
		w.Text(is.Location.Segment).Component().Text(seq).Component().Text(itoa(is.Location.Field)).
			Component().Text(strconv.Itoa(is.Code))
		if d.Subcomponent != 0 {
			w.Sub().Text(elText(is)).Sub().Text("HL70357")
		}
	}
}

func elText(is Issue) string {
	if is.Text != "" {
		return is.Text
	}
	return CodeText(is.Code)
}

// itoa formats a position; zero (unspecified) is written as empty.
func itoa(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// versionAtLeast compares an HL7 version string such as "2.3.1" with major.minor.patch.
func versionAtLeast(v string, major, minor, patch int) bool {
	var p [3]int
	n := 0
	for _, part := range strings.SplitN(v, ".", 3) {
		x := 0
		for _, c := range part {
			if c < '0' || c > '9' {
				break
			}
			x = x*10 + int(c-'0')
		}
		p[n] = x
		n++
	}
	switch {
	case p[0] != major:
		return p[0] > major
	case p[1] != minor:
		return p[1] > minor
	}
	return p[2] >= patch
}

// AckError is a negative acknowledgment: MSA-1 was not AA or CA.
type AckError struct {
	Code   AckCode
	Text   string  // MSA-3, or the first ERR text
	Issues []Issue // from the ERR segments
}

func (e *AckError) Error() string {
	s := "hl7: negative acknowledgment " + string(e.Code)
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// CheckAck verifies that ack acknowledges msg positively: MSA-1 is AA or CA and MSA-2
// equals msg's MSH-10, as text or byte for byte, or cut to MaxControlIDLength as
// AppendAck cuts it. A negative acknowledgment is an
// *AckError; one for another message wraps ErrAckMismatch; an unreadable one is a
// *ParseError.
func CheckAck(msg, ack []byte) error {
	am, err := Parse(ack)
	if err != nil {
		return fmt.Errorf("reading ACK: %w", err)
	}
	msa, ok := am.Segment("MSA")
	if !ok {
		return fmt.Errorf("reading ACK: %w", &ParseError{Segment: "MSA", SegIndex: 2, Err: ErrMissingMSA})
	}
	h, _ := SalvageHeader(msg) // the header alone: the rest of msg need not be read
	echo := msa.Field(2)
	raw := bytes.TrimSpace(echo.Bytes())
	if got := strings.TrimSpace(echo.String()); got != h.ControlID && string(raw) != h.RawControlID &&
		string(raw) != controlIDEcho(h, am.Delimiters()) {
		return fmt.Errorf("%w: MSA-2 is %q, sent MSH-10 %q", ErrAckMismatch, got, h.ControlID)
	}
	code := AckCode(strings.ToUpper(strings.TrimSpace(msa.Field(1).String())))
	if code.Accepted() {
		return nil
	}
	e := &AckError{Code: code, Text: msa.Field(3).String(), Issues: ReadIssues(am)}
	if e.Text == "" && len(e.Issues) > 0 {
		e.Text = e.Issues[0].Text
	}
	return e
}

// ReadIssues returns the problems an acknowledgment reports in its ERR segments, in
// either form: ERR-2..ERR-8 (v2.5 and later) or repetitions of ERR-1 (before v2.5).
func ReadIssues(ack *Message) []Issue {
	var out []Issue
	for err := range ack.All("ERR") {
		if code := err.Field(3); !code.IsEmpty() {
			loc := err.Field(2)
			is := Issue{
				Location: locationOf(loc.Component(1), loc.Component(2), loc.Component(3)),
				Code:     atoi(code.Component(1).String()),
				Text:     err.Field(8).String(),
			}
			is.Location.Rep = atoi(loc.Component(4).String())
			is.Location.Component = atoi(loc.Component(5).String())
			is.Location.Sub = atoi(loc.Component(6).String())
			if is.Text == "" {
				is.Text = code.Component(2).String()
			}
			if sev := err.Field(4).String(); sev != "" {
				is.Severity = Severity(sev[0])
			}
			out = append(out, is)
			continue
		}
		for eld := range err.Field(1).Reps() {
			c := eld.Component(4)
			out = append(out, Issue{
				Location: locationOf(eld.Component(1), eld.Component(2), eld.Component(3)),
				Code:     atoi(c.Sub(1).String()),
				Severity: SeverityError,
				Text:     c.Sub(2).String(),
			})
		}
	}
	return out
}

func locationOf(seg, seq, field Value) Location {
	return Location{Segment: seg.String(), Occurrence: atoi(seq.String()), Field: atoi(field.String())}
}

// atoi reads a non-negative decimal number, 0 when there is none.
func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
