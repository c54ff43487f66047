package bolt

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/radbridge/radbridge/store"
)

// FuzzReplayLog feeds arbitrary bytes to recovery as a write-ahead log file: reading
// must stop cleanly at whatever is not an intact record, and replaying any intact
// record, however its operations are malformed, must fail with an error or apply, never
// panic. The input is used both as a raw file and, wrapped with a valid header and CRC,
// as one record's payload, so that the operation decoder sees it too.
func FuzzReplayLog(f *testing.F) {
	var ops []byte
	ops = appendPut(ops, bMessages, []byte{0, 0, 0, 0, 0, 0, 0, 1}, []byte(`{"id":"msg-1"}`))
	ops = appendDelete(ops, bMsgIndex, []byte("C1\x00S\x00d"))
	ops = appendSeq(ops, bOrders, 7)
	f.Add(ops)
	f.Add(record(1, ops))
	f.Add(append(record(1, ops), record(2, ops)...))
	f.Add(appendRecord(appendRecord(nil, 1, 0, ops), 2, 1, ops))
	f.Add([]byte{opPut, 200, 1, 'k'})
	f.Add([]byte{opPut, bRaw, 0xff, 0xff, 0xff, 0xff, 0x0f})
	db, err := bbolt.Open(filepath.Join(f.TempDir(), "fuzz.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(initSchema); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, file := range [][]byte{data, record(1, data)} {
			recs, end := readWAL(file)
			if end > int64(len(file)) {
				t.Fatalf("readWAL ended at %d, past the %d bytes", end, len(file))
			}
			for _, r := range findRecords(file, end, 0) {
				if r.off < end || r.off+r.size > int64(len(file)) {
					t.Fatalf("findRecords: record at %d+%d outside [%d, %d)", r.off, r.size, end, len(file))
				}
			}
			if _, err := planReplay("fuzz.wal", file, 0); err != nil && !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("planReplay: %v", err)
			}
			for i, r := range recs {
				if i > 0 && r.seq != recs[i-1].seq+1 {
					t.Fatalf("records %d and %d are not consecutive", recs[i-1].seq, r.seq)
				}
				// Apply and roll back: each input starts from the same state.
				db.Update(func(btx *bbolt.Tx) error {
					_ = replay(btx, r.payload)
					return errRollbackFuzz
				})
			}
		}
	})
}

type fuzzRollback struct{}

func (fuzzRollback) Error() string { return "roll back" }

var errRollbackFuzz error = fuzzRollback{}

// record frames payload as builds before synced wrote it (the old format).
func record(seq uint64, payload []byte) []byte {
	b := make([]byte, walHeaderV1, walHeaderV1+len(payload))
	binary.BigEndian.PutUint32(b[4:8], uint32(len(payload)))
	binary.BigEndian.PutUint64(b[8:16], seq)
	b = append(b, payload...)
	binary.BigEndian.PutUint32(b[:4], crc32.Checksum(b[4:], crc32c))
	return b
}
