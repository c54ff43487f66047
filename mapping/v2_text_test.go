package mapping

import (
	"strings"
	"testing"

	"github.com/radbridge/radbridge/hl7"
)

// obx5 parses a one-OBX message and returns its OBX-5 and the delimiters.
func obx5(tb testing.TB, msh, value string) (hl7.Value, hl7.Delimiters) {
	tb.Helper()
	m, err := hl7.Parse([]byte(msh + "\rOBX|1|FT|||" + value))
	if err != nil {
		tb.Fatalf("hl7.Parse: %v", err)
	}
	obx, _ := m.Segment("OBX")
	return obx.Field(5), m.Delimiters()
}

const stdMSH = `MSH|^~\&|A|B|C|D|20261122||ORU^R01|1|P|2.5.1`

func TestFormatted(t *testing.T) {
	tests := []struct {
		name, msh, in, want string
	}{
		{name: "plain", in: "No acute findings.", want: "No acute findings."},
		{name: "line break", in: `Line one\.br\Line two`, want: "Line one\nLine two"},
		{name: "repetitions", in: `one~two~three`, want: "one\ntwo\nthree"},
		{name: "skip lines", in: `a\.sp\b\.sp 3\c`, want: "a\nb\n\n\nc"},
		{name: "skip spaces", in: `a\.sk 4\b`, want: "a    b"},
		{name: "highlight dropped", in: `\H\IMPRESSION:\N\ normal`, want: "IMPRESSION: normal"},
		{name: "fill and indent dropped", in: `\.fi\\.in +4\\.ti -2\text\.nf\`, want: "text"},
		{name: "centre is a break", in: `title\.ce\body`, want: "title\nbody"},
		{name: "delimiter escapes", in: `a\F\b\S\c\T\d\R\e\E\f`, want: `a|b^c&d~e\f`},
		{name: "escaped escape is not a command", in: `C:\E\.br\E\x`, want: `C:\.br\x`},
		{name: "hex", in: `caf\XC3A9\\.br\ok`, want: "café\nok"},
		{name: "unknown sequence kept", in: `a\Zfoo\b`, want: `a\Zfoo\b`},
		{name: "unterminated escape kept", in: `a\.br`, want: `a\.br`},
		{name: "sp cap", in: `a\.sp 99\b`, want: "a" + strings.Repeat("\n", 20) + "b"},
		{name: "bad argument kept", in: `a\.sp x\b`, want: `a\.sp x\b`},
		{name: "null", in: `""`, want: ""},
		{name: "other escape character", msh: `MSH|^~!&|A|B|C|D|20261122||ORU^R01|1|P|2.5.1`,
			in: `one!.br!two!E!`, want: "one\ntwo!"},
		{name: "latin-1 with escapes", msh: "MSH|^~\\&|A|B|C|D|20261122||ORU^R01|1|P|2.5.1|||||||8859/1",
			in: "Gr\xfc\xdfe\\.br\\end", want: "Grüße\nend"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msh := tc.msh
			if msh == "" {
				msh = stdMSH
			}
			v, d := obx5(t, msh, tc.in)
			if got := formatted(v, d); got != tc.want {
				t.Errorf("formatted(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		want version
	}{
		{in: "2.3", want: 230}, {in: "2.3.1", want: 231}, {in: "2.5.1", want: 251},
		{in: "2.8", want: 280}, {in: "2.8.2", want: 282}, {in: " 2.4 ", want: 240},
		{in: "", want: 0}, {in: "3.0", want: 0}, {in: "2.", want: 0}, {in: "2.x", want: 0},
		{in: "2.5.", want: 0}, {in: "2.10", want: 300},
	}
	for _, tc := range tests {
		if got := parseVersion(tc.in); got != tc.want {
			t.Errorf("parseVersion(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestContentType(t *testing.T) {
	tests := []struct {
		typ, sub string
		data     string
		want     string
	}{
		{typ: "AP", sub: "PDF", want: "application/pdf"},
		{typ: "wynik.pdf", sub: "PDF", want: "application/pdf"},
		{typ: "AP", sub: "application/PDF", want: "application/pdf"},
		{typ: "IM", sub: "JPEG", want: "image/jpeg"},
		{typ: "TEXT", sub: "HTML", want: "text/html"},
		{typ: "TEXT", sub: "", want: "text/plain"},
		{typ: "AP", sub: "", data: "%PDF-1.7", want: "application/pdf"},
		{typ: "NS", sub: "Octet-stream", want: "application/octet-stream"},
		{typ: "AP", sub: "FOO", want: "application/octet-stream"},
	}
	for _, tc := range tests {
		if got := contentType(tc.typ, tc.sub, []byte(tc.data)); got != tc.want {
			t.Errorf("contentType(%q, %q) = %q, want %q", tc.typ, tc.sub, got, tc.want)
		}
	}
}

func TestDecodeBase64(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{in: "aGVsbG8=", want: "hello", ok: true},
		{in: "aGVsbG8", want: "hello", ok: true},
		{in: "aGVs\r\nbG8=", want: "hello", ok: true},
		{in: "a b c", want: "i\xb7", ok: true}, // blanks are ignored
		{in: "a", ok: false},
		{in: "****", ok: false},
	}
	for _, tc := range tests {
		got, err := decodeBase64([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && string(got) != tc.want) {
			t.Errorf("decodeBase64(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestModality(t *testing.T) {
	tests := []struct {
		obr24, ipc5, want string
	}{
		{obr24: "CT", want: "CT"}, {obr24: "NMR", want: "MR"}, {obr24: "rus", want: "US"},
		{obr24: "RX", want: "XR"}, {obr24: "RAD", want: ""}, {obr24: "PT", want: ""},
		{ipc5: "PT", want: "PET"}, {ipc5: "CR", want: "XR"}, {ipc5: "OT", want: "OT"},
	}
	for _, tc := range tests {
		got := obrModality([]byte(tc.obr24))
		if tc.ipc5 != "" {
			got = DICOMModality(tc.ipc5)
		}
		if got != tc.want {
			t.Errorf("modality(OBR-24 %q, IPC-5 %q) = %q, want %q", tc.obr24, tc.ipc5, got, tc.want)
		}
	}
}

// FuzzReaders: the mapper's one-pass readers return what the hl7.Value methods return,
// for every field, component and subcomponent, with and without shared text.
func FuzzReaders(f *testing.F) {
	f.Add([]byte("MSH|^~\\&|A|B\rPID|1||a^b&c&d^e~f^g||\"\"|  x  ^\\S\\y\\T\\^caf\xc3\xa9"))
	f.Add([]byte("MSH|^~\\&|A|B|||||||||||||||8859/1\rOBR|1|\xe9t\xe9^x&\xe9|^^^^&&"))
	f.Add([]byte("MSH|#$%!*|A\rOBX|1|a#b!c$d*e#f|%x%"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := hl7.Parse(b)
		if err != nil {
			return
		}
		for _, share := range []bool{false, true} {
			mp := newMapper(m)
			if share {
				mp.shareText(m)
			}
			for _, seg := range m.Segments()[1:] {
				for fi := 1; fi <= seg.NumFields(); fi++ {
					v := seg.Field(fi)
					for n := 1; n <= 4; n++ {
						for s := 0; s <= 3; s++ {
							want := v.Component(n)
							if s > 0 {
								want = want.Sub(s)
							}
							if got, w := mp.get(v, n, s), strings.TrimSpace(want.String()); got != w {
								t.Fatalf("get(%q, %d, %d) = %q, want %q", v.Bytes(), n, s, got, w)
							}
						}
					}
				}
			}
		}
	})
}
