package bolt

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/radbridge/radbridge/store"
)

// parseRecord reads the record at data[off:], or says why there is none there.
func parseRecord(data []byte, off int64) (walRecord, string) {
	rest := data[off:]
	if len(rest) < walHeaderV1 {
		return walRecord{}, "the file ends inside its header"
	}
	word := binary.BigEndian.Uint32(rest[4:8])
	seq := binary.BigEndian.Uint64(rest[8:16])
	if word == 0 && seq == 0 {
		return walRecord{}, "its header is zeros"
	}
	r := walRecord{seq: seq, off: off, v2: word&walV2 != 0}
	n, hdr := int64(word&^walV2), int64(walHeaderV1)
	if r.v2 {
		hdr = walHeader
		if len(rest) < walHeader {
			return walRecord{}, "the file ends inside its header"
		}
		r.synced = binary.BigEndian.Uint64(rest[16:24])
	}
	if n > maxWALRecord || hdr+n > int64(len(rest)) {
		return walRecord{}, fmt.Sprintf("its length (%d bytes) runs past the end of the file", n)
	}
	if crc32.Checksum(rest[4:hdr+n], crc32c) != binary.BigEndian.Uint32(rest[:4]) {
		return walRecord{}, "its checksum does not match"
	}
	r.size, r.payload = hdr+n, rest[hdr:hdr+n]
	return r, ""
}

// readWAL returns the intact, consecutive records from the start of data, and where
// they end.
func readWAL(data []byte) ([]walRecord, int64) {
	var recs []walRecord
	var off int64
	for off < int64(len(data)) {
		r, bad := parseRecord(data, off)
		if bad != "" || len(recs) > 0 && r.seq != recs[len(recs)-1].seq+1 {
			break
		}
		recs = append(recs, r)
		off += r.size
	}
	return recs, off
}

// findRecords returns the intact records that start at or after from and have a seq
// past after, in file order: runs of consecutive records, each found by trying every
// offset. A record from before the log's last restart has a seq no greater than the
// B+tree's, so with after at least that, only records of the current log are found.
func findRecords(data []byte, from int64, after uint64) []walRecord {
	// A record of the current log has a seq at most after plus the number of records
	// that fit in the file.
	most := after + uint64(len(data))/walHeaderV1
	var found []walRecord
	for off := from; off+walHeaderV1 <= int64(len(data)); {
		seq := binary.BigEndian.Uint64(data[off+8 : off+16])
		if seq == 0 {
			// Zero fill: no record can start where its seq would be zeros, so skip to
			// the first offset whose seq takes in the next non-zero byte.
			z := off + 16
			for z+8 <= int64(len(data)) && binary.NativeEndian.Uint64(data[z:z+8]) == 0 {
				z += 8
			}
			for z < int64(len(data)) && data[z] == 0 {
				z++
			}
			off = max(off+1, z-15)
			continue
		}
		if seq <= after || seq > most {
			off++
			continue
		}
		r, bad := parseRecord(data, off)
		if bad != "" {
			off++
			continue
		}
		for {
			found = append(found, r)
			off += r.size
			next, bad := parseRecord(data, off)
			if bad != "" || next.seq != r.seq+1 {
				break
			}
			r = next
		}
	}
	return found
}

// LogError means the write-ahead log lost records that had been acknowledged, or that
// the B+tree file needs: opening the store would lose them silently, so Open refuses.
// It wraps store.ErrCorrupt.
type LogError struct {
	Path   string // the log file
	Record uint64 // the first record that cannot be read
	Offset int64  // where it should start
	Reason string // why it cannot be read
	// Later is the first intact record found after it that proves records were lost
	// (0 when the reason alone proves it).
	Later       uint64
	LaterOffset int64
}

func (e *LogError) Error() string {
	msg := fmt.Sprintf("bolt: write-ahead log %s is damaged: record %d at offset %d cannot be read (%s)", e.Path, e.Record, e.Offset, e.Reason)
	if e.Later != 0 {
		msg += fmt.Sprintf(", yet record %d at offset %d was written after it was acknowledged", e.Later, e.LaterOffset)
	}
	return msg + "; acknowledged writes would be lost, so the store was not opened and nothing was changed: " +
		"run `radbridge recover --data DIR` to keep every record that can be proven and open the store again"
}

func (e *LogError) Unwrap() error { return store.ErrCorrupt }

// planReplay decides, from the log's bytes and the seq of the last record the B+tree
// file holds, which records to apply: the intact, consecutive ones past applied from
// the start of the log. What follows them is the end of the log unless an intact
// record with a later seq shows otherwise:
//
//   - none: the records ended there (a write torn by a crash was never acknowledged);
//   - only records written together with the first missing one (their synced is
//     below it): the last write was torn, and those records were never acknowledged;
//   - a record whose synced is the first missing one or later, or one of the old
//     format, which does not say: the missing records had been acknowledged, so the
//     log is damaged and planReplay returns a *LogError.
func planReplay(path string, data []byte, applied uint64) ([]walRecord, error) {
	recs, end := readWAL(data)
	var todo []walRecord
	last := applied
	for _, r := range recs {
		if r.seq <= applied {
			continue
		}
		if r.seq != last+1 {
			return nil, &LogError{Path: path, Record: last + 1, Offset: r.off,
				Reason: fmt.Sprintf("the log continues with record %d: records are missing", r.seq)}
		}
		todo = append(todo, r)
		last = r.seq
	}
	if end >= int64(len(data)) {
		return todo, nil
	}
	later := findRecords(data, end, last)
	for _, r := range later {
		if !r.v2 || r.synced > last {
			_, bad := parseRecord(data, end)
			if bad == "" {
				bad = "it does not follow record " + fmt.Sprint(last)
			}
			return nil, &LogError{Path: path, Record: last + 1, Offset: end, Reason: bad, Later: r.seq, LaterOffset: r.off}
		}
	}
	return todo, nil
}
