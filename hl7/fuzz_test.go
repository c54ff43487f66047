package hl7_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/hl7"
)

func addSeeds(f *testing.F) {
	paths, _ := filepath.Glob("../testdata/hl7v2/*.hl7")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|P|2.5\rOBX|1|TX|||\\X0D\\\\F\\\\.br\\"))
	f.Add([]byte("MSH#*!$@#A\rPID#1##a*b@c!d"))
}

// FuzzParse: Parse never panics; what it accepts survives parse -> encode -> parse
// unchanged, and every view of it can be read; what it rejects is a *ParseError.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := hl7.Parse(b)
		if err != nil {
			var pe *hl7.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error is %T, not *ParseError: %v", err, err)
			}
			_ = pe.Error()
			hl7.SalvageHeader(b)
			return
		}
		checkRoundTrip(t, m)
		checkFieldsSplit(t, m)
		for _, s := range m.Segments() {
			for i := 1; i <= s.NumFields(); i++ {
				v := s.Field(i)
				_ = v.String()
				for r := range v.Reps() {
					for c := 1; c <= r.NumComponents(); c++ {
						_ = r.Component(c).Sub(2).String()
					}
				}
			}
		}
		_ = m.Validate()
		h := m.Header()
		ack := hl7.AppendAck(nil, h, hl7.Ack{Code: hl7.AE, ControlID: "X", Issues: []hl7.Issue{{Location: hl7.Location{Segment: "PID", Field: 3}, Code: 101, Text: string(b[:min(len(b), 20)])}}})
		if _, err := hl7.Parse(ack); err != nil {
			t.Fatalf("ACK for an accepted message does not parse: %v\n%q", err, ack)
		}
		if h.RawControlID != "" {
			if err := hl7.CheckAck(b, ack); err == nil {
				t.Fatal("CheckAck accepted an AE")
			}
			// MSA-2 gives MSH-10 back byte for byte, whatever the delimiters and character
			// set, and CheckAck, reading only the MSH segment, knows it for this message's.
			aa := hl7.AppendAck(nil, h, hl7.Ack{Code: hl7.AA, ControlID: "X"})
			am, err := hl7.Parse(aa)
			if err != nil {
				t.Fatalf("AA does not parse: %v\n%q", err, aa)
			}
			msa, _ := am.Segment("MSA")
			echo := string(msa.Field(2).Bytes())
			if len(h.RawControlID) <= hl7.MaxControlIDLength && echo != h.RawControlID ||
				len(echo) > len(h.RawControlID) || !strings.HasPrefix(h.RawControlID, strings.TrimSuffix(echo, string(h.Delims.Truncation))) {
				t.Fatalf("MSA-2 = %q, MSH-10 = %q", echo, h.RawControlID)
			}
			if err := hl7.CheckAck(b, aa); err != nil {
				t.Fatalf("CheckAck refused the AA for %q: %v", h.ControlID, err)
			}
		}
	})
}

// FuzzEscape explores the delimiter sets Parse accepts: the fuzzer chooses MSH-1 and
// MSH-2, and a set Parse rejects is skipped, so every case that runs uses delimiters a
// real message can have (MSH-2 of one to five characters, any field separator). For
// those sets:
//   - escaped text holds no field, component, repetition, subcomponent or truncation
//     character, no CR or LF and no MLLP block character, so it is one value that can
//     travel in an MLLP frame;
//   - with an escape character, Unescape(AppendEscaped(s)) == s, and a message carrying
//     the escaped text as a field reads it back as s, unsplit;
//   - without one (MSH-2 shorter than three characters) nothing can be escaped: each
//     delimiter, CR, LF, VT and FS becomes a space and every other byte is kept.
func FuzzEscape(f *testing.F) {
	f.Add("plain", byte('|'), `^~\&`)
	f.Add("a|b^c~d\\e&f\r\n", byte('|'), `^~\&`)
	f.Add("a#b\\P\\", byte('|'), `^~\&#`)
	f.Add("\\.br\\ \\X41\\", byte('#'), `*!$@`)
	f.Add("x^y~z", byte('^'), `|~`)
	f.Add("a^b", byte('|'), `^`)
	f.Fuzz(func(t *testing.T, s string, fs byte, enc string) {
		header := "MSH" + string(fs) + enc
		m, err := hl7.Parse([]byte(header + "\r"))
		if err != nil || len(m.Notes()) > 0 || string(m.Segments()[0].Field(2).Bytes()) != enc {
			t.Skip("not a delimiter set Parse reads as given")
		}
		d := m.Delimiters()
		escaped := hl7.AppendEscaped(nil, s, d)
		for _, c := range []byte{d.Field, d.Component, d.Repetition, d.Subcomponent, d.Truncation, '\r', '\n', 0x0b, 0x1c} {
			if c != 0 && bytes.IndexByte(escaped, c) >= 0 {
				t.Fatalf("AppendEscaped(%q, %q) = %q holds %q", s, header, escaped, c)
			}
		}
		if d.Escape == 0 {
			want := []byte(s)
			for i, c := range want {
				switch c {
				case 0:
				case d.Field, d.Component, d.Repetition, d.Subcomponent, d.Truncation, '\r', '\n', 0x0b, 0x1c:
					want[i] = ' '
				}
			}
			if !bytes.Equal(escaped, want) {
				t.Fatalf("AppendEscaped(%q, %q) without an escape character = %q, want %q", s, header, escaped, want)
			}
			return
		}
		if got := hl7.Unescape(string(escaped), d); got != s {
			t.Fatalf("Unescape(AppendEscaped(%q), %q) = %q", s, header, got)
		}
		msg := header + string(fs) + "A\rZZZ" + string(fs) + string(escaped) + "\r"
		m, err = hl7.Parse([]byte(msg))
		if err != nil {
			t.Fatalf("Parse(%q) = %v", msg, err)
		}
		v := m.Segments()[1].Field(1)
		if !bytes.Equal(v.Bytes(), escaped) || v.NumReps() > 1 || v.NumComponents() > 1 || string(v.Unescaped()) != s {
			t.Fatalf("ZZZ-1 of %q reads %q (%d reps, %d components), unescaped %q; want %q whole", msg, v.Bytes(), v.NumReps(), v.NumComponents(), v.Unescaped(), s)
		}
	})
}

// checkFieldsSplit compares the parser's field index with a naive split of each segment
// at the field separator: the word-at-a-time scanner must find exactly the same fields.
func checkFieldsSplit(t *testing.T, m *hl7.Message) {
	t.Helper()
	fs := m.Delimiters().Field
	for _, s := range m.Segments() {
		parts := bytes.Split(s.Bytes(), []byte{fs})
		first := 1
		if s.Index() == 1 {
			first = 2 // parts[1] is MSH-2: MSH-1 is the separator itself
		}
		if n := len(parts) - 1 + first - 1; s.NumFields() != n && !(len(parts) == 1 && s.NumFields() == 0) {
			t.Fatalf("segment %d: NumFields %d, split gives %d: %q", s.Index(), s.NumFields(), n, s.Bytes())
		}
		for i := 1; i < len(parts); i++ {
			if got := s.Field(i + first - 1).Bytes(); !bytes.Equal(got, parts[i]) {
				t.Fatalf("segment %d field %d = %q, split gives %q", s.Index(), i+first-1, got, parts[i])
			}
		}
	}
}

// FuzzParseBatch: ParseBatch never panics; the messages it finds are spans of the input,
// in order and apart, and every line that starts with MSH starts one of them, while no
// envelope segment is inside one; a Scanner finds the same messages; the answer
// AppendBatchAck builds reads back as a batch with the same number of batches, its
// trailers' counts right.
func FuzzParseBatch(f *testing.F) {
	addSeeds(f)
	f.Add([]byte("FHS|^~\\&|A|B|C|D|2026||f|c|F1\rBHS|^~\\&|A|B|C|D|2026||b|c|B1\rMSH|^~\\&|A|B|C|D|2026||ORM^O01|1|P|2.5\rPID|1\rBTS|1\rBHS|^~\\&\rBTS|0\rFTS|2\r"))
	f.Add([]byte("BHS#*!$@#A\nMSH#*!$@#A#B#C#D#2026##ORM*O01#1#P#2.5\r\n\r\nMSH|^~\\&|x\n\x1cBTS#one\nFTS|9\rMSH|"))
	f.Fuzz(func(t *testing.T, b []byte) {
		bf, err := hl7.ParseBatch(b)
		if err != nil {
			if !errors.Is(err, hl7.ErrNoHeader) || len(bytes.Trim(b, "\r\n \t\x0b\x1c")) > 0 && !bytes.Equal(bytes.Trim(b, "\r\n \t\x0b\x1c"), []byte("\ufeff")) {
				t.Fatalf("ParseBatch(%q) = %v", b, err)
			}
			return
		}
		starts := map[int]bool{}
		end, index := 0, 0
		for m := range bf.Messages() {
			index++
			if m.Index != index || m.Offset < end || m.Offset+len(m.Bytes) > len(b) || !bytes.Equal(b[m.Offset:m.Offset+len(m.Bytes)], m.Bytes) || len(m.Bytes) == 0 {
				t.Fatalf("message %d (Index %d) at %d, %q: not a span of the input after %d", index, m.Index, m.Offset, m.Bytes, end)
			}
			starts[m.Offset] = true
			end = m.Offset + len(m.Bytes)
			for _, line := range bytes.FieldsFunc(m.Bytes, func(r rune) bool { return r == '\r' || r == '\n' }) {
				line = bytes.TrimLeft(line, " \t\x0b\x1c")
				if len(line) >= 3 && (len(line) == 3 || !isAlnum(line[3])) {
					switch string(line[:3]) {
					case "FHS", "BHS", "BTS", "FTS":
						t.Fatalf("message %q holds an envelope segment", m.Bytes)
					}
				}
			}
		}
		for i := 0; i < len(b); i++ {
			if i > 0 && b[i-1] != '\r' && b[i-1] != '\n' {
				continue
			}
			j := i
			for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == 0x0b || b[j] == 0x1c) {
				j++
			}
			if len(b)-j >= 4 && string(b[j:j+3]) == "MSH" && !isAlnum(b[j+3]) && !starts[j] {
				t.Fatalf("the MSH at byte %d of %q starts no message", j, b)
			}
		}
		// A Scanner, reading the same input as a stream, finds the same messages (its
		// tokens end before the last segment terminator).
		sc := hl7.NewScanner(bytes.NewReader(b))
		for m := range bf.Messages() {
			if !sc.Scan() {
				t.Fatalf("Scanner stops before message %d of %q: %v", m.Index, b, sc.Err())
			}
			if want := bytes.TrimRight(m.Bytes, "\r\n"); !bytes.Equal(sc.Bytes(), want) {
				t.Fatalf("Scanner reads message %d of %q as %q, ParseBatch as %q", m.Index, b, sc.Bytes(), m.Bytes)
			}
		}
		if sc.Scan() {
			t.Fatalf("Scanner finds message %q of %q that ParseBatch does not", sc.Bytes(), b)
		}
		acks := make([][]byte, 0, bf.NumMessages())
		for m := range bf.Messages() {
			if pm, err := hl7.Parse(m.Bytes); err == nil {
				acks = append(acks, hl7.AppendAck(nil, pm.Header(), hl7.Ack{Code: hl7.AE, ControlID: "X"}))
			} else {
				h, _ := hl7.SalvageHeader(m.Bytes)
				acks = append(acks, hl7.AppendAck(nil, h, hl7.Ack{Code: hl7.AR, ControlID: "X"}))
			}
		}
		reply := hl7.AppendBatchAck(nil, bf, acks, hl7.BatchAck{ControlID: "R", Comment: string(b[:min(len(b), 90)])})
		back, err := hl7.ParseBatch(reply)
		if err != nil || len(back.Issues) > 0 || len(back.Batches) != len(bf.Batches) || back.NumMessages() != len(acks) {
			t.Fatalf("answer %q to %q reads back as %+v, %v", reply, b, back, err)
		}
	})
}

func isAlnum(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}
