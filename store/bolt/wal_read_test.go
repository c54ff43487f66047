package bolt

import (
	"errors"
	"fmt"
	"testing"

	"github.com/radbridge/radbridge/store"
)

// testLog is a log of two writes, records 1-3 and 4-6 (the second written once the
// first was on stable storage), followed by zero fill, with each record's offset.
func testLog() ([]byte, []int64) {
	var data []byte
	var offs []int64
	for seq := uint64(1); seq <= 6; seq++ {
		synced := uint64(0)
		if seq > 3 {
			synced = 3
		}
		offs = append(offs, int64(len(data)))
		data = appendRecord(data, seq, synced, appendPut(nil, bMeta, []byte(fmt.Sprint("k", seq)), make([]byte, 40)))
	}
	return append(data, make([]byte, 300)...), offs
}

func seqs(recs []walRecord) string {
	var s []uint64
	for _, r := range recs {
		s = append(s, r.seq)
	}
	return fmt.Sprint(s)
}

func TestPlanReplay(t *testing.T) {
	flip := func(i int, off int64) func([]byte, []int64) []byte {
		return func(d []byte, offs []int64) []byte { d[offs[i]+off] ^= 0x10; return d }
	}
	for _, tc := range []struct {
		name    string
		applied uint64
		damage  func(data []byte, offs []int64) []byte
		want    string // the records applied
		refuse  uint64 // the record named by a LogError, 0 when none
		later   uint64
	}{
		{name: "intact", want: "[1 2 3 4 5 6]"},
		{name: "intact, all applied", applied: 6, want: "[]"},
		{name: "intact, partly applied", applied: 4, want: "[5 6]"},
		{name: "last record torn", damage: flip(5, 30), want: "[1 2 3 4 5]"},
		{name: "last record cut", damage: func(d []byte, offs []int64) []byte { return d[:offs[5]+20] }, want: "[1 2 3 4 5]"},
		// Record 5 was written with 6: the write was torn, nothing of it acknowledged.
		{name: "torn inside the last write", damage: flip(4, 30), want: "[1 2 3 4]"},
		{name: "first record of the last write torn", damage: flip(3, 2), want: "[1 2 3]"},
		// Records 4-6 were written after 1-3 were on stable storage: 2 was acknowledged.
		{name: "payload of an acknowledged record", damage: flip(1, 30), refuse: 2, later: 4},
		{name: "length of an acknowledged record", damage: flip(1, 6), refuse: 2, later: 4},
		{name: "header of an acknowledged record zeroed", damage: func(d []byte, offs []int64) []byte {
			clear(d[offs[2] : offs[2]+24])
			return d
		}, refuse: 3, later: 4},
		{name: "acknowledged record missing", damage: func(d []byte, offs []int64) []byte {
			return append(d[:offs[1]:offs[1]], d[offs[2]:]...)
		}, refuse: 2, later: 4},
		{name: "gap after the B+tree", applied: 0, damage: func(d []byte, offs []int64) []byte { return d[offs[1]:] }, refuse: 1},
		// Damage to records the B+tree holds already changes nothing.
		{name: "damage to applied records", applied: 6, damage: flip(1, 30), want: "[]"},
		// A record of the old format says nothing of what was acknowledged before it.
		{name: "old format after damage", damage: func(d []byte, offs []int64) []byte {
			d = append(d[:offs[5]:offs[5]], record(6, []byte{opSeq, bMeta, 0, 0, 0, 0, 0, 0, 0, 1})...)
			d[offs[4]+30] ^= 1
			return append(d, make([]byte, 100)...)
		}, refuse: 5, later: 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, offs := testLog()
			if tc.damage != nil {
				data = tc.damage(data, offs)
			}
			recs, err := planReplay("test.wal", data, tc.applied)
			var le *LogError
			switch {
			case tc.refuse == 0 && err != nil:
				t.Fatalf("planReplay = %v, want records %s", err, tc.want)
			case tc.refuse != 0 && !errors.As(err, &le):
				t.Fatalf("planReplay = %s, %v; want a LogError naming record %d", seqs(recs), err, tc.refuse)
			case tc.refuse != 0:
				if le.Record != tc.refuse || le.Later != tc.later || !errors.Is(err, store.ErrCorrupt) {
					t.Errorf("LogError = %+v; want record %d, later %d, wrapping ErrCorrupt", le, tc.refuse, tc.later)
				}
			case seqs(recs) != tc.want:
				t.Errorf("planReplay applies %s, want %s", seqs(recs), tc.want)
			}
		})
	}
}

// Records of an earlier log run past the current one are not taken for records lost:
// their seqs are no greater than the B+tree's.
func TestPlanReplay_StaleRecords(t *testing.T) {
	var data []byte
	for seq := uint64(1); seq <= 8; seq++ { // the run before the last flush, at 8
		data = appendRecord(data, seq, seq-1, appendPut(nil, bMeta, []byte("k"), make([]byte, 30)))
	}
	cur := appendRecord(nil, 9, 8, appendPut(nil, bMeta, []byte("k"), make([]byte, 10)))
	copy(data, cur) // the current run overwrites the start
	recs, err := planReplay("test.wal", data, 8)
	if err != nil || seqs(recs) != "[9]" {
		t.Errorf("planReplay = %s, %v; want [9]", seqs(recs), err)
	}
}
