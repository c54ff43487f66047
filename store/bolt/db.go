// Package bolt is the embedded default store: one bbolt file (go.etcd.io/bbolt) under the
// data directory. Writes from concurrent callers are group-committed: a single committer
// runs every Update queued while the previous transaction was being written in one new
// transaction and one fsync, so throughput grows with concurrency while a lone caller
// waits for no timer.
//
// # Caveats
//
// Only one process may open a data directory; a second fails after Config.LockTimeout.
// Listing with a sender or type filter scans messages newest first.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/radbridge/radbridge/store"
)

// FileName is the database file inside the data directory.
const FileName = "radbridge.db"

// Config configures a DB.
type Config struct {
	// Dir is the data directory; it is created if missing. Required.
	Dir string
	// LockTimeout is how long Open waits for another process to release the file.
	// Default: 1s. It is never infinite.
	LockTimeout time.Duration
	// MaxBatch caps how many Update calls share one transaction. Default: 512.
	MaxBatch int
	// NoSync skips fsync on commit. For benchmarks that measure everything but the
	// disk; never set it where messages matter. Default: false.
	NoSync bool
	// Observe, if set, is called after every commit with the number of Update calls it
	// held and how long it took (fsync included), for metrics. It runs on the committer
	// goroutine and must be quick. Default: nil.
	Observe func(updates int, took time.Duration)
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.Dir == "" {
		return errors.New("bolt: Config.Dir is required")
	}
	if c.LockTimeout < 0 || c.MaxBatch < 0 {
		return errors.New("bolt: Config.LockTimeout and Config.MaxBatch must not be negative")
	}
	return nil
}

// DB is the bbolt store. It is safe for concurrent use.
type DB struct {
	bolt     *bbolt.DB
	reqs     chan *request
	closing  chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	maxBatch int
	observe  func(int, time.Duration)
	// seqs are the last IDs handed out per store.Kind; they start from the buckets'
	// sequences and every write of a new record raises its bucket's sequence to match.
	seqs [3]atomic.Uint64
}

var _ store.Store = (*DB)(nil)

type request struct {
	fn   func(store.Tx) error
	err  error
	done chan struct{}
}

// Open opens (creating if needed) the store in cfg.Dir.
func Open(cfg Config) (*DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("bolt: data directory: %w", err)
	}
	timeout := cfg.LockTimeout
	if timeout == 0 {
		timeout = time.Second
	}
	b, err := bbolt.Open(filepath.Join(cfg.Dir, FileName), 0o600, &bbolt.Options{
		Timeout:         timeout,
		NoFreelistSync:  true, // faster commits; the freelist is rebuilt on open
		FreelistType:    bbolt.FreelistMapType,
		InitialMmapSize: 256 << 20, // readers never wait for a remap below this size
		NoSync:          cfg.NoSync,
	})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, fmt.Errorf("bolt: %s is in use by another process: %w", cfg.Dir, err)
		}
		return nil, fmt.Errorf("bolt: open: %w", err)
	}
	if err := b.Update(initSchema); err != nil {
		b.Close()
		return nil, fmt.Errorf("bolt: %w", err)
	}
	db := &DB{bolt: b, reqs: make(chan *request, 1024), closing: make(chan struct{}), maxBatch: cfg.MaxBatch, observe: cfg.Observe}
	b.View(func(btx *bbolt.Tx) error {
		for k, name := range kindBuckets {
			db.seqs[k].Store(btx.Bucket(name).Sequence())
		}
		return nil
	})
	if db.maxBatch == 0 {
		db.maxBatch = 512
	}
	db.wg.Add(1)
	go db.commitLoop()
	return db, nil
}

// Update runs fn in a transaction shared with other concurrent callers and returns once
// it is durable. See store.Store.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	r := &request{fn: fn, done: make(chan struct{})}
	select {
	case <-db.closing:
		return store.ErrClosed
	default:
	}
	select {
	case db.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.closing:
		return store.ErrClosed
	}
	// Once queued, the request is committed or failed by the committer; waiting for it
	// keeps the answer truthful even if ctx ends meanwhile.
	<-r.done
	return r.err
}

// ReserveID implements store.Store.
func (db *DB) ReserveID(k store.Kind) string {
	return formatID(kindPrefixes[k], db.seqs[k].Add(1))
}

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(store.ReadTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.View(func(btx *bbolt.Tx) error { return fn(&tx{btx: btx, db: db}) })
}

// Close stops accepting updates, commits what is queued, and closes the file.
func (db *DB) Close() error {
	var err error
	db.once.Do(func() {
		close(db.closing)
		db.wg.Wait()
		err = db.bolt.Close()
	})
	return err
}

// commitLoop is the single writer: it takes every queued request, up to maxBatch, and
// commits them in one transaction.
func (db *DB) commitLoop() {
	defer db.wg.Done()
	batch := make([]*request, 0, db.maxBatch)
	for {
		select {
		case r := <-db.reqs:
			batch = append(batch[:0], r)
		case <-db.closing:
			db.drain(batch[:0])
			return
		}
	fill:
		for len(batch) < db.maxBatch {
			select {
			case r := <-db.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		db.commit(batch)
	}
}

// drain commits what was queued before Close.
func (db *DB) drain(batch []*request) {
	for {
		select {
		case r := <-db.reqs:
			batch = append(batch, r)
		default:
			if len(batch) > 0 {
				db.commit(batch)
			}
			return
		}
	}
}

// errRollback aborts a shared transaction because one of its functions failed.
var errRollback = errors.New("rollback")

// commit runs the batch in one transaction. A function that fails is answered with its
// error and the transaction is rolled back and retried without it, so that one caller's
// failure never undoes or blocks another's writes.
func (db *DB) commit(batch []*request) {
	start := time.Now()
	for len(batch) > 0 {
		failed := -1
		err := db.bolt.Update(func(btx *bbolt.Tx) error {
			t := &tx{btx: btx, db: db, write: true}
			for i, r := range batch {
				if err := call(r.fn, t); err != nil {
					failed, r.err = i, err
					return errRollback
				}
			}
			return nil
		})
		if failed >= 0 {
			close(batch[failed].done)
			batch = append(batch[:failed], batch[failed+1:]...)
			continue
		}
		for _, r := range batch {
			if err != nil {
				r.err = fmt.Errorf("bolt: commit: %w", err)
			}
			close(r.done)
		}
		if db.observe != nil {
			db.observe(len(batch), time.Since(start))
		}
		return
	}
}

// call runs fn, turning a panic into an error so that the committer survives it.
func call(fn func(store.Tx) error, t *tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bolt: update function panicked: %v", p)
		}
	}()
	return fn(t)
}
