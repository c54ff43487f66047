// Package bolt is the embedded default store: one bbolt file (go.etcd.io/bbolt), a
// write-ahead log and a file of ID high-water marks under the data directory
// (FileName, WALFileName, IDsFileName).
//
// Writes from concurrent callers are group-committed. A single committer goroutine runs
// the update functions queued, a group at a time, and hands what each group changed to
// a log writer goroutine, which appends every group waiting to the write-ahead log as
// CRC-checked records and answers their callers after one fdatasync; throughput grows
// with concurrency while a lone caller waits for no timer. The update functions run in
// a write transaction that stays open across groups;
// it is committed to the B+tree file (the "flush") every Config.FlushInterval, when a
// reader needs what it holds, and on Close. A flush costs two fsyncs and writes each
// changed page once for many groups, where committing every group would write the same
// pages again and again. After a crash, Open replays the log records the B+tree file
// does not hold yet, so every Update that returned nil is kept.
//
// Reads see every acknowledged write: View first flushes the open transaction when it
// holds writes, so reads are cheapest when they come in between bursts of writes.
//
// # Damage
//
// Nothing damaged is read as if it were intact. Open checks the structure of the B+tree
// file before bbolt reads it (see checkBeforeOpen: about as long as bbolt's own open)
// and every stored value carries a checksum that every read verifies (store.ErrCorrupt);
// a log record that does not read and was acknowledged (later records prove it) makes
// Open refuse rather than lose it (LogError); the ID sequences resume past marks kept in
// a file of their own (IDChunk). What Open refuses, Recover mends as far as the log
// allows (`radbridge recover`), and Verify checks everything offline (`radbridge
// verify`). A damaged B+tree file takes a backup (DB.Backup).
//
// # Caveats
//
// Only one process may open a data directory; a second fails after Config.LockTimeout.
// Listing with a sender or type filter scans messages newest first. A write error on
// the log or the B+tree file fails the store: every later call returns the error, and
// a restart recovers from what reached the disk.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/radbridge/radbridge/store"
)

// FileName is the database file inside the data directory.
const FileName = "radbridge.db"

// DefaultFlushInterval is how long acknowledged writes wait, at most, in the write-ahead
// log before the B+tree file gets them when nobody reads.
//
// A flush holds up the committer (a few milliseconds to tens of them), and what it
// costs grows with the index pages it rewrites: with keys that arrive in random order,
// such as unordered control IDs, nearly every leaf of an index is dirty after a few
// hundred messages. Measured with `radbridge bench mllp --conns 16` on 2 CPUs, 300,000
// orders into a new store: with random control IDs 20 ms gave 9.9k–13k msg/s and p99
// 12–15 ms, 250 ms 12.8k–19.5k and p99 2.4–3.4 ms; with ordered ones the rates matched
// and p99 went from 3.6–5.7 ms to 2.0–3.8 ms. The longest ACK wait grows to the length
// of a flush, 30–55 ms at 250 ms (100 ms was worse on p99 than both: its stalls hit
// about 1% of messages).
const DefaultFlushInterval = 250 * time.Millisecond

// PageSize is the B+tree page size of a new database file (bbolt's default is the
// operating system's, 4 KiB on most). A flush writes every changed page with a system
// call of its own, and every message changes pages of several buckets and indexes:
// with 16 KiB pages a flush makes a quarter of the calls, the tree is shallower, and
// a raw message up to 16 KiB fits in a page. Measured with `radbridge bench mllp
// --conns 16` on 2 CPUs, alternating: 14.9k–20.6k msg/s with p99 3.6–4.6 ms against
// 13.6k–18.4k with p99 4.7–5.3 ms for 4 KiB. A file keeps the page size it was
// created with.
const PageSize = 16 << 10

// flushBytes flushes early when the log holds this much since the last flush.
const flushBytes = 64 << 20

// Config configures a DB.
type Config struct {
	// Dir is the data directory; it is created if missing. Required.
	Dir string
	// LockTimeout is how long Open waits for another process to release the file.
	// Default: 1s. It is never infinite.
	LockTimeout time.Duration
	// MaxBatch caps how many Update calls share one log record. Default: 512.
	MaxBatch int
	// FlushInterval is how long acknowledged writes may stay in the write-ahead log
	// alone before they are written to the B+tree file (a read flushes sooner). Longer
	// intervals write fewer pages per update but make recovery replay more. Default:
	// DefaultFlushInterval; negative flushes after every group.
	FlushInterval time.Duration
	// NoSync skips fsync on commit. For benchmarks that measure everything but the
	// disk; never set it where messages matter. Default: false.
	NoSync bool
	// Observe, if set, is called after every group commit with the number of Update
	// calls it held and how long it took (fsync included), for metrics. It runs on the
	// log writer goroutine and must be quick. Default: nil.
	Observe func(updates int, took time.Duration)
	// ObserveFlush, if set, is called after every flush of the write transaction to
	// the B+tree file with how long it took (its two fsyncs included). It runs on the
	// committer goroutine and must be quick. Default: nil.
	ObserveFlush func(took time.Duration)
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
	wal      *wal
	reqs     chan *request
	kick     chan struct{} // a reader wants a flush
	ids      *idMarks
	idsKick  chan struct{} // reservations near a mark: raise it ahead
	closing  chan struct{} // closed by Close, under closeMu
	closeMu  sync.RWMutex  // held for reading while a request is queued
	stopped  chan struct{} // the committer has returned
	abandon  chan struct{} // tests: stop as a crash would, without flushing
	syncs    chan *group   // groups on their way to the log, in order
	inflight sync.WaitGroup
	wg       sync.WaitGroup
	once     sync.Once
	maxBatch int
	interval time.Duration
	observe  func(int, time.Duration)
	onFlush  func(time.Duration)
	// seqs are the last IDs handed out per store.Kind; they start from the buckets'
	// sequences and every write of a new record raises its bucket's sequence to match.
	seqs [len(kindBuckets)]atomic.Uint64

	// acked is the seq of the last log record on stable storage; flushed the last one
	// the B+tree file holds. flushMu guards flushedCh, closed and renewed at every flush.
	acked     atomic.Uint64
	flushed   atomic.Uint64
	flushMu   sync.Mutex
	flushedCh chan struct{}
	failed    atomic.Pointer[error]

	// Owned by the committer goroutine.
	wtx     *tx    // the open write transaction; nil between flushes
	seq     uint64 // the last log record written
	logged  int64  // log bytes since the last flush
	record  []byte // the log record of the group being committed
	arena   recordArena
	pending [][]byte  // the log records written since the last flush
	dirtyAt time.Time // when the open transaction got its first acknowledged write
}

var _ store.Store = (*DB)(nil)

type request struct {
	fn   func(store.Tx) error
	err  error
	done chan struct{}
}

// group is what one commit hands the log writer: the record of its changes (none when
// its functions only read) and the requests to answer once it is on stable storage.
type group struct {
	seq    uint64
	record []byte
	reqs   []*request
	start  time.Time
}

// Update runs fn in a transaction shared with other concurrent callers and returns once
// it is durable. See store.Store.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := db.failure(); err != nil {
		return err
	}
	r := &request{fn: fn, done: make(chan struct{})}
	// Close waits for the requests being queued, so that the committer, which drains
	// the queue once closing is closed, answers every request it holds.
	db.closeMu.RLock()
	if db.isClosed() {
		db.closeMu.RUnlock()
		return store.ErrClosed
	}
	select {
	case db.reqs <- r:
		db.closeMu.RUnlock()
	case <-ctx.Done():
		db.closeMu.RUnlock()
		return ctx.Err()
	}
	// Once queued, the request is committed or failed by the committer; waiting for it
	// keeps the answer truthful even if ctx ends meanwhile.
	<-r.done
	return r.err
}

func (db *DB) isClosed() bool {
	select {
	case <-db.closing:
		return true
	default:
		return false
	}
}

var errRebuildDue = fmt.Errorf("a recovery was interrupted before it rebuilt the indexes: run `radbridge recover --data DIR` again: %w", store.ErrCorrupt)

var errExhausted = errors.New("no IDs left")

// View runs fn in a read-only transaction that sees every Update that has returned.
func (db *DB) View(ctx context.Context, fn func(store.ReadTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if db.isClosed() {
		return store.ErrClosed
	}
	if err := db.awaitFlush(ctx, db.acked.Load()); err != nil {
		return err
	}
	return closedIs(db.bolt.View(func(btx *bbolt.Tx) error {
		t := &tx{btx: btx, db: db}
		if err := fn(t); err != nil {
			return err
		}
		return t.bad // a read met a damaged value and fn went on regardless
	}))
}

// closedIs reports bbolt's error for a file closed meanwhile as store.ErrClosed.
func closedIs(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return store.ErrClosed
	}
	return err
}

// Backup writes a consistent copy of the database to w while the store runs: the
// B+tree file as of every Update that had returned, in the format of FileName (a data
// directory holding only that file opens with everything in it). It returns the bytes
// written. Writes go on meanwhile; the copy does not include them.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if db.isClosed() {
		return 0, store.ErrClosed
	}
	if err := db.awaitFlush(ctx, db.acked.Load()); err != nil {
		return 0, err
	}
	var n int64
	err := closedIs(db.bolt.View(func(btx *bbolt.Tx) error {
		var err error
		n, err = btx.WriteTo(w)
		return err
	}))
	if err != nil {
		return n, fmt.Errorf("bolt: backup: %w", err)
	}
	return n, nil
}

// awaitFlush returns once the B+tree file holds the log up to seq, asking the committer
// for a flush if need be.
func (db *DB) awaitFlush(ctx context.Context, seq uint64) error {
	for {
		if err := db.failure(); err != nil {
			return err
		}
		db.flushMu.Lock()
		if db.flushed.Load() >= seq {
			db.flushMu.Unlock()
			return nil
		}
		ch := db.flushedCh
		db.flushMu.Unlock()
		select {
		case db.kick <- struct{}{}:
		default: // a flush is asked for already
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-db.stopped:
			if db.flushed.Load() >= seq {
				return nil
			}
			return store.ErrClosed
		}
	}
}

// Err returns why the store failed, or nil while it works. A failed store answers every
// call with this error until the process restarts and recovers from the log.
func (db *DB) Err() error { return db.failure() }

func (db *DB) failure() error {
	if p := db.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// setFailed puts the store out of service after a write error, from any goroutine, and
// returns the error every call now gets: what was acknowledged is in the log, and a
// restart replays it.
func (db *DB) setFailed(err error) error {
	err = fmt.Errorf("bolt: store failed, restart to recover: %w", err)
	db.failed.CompareAndSwap(nil, &err)
	db.publishFlush() // wake readers waiting for a flush: they see the failure
	return db.failure()
}

// fail is setFailed on the committer goroutine, which also drops the write
// transaction.
func (db *DB) fail(err error) {
	db.setFailed(err)
	if db.wtx != nil {
		db.wtx.btx.Rollback()
		db.wtx = nil
	}
}

// Close stops accepting updates, commits what is queued, and closes the files.
func (db *DB) Close() error {
	var err error
	db.once.Do(func() {
		db.closeMu.Lock()
		close(db.closing)
		db.closeMu.Unlock()
		db.wg.Wait()
		if db.failure() == nil {
			// Nothing is handed out any more: the exact marks spare a restart the gap.
			var last [len(kindBuckets)]uint64
			for k := range last {
				last[k] = db.seqs[k].Load()
			}
			err = db.ids.exact(last)
		}
		err = errors.Join(err, db.wal.close(), db.ids.close(), db.bolt.Close())
	})
	return err
}

// commitLoop is the single writer: it takes every queued request, up to maxBatch, and
// commits them as one log record; between groups it flushes when it is time to.
func (db *DB) commitLoop() {
	defer db.wg.Done()
	defer close(db.stopped)
	defer close(db.syncs)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	batch := make([]*request, 0, db.maxBatch)
	for {
		select {
		case r := <-db.reqs:
			batch = append(batch[:0], r)
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
			switch {
			case db.dirtyAt.IsZero():
			case db.interval < 0 || db.logged >= flushBytes:
				db.flush()
			case !armed:
				timer.Reset(db.interval)
				armed = true
			}
		case <-timer.C:
			armed = false
			db.flush()
		case <-db.kick:
			db.flush()
		case <-db.closing:
			db.drain(batch[:0])
			db.flush()
			return
		case <-db.abandon:
			db.inflight.Wait()
			if db.wtx != nil {
				db.wtx.btx.Rollback()
				db.wtx = nil
			}
			return
		}
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

// commit runs the batch in the open write transaction and writes what the functions
// changed as one log record. A function that fails is answered with its error and the
// transaction is rebuilt without its changes (see rebuild), so that one caller's
// failure never undoes or blocks another's writes.
func (db *DB) commit(batch []*request) {
	start := time.Now()
	if err := db.failure(); err != nil {
		answer(batch, err)
		return
	}
	if db.wtx == nil {
		if err := db.begin(); err != nil {
			answer(batch, err)
			return
		}
	}
	db.record = db.arena.next()
	ok := make([]*request, 0, len(batch)) // the log writer keeps it; batch is reused
	for _, r := range batch {
		if err := db.failure(); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		t := db.wtx
		mark := len(db.record)
		t.redo, t.bad = &db.record, nil
		err := call(r.fn, t)
		if err == nil {
			err = t.bad // a read met a damaged value: what fn wrote may rest on it
		}
		t.redo, t.bad = nil, nil
		if err != nil {
			r.err = err
			close(r.done)
			if len(db.record) > mark {
				db.record = db.record[:mark]
				db.rebuild()
			}
			continue
		}
		ok = append(ok, r)
	}
	g := &group{reqs: ok, start: start}
	if len(db.record) > 0 && db.failure() == nil {
		db.seq++
		g.seq, g.record = db.seq, db.record
		db.logged += int64(walHeader + len(db.record))
		db.pending = append(db.pending, db.record)
		// pending keeps the record, and the transaction points into it, until the
		// next flush.
		db.arena.take(db.record)
		if db.dirtyAt.IsZero() {
			db.dirtyAt = start
		}
	}
	if len(ok) == 0 && g.record == nil {
		return
	}
	// The log writer answers the group once it and every group before it are on
	// stable storage, even one that only read: it may have read what they wrote.
	db.inflight.Add(1)
	db.syncs <- g
}

// syncLoop writes groups to the log in order, as many as are waiting with one
// fdatasync, and answers their requests.
func (db *DB) syncLoop() {
	defer db.wg.Done()
	var batch []*group
	for g := range db.syncs {
		batch = append(batch[:0], g)
	more:
		for {
			select {
			case g, ok := <-db.syncs:
				if !ok {
					break more
				}
				batch = append(batch, g)
			default:
				break more
			}
		}
		var last uint64
		synced := db.acked.Load() // the records of this write say what was durable before it
		for _, g := range batch {
			if g.record != nil {
				db.wal.appendRecord(g.seq, synced, g.record)
				last = g.seq
			}
		}
		err := db.failure()
		if err == nil {
			if err = db.wal.write(); err != nil {
				err = db.setFailed(err)
			} else if last > 0 {
				db.acked.Store(last)
			}
		}
		db.wal.buf = db.wal.buf[:0]
		for _, g := range batch {
			answer(g.reqs, err)
			if db.observe != nil && err == nil && len(g.reqs) > 0 {
				db.observe(len(g.reqs), time.Since(g.start))
			}
			db.inflight.Done()
		}
	}
}

// begin opens the write transaction.
func (db *DB) begin() error {
	btx, err := db.bolt.Begin(true)
	if err != nil {
		return fmt.Errorf("bolt: begin: %w", err)
	}
	db.wtx = &tx{btx: btx, db: db}
	return nil
}

// rebuild takes a failed update function's changes out of the write transaction: it
// rolls the transaction back and applies again what the log holds since the last
// flush and what the group's successful functions did. Failing functions are rare; the
// alternative, recording how to undo every change, would cost every change a lookup.
func (db *DB) rebuild() {
	db.wtx.btx.Rollback()
	db.wtx = nil
	if err := db.begin(); err != nil {
		db.fail(err)
		return
	}
	for _, rec := range append(db.pending, db.record) {
		if err := replay(db.wtx.btx, rec); err != nil {
			db.fail(fmt.Errorf("rebuild the write transaction: %w", err))
			return
		}
	}
}

func answer(batch []*request, err error) {
	for _, r := range batch {
		r.err = err
		close(r.done)
	}
}

// flush commits the open write transaction to the B+tree file, with the seq of the
// last log record it holds, and starts the log over.
func (db *DB) flush() {
	if db.wtx == nil {
		return
	}
	db.inflight.Wait() // the log holds every record the transaction does
	if db.failure() != nil {
		db.fail(db.failure())
		return
	}
	btx := db.wtx.btx
	db.wtx = nil
	if db.dirtyAt.IsZero() { // nothing was written: nothing to make durable
		btx.Rollback()
		return
	}
	start := time.Now()
	err := putMeta(btx, keyWALSeq, u64(db.seq), SchemaVersion)
	if err == nil {
		err = putMeta(btx, keyIDMarks, encodeMarks(db.ids.load()), SchemaVersion)
	}
	if err != nil {
		btx.Rollback()
		db.fail(fmt.Errorf("flush: %w", err))
		return
	}
	if err := btx.Commit(); err != nil {
		db.fail(fmt.Errorf("flush: %w", err))
		return
	}
	db.wal.restart()
	db.logged, db.dirtyAt, db.pending = 0, time.Time{}, nil
	db.arena.reset()
	db.flushed.Store(db.seq)
	db.publishFlush()
	if db.onFlush != nil {
		db.onFlush(time.Since(start))
	}
}

// publishFlush wakes the readers waiting for a flush.
func (db *DB) publishFlush() {
	db.flushMu.Lock()
	close(db.flushedCh)
	db.flushedCh = make(chan struct{})
	db.flushMu.Unlock()
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
