package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bbolt "go.etcd.io/bbolt"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	// Problems are what is wrong: damage, or records and indexes that disagree. A
	// store with none is intact.
	Problems []string
	// Notes are what is worth knowing but not wrong: log records the next Open will
	// apply, an older schema it will upgrade.
	Notes []string

	fallback string
}

// Verify checks a data directory offline, the store closed: the B+tree file's whole
// structure and every value's checksum, what the indexes and counts say against the
// records, the write-ahead log (as Open would judge it), and the ids file. It reads
// everything and changes nothing. It is what `radbridge verify` runs; the error is for
// a directory it cannot check at all (no store, or one in use).
func Verify(cfg Config) (*VerifyReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	path := filepath.Join(cfg.Dir, FileName)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bolt: verify: no store in %s: %w", cfg.Dir, err)
	}
	defer f.Close()
	if ok, err := lockShared(f); err != nil || !ok {
		return nil, errors.Join(fmt.Errorf("bolt: verify: %s is in use by another process: stop it first", cfg.Dir), err)
	}
	defer unlock(f)
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("bolt: verify: %w", err)
	}
	rep := &VerifyReport{}
	var fallback string
	rep.Problems, fallback = checkFile(f, st.Size(), true)
	if len(rep.Problems) > 0 || st.Size() == 0 {
		return rep, nil
	}
	rep.fallback = fallback
	err = guard(path, func() error {
		b, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout(cfg), NoFreelistSync: true})
		if err != nil {
			return err
		}
		defer b.Close()
		return b.View(func(btx *bbolt.Tx) error { return rep.records(btx, cfg.Dir) })
	})
	if err != nil {
		rep.problem("%v", err)
	}
	return rep, nil
}

func (rep *VerifyReport) problem(format string, args ...any) {
	if len(rep.Problems) < maxProblems {
		rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
	}
}

// records checks what the file holds against itself, the log and the ids file.
func (rep *VerifyReport) records(btx *bbolt.Tx, dir string) error {
	for _, name := range allBuckets {
		if btx.Bucket(name) == nil {
			rep.problem("bucket %s is missing", name)
			return nil
		}
	}
	schema := fileSchema(btx)
	switch {
	case checkVersion(u64(schema)) != nil || schema == 0:
		rep.problem("schema version %d: %v", schema, checkVersion(u64(schema)))
		return nil
	case schema < SchemaVersion:
		rep.Notes = append(rep.Notes, fmt.Sprintf("schema %d: Open upgrades it to %d; the indexes are checked then", schema, SchemaVersion))
	default:
		rep.derived(btx)
	}
	rep.log(btx, dir, schema)
	rep.idsFile(btx, dir)
	return nil
}

// derived compares the indexes and counts with what rebuild would make of the records.
func (rep *VerifyReport) derived(btx *bbolt.Tx) {
	want := map[byte]map[string]string{}
	for _, id := range derivedBuckets {
		want[id] = map[string]string{}
	}
	t := &tx{btx: btx}
	msgs, orders := 0, 0
	each := func(id byte, fn func(key, v []byte)) {
		c := btx.Bucket(bucketNames[id]).Cursor()
		for k, stored := c.First(); k != nil; k, stored = c.Next() {
			v, err := unseal(id, k, stored)
			if err != nil {
				continue // checkFile reported it
			}
			fn(k, v)
		}
	}
	decode := func(id byte, k, v []byte, into any) bool {
		if err := json.Unmarshal(v, into); err != nil {
			rep.problem("bucket %s: the record under %x does not decode: %v", bucketNames[id], k, err)
			return false
		}
		return true
	}
	each(bMessages, func(k, v []byte) {
		var m store.Message
		if decode(bMessages, k, v, &m) {
			msgs++
			want[bMsgIndex][string(messageIndexKey(m.ControlID, m.Sender, m.Dedupe, m.Digest, k))] = string(k)
		}
	})
	each(bOrders, func(k, v []byte) {
		var o order.Order
		if decode(bOrders, k, v, &o) {
			orders++
			if key := o.Key(); key != "" {
				want[bOrderIndex][string(orderIndexKey(key))] = string(k)
			}
			if o.Status != "" {
				want[bOrderStatus][string(indexKey(string(o.Status), k))] = ""
			}
		}
	})
	each(bOutbox, func(k, v []byte) {
		var it store.OutboxItem
		if decode(bOutbox, k, v, &it) {
			want[bOutboxState][string(outboxStateKey(&it, k))] = ""
		}
	})
	resources := map[string]bool{}
	each(bResources, func(k, v []byte) {
		var r store.Resource
		if decode(bResources, k, v, &r) {
			resources[string(k)] = false
			for param, values := range r.Index {
				for _, value := range values {
					if value != "" && !bytes.ContainsRune([]byte(value), 0) {
						want[bResIndex][string(resIndexKey(r.Type, param, value, r.ID))] = ""
					}
				}
			}
		}
	})
	for _, id := range derivedBuckets {
		got := map[string]string{}
		each(id, func(k, v []byte) { got[string(k)] = string(v) })
		for k, v := range want[id] {
			if g, ok := got[k]; !ok {
				rep.problem("index %s lacks the entry %q of a record", bucketNames[id], k)
			} else if g != v {
				rep.problem("index %s: entry %q points at %x, not %x", bucketNames[id], k, g, v)
			}
		}
		for k := range got {
			if _, ok := want[id][k]; !ok {
				rep.problem("index %s: entry %q belongs to no record", bucketNames[id], k)
			}
		}
	}
	each(bResOrder, func(k, v []byte) {
		typ, _, _ := bytes.Cut(k, []byte{0})
		key := string(resourceKey(string(typ), string(v)))
		ranked, ok := resources[key]
		switch {
		case !ok:
			rep.problem("resource_order ranks %q, which is not stored", key)
		case ranked:
			rep.problem("resource_order ranks %q twice", key)
		}
		resources[key] = true
	})
	for key, ranked := range resources {
		if !ranked {
			rep.problem("resource %q has no rank in resource_order", key)
		}
	}
	for name, n := range map[string]int{string(keyMessageCount): msgs, string(keyOrderCount): orders} {
		if got, err := count(t.b(bMeta), []byte(name)); err != nil || got != n {
			rep.problem("meta %s is %d (%v); the records number %d", name, got, err, n)
		}
	}
	for k, id := range kindBuckets[:store.KindResource] {
		b := btx.Bucket(bucketNames[id])
		if last, _ := b.Cursor().Last(); len(last) == 8 && binary.BigEndian.Uint64(last) > b.Sequence() {
			rep.problem("bucket %s: record %d is past its sequence %d: %s IDs could repeat", bucketNames[id], binary.BigEndian.Uint64(last), b.Sequence(), store.Kind(k))
		}
	}
}

// log judges the write-ahead log as Open would.
func (rep *VerifyReport) log(btx *bbolt.Tx, dir string, schema uint64) {
	path := filepath.Join(dir, WALFileName)
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		rep.problem("write-ahead log: %v", err)
		return
	}
	var applied uint64
	if v, err := getMeta(btx, keyWALSeq, schema); err != nil {
		rep.problem("meta wal_seq: %v", err)
		return
	} else if len(v) == 8 {
		applied = binary.BigEndian.Uint64(v)
	}
	recs, err := planReplay(path, data, applied)
	if err != nil {
		rep.problem("%v", err)
		return
	}
	if rep.fallback != "" {
		if len(recs) == 0 {
			rep.problem("%s, and the write-ahead log does not hold its writes", rep.fallback)
		} else {
			rep.Notes = append(rep.Notes, rep.fallback+": a crash during a commit; the log holds its writes, which Open applies")
		}
	}
	if len(recs) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the write-ahead log holds %d records (%d-%d) the B+tree file lacks: Open applies them",
			len(recs), recs[0].seq, recs[len(recs)-1].seq))
	}
}

// idsFile checks that the ids file reads and is past every ID the B+tree holds.
func (rep *VerifyReport) idsFile(btx *bbolt.Tx, dir string) {
	data, err := os.ReadFile(filepath.Join(dir, IDsFileName))
	if errors.Is(err, os.ErrNotExist) || err == nil && len(data) == 0 {
		rep.Notes = append(rep.Notes, "no ids file: Open starts one from the B+tree's sequences")
		return
	}
	if err != nil {
		rep.problem("ids file: %v", err)
		return
	}
	_, marks, ok := readIDSlots(data[:min(len(data), 2*idSlotSize)])
	if !ok {
		rep.problem("ids file %s: %v", IDsFileName, errIDsFile)
		return
	}
	for k, id := range kindBuckets {
		if seq := btx.Bucket(bucketNames[id]).Sequence(); k < len(marks) && marks[k] < seq {
			rep.problem("ids file: the %s mark %d is below the B+tree's sequence %d", store.Kind(k), marks[k], seq)
		}
	}
}
