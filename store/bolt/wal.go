package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	bbolt "go.etcd.io/bbolt"
)

// WALFileName is the write-ahead log inside the data directory.
const WALFileName = "radbridge.wal"

// The write-ahead log makes a group of updates durable with one append and one
// fdatasync; the B+tree file catches up later in larger transactions (see DB.flush).
//
// The file is a sequence of records, each
//
//	crc32c(4) | 1<<31 | length (4) | seq(8) | synced(8) | payload(length)
//
// with the CRC over everything after it, integers big-endian. Record sequence numbers
// are consecutive. synced is the seq of the last record on stable storage when the
// write that holds this record began: every record up to synced had been acknowledged.
// Builds before synced existed wrote 16-byte headers without it and without the top
// bit of the length word; they still read back (see readWAL).
//
// After every flush the B+tree holds every record written so far (its meta bucket says
// up to which seq), and the log starts again at offset 0, overwriting records it no
// longer needs. Recovery reads from offset 0 while records are intact and consecutive
// and applies those past the B+tree's seq; what stops the reading is either the end of
// the log (zero fill, the bytes of a record from before the last restart, a write torn
// by a crash) or damage to records that were acknowledged. planReplay tells them apart.
//
// The space the log writes into is zero-filled ahead of use, so that an fdatasync
// after an append writes data only, not the file's size.
const (
	walHeaderV1  = 16
	walHeader    = 24
	walV2        = 1 << 31 // in the length word: a header with synced
	walChunk     = 1 << 20 // the log grows by zero-filled chunks of this size
	maxWALRecord = 1 << 30 // a record larger than this is corruption
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

type wal struct {
	f      *os.File
	off    int64 // where the next record goes
	size   int64 // bytes of the file known to be allocated (zero-filled or written)
	noSync bool
	buf    []byte
}

// walRecord is one record read back by recovery.
type walRecord struct {
	seq     uint64
	synced  uint64 // 0 in a record of the old format
	v2      bool   // the record has synced
	off     int64  // where it starts in the file
	size    int64  // header and payload
	payload []byte
}

// openWAL opens or creates the log in dir and returns it with the bytes it holds.
func openWAL(dir string, noSync bool) (*wal, []byte, error) {
	path := filepath.Join(dir, WALFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("bolt: write-ahead log: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("bolt: write-ahead log: %w", err)
	}
	w := &wal{f: f, size: int64(len(data)), noSync: noSync}
	if len(data) == 0 {
		// A new file: make its directory entry durable before anything relies on it.
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	return w, data, nil
}

// appendRecord adds one record to the buffer the next write takes; synced is the seq
// of the last record on stable storage.
func (w *wal) appendRecord(seq, synced uint64, payload []byte) {
	w.buf = appendRecord(w.buf, seq, synced, payload)
}

// appendRecord appends a record to b.
func appendRecord(b []byte, seq, synced uint64, payload []byte) []byte {
	at := len(b)
	b = append(b, make([]byte, walHeader)...)
	binary.BigEndian.PutUint32(b[at+4:at+8], walV2|uint32(len(payload)))
	binary.BigEndian.PutUint64(b[at+8:at+16], seq)
	binary.BigEndian.PutUint64(b[at+16:at+24], synced)
	b = append(b, payload...)
	binary.BigEndian.PutUint32(b[at:at+4], crc32.Checksum(b[at+4:], crc32c))
	return b
}

// write writes the buffered records and returns once they are on stable storage.
func (w *wal) write() error {
	if len(w.buf) == 0 {
		return nil
	}
	n := int64(len(w.buf))
	if err := w.reserve(w.off + n); err != nil {
		return err
	}
	if _, err := w.f.WriteAt(w.buf, w.off); err != nil {
		return fmt.Errorf("bolt: write-ahead log: %w", err)
	}
	if !w.noSync {
		if err := fdatasync(w.f); err != nil {
			return fmt.Errorf("bolt: write-ahead log sync: %w", err)
		}
	}
	w.off += n
	w.buf = w.buf[:0]
	if cap(w.buf) > 4<<20 {
		w.buf = nil // do not keep a huge record's buffer
	}
	return nil
}

// reserve makes sure the file is allocated and zero-filled up to end.
func (w *wal) reserve(end int64) error {
	if end <= w.size {
		return nil
	}
	grow := (end - w.size + walChunk - 1) / walChunk * walChunk
	zeros := make([]byte, min(grow, 4*walChunk))
	for off := w.size; off < w.size+grow; off += int64(len(zeros)) {
		if _, err := w.f.WriteAt(zeros[:min(int64(len(zeros)), w.size+grow-off)], off); err != nil {
			return fmt.Errorf("bolt: write-ahead log: grow: %w", err)
		}
	}
	if !w.noSync {
		if err := w.f.Sync(); err != nil {
			return fmt.Errorf("bolt: write-ahead log: grow: %w", err)
		}
	}
	w.size += grow
	return nil
}

// restart makes the next record go to the start of the file: everything written so far
// is in the B+tree.
func (w *wal) restart() { w.off = 0 }

func (w *wal) close() error { return w.f.Close() }

// syncDir makes a directory's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("bolt: data directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("bolt: data directory sync: %w", err)
	}
	return nil
}

// Operations in a record's payload: what update functions did to the B+tree, in order.
const (
	opPut    byte = 1 // bucket, key, value
	opDelete byte = 2 // bucket, key
	opSeq    byte = 3 // bucket, sequence (8 bytes)
)

func appendPut(b []byte, bucket byte, k, v []byte) []byte {
	b = append(b, opPut, bucket)
	b = binary.AppendUvarint(b, uint64(len(k)))
	b = append(b, k...)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendDelete(b []byte, bucket byte, k []byte) []byte {
	b = append(b, opDelete, bucket)
	b = binary.AppendUvarint(b, uint64(len(k)))
	return append(b, k...)
}

func appendSeq(b []byte, bucket byte, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append(b, opSeq, bucket), seq)
}

var errBadRecord = errors.New("malformed write-ahead log record")

// replay applies a record's operations to btx.
func replay(btx *bbolt.Tx, payload []byte) error {
	return forEachOp(payload, func(op, bucket byte, k, v []byte, seq uint64) error {
		b := btx.Bucket(allBuckets[bucket])
		switch op {
		case opSeq:
			return b.SetSequence(seq)
		case opDelete:
			return b.Delete(k)
		}
		return b.Put(k, v)
	})
}

// forEachOp decodes a record's operations in order and calls fn with each: a put's
// key and value, a delete's key, a sequence. It returns errBadRecord, applying
// nothing more, at the first that does not decode.
func forEachOp(payload []byte, fn func(op, bucket byte, k, v []byte, seq uint64) error) error {
	for p := payload; len(p) > 0; {
		if len(p) < 2 || int(p[1]) >= len(allBuckets) {
			return errBadRecord
		}
		op, bucket := p[0], p[1]
		p = p[2:]
		if op == opSeq {
			if len(p) < 8 {
				return errBadRecord
			}
			if err := fn(op, bucket, nil, nil, binary.BigEndian.Uint64(p)); err != nil {
				return err
			}
			p = p[8:]
			continue
		}
		k, rest, ok := cutBytes(p)
		if !ok {
			return errBadRecord
		}
		p = rest
		var v []byte
		switch op {
		case opDelete:
		case opPut:
			if v, p, ok = cutBytes(p); !ok {
				return errBadRecord
			}
		default:
			return errBadRecord
		}
		if err := fn(op, bucket, k, v, 0); err != nil {
			return err
		}
	}
	return nil
}

// cutBytes splits a uvarint-length-prefixed byte string off p.
func cutBytes(p []byte) (s, rest []byte, ok bool) {
	n, w := binary.Uvarint(p)
	if w <= 0 || n > uint64(len(p)-w) {
		return nil, nil, false
	}
	return p[w : w+int(n)], p[w+int(n):], true
}
