package hl7_test

import (
	"bytes"
	"testing"

	"github.com/radbridge/radbridge/hl7"
)

func TestValue_Unescape(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{name: "plain", raw: `abc`, want: `abc`},
		{name: "field", raw: `a\F\b`, want: `a|b`},
		{name: "component", raw: `a\S\b`, want: `a^b`},
		{name: "subcomponent", raw: `a\T\b`, want: `a&b`},
		{name: "repetition", raw: `a\R\b`, want: `a~b`},
		{name: "escape", raw: `C:\E\temp`, want: `C:\temp`},
		{name: "all", raw: `\F\\S\\T\\R\\E\`, want: `|^&~\`},
		{name: "hex", raw: `line1\X0D0A\line2`, want: "line1\r\nline2"},
		{name: "hex utf8", raw: `caf\XC3A9\`, want: "café"},
		{name: "formatting kept", raw: `one\.br\two\H\bold\N\`, want: `one\.br\two\H\bold\N\`},
		{name: "charset shift kept", raw: `\C2842\x`, want: `\C2842\x`},
		{name: "local kept", raw: `\Zabc\`, want: `\Zabc\`},
		{name: "bad hex kept", raw: `\XZZ\`, want: `\XZZ\`},
		{name: "odd hex kept", raw: `\X0\`, want: `\X0\`},
		{name: "unterminated", raw: `50\% off\`, want: `50\% off\`},
		{name: "lone escape", raw: `back\slash`, want: `back\slash`},
		{name: "truncation undefined", raw: `a\P\b`, want: `a\P\b`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := hl7.Parse([]byte("MSH|^~\\&|A|B|C|D|2020||ADT^A08|1|P|2.5\rNTE|1||" + tc.raw + "\r"))
			if err != nil {
				t.Fatal(err)
			}
			nte, _ := m.Segment("NTE")
			if got := nte.Field(3).String(); got != tc.want {
				t.Errorf("String(%q) = %q, want %q", tc.raw, got, tc.want)
			}
			if got := hl7.Unescape(tc.raw, hl7.DefaultDelimiters); got != tc.want {
				t.Errorf("Unescape(%q) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestAppendEscaped_RoundTrip(t *testing.T) {
	d27 := hl7.DefaultDelimiters
	d27.Truncation = '#'
	for _, d := range []hl7.Delimiters{hl7.DefaultDelimiters, d27, {Field: '#', Component: '*', Repetition: '!', Escape: '$', Subcomponent: '@'}} {
		for _, s := range []string{"", "plain", `a|b^c~d\e&f#g`, "multi\r\nline", `\.br\`, "#*!$@", "café ünïcode", "\x0bframed\x1c\r"} {
			enc := string(hl7.AppendEscaped(nil, s, d))
			for _, c := range []byte{d.Field, d.Component, d.Repetition, d.Subcomponent, '\r', '\n', 0x0b, 0x1c} {
				if bytes.IndexByte([]byte(enc), c) >= 0 {
					t.Errorf("AppendEscaped(%q, %q) = %q contains delimiter %q", s, d.EncodingCharacters(), enc, c)
				}
			}
			if got := hl7.Unescape(enc, d); got != s {
				t.Errorf("Unescape(AppendEscaped(%q)) = %q with delimiters %q", s, got, d.EncodingCharacters())
			}
		}
	}
}

func TestValue_Structure(t *testing.T) {
	m, err := hl7.Parse([]byte("MSH|^~\\&|A|B|C|D|2020||ADT^A08|1|P|2.5\rPID|1||a1^a2^^a4&s2&s3~b1^b2~~d1\r"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := m.Segment("PID")
	f := pid.Field(3)
	if n := f.NumReps(); n != 4 {
		t.Errorf("NumReps() = %d, want 4", n)
	}
	if n := f.NumComponents(); n != 4 {
		t.Errorf("NumComponents() = %d, want 4", n)
	}
	checks := []struct {
		name string
		v    hl7.Value
		want string
	}{
		{name: "rep1 comp1", v: f.Component(1), want: "a1"},
		{name: "rep1 comp4", v: f.Component(4), want: "a4&s2&s3"},
		{name: "rep1 comp4 sub1", v: f.Component(4).Sub(1), want: "a4"},
		{name: "rep1 comp4 sub3", v: f.Component(4).Sub(3), want: "s3"},
		{name: "rep1 comp4 sub4", v: f.Component(4).Sub(4), want: ""},
		{name: "rep2", v: f.Rep(2), want: "b1^b2"},
		{name: "rep2 comp2", v: f.Rep(2).Component(2), want: "b2"},
		{name: "rep3 empty", v: f.Rep(3), want: ""},
		{name: "rep4", v: f.Rep(4), want: "d1"},
		{name: "rep5 absent", v: f.Rep(5), want: ""},
		{name: "rep0", v: f.Rep(0), want: ""},
		{name: "comp9 absent", v: f.Component(9), want: ""},
		{name: "sub of plain", v: f.Component(1).Sub(1), want: "a1"},
	}
	for _, tc := range checks {
		if got := string(tc.v.Bytes()); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, got, tc.want)
		}
	}
	var reps []string
	for r := range f.Reps() {
		reps = append(reps, r.Component(1).String())
	}
	if len(reps) != 4 || reps[0] != "a1" || reps[1] != "b1" || reps[2] != "" || reps[3] != "d1" {
		t.Errorf("Reps() first components = %q", reps)
	}
}

func TestValue_Charset(t *testing.T) {
	tests := []struct {
		name    string
		charset string
		text    []byte
		want    string
	}{
		{name: "latin1", charset: "8859/1", text: []byte("M\xfcller \xc9mile"), want: "Müller Émile"},
		{name: "latin1 declared but utf8 sent", charset: "8859/1", text: []byte("Müller – Émile"), want: "Müller – Émile"},
		{name: "windows-1252", charset: "CP1252", text: []byte("\x93quoted\x94 \x80"), want: "“quoted” €"},
		{name: "utf8", charset: "UNICODE UTF-8", text: []byte("Zoë"), want: "Zoë"},
		{name: "utf8 with invalid byte", charset: "UNICODE UTF-8", text: []byte("Zo\xebe"), want: "Zo\uFFFDe"},
		{name: "undeclared invalid byte", charset: "", text: []byte("a\xffb"), want: "a\uFFFDb"},
		{name: "unknown single-byte set", charset: "8859/2", text: []byte("\xb1x"), want: "\uFFFDx"},
		{name: "latin1 escaped", charset: "8859/1", text: []byte("a\\F\\\xe9"), want: "a|é"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := append([]byte("MSH|^~\\&|A|B|C|D|2020||ADT^A08|1|P|2.5||||||"+tc.charset+"\rPID|1||ID|"), tc.text...)
			raw = append(raw, "|NEXT^FIELD\r"...)
			m, err := hl7.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := m.Segment("PID")
			if got := pid.Field(4).String(); got != tc.want {
				t.Errorf("PID-4 = %q, want %q", got, tc.want)
			}
			// The bytes never leak into the neighbouring fields.
			if got := pid.Field(3).String(); got != "ID" {
				t.Errorf("PID-3 = %q, want ID", got)
			}
			if got := pid.Field(5).Component(2).String(); got != "FIELD" {
				t.Errorf("PID-5.2 = %q, want FIELD", got)
			}
		})
	}
}

func TestValue_UnescapedNoCopy(t *testing.T) {
	raw := []byte("MSH|^~\\&|A|B|C|D|2020||ADT^A08|1|P|2.5\rPID|1||PLAIN|ESC\\F\\APED\r")
	m, err := hl7.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := m.Segment("PID")
	plain := pid.Field(3).Unescaped()
	if &plain[0] != &raw[bytes.Index(raw, []byte("PLAIN"))] {
		t.Error("Unescaped() copied a value without escape sequences")
	}
	if got := string(pid.Field(4).Unescaped()); got != "ESC|APED" {
		t.Errorf("Unescaped() = %q", got)
	}
	if string(raw[bytes.Index(raw, []byte("ESC")):][:10]) != `ESC\F\APED` {
		t.Error("Unescaped() modified the message bytes")
	}
}
