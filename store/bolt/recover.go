package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// Recover brings a data directory whose write-ahead log Open refuses (a LogError) back
// to a store that opens, keeping every log record it can prove. It is what
// `radbridge recover` runs; the store must not be open elsewhere.
//
// The rule: a record is kept when it is intact (its checksum matches) and it is one the
// B+tree file needs (its seq is past the file's). Those are the records Open would
// apply, before the damage, and the intact records found after it (Open's search,
// which tells the records of the current log from leftovers of earlier ones by their
// seq); each is applied whole, in seq order. A record that cannot be read is lost, and
// so is any record missing between two kept ones: Recover reports their seqs. Records
// past the last one kept cannot be told from a write torn by a crash, and are not
// reported.
//
// Applying records that follow lost ones is safe because a record holds complete
// values, never changes to them: each message, order, outbox item and resource version
// it put is whole and as of its write, later than what the lost records put under the
// same keys. What was computed from the lost records' writes (indexes, counts,
// creation order of resources, ID sequences) is not taken from the records but rebuilt
// from the kept data, so the store is consistent again; what the lost records alone
// wrote is gone, and references to it are reported. IDs stay past every ID handed out
// before: the ids file is kept, and raised past the kept records; should it be
// unreadable too, the sequences skip IDJump past the highest ID known.
//
// The damaged log is kept beside the store as radbridge.wal.damaged-<time> (named in
// the report) and the log starts empty.
func Recover(cfg Config) (*RecoverReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	path := filepath.Join(cfg.Dir, FileName)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("bolt: recover: no store in %s: %w", cfg.Dir, err)
	}
	// A damaged B+tree file is beyond what the log can mend: that takes a backup.
	fallback, err := checkBeforeOpen(cfg)
	if err != nil {
		return nil, err
	}
	var rep *RecoverReport
	err = guard(path, func() error {
		b, err := openBolt(cfg)
		if err != nil {
			return err
		}
		defer b.Close()
		rep, err = recoverOpened(b, cfg, fallback)
		return err
	})
	return rep, err
}

// recoverOpened is Recover on the opened B+tree file.
func recoverOpened(b *bbolt.DB, cfg Config, fallback string) (*RecoverReport, error) {
	if err := openSchema(b); err != nil {
		return nil, fmt.Errorf("bolt: recover: %w", err)
	}
	walPath := filepath.Join(cfg.Dir, WALFileName)
	data, err := os.ReadFile(walPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("bolt: recover: %w", err)
	}
	rep := &RecoverReport{Fallback: fallback}
	var schema uint64
	if err := b.View(func(btx *bbolt.Tx) error {
		schema = fileSchema(btx)
		v, err := getMeta(btx, keyWALSeq, schema)
		if len(v) == 8 {
			rep.Applied = binary.BigEndian.Uint64(v)
		}
		return err
	}); err != nil {
		return nil, fmt.Errorf("bolt: recover: %w", err)
	}
	_, refused := planReplay(walPath, data, rep.Applied)
	keep := rep.plan(data)
	// The records are in the layout of the file's schema: apply them first, with a
	// note that the rebuild is due, so that an interrupted recovery is resumed.
	err = b.Update(func(btx *bbolt.Tx) error {
		for _, r := range keep {
			if err := replay(btx, r.payload); err != nil {
				return fmt.Errorf("write-ahead log record %d: %w", r.seq, err)
			}
		}
		last := rep.Applied
		if len(keep) > 0 {
			last = keep[len(keep)-1].seq
		}
		if len(rep.Lost) > 0 {
			if err := putMeta(btx, keyRebuild, []byte{1}, schema); err != nil {
				return err
			}
		}
		return putMeta(btx, keyWALSeq, u64(last), schema)
	})
	if err == nil {
		err = upgrade(b)
	}
	if err == nil {
		err = b.Update(func(btx *bbolt.Tx) error {
			if v, err := getMeta(btx, keyRebuild, SchemaVersion); err != nil || v == nil {
				return err
			}
			rep.Rebuilt = true
			if err := rebuild(btx, rep.warn); err != nil {
				return err
			}
			return btx.Bucket(bucketNames[bMeta]).Delete(keyRebuild)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: recover: %w", err)
	}
	if err := rep.keepIDs(b, cfg); err != nil {
		return nil, err
	}
	if refused != nil || len(rep.Lost) > 0 {
		if rep.SavedLog, err = saveDamaged(walPath, data); err != nil {
			return nil, err
		}
	}
	if len(data) > 0 {
		if err := os.Truncate(walPath, 0); err != nil {
			return nil, fmt.Errorf("bolt: recover: empty the log: %w", err)
		}
		if err := syncFile(walPath); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// IDJump is how far Recover moves each ID sequence past the highest ID it knows when
// the ids file cannot be read either: far more IDs than a store hands out between two
// flushes of the B+tree file, which holds a copy of the marks.
const IDJump = 1 << 24

// RecoverReport says what Recover kept and what it could not.
type RecoverReport struct {
	// Applied is the seq of the last log record the B+tree file held already.
	Applied uint64
	// Kept are the log records applied, as ranges of seqs.
	Kept []SeqRange
	// Lost are the records that could not be kept, between ones kept (or between the
	// B+tree's and the first kept).
	Lost []SeqRange
	// Rebuilt says that the indexes and counts were rebuilt from the records.
	Rebuilt bool
	// IDsJumped says that the ids file could not be read and the sequences skipped
	// IDJump.
	IDsJumped bool
	// SavedLog is where the damaged log was copied, when it was.
	SavedLog string
	// Fallback, when set, says that a meta page of the B+tree file did not read:
	// the file was taken as of the commit before it, and the log applied on top.
	Fallback string
	// Warnings are what the rebuild found that does not add up: records that do not
	// decode, references to records that are gone.
	Warnings []string
}

// SeqRange is the log records First to Last.
type SeqRange struct{ First, Last uint64 }

// Count is the number of records in r.
func (r SeqRange) Count() uint64 { return r.Last - r.First + 1 }

func (r SeqRange) String() string {
	if r.First == r.Last {
		return fmt.Sprint(r.First)
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// LostCount is the number of records lost.
func (rep *RecoverReport) LostCount() uint64 { return countRanges(rep.Lost) }

// KeptCount is the number of records applied.
func (rep *RecoverReport) KeptCount() uint64 { return countRanges(rep.Kept) }

func countRanges(rs []SeqRange) uint64 {
	var n uint64
	for _, r := range rs {
		n += r.Count()
	}
	return n
}

const maxWarnings = 50

func (rep *RecoverReport) warn(format string, args ...any) {
	if len(rep.Warnings) < maxWarnings {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf(format, args...))
	} else if len(rep.Warnings) == maxWarnings {
		rep.Warnings = append(rep.Warnings, "more warnings left out")
	}
}

// plan picks the records to keep, in seq order, and fills Kept and Lost.
func (rep *RecoverReport) plan(data []byte) []walRecord {
	recs, end := readWAL(data)
	last := rep.Applied
	var cands []walRecord
	for _, r := range recs {
		if r.seq > rep.Applied {
			cands = append(cands, r)
			last = max(last, r.seq)
		}
	}
	cands = append(cands, findRecords(data, end, last)...)
	slices.SortStableFunc(cands, func(a, b walRecord) int { return cmpSeq(a.seq, b.seq) })
	var keep []walRecord
	next := rep.Applied + 1
	for _, r := range cands {
		if r.seq < next {
			continue // found twice
		}
		if r.seq > next {
			rep.Lost = append(rep.Lost, SeqRange{next, r.seq - 1})
		}
		next = r.seq + 1
		if forEachOp(r.payload, func(byte, byte, []byte, []byte, uint64) error { return nil }) != nil {
			rep.Lost = append(rep.Lost, SeqRange{r.seq, r.seq})
			continue
		}
		keep = append(keep, r)
		if n := len(rep.Kept); n > 0 && rep.Kept[n-1].Last == r.seq-1 {
			rep.Kept[n-1].Last = r.seq
		} else {
			rep.Kept = append(rep.Kept, SeqRange{r.seq, r.seq})
		}
	}
	return keep
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// keepIDs raises the marks in the ids file past every ID the recovered B+tree holds,
// or, when the file cannot be read, writes a new one IDJump past them and the B+tree's
// copy of the marks.
func (rep *RecoverReport) keepIDs(b *bbolt.DB, cfg Config) error {
	ids, marks, err := openIDs(cfg.Dir, cfg.NoSync)
	if errors.Is(err, errIDsFile) {
		rep.IDsJumped = true
		if err := os.Remove(filepath.Join(cfg.Dir, IDsFileName)); err != nil {
			return fmt.Errorf("bolt: recover: %w", err)
		}
		ids, marks, err = openIDs(cfg.Dir, cfg.NoSync)
	}
	if err != nil {
		return err
	}
	defer ids.close()
	var want [len(kindBuckets)]uint64
	err = b.View(func(btx *bbolt.Tx) error {
		copied, err := readMarks(btx)
		if err != nil {
			rep.warn("the copy of the ID marks in the B+tree file does not read: %v", err)
		}
		for k, id := range kindBuckets {
			want[k] = btx.Bucket(bucketNames[id]).Sequence()
			if marks != nil {
				want[k] = max(want[k], marks[k])
			}
			if rep.IDsJumped {
				want[k] = sat(max(want[k], copied[k]), IDJump)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bolt: recover: %w", err)
	}
	if marks != nil && slices.Equal(want[:], marks[:len(want)]) {
		return nil
	}
	ids.mu.Lock()
	defer ids.mu.Unlock()
	return ids.write(want)
}

// saveDamaged copies the damaged log beside it and returns the copy's path.
func saveDamaged(path string, data []byte) (string, error) {
	saved := path + ".damaged-" + time.Now().UTC().Format("20060102T150405Z")
	f, err := os.OpenFile(saved, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("bolt: recover: keep the damaged log: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return "", fmt.Errorf("bolt: recover: keep the damaged log: %w", err)
	}
	return saved, nil
}

// syncFile makes a file's contents and size durable.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("bolt: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("bolt: sync %s: %w", path, err)
	}
	return nil
}
