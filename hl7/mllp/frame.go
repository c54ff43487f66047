package mllp

import (
	"bufio"
	"bytes"
	"io"
	"slices"
)

// MLLP block characters (HL7 MLLP release 1/2: <SB> payload <EB><CR>).
const (
	startBlock     = 0x0B // VT, start of block
	endBlock       = 0x1C // FS, end of block
	carriageReturn = 0x0D // CR, trailer after FS
)

// DefaultMaxMessageSize is the payload size cap used when none is configured:
// 16 MiB, enough for results that embed base64 PDFs.
const DefaultMaxMessageSize = 16 << 20

const (
	// readBufferSize is the bufio buffer of a Reader. A frame that fits in it
	// is returned without copying.
	readBufferSize = 32 << 10
	// maxHeadSize bounds FrameTooLargeError.Head.
	maxHeadSize = 4 << 10
	// maxRetainedBuffer is the largest assembly buffer a Reader keeps after a
	// frame that used less than a quarter of it; a larger one, grown for big
	// frames, is released as soon as a much smaller frame follows. A Server
	// gives its connections' buffers back after every frame instead (see
	// Server.FrameBudget).
	maxRetainedBuffer = 256 << 10
	// smallAssembly is the first capacity of an assembly buffer, and the part
	// of one that is not charged to a Server's FrameBudget.
	smallAssembly = 64 << 10
)

// AppendFrame appends payload wrapped in an MLLP block (VT payload FS CR) to
// dst and returns the extended slice. The payload must not contain the VT
// (0x0B) or FS (0x1C) bytes; HL7 ER7 text never does, and AppendFrame does not
// check.
func AppendFrame(dst, payload []byte) []byte {
	dst = slices.Grow(dst, len(payload)+3)
	dst = append(dst, startBlock)
	dst = append(dst, payload...)
	return append(dst, endBlock, carriageReturn)
}

// Reader reads MLLP frames from a byte stream, one payload at a time.
//
// It is tolerant in the ways real senders need:
//   - bytes outside a frame (before VT, or a stray LF after the trailer) are
//     discarded and counted (see Discarded);
//   - a frame ends at FS; the CR after it is consumed when present but not
//     required, since many senders omit it or send it in a later segment;
//   - a VT inside a frame means the sender abandoned the frame and started a
//     new one: the partial payload is discarded and counted;
//   - a frame whose payload exceeds the cap is not buffered whole: the Reader
//     keeps at most the cap, discards the rest up to FS and reports a
//     *FrameTooLargeError, after which the stream is positioned at the next
//     frame and reading may continue.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	br        *bufio.Reader
	max       int
	buf       []byte // assembles payloads that span buffer refills
	discarded int64
	pendingCR bool         // the last frame ended at FS with nothing buffered after it
	mem       *frameMemory // a Server's, which buf comes from and goes back to; nil: the heap, unbounded
}

// NewReader returns a Reader on r that rejects payloads larger than maxSize
// bytes. A maxSize of zero or less means DefaultMaxMessageSize.
func NewReader(r io.Reader, maxSize int) *Reader {
	if maxSize <= 0 {
		maxSize = DefaultMaxMessageSize
	}
	return &Reader{br: bufio.NewReaderSize(r, readBufferSize), max: maxSize}
}

// Discarded returns the number of bytes read so far that belonged to no
// delivered frame: junk between frames, abandoned partial frames and the
// bytes of a frame cut short by end of stream. Oversized frames are not
// counted here; they are reported by ReadFrame.
func (r *Reader) Discarded() int64 { return r.discarded }

// ReadFrame returns the payload of the next frame, without the block
// characters. The payload is valid only until the next call to ReadFrame and
// must not be modified; copy it to retain it.
//
// Errors:
//   - io.EOF: the stream ended cleanly between frames;
//   - io.ErrUnexpectedEOF: the stream ended inside a frame;
//   - *FrameTooLargeError (errors.Is ErrMessageTooLarge): the frame was
//     discarded; the Reader may be used again for the next frame;
//   - any error from the underlying reader (for example a deadline).
//
// After any error other than *FrameTooLargeError the Reader's position in the
// stream is unspecified and the connection should be closed.
//
// ReadFrame does not bound the time spent discarding an oversized frame or
// waiting for FS: set a deadline on the underlying connection.
func (r *Reader) ReadFrame() ([]byte, error) {
	if err := r.awaitStart(); err != nil {
		return nil, err
	}
	r.br.Discard(1) // VT; cannot fail, awaitStart left it buffered
	if cap(r.buf) > maxRetainedBuffer && len(r.buf) < cap(r.buf)/4 {
		r.release() // grown for an earlier big frame; the last one was much smaller
	}
	r.buf = r.buf[:0]
	var (
		size     int64 // payload bytes seen in this frame
		tooLarge *FrameTooLargeError
	)
	for {
		b, err := r.peekBuffered()
		if err != nil {
			if err == io.EOF {
				r.discarded += 1 + size // the VT and the partial payload
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		n, stop := scanPayload(b)
		part := b[:n]
		if stop == endBlock && size == 0 && n <= r.max {
			r.consumeEnd(b, n)
			return part, nil // fast path: the whole frame was buffered, r.buf unused
		}
		if tooLarge == nil {
			if size+int64(n) > int64(r.max) {
				tooLarge = &FrameTooLargeError{Limit: r.max, Head: r.head(part)}
				r.release() // the rest is discarded: hold nothing while doing so
			} else {
				if err := r.grow(n); err != nil {
					return nil, err
				}
				r.buf = append(r.buf, part...)
			}
		}
		size += int64(n)
		switch stop {
		case endBlock:
			r.consumeEnd(b, n)
			if tooLarge != nil {
				tooLarge.Size = size
				return nil, tooLarge
			}
			return r.buf, nil
		case startBlock:
			// A new frame starts inside this one: abandon the partial frame.
			r.br.Discard(n + 1)
			r.discarded += 1 + size
			size, tooLarge, r.buf = 0, nil, r.buf[:0]
		default:
			r.br.Discard(n)
		}
	}
}

// grow makes room in r.buf for n more bytes. The capacity doubles (from
// smallAssembly, never beyond the size cap), so that a frame is copied a
// logarithmic number of times. With a Server's frameMemory the buffer comes
// from it, and errFrameBudget is returned when its budget has not enough left.
func (r *Reader) grow(n int) error {
	need := len(r.buf) + n
	if need <= cap(r.buf) {
		return nil
	}
	// need <= r.max: ReadFrame stops assembling a frame that crosses the cap.
	c := min(max(2*cap(r.buf), need, smallAssembly), max(r.max, need))
	if r.mem == nil {
		r.buf = append(make([]byte, 0, c), r.buf...)
		return nil
	}
	buf, ok := r.mem.grow(r.buf, c)
	if !ok {
		return errFrameBudget
	}
	r.buf = buf
	return nil
}

// release drops the assembly buffer, giving it back to the Server's
// frameMemory if it came from one; the last payload returned is then invalid.
func (r *Reader) release() {
	if r.mem != nil {
		r.mem.release(r.buf)
	}
	r.buf = nil
}

// scanPayload returns the number of payload bytes at the start of b and the
// block character that ends them (endBlock or startBlock), or 0 when b holds
// payload only.
func scanPayload(b []byte) (n int, stop byte) {
	n = len(b)
	if i := bytes.IndexByte(b, startBlock); i >= 0 {
		n, stop = i, startBlock
	}
	if i := bytes.IndexByte(b[:n], endBlock); i >= 0 {
		n, stop = i, endBlock
	}
	return n, stop
}

// consumeEnd consumes n payload bytes and the FS at b[n], plus a CR right
// after it. When nothing is buffered after FS, the CR is expected at the start
// of the next read and is then skipped without being counted as junk.
func (r *Reader) consumeEnd(b []byte, n int) {
	switch {
	case n+1 == len(b):
		r.br.Discard(n + 1)
		r.pendingCR = true
	case b[n+1] == carriageReturn:
		r.br.Discard(n + 2)
	default:
		r.br.Discard(n + 1)
	}
}

// head returns a copy of the first bytes of the current payload: what is
// assembled in r.buf followed by part.
func (r *Reader) head(part []byte) []byte {
	limit := min(maxHeadSize, r.max)
	h := make([]byte, 0, limit)
	h = append(h, r.buf[:min(len(r.buf), limit)]...)
	return append(h, part[:min(len(part), limit-len(h))]...)
}

// awaitStart discards bytes until a VT is the next buffered byte. It blocks
// until one arrives or the underlying reader fails.
func (r *Reader) awaitStart() error {
	for {
		b, err := r.peekBuffered()
		if err != nil {
			return err
		}
		if r.pendingCR {
			r.pendingCR = false
			if b[0] == carriageReturn {
				r.br.Discard(1)
				continue
			}
		}
		i := bytes.IndexByte(b, startBlock)
		if i == 0 {
			return nil
		}
		if i < 0 {
			i = len(b)
		}
		r.br.Discard(i)
		r.discarded += int64(i)
	}
}

// peekBuffered returns every buffered byte, reading from the underlying
// reader first if the buffer is empty. The slice is valid until the next read.
func (r *Reader) peekBuffered() ([]byte, error) {
	if r.br.Buffered() == 0 {
		if _, err := r.br.Peek(1); err != nil {
			return nil, err
		}
	}
	b, _ := r.br.Peek(r.br.Buffered())
	return b, nil
}
