package bolt

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	bbolt "go.etcd.io/bbolt"

	"github.com/radbridge/radbridge/store"
)

// Every value stored (schema 4) ends with a checksum of where it is and what it is:
//
//	value | crc32c(bucket number | uvarint(len(key)) | key | value)
//
// bbolt checks the structure of its pages but not the bytes of keys and values, so a
// byte flipped on the disk would otherwise read back as other data. Every read through
// a bucket verifies it and answers a mismatch with store.ErrCorrupt; a key that moved
// (a flipped byte in a key, or in the length that separates key and value) fails too.
// The meta bucket's schema version alone stays bare, so that any build can read it.
const sumSize = 4

// sealSum is the checksum of value v under key k in bucket id.
func sealSum(id byte, k, v []byte) uint32 {
	var sum uint32
	if int(id) < len(sealPrefix) && len(k) < len(sealPrefix[0]) {
		sum = sealPrefix[id][len(k)]
	} else {
		sum = crc32.Checksum(binary.AppendUvarint([]byte{id}, uint64(len(k))), crc32c)
	}
	return crc32.Update(crc32.Update(sum, crc32c, k), crc32c, v)
}

// sealPrefix holds the checksums of the bucket number and key length of the usual
// keys, shorter than 128 bytes, so that sealSum needs no buffer for them.
var sealPrefix = func() (t [len(bucketNames)][128]uint32) {
	for id := range t {
		for n := range t[id] {
			t[id][n] = crc32.Checksum([]byte{byte(id), byte(n)}, crc32c)
		}
	}
	return t
}()

// seal appends v and its checksum to dst.
func seal(dst []byte, id byte, k, v []byte) []byte {
	return binary.BigEndian.AppendUint32(append(dst, v...), sealSum(id, k, v))
}

// unseal returns the value of a stored one, or an error wrapping store.ErrCorrupt when
// its checksum does not match. A stored empty value comes back empty, not nil.
func unseal(id byte, k, stored []byte) ([]byte, error) {
	if len(stored) >= sumSize {
		v := stored[: len(stored)-sumSize : len(stored)-sumSize]
		if sealSum(id, k, v) == binary.BigEndian.Uint32(stored[len(v):]) {
			return v, nil
		}
	}
	return nil, &corruptError{bucket: id, key: k}
}

// corruptError is a stored value that fails its checksum.
type corruptError struct {
	bucket byte
	key    []byte
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("bolt: value of key %x in bucket %s fails its checksum (%v): the B+tree file is damaged; run `radbridge verify --data DIR`",
		e.key, bucketNames[e.bucket], store.ErrCorrupt)
}

func (e *corruptError) Unwrap() error { return store.ErrCorrupt }

// bucket is a bbolt bucket seen through a transaction of this package: values are
// sealed on the way in and verified on the way out. In the committer's write
// transaction every change is also recorded as a redo operation for the write-ahead
// log (tx.redo).
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
		return b.Bucket.Put(k, seal(make([]byte, 0, len(v)+sumSize), b.id, k, v))
	}
	mark := len(*redo)
	n := uint64(len(v) + sumSize)
	*redo = append(*redo, opPut, b.id)
	*redo = binary.AppendUvarint(*redo, uint64(len(k)))
	kAt := len(*redo)
	*redo = append(*redo, k...)
	*redo = binary.AppendUvarint(*redo, n)
	vAt := len(*redo)
	*redo = seal(*redo, b.id, k, v)
	rec := *redo
	if err := b.Bucket.Put(rec[kAt:kAt+len(k):kAt+len(k)], rec[vAt:len(rec):len(rec)]); err != nil {
		*redo = (*redo)[:mark]
		return err
	}
	return nil
}

// Get returns the value of a key, verified; nil when there is none. A value that fails
// its checksum reads as none, and the transaction records the failure (tx.bad), as the
// caller cannot see it: reads that must tell the two apart use get.
func (b *bucket) Get(k []byte) []byte {
	v, err := b.get(k)
	if err != nil {
		b.t.corrupt(err)
		return nil
	}
	return v
}

// get returns the value of a key, verified, nil when there is none, or the error of a
// value that fails its checksum (wrapping store.ErrCorrupt). The caller has the error in
// hand, so the transaction does not record it: an update that reads a damaged record,
// is told so and goes on without it (the engine quarantines the record) commits.
func (b *bucket) get(k []byte) ([]byte, error) {
	stored := b.Bucket.Get(k)
	if stored == nil {
		return nil, nil
	}
	return unseal(b.id, k, stored)
}

// Cursor returns a cursor over the bucket whose values are verified.
func (b *bucket) Cursor() *cursor { return &cursor{c: b.Bucket.Cursor(), b: b} }

// cursor is a bbolt cursor that verifies every value it passes. At a value that fails
// its checksum it stops, as at the end of the bucket, and the transaction records the
// failure: listings check tx.err once they are done.
type cursor struct {
	c *bbolt.Cursor
	b *bucket
}

func (c *cursor) First() ([]byte, []byte)        { return c.check(c.c.First()) }
func (c *cursor) Last() ([]byte, []byte)         { return c.check(c.c.Last()) }
func (c *cursor) Next() ([]byte, []byte)         { return c.check(c.c.Next()) }
func (c *cursor) Prev() ([]byte, []byte)         { return c.check(c.c.Prev()) }
func (c *cursor) Seek(k []byte) ([]byte, []byte) { return c.check(c.c.Seek(k)) }

func (c *cursor) check(k, stored []byte) ([]byte, []byte) {
	if k == nil {
		return nil, nil
	}
	v, err := unseal(c.b.id, k, stored)
	if err != nil {
		c.b.t.corrupt(err)
		return nil, nil
	}
	return k, v
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

// getMeta reads a meta value of a file of the given schema with a bare bbolt
// transaction (before the store's own exist): sealed from schema 4 on.
func getMeta(btx *bbolt.Tx, key []byte, schema uint64) ([]byte, error) {
	v := btx.Bucket(bucketNames[bMeta]).Get(key)
	if v == nil || schema < 4 || string(key) == string(keySchemaVersion) {
		return v, nil
	}
	return unseal(bMeta, key, v)
}

// putMeta writes a meta value as getMeta reads it.
func putMeta(btx *bbolt.Tx, key, v []byte, schema uint64) error {
	if schema >= 4 && string(key) != string(keySchemaVersion) {
		v = seal(nil, bMeta, key, v)
	}
	return btx.Bucket(bucketNames[bMeta]).Put(key, v)
}

// fileSchema is the schema version a file records (0 for a new one).
func fileSchema(btx *bbolt.Tx) uint64 {
	if v := btx.Bucket(bucketNames[bMeta]).Get(keySchemaVersion); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}
