package hl7_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/hl7"
)

// cr turns a readable multi-line message into CR-terminated segments.
func cr(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimPrefix(s, "\n"), "\n", "\r"))
}

const basicORM = `
MSH|^~\&|EHR|HOSP_A|RADBRIDGE|IMG|20261122093000||ORM^O01^ORM_O01|CTRL0001|P|2.5.1
PID|1||MRN123^^^HOSP_A^MR~SSN555^^^SSA^SS||DOE^JANE^Q||19800102|F
PV1|1|O
ORC|NW|PLC1^EHR||||||||||1234567893^SMITH^JOHN^^^DR^^^NPI^L^^^NPI
OBR|1|PLC1^EHR||70553^MRI BRAIN W/WO^C4|||||||||||1234567893^SMITH^JOHN|||||||||MR
ZXY|1|custom&sub^two
`

func TestParse_Fields(t *testing.T) {
	m, err := hl7.Parse(cr(basicORM))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want string
	}{
		{path: "MSH-1", want: "|"},
		{path: "MSH-2", want: `^~\&`},
		{path: "MSH-3", want: "EHR"},
		{path: "MSH-9", want: "ORM"},
		{path: "MSH-9.2", want: "O01"},
		{path: "MSH-9.3", want: "ORM_O01"},
		{path: "MSH-10", want: "CTRL0001"},
		{path: "MSH-12", want: "2.5.1"},
		{path: "PID-3", want: "MRN123"},
		{path: "PID-3.4", want: "HOSP_A"},
		{path: "PID-3(2).1", want: "SSN555"},
		{path: "PID-3[2].5", want: "SS"},
		{path: "PID.5.2", want: "JANE"},
		{path: "PID-8", want: "F"},
		{path: "PID-30", want: ""},
		{path: "OBR-4.1", want: "70553"},
		{path: "OBR-4.3", want: "C4"},
		{path: "ZXY-2", want: "custom"},
		{path: "ZXY-2.1.2", want: "sub"},
		{path: "ZXY-2.2", want: "two"},
		{path: "ORC(2)-1", want: ""},
		{path: "NTE-1", want: ""},
		{path: "bad", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got := m.Get(tc.path); got != tc.want {
				t.Errorf("Get(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
	if got := len(m.Segments()); got != 6 {
		t.Errorf("len(Segments()) = %d, want 6", got)
	}
	pid, _ := m.Segment("PID")
	if pid.Index() != 2 || pid.Name() != "PID" || pid.NumFields() != 8 {
		t.Errorf("PID index/name/fields = %d/%s/%d, want 2/PID/8", pid.Index(), pid.Name(), pid.NumFields())
	}
	msh := m.Segments()[0]
	if msh.NumFields() != 12 {
		t.Errorf("MSH NumFields() = %d, want 12", msh.NumFields())
	}
}

func TestParse_Terminators(t *testing.T) {
	base := strings.TrimPrefix(basicORM, "\n")
	inputs := map[string]string{
		"CR":             strings.ReplaceAll(base, "\n", "\r"),
		"LF":             base,
		"CRLF":           strings.ReplaceAll(base, "\n", "\r\n"),
		"blank lines":    strings.ReplaceAll(base, "\n", "\n\n"),
		"indented":       strings.ReplaceAll(base, "\n", "\n    "),
		"MLLP framed":    "\x0b" + strings.ReplaceAll(base, "\n", "\r") + "\x1c\r",
		"BOM":            "\ufeff" + base,
		"no final CR":    strings.TrimSuffix(strings.ReplaceAll(base, "\n", "\r"), "\r"),
		"mixed CR CR LF": strings.Replace(strings.ReplaceAll(base, "\n", "\r\r"), "\r\r", "\n", 2),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			m, err := hl7.Parse([]byte(in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if n := len(m.Segments()); n != 6 {
				t.Errorf("got %d segments, want 6", n)
			}
			if got := m.Get("OBR-4"); got != "70553" {
				t.Errorf("OBR-4 = %q", got)
			}
			if got := m.Get("ZXY-2.2"); got != "two" {
				t.Errorf("ZXY-2.2 = %q", got)
			}
		})
	}
}

func TestParse_Delimiters(t *testing.T) {
	m, err := hl7.Parse(cr(`
MSH#*!$@#SEND#FAC#RECV#RFAC#20261122##ADT*A01#C1#P#2.7
PID#1##ID1*CHK**AUTH@UNI@ISO!ID2##LAST*FIRST##
`))
	if err != nil {
		t.Fatal(err)
	}
	d := m.Delimiters()
	want := hl7.Delimiters{Field: '#', Component: '*', Repetition: '!', Escape: '$', Subcomponent: '@'}
	if d != want {
		t.Fatalf("Delimiters() = %+v, want %+v", d, want)
	}
	for path, want := range map[string]string{
		"MSH-9.2": "A01", "PID-3.1": "ID1", "PID-3.4.2": "UNI", "PID-3(2)": "ID2", "PID-5.2": "FIRST", "MSH-2": "*!$@",
	} {
		if got := m.Get(path); got != want {
			t.Errorf("Get(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestParse_NullAndEmpty(t *testing.T) {
	m, err := hl7.Parse(cr("MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.5\nPID|1|\"\"||\n"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := m.Segment("PID")
	if v := pid.Field(2); !v.IsNull() || v.IsEmpty() || v.String() != "" {
		t.Errorf("PID-2: IsNull=%v IsEmpty=%v String=%q, want null", v.IsNull(), v.IsEmpty(), v.String())
	}
	if v := pid.Field(3); v.IsNull() || !v.IsEmpty() {
		t.Errorf("PID-3: IsNull=%v IsEmpty=%v, want empty", v.IsNull(), v.IsEmpty())
	}
	if v := pid.Field(9); v.IsNull() || !v.IsEmpty() {
		t.Errorf("PID-9 (absent): IsNull=%v IsEmpty=%v, want empty", v.IsNull(), v.IsEmpty())
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr error
		wantLoc string
		wantSeg int
		wantOff int64
	}{
		{name: "empty", in: "", wantErr: hl7.ErrNoHeader, wantSeg: 1},
		{name: "not HL7", in: "hello world", wantErr: hl7.ErrNoHeader, wantSeg: 1},
		{name: "PID first", in: "PID|1\rMSH|^~\\&", wantErr: hl7.ErrNoHeader, wantSeg: 1},
		{name: "batch", in: "FHS|^~\\&\rMSH|^~\\&|", wantErr: hl7.ErrBatch, wantLoc: "FHS", wantSeg: 1},
		{name: "duplicate encoding chars", in: "MSH|^&&^|A\r", wantErr: hl7.ErrDelimiters, wantLoc: "MSH-2", wantSeg: 1, wantOff: 3},
		{name: "all same", in: "MSH|^^^^|A\r", wantErr: hl7.ErrDelimiters, wantLoc: "MSH-2", wantSeg: 1, wantOff: 3},
		{name: "alphanumeric field sep", in: "MSHA^~\\&A", wantErr: hl7.ErrDelimiters, wantLoc: "MSH-1", wantSeg: 1, wantOff: 3},
		{name: "no encoding chars", in: "MSH||A|B", wantErr: hl7.ErrDelimiters, wantLoc: "MSH-2", wantSeg: 1, wantOff: 3},
		{name: "NUL encoding char", in: "MSH!\x00", wantErr: hl7.ErrDelimiters, wantLoc: "MSH-2", wantSeg: 1, wantOff: 3},
		{name: "control encoding char", in: "MSH|^~\x01&|A", wantErr: hl7.ErrDelimiters, wantLoc: "MSH-2", wantSeg: 1, wantOff: 3},
		{name: "bad segment id", in: "MSH|^~\\&|A\rPID|1\rpv1|2\r", wantErr: hl7.ErrSegmentName, wantSeg: 3, wantOff: 17},
		{name: "segment id too long", in: "MSH|^~\\&|A\rPIDX|1\r", wantErr: hl7.ErrSegmentName, wantSeg: 2, wantOff: 11},
		{name: "text line", in: "MSH|^~\\&|A\rwrapped text\r", wantErr: hl7.ErrSegmentName, wantSeg: 2, wantOff: 11},
		{name: "two messages", in: "MSH|^~\\&|A\rPID|1\rMSH|^~\\&|B\r", wantErr: hl7.ErrSecondMessage, wantLoc: "MSH", wantSeg: 3, wantOff: 17},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := hl7.Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tc.in, m)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Parse(%q) error = %v, want %v", tc.in, err, tc.wantErr)
			}
			var pe *hl7.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError", err)
			}
			if got := pe.Location().String(); got != tc.wantLoc {
				t.Errorf("location = %q, want %q", got, tc.wantLoc)
			}
			if pe.SegIndex != tc.wantSeg || pe.Offset != tc.wantOff {
				t.Errorf("segment, offset = %d, %d; want %d, %d", pe.SegIndex, pe.Offset, tc.wantSeg, tc.wantOff)
			}
			if !strings.HasPrefix(err.Error(), "hl7: ") {
				t.Errorf("Error() = %q, want hl7: prefix", err)
			}
		})
	}
}

func TestParseError_Error(t *testing.T) {
	e := &hl7.ParseError{Segment: "PID", SegIndex: 2, Field: 3, Component: 1, Offset: 57, Err: errors.New("invalid escape sequence")}
	want := "hl7: PID-3.1 (segment 2, offset 57): invalid escape sequence"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestParse_EscapedEncodingCharacters(t *testing.T) {
	// MSH-2 as it appears when a message is copied through a Markdown renderer.
	m, err := hl7.Parse(cr("MSH|^\\~\\&|A|B|C|D|2020||ORM^O01|X1|P|2.4\nPID|1||ID^^^AUTH~ID2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Delimiters(), hl7.DefaultDelimiters; got != want {
		t.Errorf("Delimiters() = %+v, want %+v", got, want)
	}
	if got := m.Get("PID-3(2)"); got != "ID2" {
		t.Errorf("PID-3(2) = %q, want ID2", got)
	}
	notes := m.Validate()
	if len(notes) != 1 || notes[0].Location.String() != "MSH-2" || notes[0].Severity != hl7.SeverityWarning {
		t.Errorf("Validate() = %+v, want one MSH-2 warning", notes)
	}
}

func TestMessage_Clone(t *testing.T) {
	raw := cr(basicORM)
	m, err := hl7.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Clone()
	for i := range raw {
		raw[i] = 'x'
	}
	if got := c.Get("PID-5.1"); got != "DOE" {
		t.Errorf("clone PID-5.1 = %q after the original bytes changed, want DOE", got)
	}
	if got := c.Segments()[1].Name(); got != "PID" {
		t.Errorf("clone segment 2 = %q", got)
	}
}

func TestMessage_All(t *testing.T) {
	m, err := hl7.Parse(cr("MSH|^~\\&|A|B|C|D|2020||ORU^R01|1|P|2.5\nOBX|1|TX|||a\nNTE|1\nOBX|2|TX|||b\nOBX|3|TX|||c\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for s := range m.All("OBX") {
		got = append(got, s.Field(5).String())
	}
	if strings.Join(got, ",") != "a,b,c" {
		t.Errorf("All(OBX) values = %v, want a,b,c", got)
	}
	if s, ok := m.Occurrence("OBX", 3); !ok || s.Field(5).String() != "c" {
		t.Errorf("Occurrence(OBX, 3) = %v, %v", s.Field(5).String(), ok)
	}
	if _, ok := m.Occurrence("OBX", 4); ok {
		t.Error("Occurrence(OBX, 4) found a segment")
	}
	if got := m.Get("OBX(2)-5"); got != "b" {
		t.Errorf("OBX(2)-5 = %q, want b", got)
	}
}

func TestParse_SegmentWithoutFields(t *testing.T) {
	for _, in := range []string{"MSH|^~\\&|A\rZAA\rPID|1\r", "MSH|^~\\&|A\nZAA\nPID|1", "MSH|^~\\&|A\rZAA"} {
		m, err := hl7.Parse([]byte(in))
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		z, ok := m.Segment("ZAA")
		if !ok || z.NumFields() != 0 || string(z.Bytes()) != "ZAA" {
			t.Errorf("Parse(%q): ZAA = %q, %d fields", in, z.Bytes(), z.NumFields())
		}
		if _, err := hl7.Parse(hl7.AppendMessage(nil, m)); err != nil {
			t.Errorf("re-parse of %q: %v", in, err)
		}
	}
}

// TestParse_FieldsMatchSplit checks the word-at-a-time field scanner against a naive
// split on every sample and on segments whose separators fall at every offset of a word.
func TestParse_FieldsMatchSplit(t *testing.T) {
	var inputs [][]byte
	paths, _ := filepath.Glob("../testdata/hl7v2/*.hl7")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	for pad := 0; pad < 17; pad++ {
		for _, term := range []string{"\r", "\n", "\r\n", ""} {
			seg := "PID|" + strings.Repeat("x", pad) + "|a||" + strings.Repeat("\t", pad%3) + "b\x0bc|" + strings.Repeat("y", 16-pad)
			inputs = append(inputs, []byte("MSH|^~\\&|A"+strings.Repeat("z", pad)+"|B\r"+seg+term+"ZZZ|1"+term))
		}
	}
	for _, in := range inputs {
		m, err := hl7.Parse(in)
		if err != nil {
			continue
		}
		checkFieldsSplit(t, m)
	}
}

// Bytes is the input itself, never a normalised copy: a caller returns it as the raw
// message byte for byte.
func TestMessage_Bytes(t *testing.T) {
	for name, in := range map[string]string{
		"CRLF":            "MSH|^~\\&|A|B|C|D|2026||ORM^O01|1|P|2.5.1\r\nPID|1\r\n",
		"LF, blank lines": "MSH|^~\\&|A|B|C|D|2026||ORM^O01|1|P|2.5.1\n\nPID|1\n\n",
		"BOM, framed":     "\ufeff\x0bMSH|^~\\&|A|B|C|D|2026||ORM^O01|1|P|2.5.1\rPID|1\r\x1c\r",
		"Latin-1":         "MSH|^~\\&|A|B|C|D|2026||ORM^O01|1|P|2.5.1||||||8859/1\rPID|1||\xe9\r",
	} {
		raw := []byte(in)
		m, err := hl7.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := m.Bytes(); &got[0] != &raw[0] || len(got) != len(raw) || string(got) != in {
			t.Errorf("%s: Bytes() = %q, want the input %q itself", name, got, in)
		}
		if c := m.Clone().Bytes(); string(c) != in {
			t.Errorf("%s: Clone().Bytes() = %q, want %q", name, c, in)
		}
	}
}
