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

// Put sets a key. The transaction outlives the caller's buffers (it is committed after
// the caller has its answer), so key and value are copied.
func (b *bucket) Put(k, v []byte) error {
	if b.t.redo == nil {
		return b.Bucket.Put(k, v)
	}
	kv := make([]byte, len(k)+len(v))
	copy(kv, k)
	copy(kv[len(k):], v)
	if err := b.Bucket.Put(kv[:len(k):len(k)], kv[len(k):]); err != nil {
		return err
	}
	*b.t.redo = appendPut(*b.t.redo, b.id, k, v)
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
