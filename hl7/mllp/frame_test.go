package mllp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// frame returns the MLLP frame of payload, as a string for table tests.
func frame(payload string) string { return string(AppendFrame(nil, []byte(payload))) }

// readAll reads frames from r until an error, returning the payloads (copied)
// and the error that stopped it.
func readAll(r *Reader) ([]string, error) {
	var got []string
	for {
		p, err := r.ReadFrame()
		if err != nil {
			return got, err
		}
		got = append(got, string(p))
	}
}

func TestAppendFrame(t *testing.T) {
	got := AppendFrame([]byte("x"), []byte("MSH|^~\\&"))
	want := "x\x0bMSH|^~\\&\x1c\x0d"
	if string(got) != want {
		t.Errorf("AppendFrame = %q, want %q", got, want)
	}
}

func TestReader_ReadFrame(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		max       int
		want      []string
		wantErr   error
		discarded int64
	}{
		{name: "one frame", in: frame("MSH|1"), want: []string{"MSH|1"}, wantErr: io.EOF},
		{name: "empty stream", in: "", wantErr: io.EOF},
		{name: "empty payload", in: frame(""), want: []string{""}, wantErr: io.EOF},
		{name: "pipelined", in: frame("a") + frame("b") + frame("c"), want: []string{"a", "b", "c"}, wantErr: io.EOF},
		{name: "junk before VT", in: "junk\r\n" + frame("a"), want: []string{"a"}, wantErr: io.EOF, discarded: 6},
		{name: "junk between frames", in: frame("a") + "\n" + frame("b") + "xx", want: []string{"a", "b"}, wantErr: io.EOF, discarded: 3},
		{name: "FS without CR", in: "\x0ba\x1c\x0bb\x1c", want: []string{"a", "b"}, wantErr: io.EOF},
		{name: "FS then other byte", in: "\x0ba\x1cZ" + frame("b"), want: []string{"a", "b"}, wantErr: io.EOF, discarded: 1},
		{name: "VT restarts frame", in: "\x0bpartial\x0bwhole\x1c\r", want: []string{"whole"}, wantErr: io.EOF, discarded: 8},
		{name: "EOF mid-frame", in: frame("a") + "\x0bcut", want: []string{"a"}, wantErr: io.ErrUnexpectedEOF, discarded: 4},
		{name: "exactly at cap", in: frame("12345"), max: 5, want: []string{"12345"}, wantErr: io.EOF},
		{name: "over cap", in: frame("123456") + frame("ok"), max: 5, wantErr: ErrMessageTooLarge},
		{name: "CR inside payload kept", in: frame("MSH|1\rPID|1\r"), want: []string{"MSH|1\rPID|1\r"}, wantErr: io.EOF},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{name: "whole", wrap: func(r io.Reader) io.Reader { return r }},
		{name: "byte by byte", wrap: iotest.OneByteReader},
		{name: "half", wrap: iotest.HalfReader},
	}
	for _, tc := range tests {
		for _, rd := range readers {
			t.Run(tc.name+"/"+rd.name, func(t *testing.T) {
				r := NewReader(rd.wrap(strings.NewReader(tc.in)), tc.max)
				got, err := readAll(r)
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("ReadFrame(%q) error = %v, want %v", tc.in, err, tc.wantErr)
				}
				if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
					t.Errorf("ReadFrame(%q) = %q, want %q", tc.in, got, tc.want)
				}
				if r.Discarded() != tc.discarded {
					t.Errorf("Discarded() = %d, want %d", r.Discarded(), tc.discarded)
				}
			})
		}
	}
}

func TestReader_ReadFrame_OversizeContinues(t *testing.T) {
	big := "MSH|^~\\&|SND|FAC|" + strings.Repeat("x", 100_000)
	in := frame("first") + frame(big) + frame("after")
	for _, rd := range []struct {
		name string
		r    io.Reader
	}{
		{name: "whole", r: strings.NewReader(in)},
		{name: "byte by byte", r: iotest.OneByteReader(strings.NewReader(in))},
	} {
		t.Run(rd.name, func(t *testing.T) {
			r := NewReader(rd.r, 1000)
			if p, err := r.ReadFrame(); err != nil || string(p) != "first" {
				t.Fatalf("ReadFrame() = %q, %v, want %q", p, err, "first")
			}
			_, err := r.ReadFrame()
			var tl *FrameTooLargeError
			if !errors.As(err, &tl) {
				t.Fatalf("ReadFrame() error = %v, want *FrameTooLargeError", err)
			}
			if tl.Size != int64(len(big)) || tl.Limit != 1000 || string(tl.Head) != big[:1000] {
				t.Errorf("FrameTooLargeError{Size: %d, Limit: %d, len(Head): %d}, want {%d, 1000, 1000}",
					tl.Size, tl.Limit, len(tl.Head), len(big))
			}
			if strings.Contains(err.Error(), "xxx") {
				t.Errorf("error text %q contains payload bytes", err)
			}
			if p, err := r.ReadFrame(); err != nil || string(p) != "after" {
				t.Fatalf("ReadFrame() after oversize = %q, %v, want %q", p, err, "after")
			}
			if r.Discarded() != 0 {
				t.Errorf("Discarded() = %d, want 0", r.Discarded())
			}
		})
	}
}

func TestReader_ReadFrame_HeadCappedAt4KiB(t *testing.T) {
	big := strings.Repeat("y", 20_000)
	r := NewReader(strings.NewReader(frame(big)), 10_000)
	_, err := r.ReadFrame()
	var tl *FrameTooLargeError
	if !errors.As(err, &tl) || len(tl.Head) != maxHeadSize {
		t.Fatalf("ReadFrame() = %v, want *FrameTooLargeError with %d-byte Head", err, maxHeadSize)
	}
}

// TestReader_ReadFrame_LateCR checks that a CR arriving in a later read than
// its FS is consumed as the trailer, not counted as junk.
func TestReader_ReadFrame_LateCR(t *testing.T) {
	pr, pw := io.Pipe()
	r := NewReader(pr, 0)
	go func() {
		pw.Write([]byte("\x0ba\x1c"))
		pw.Write([]byte("\r"))
		pw.Write([]byte(frame("b")))
		pw.Close()
	}()
	got, err := readAll(r)
	if err != io.EOF || strings.Join(got, ",") != "a,b" {
		t.Fatalf("readAll = %q, %v, want [a b], EOF", got, err)
	}
	if r.Discarded() != 0 {
		t.Errorf("Discarded() = %d, want 0", r.Discarded())
	}
}

func TestReader_ReadFrame_ReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("\x0bpart"), iotest.ErrReader(boom)), 0)
	if _, err := r.ReadFrame(); !errors.Is(err, boom) {
		t.Errorf("ReadFrame() error = %v, want %v", err, boom)
	}
}

func TestReader_ReadFrame_LargeFrameSpansBuffers(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 50_000) // 500 kB > readBufferSize
	var stream []byte
	for _, p := range [][]byte{big, big, []byte("small"), []byte("small")} {
		stream = AppendFrame(stream, p)
	}
	r := NewReader(bytes.NewReader(stream), 0)
	for i := range 2 {
		p, err := r.ReadFrame()
		if err != nil || !bytes.Equal(p, big) {
			t.Fatalf("ReadFrame() #%d = %d bytes, %v, want %d bytes", i, len(p), err, len(big))
		}
	}
	for range 2 {
		if p, err := r.ReadFrame(); err != nil || string(p) != "small" {
			t.Fatalf("ReadFrame() = %q, %v, want %q", p, err, "small")
		}
	}
	if cap(r.buf) > maxRetainedBuffer {
		t.Errorf("Reader kept a %d-byte buffer, want at most %d", cap(r.buf), maxRetainedBuffer)
	}
}

func TestReader_ReadFrame_Allocs(t *testing.T) {
	stream := bytes.Repeat(AppendFrame(nil, []byte(sampleORM)), 64)
	src := &repeatReader{data: stream}
	r := NewReader(src, 0)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.ReadFrame(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReadFrame allocates %v times per frame, want 0", allocs)
	}
}

// repeatReader yields data over and over, never EOF.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

// sampleORM is a synthetic order (no real patient data).
const sampleORM = "MSH|^~\\&|RIS|HOSP_A|RADBRIDGE|HOSP_A|20250101120000||ORM^O01|MSG00001|P|2.3\r" +
	"PID|1||TEST123^^^HOSP_A^MR||DOE^JANE||19700101|F\r" +
	"PV1|1|O\r" +
	"ORC|NW|PLC0001||||||||||1234567893^SMITH^JOHN\r" +
	"OBR|1|PLC0001||71046^XR CHEST 2 VIEWS^CPT4|||20250101115500\r" +
	"DG1|1||R05.9^Cough, unspecified^I10\r"
