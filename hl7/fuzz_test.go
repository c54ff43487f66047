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
		if h.ControlID != "" && bytes.IndexByte([]byte(h.ControlID), h.Delims.Escape) < 0 {
			if err := hl7.CheckAck(b, ack); err == nil {
				t.Fatal("CheckAck accepted an AE")
			}
			// CheckAck finds the control ID Header does, reading only the MSH segment
			// (for plain ASCII IDs: one holding a delimiter, or bytes the declared
			// character set maps, does not come back from MSA-2 as the same string).
			d := h.Delims
			if plainASCII(h.ControlID) && !strings.ContainsAny(h.ControlID, string([]byte{d.Field, d.Component, d.Repetition, d.Subcomponent})) {
				if err := hl7.CheckAck(b, hl7.AppendAck(nil, h, hl7.Ack{Code: hl7.AA, ControlID: "X"})); err != nil {
					t.Fatalf("CheckAck refused the AA for %q: %v", h.ControlID, err)
				}
			}
		}
	})
}

// FuzzEscape: escaping then unescaping is the identity, and escaped text never contains
// a delimiter or line terminator.
func FuzzEscape(f *testing.F) {
	f.Add("plain", byte('|'), byte('^'), byte('~'), byte('\\'), byte('&'))
	f.Add("a|b^c~d\\e&f\r\n", byte('|'), byte('^'), byte('~'), byte('\\'), byte('&'))
	f.Add("\\.br\\ \\X41\\", byte('#'), byte('*'), byte('!'), byte('$'), byte('@'))
	f.Fuzz(func(t *testing.T, s string, fs, cs, rs, es, ss byte) {
		d := hl7.Delimiters{Field: fs, Component: cs, Repetition: rs, Escape: es, Subcomponent: ss}
		if _, err := hl7.Parse([]byte("MSH" + string(fs) + d.EncodingCharacters() + "\r")); err != nil {
			return // not a usable delimiter set
		}
		enc := hl7.AppendEscaped(nil, s, d)
		for _, c := range []byte{fs, cs, rs, ss, '\r', '\n'} {
			if bytes.IndexByte(enc, c) >= 0 {
				t.Fatalf("AppendEscaped(%q) = %q contains %q", s, enc, c)
			}
		}
		if got := hl7.Unescape(string(enc), d); got != s {
			t.Fatalf("Unescape(AppendEscaped(%q)) = %q", s, got)
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

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
