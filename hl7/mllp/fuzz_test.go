package mllp

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// fuzzLimit is a small size cap so the fuzzer reaches the oversize path.
const fuzzLimit = 64

func FuzzMLLPReader(f *testing.F) {
	for _, seed := range []string{
		frame(sampleORM),
		frame("MSH|a") + frame("MSH|b"),
		"junk\r\n" + frame("x"),
		"\x0bpartial\x0bwhole\x1c\r",
		"\x0ba\x1c\x0bb\x1c",
		"\x0bcut",
		frame("short") + frame(string(bytes.Repeat([]byte("x"), 100))) + frame("after"),
		"line one\nline two\n\nline four",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Arbitrary input: no panic, no frame over the cap, no block
		// character inside a payload, and the stream always ends.
		r := NewReader(chunked(data), fuzzLimit)
		for {
			p, err := r.ReadFrame()
			if errors.Is(err, ErrMessageTooLarge) {
				continue
			}
			if err != nil {
				break
			}
			if len(p) > fuzzLimit || bytes.ContainsAny(p, "\x0b\x1c") {
				t.Fatalf("ReadFrame() = %q: over the cap or holding a block character", p)
			}
		}

		// A valid concatenation of frames, from the input split into
		// payloads, reads back exactly; odd frames end with FS alone.
		clean := bytes.Map(func(r rune) rune {
			if r == startBlock || r == endBlock {
				return -1
			}
			return r
		}, data)
		payloads := bytes.Split(clean, []byte("\n"))
		var stream []byte
		for i, p := range payloads {
			stream = AppendFrame(stream, p)
			if i%2 == 1 {
				stream = stream[:len(stream)-1] // drop the CR
			}
		}
		r = NewReader(chunked(stream), fuzzLimit)
		for i, want := range payloads {
			got, err := r.ReadFrame()
			if len(want) > fuzzLimit {
				var tl *FrameTooLargeError
				if !errors.As(err, &tl) || tl.Size != int64(len(want)) {
					t.Fatalf("frame %d: ReadFrame() = %v, want FrameTooLargeError{Size: %d}", i, err, len(want))
				}
				continue
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("frame %d: ReadFrame() = %q, %v, want %q", i, got, err, want)
			}
		}
		if _, err := r.ReadFrame(); err != io.EOF {
			t.Fatalf("ReadFrame() at end = %v, want io.EOF", err)
		}
		if r.Discarded() != 0 {
			t.Fatalf("Discarded() = %d on a clean stream, want 0", r.Discarded())
		}
	})
}

// chunked returns a reader over data that delivers it whole, byte by byte or
// in halves, chosen by the data so that each input is deterministic.
func chunked(data []byte) io.Reader {
	r := bytes.NewReader(data)
	switch len(data) % 3 {
	case 1:
		return iotest.OneByteReader(r)
	case 2:
		return iotest.HalfReader(r)
	}
	return r
}
