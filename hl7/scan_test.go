package hl7_test

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/radbridge/radbridge/hl7"
)

func scanAll(t *testing.T, sc *hl7.Scanner) []string {
	t.Helper()
	var out []string
	for sc.Scan() {
		out = append(out, string(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("Scanner.Err() = %v", err)
	}
	return out
}

func TestScanner_Batch(t *testing.T) {
	in := "FHS|^~\\&|APP|FAC|||20260101||file1\n" +
		"BHS|^~\\&|APP|FAC|||20260101\n" +
		"MSH|^~\\&|APP|FAC|||20260101||ADT^A08|M1|P|2.5\nPID|1||A\n" +
		"\n    MSH|^~\\&|APP|FAC|||20260101||ADT^A08|M2|P|2.5\r\nPID|1||B\r\n" +
		"BTS|2\nFTS|1\n"
	for name, r := range map[string]func() *hl7.Scanner{
		"whole":        func() *hl7.Scanner { return hl7.NewScanner(strings.NewReader(in)) },
		"byte by byte": func() *hl7.Scanner { return hl7.NewScanner(iotest.OneByteReader(strings.NewReader(in))) },
	} {
		t.Run(name, func(t *testing.T) {
			sc := r()
			msgs := scanAll(t, sc)
			if len(msgs) != 2 {
				t.Fatalf("got %d messages %q, want 2", len(msgs), msgs)
			}
			for i, want := range []string{"M1", "M2"} {
				m, err := hl7.Parse([]byte(msgs[i]))
				if err != nil {
					t.Fatalf("message %d: %v", i+1, err)
				}
				if got := m.Header().ControlID; got != want {
					t.Errorf("message %d control ID = %q, want %q", i+1, got, want)
				}
				if len(m.Segments()) != 2 {
					t.Errorf("message %d has %d segments", i+1, len(m.Segments()))
				}
			}
			env := sc.Envelope()
			if env.Batches != 1 || env.Declared != 2 || env.Messages != 2 || !strings.HasPrefix(string(env.FileHeader), "FHS|") {
				t.Errorf("Envelope() = %+v", env)
			}
		})
	}
}

func TestScanner_Concatenated(t *testing.T) {
	in := "MSH|^~\\&|A|B|C|D|2026||ORM^O01|1|P|2.3\rPID|1\r\x1c\r\x0bMSH|^~\\&|A|B|C|D|2026||ORM^O01|2|P|2.3\rPID|2\r" +
		"MSH|^~\\&|A|B|C|D|2026||ORM^O01|3|P|2.3"
	msgs := scanAll(t, hl7.NewScanner(strings.NewReader(in)))
	if len(msgs) != 3 {
		t.Fatalf("got %d messages, want 3: %q", len(msgs), msgs)
	}
	for i, s := range msgs {
		m, err := hl7.Parse([]byte(s))
		if err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		if got := m.Header().ControlID; got != string(rune('1'+i)) {
			t.Errorf("message %d control ID %q", i+1, got)
		}
	}
}

func TestScanner_JunkFirst(t *testing.T) {
	msgs := scanAll(t, hl7.NewScanner(strings.NewReader("this is not hl7\nat all\nMSH|^~\\&|A|B|C|D|2026||ORM^O01|1|P|2.3\r")))
	if len(msgs) != 2 {
		t.Fatalf("got %d tokens, want 2 (junk, message): %q", len(msgs), msgs)
	}
	if _, err := hl7.Parse([]byte(msgs[0])); !errors.Is(err, hl7.ErrNoHeader) {
		t.Errorf("junk parsed with error %v, want ErrNoHeader", err)
	}
	if _, err := hl7.Parse([]byte(msgs[1])); err != nil {
		t.Errorf("message after junk: %v", err)
	}
}

func TestScanner_TooLarge(t *testing.T) {
	big := "MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|P|2.5\rOBX|1|TX|||" + strings.Repeat("x", 5000) + "\r"
	sc := hl7.NewScanner(strings.NewReader(big))
	sc.Buffer(1024)
	for sc.Scan() {
		t.Fatal("Scan returned a message over the limit")
	}
	if !errors.Is(sc.Err(), hl7.ErrTooLarge) {
		t.Errorf("Err() = %v, want ErrTooLarge", sc.Err())
	}
}

func TestScanner_Empty(t *testing.T) {
	if msgs := scanAll(t, hl7.NewScanner(strings.NewReader("\r\n\n  \n"))); len(msgs) != 0 {
		t.Errorf("blank input yielded %q", msgs)
	}
}

// Blanks after the last segment terminator belong to no message; blanks that end the
// last segment do.
func TestScanner_TrailingBlanks(t *testing.T) {
	for in, want := range map[string]string{
		"MSH|^~\\&|A\r  \t":        "MSH|^~\\&|A",
		"MSH|^~\\&|A\r\n \x1c":     "MSH|^~\\&|A",
		"MSH|^~\\&|A\n \n\t\r\n":   "MSH|^~\\&|A",
		"MSH|^~\\&|A\rNTE|1||x  ":  "MSH|^~\\&|A\rNTE|1||x  ",
		"MSH|^~\\&|A\x1c\r\x0b  ":  "MSH|^~\\&|A",
		"junk\r\nMSH|^~\\&|A\r\n ": "MSH|^~\\&|A",
	} {
		msgs := scanAll(t, hl7.NewScanner(strings.NewReader(in)))
		if len(msgs) == 0 || msgs[len(msgs)-1] != want {
			t.Errorf("Scanner(%q) = %q, want last %q", in, msgs, want)
		}
	}
}

// A trailer without fields ends the message before it, also at the end of the input.
func TestScanner_BareTrailer(t *testing.T) {
	for _, in := range []string{"BHS\rMSH|^~\\&|A\rBTS", "BHS\rMSH|^~\\&|A\rBTS\r"} {
		sc := hl7.NewScanner(iotest.OneByteReader(strings.NewReader(in)))
		if msgs := scanAll(t, sc); len(msgs) != 1 || msgs[0] != "MSH|^~\\&|A" || sc.Envelope().Batches != 1 {
			t.Errorf("Scanner(%q) = %q, envelope %+v", in, msgs, sc.Envelope())
		}
	}
}
