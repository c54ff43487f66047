package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/radbridge/radbridge/store"
)

// IDsFileName holds the ID high-water marks inside the data directory.
const IDsFileName = "radbridge.ids"

// IDs never go back. Before an ID past a kind's mark is handed out, the mark is raised
// IDChunk past it and written to the ids file with an fdatasync; a restart resumes each
// sequence past its mark, so no ID handed out before a crash, or spent in a record that
// was lost, is handed out again. A clean Close writes the exact last IDs, so a restart
// after it leaves no gap; after a crash the sequences skip what is left of the chunk.
// Marks are raised ahead of need (when half the chunk is used) so that reservations
// rarely wait for the disk.
//
// The file keeps the marks away from the log and the B+tree, so that damage to either
// cannot take them with it: two 512-byte slots, each
//
//	"RBID" | gen(8) | n(4) | n marks(8 each) | crc32c(4)
//
// both written with every raise, one after the other, each with its own fdatasync: a
// write torn by a crash spoils one slot, and the other holds either the new marks or
// those before the raise, which was then never acknowledged; later damage to one slot
// leaves the other with the latest. The intact slot with the larger gen wins. The
// B+tree's meta bucket gets a copy of the marks at every flush, which a backup carries.
const (
	IDChunk    = 1 << 14
	idSlotSize = 512
)

var idsMagic = []byte("RBID")

// idMarks is the ids file and the marks on stable storage in it.
type idMarks struct {
	mu      sync.Mutex // one write at a time
	f       *os.File
	noSync  bool
	gen     uint64
	durable [len(kindBuckets)]atomic.Uint64
}

// errIDsFile means neither slot of the ids file reads back.
var errIDsFile = errors.New("no intact copy of the ID high-water marks: run `radbridge recover --data DIR`")

// openIDs opens or creates the ids file in dir and returns it with the marks it holds,
// or nil marks for a new file.
func openIDs(dir string, noSync bool) (*idMarks, []uint64, error) {
	var marks []uint64
	f, err := os.OpenFile(filepath.Join(dir, IDsFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, marks, fmt.Errorf("bolt: %s: %w", IDsFileName, err)
	}
	m := &idMarks{f: f, noSync: noSync}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, marks, fmt.Errorf("bolt: %s: %w", IDsFileName, err)
	}
	if st.Size() == 0 { // a new file
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, marks, err
		}
		return m, marks, nil
	}
	buf := make([]byte, min(st.Size(), 2*idSlotSize))
	if _, err := f.ReadAt(buf, 0); err != nil {
		f.Close()
		return nil, marks, fmt.Errorf("bolt: %s: %w", IDsFileName, err)
	}
	gen, got, ok := readIDSlots(buf)
	if !ok {
		f.Close()
		return nil, marks, fmt.Errorf("bolt: %s: %w: %w", filepath.Join(dir, IDsFileName), errIDsFile, store.ErrCorrupt)
	}
	m.gen = gen
	return m, append(got, make([]uint64, max(0, len(kindBuckets)-len(got)))...), nil
}

// readIDSlots returns the marks of the intact slot with the larger gen.
func readIDSlots(buf []byte) (gen uint64, marks []uint64, ok bool) {
	for i := 0; i*idSlotSize < len(buf); i++ {
		slot := buf[i*idSlotSize : min(len(buf), (i+1)*idSlotSize)]
		g, m, good := parseIDSlot(slot)
		if good && (!ok || g > gen) {
			gen, marks, ok = g, m, true
		}
	}
	return gen, marks, ok
}

func parseIDSlot(s []byte) (uint64, []uint64, bool) {
	if len(s) < 20 || string(s[:4]) != string(idsMagic) {
		return 0, nil, false
	}
	n := int(binary.BigEndian.Uint32(s[12:16]))
	end := 16 + 8*n
	if n > (idSlotSize-20)/8 || end+4 > len(s) || crc32.Checksum(s[:end], crc32c) != binary.BigEndian.Uint32(s[end:end+4]) {
		return 0, nil, false
	}
	marks := make([]uint64, n)
	for i := range marks {
		marks[i] = binary.BigEndian.Uint64(s[16+8*i:])
	}
	return binary.BigEndian.Uint64(s[4:12]), marks, true
}

// write puts marks on stable storage in both slots. The caller holds mu.
func (m *idMarks) write(marks [len(kindBuckets)]uint64) error {
	gen := m.gen + 1
	s := make([]byte, 0, idSlotSize)
	s = append(s, idsMagic...)
	s = binary.BigEndian.AppendUint64(s, gen)
	s = binary.BigEndian.AppendUint32(s, uint32(len(marks)))
	for _, v := range marks {
		s = binary.BigEndian.AppendUint64(s, v)
	}
	s = binary.BigEndian.AppendUint32(s, crc32.Checksum(s, crc32c))
	for slot := range 2 {
		if _, err := m.f.WriteAt(s, int64(slot)*idSlotSize); err != nil {
			return fmt.Errorf("bolt: %s: %w", IDsFileName, err)
		}
		if !m.noSync {
			if err := fdatasync(m.f); err != nil {
				return fmt.Errorf("bolt: %s sync: %w", IDsFileName, err)
			}
		}
	}
	m.gen = gen
	for k, v := range marks {
		m.durable[k].Store(v)
	}
	return nil
}

// cover makes sure IDs up to want[k] of every kind are under the marks on stable
// storage, raising a mark IDChunk past the ID that needs it.
func (m *idMarks) cover(want [len(kindBuckets)]uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var marks [len(kindBuckets)]uint64
	raise := false
	for k := range marks {
		marks[k] = m.durable[k].Load()
		if want[k] > marks[k] {
			marks[k] = sat(want[k], IDChunk)
			raise = true
		}
	}
	if !raise {
		return nil
	}
	return m.write(marks)
}

// exact writes marks as they are, lower than the ones on stable storage perhaps: at a
// clean Close, when nothing is handed out any more.
func (m *idMarks) exact(marks [len(kindBuckets)]uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if marks == m.load() {
		return nil
	}
	return m.write(marks)
}

func (m *idMarks) load() [len(kindBuckets)]uint64 {
	var marks [len(kindBuckets)]uint64
	for k := range marks {
		marks[k] = m.durable[k].Load()
	}
	return marks
}

func (m *idMarks) close() error { return m.f.Close() }

// sat is n+d, or the largest uint64 when that overflows.
func sat(n, d uint64) uint64 {
	if n > math.MaxUint64-d {
		return math.MaxUint64
	}
	return n + d
}

// ReserveID implements store.Store.
func (db *DB) ReserveID(ctx context.Context, k store.Kind) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	// Close writes the exact marks once no reservation is running.
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.isClosed() {
		return "", store.ErrClosed
	}
	if err := db.failure(); err != nil {
		return "", err
	}
	return db.reserve(k)
}

// errExhausted means an ID sequence reached its largest number.

// reserve hands out the next ID of kind k.
func (db *DB) reserve(k store.Kind) (string, error) {
	if int(k) >= len(db.seqs) {
		return "", fmt.Errorf("bolt: reserve an ID of unknown %s", k)
	}
	seq := &db.seqs[k]
	var n uint64
	for {
		n = seq.Load()
		if n == math.MaxUint64 {
			return "", fmt.Errorf("bolt: reserve a %s ID: %w", k, errExhausted)
		}
		if seq.CompareAndSwap(n, n+1) {
			n++
			break
		}
	}
	mark := db.ids.durable[k].Load()
	if n > mark {
		var want [len(kindBuckets)]uint64
		want[k] = n
		if err := db.ids.cover(want); err != nil {
			return "", db.setFailed(err)
		}
	} else if mark-n < IDChunk/2 {
		select {
		case db.idsKick <- struct{}{}:
		default: // a raise is asked for already
		}
	}
	return store.FormatID(k, n), nil
}

// markLoop raises the marks ahead of the reservations, so that they rarely wait for
// the ids file.
func (db *DB) markLoop() {
	defer db.wg.Done()
	for {
		select {
		case <-db.idsKick:
			var want [len(kindBuckets)]uint64
			for k := range want {
				if n := db.seqs[k].Load(); db.ids.durable[k].Load()-n < IDChunk/2 {
					want[k] = sat(n, 1)
				}
			}
			if err := db.ids.cover(want); err != nil {
				db.setFailed(err)
			}
		case <-db.closing:
			return
		case <-db.abandon:
			return
		}
	}
}

// raise makes the IDs of kind k go on past n: a record was written under n.
func (db *DB) raise(k store.Kind, n uint64) {
	seq := &db.seqs[k]
	for {
		cur := seq.Load()
		if cur >= n || seq.CompareAndSwap(cur, n) {
			return
		}
	}
}
