package bolt

import (
	bbolt "go.etcd.io/bbolt"
)

// bucket is a bbolt bucket seen through a transaction of this package. In the
// committer's write transaction every change is also recorded as a redo operation for
// the write-ahead log (tx.redo).
type bucket struct {
	*bbolt.Bucket
	id byte // index in allBuckets, as the log names it
	t  *tx
}

// Put sets a key. The transaction outlives the caller's buffers (it is flushed after
// the caller has its answer), so bbolt gets key and value as copied into the log
// record. Those bytes never change afterwards: a record buffer is only appended to
// (growing it leaves the old bytes where bbolt points), and is not reused before the
// transaction that points into it is committed or dropped.
func (b *bucket) Put(k, v []byte) error {
	redo := b.t.redo
	if redo == nil {
		return b.Bucket.Put(k, v)
	}
	mark := len(*redo)
	*redo = appendPut(*redo, b.id, k, v)
	rec := (*redo)[mark:]
	n := len(rec) - len(v)
	key := rec[n-len(k)-uvarintLen(uint64(len(v))) : n-uvarintLen(uint64(len(v)))]
	if err := b.Bucket.Put(key[:len(k):len(k)], rec[n:]); err != nil {
		*redo = (*redo)[:mark]
		return err
	}
	return nil
}

// Delete removes a key.
func (b *bucket) Delete(k []byte) error {
	if b.t.redo == nil {
		return b.Bucket.Delete(k)
	}
	if err := b.Bucket.Delete(k); err != nil {
		return err
	}
	*b.t.redo = appendDelete(*b.t.redo, b.id, k)
	return nil
}

// SetSequence sets the bucket's sequence.
func (b *bucket) SetSequence(n uint64) error {
	if b.t.redo == nil {
		return b.Bucket.SetSequence(n)
	}
	if err := b.Bucket.SetSequence(n); err != nil {
		return err
	}
	*b.t.redo = appendSeq(*b.t.redo, b.id, n)
	return nil
}
