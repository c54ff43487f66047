package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Open opens (creating if needed) the store in cfg.Dir, replaying what the write-ahead
// log holds beyond the B+tree file.
func Open(cfg Config) (*DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("bolt: data directory: %w", err)
	}
	fallback, err := checkBeforeOpen(cfg)
	if err != nil {
		return nil, err
	}
	var db *DB
	err = guard(filepath.Join(cfg.Dir, FileName), func() error {
		b, err := openBolt(cfg)
		if err != nil {
			return err
		}
		if db, err = load(b, cfg, fallback); err != nil {
			b.Close()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	db.wg.Add(3)
	go db.commitLoop()
	go db.syncLoop()
	go db.markLoop()
	return db, nil
}

// openBolt opens the B+tree file in cfg.Dir, creating it if needed.
func openBolt(cfg Config) (*bbolt.DB, error) {
	b, err := bbolt.Open(filepath.Join(cfg.Dir, FileName), 0o600, &bbolt.Options{
		Timeout:         lockTimeout(cfg),
		NoFreelistSync:  true, // faster commits; the freelist is rebuilt on open
		FreelistType:    bbolt.FreelistMapType,
		InitialMmapSize: initialMmapSize(),
		PageSize:        PageSize, // for a new file; an existing one keeps its own
		NoSync:          cfg.NoSync,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("bolt: %s is in use by another process: %w", cfg.Dir, err)
		}
		return nil, fmt.Errorf("bolt: open: %w", err)
	}
	return b, nil
}

// errRebuildDue means a recovery was interrupted before it rebuilt the indexes.

// load brings the opened B+tree file up to date (schema, write-ahead log, upgrades)
// and returns the store over it, its goroutines not started yet. fallback, when set,
// says that the meta page of the file's last commit may not read (see checkBeforeOpen).
func load(b *bbolt.DB, cfg Config, fallback string) (*DB, error) {
	if err := openSchema(b); err != nil {
		return nil, fmt.Errorf("bolt: %w", err)
	}
	w, seq, err := recoverWAL(b, cfg.Dir, cfg.NoSync, fallback)
	if err != nil {
		return nil, err
	}
	ids, marks, err := openIDs(cfg.Dir, cfg.NoSync)
	if err != nil {
		w.close()
		return nil, err
	}
	db := &DB{bolt: b, wal: w, ids: ids, reqs: make(chan *request, 1024), kick: make(chan struct{}, 1),
		closing: make(chan struct{}), stopped: make(chan struct{}), abandon: make(chan struct{}),
		syncs: make(chan *group, 256), idsKick: make(chan struct{}, 1),
		maxBatch: cfg.MaxBatch, interval: cfg.FlushInterval, observe: cfg.Observe, onFlush: cfg.ObserveFlush,
		seq: seq, flushedCh: make(chan struct{})}
	db.acked.Store(seq)
	db.flushed.Store(seq)
	err = upgrade(b)
	if err == nil {
		err = b.View(func(btx *bbolt.Tx) error {
			if v, err := getMeta(btx, keyRebuild, SchemaVersion); err != nil || v != nil {
				return errors.Join(err, errRebuildDue)
			}
			if marks == nil {
				// No ids file (a backup's directory, or an earlier build's): the copy
				// of the marks as of the B+tree's last flush is what there is.
				copied, err := readMarks(btx)
				if err != nil {
					return err
				}
				marks = copied[:]
			}
			for k, id := range kindBuckets {
				// Resume past every ID a record holds and every mark.
				n := max(btx.Bucket(bucketNames[id]).Sequence(), marks[k])
				db.seqs[k].Store(n)
				ids.durable[k].Store(n)
			}
			return nil
		})
	}
	if err != nil {
		w.close()
		ids.close()
		return nil, fmt.Errorf("bolt: %w", err)
	}
	if db.maxBatch == 0 {
		db.maxBatch = 512
	}
	if db.interval == 0 {
		db.interval = DefaultFlushInterval
	}
	return db, nil
}

// initialMmapSize is the address space the B+tree file is mapped with: 8 GiB on 64-bit
// platforms (address space only, not memory), 256 MiB on 32-bit ones. A flush that
// grows the file past the mapping must remap it, which waits for every open read
// transaction: a backup streaming a large file would hold up the flush, and with it
// every write, for as long as it takes.
func initialMmapSize() int {
	size := 256 << 20
	if strconv.IntSize == 64 {
		size <<= 5
	}
	return size
}

// recoverWAL opens the write-ahead log, applies the records the B+tree file does not
// hold yet in one durable transaction, and returns the log, ready to start over, with
// the seq of its last record.
//
// When fallback is set, bbolt opened the commit before the one whose meta page does
// not read. That is a crash during a flush when the log holds records past what the
// opened commit holds (the log starts over only once a flush is committed), and they
// are applied; otherwise the last commit may have been damaged after it was written,
// and its writes would be lost: recoverWAL refuses.
func recoverWAL(b *bbolt.DB, dir string, noSync bool, fallback string) (*wal, uint64, error) {
	w, data, err := openWAL(dir, noSync)
	if err != nil {
		return nil, 0, err
	}
	var applied, schema uint64
	if err := b.View(func(btx *bbolt.Tx) error {
		schema = fileSchema(btx)
		v, err := getMeta(btx, keyWALSeq, schema)
		if len(v) == 8 {
			applied = binary.BigEndian.Uint64(v)
		}
		return err
	}); err != nil {
		w.close()
		return nil, 0, fmt.Errorf("bolt: recovery: %w", err)
	}
	recs, err := planReplay(filepath.Join(dir, WALFileName), data, applied)
	switch {
	case fallback != "" && err != nil: // the log lost records the opened commit needs
		err = fmt.Errorf("bolt: B+tree file %s: %s: %w", filepath.Join(dir, FileName), fallback, err)
	case fallback != "" && len(recs) == 0:
		err = &FileError{Path: filepath.Join(dir, FileName), Problems: []string{fallback +
			", and the write-ahead log does not hold its writes: `radbridge recover --data DIR` opens the commit before it"}}
	}
	if err != nil {
		w.close()
		return nil, 0, err
	}
	if len(recs) > 0 {
		err = b.Update(func(btx *bbolt.Tx) error {
			for _, r := range recs {
				if err := replay(btx, r.payload); err != nil {
					return fmt.Errorf("write-ahead log record %d: %w", r.seq, err)
				}
			}
			applied = recs[len(recs)-1].seq
			return putMeta(btx, keyWALSeq, u64(applied), schema)
		})
		if err != nil {
			w.close()
			return nil, 0, fmt.Errorf("bolt: recovery: %w", err)
		}
	}
	w.restart()
	return w, applied, nil
}
