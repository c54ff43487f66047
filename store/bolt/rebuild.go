package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// derivedBuckets hold nothing of their own: rebuild recomputes them from the records.
var derivedBuckets = []byte{bMsgIndex, bOrderIndex, bOrderStatus, bOutboxState, bResIndex}

// rebuild recomputes, in btx, everything derived from the records (messages, raw
// bytes, orders, outbox items, resource versions): the indexes, the counts, the
// creation order of resources and the ID sequences. Recovery runs it after applying log
// records that follow lost ones, whose index entries and counts were computed on top of
// the lost records' writes. What does not add up (a record that does not decode, two
// accepted messages with one key, a reference to a record that is gone) it reports in
// warn and leaves out of the indexes.
func rebuild(btx *bbolt.Tx, warn func(format string, args ...any)) error {
	for _, id := range derivedBuckets {
		if err := btx.DeleteBucket(bucketNames[id]); err != nil {
			return fmt.Errorf("rebuild %s: %w", bucketNames[id], err)
		}
		if _, err := btx.CreateBucket(bucketNames[id]); err != nil {
			return fmt.Errorf("rebuild %s: %w", bucketNames[id], err)
		}
	}
	t := &tx{btx: btx}
	orders, err := rebuildOrders(t, warn)
	if err != nil {
		return err
	}
	if err := rebuildMessages(t, orders, warn); err != nil {
		return err
	}
	if err := rebuildOutbox(t, orders, warn); err != nil {
		return err
	}
	return rebuildResources(t, warn)
}

// records calls fn with each record of a bucket keyed by ID number, decoded, and
// raises the bucket's sequence past the largest key.
func records[T any](t *tx, id byte, k store.Kind, warn func(string, ...any), fn func(key []byte, rec *T, recID string) error) error {
	b := t.b(id)
	var last uint64
	c := b.Bucket.Cursor() // every value is checked below: one that fails does not end the walk
	for key, stored := c.First(); key != nil; key, stored = c.Next() {
		if len(key) != 8 {
			warn("%s record key %x is not an ID number; it is left out of the indexes", k, key)
			continue
		}
		last = max(last, binary.BigEndian.Uint64(key))
		rec, err := decodeRecord[T](id, key, stored)
		if err != nil {
			warn("%s record %x does not read: %v; it is left out of the indexes", k, key, err)
			continue
		}
		if err := fn(key, rec, store.FormatID(k, binary.BigEndian.Uint64(key))); err != nil {
			return err
		}
	}
	if last > b.Sequence() {
		return b.SetSequence(last)
	}
	return nil
}

func rebuildOrders(t *tx, warn func(string, ...any)) (map[string]bool, error) {
	ids := map[string]bool{}
	n := 0
	err := records(t, bOrders, store.KindOrder, warn, func(key []byte, o *order.Order, id string) error {
		if o.ID != id {
			warn("order record %s holds order %q; it is left out of the indexes", id, o.ID)
			return nil
		}
		ids[id] = true
		n++
		if k := o.Key(); k != "" {
			ik := orderIndexKey(k)
			if cur := t.b(bOrderIndex).Get(ik); cur != nil {
				warn("orders %s and %s have one key %q: %s is found by ID only", store.FormatID(store.KindOrder, binary.BigEndian.Uint64(cur)), id, k, id)
			} else if err := t.b(bOrderIndex).Put(ik, key); err != nil {
				return err
			}
		}
		if o.Status == "" {
			return nil
		}
		return t.b(bOrderStatus).Put(indexKey(string(o.Status), key), nil)
	})
	if err != nil {
		return nil, err
	}
	return ids, t.b(bMeta).Put(keyOrderCount, u64(uint64(n)))
}

func rebuildMessages(t *tx, orders map[string]bool, warn func(string, ...any)) error {
	n, dangling := 0, 0
	err := records(t, bMessages, store.KindMessage, warn, func(key []byte, m *store.Message, id string) error {
		if m.ID != id {
			warn("message record %s holds message %q; it is left out of the indexes", id, m.ID)
			return nil
		}
		n++
		for _, o := range m.OrderIDs {
			if !orders[o] {
				dangling++
			}
		}
		ik := messageIndexKey(m.ControlID, m.Sender, m.Dedupe, m.Digest, key)
		if m.Dedupe && t.b(bMsgIndex).Get(ik) != nil {
			warn("message %s repeats an accepted message (sender %q, control ID %q): a resend is answered from the first", id, m.Sender, m.ControlID)
			return nil
		}
		return t.b(bMsgIndex).Put(ik, key)
	})
	if err != nil {
		return err
	}
	if dangling > 0 {
		warn("%d references from messages to orders that are gone (written by lost records)", dangling)
	}
	return t.b(bMeta).Put(keyMessageCount, u64(uint64(n)))
}

func rebuildOutbox(t *tx, orders map[string]bool, warn func(string, ...any)) error {
	dangling := 0
	err := records(t, bOutbox, store.KindOutbox, warn, func(key []byte, it *store.OutboxItem, id string) error {
		if it.ID != id {
			warn("outbox record %s holds item %q; it is left out of the indexes", id, it.ID)
			return nil
		}
		if it.OrderID != "" && !orders[it.OrderID] {
			dangling++
		}
		return t.b(bOutboxState).Put(outboxStateKey(it, key), nil)
	})
	if err == nil && dangling > 0 {
		warn("%d outbox items for orders that are gone (written by lost records); they are delivered as they are", dangling)
	}
	return err
}

// rebuildResources indexes the current versions, keeps the creation ranks of the
// resources that have one and ranks those that lost theirs (created by a lost record)
// after them, by the time of their earliest version kept.
func rebuildResources(t *tx, warn func(string, ...any)) error {
	ranked := map[string]bool{}
	ranks := t.b(bResOrder)
	var stale [][]byte
	c := ranks.Cursor()
	for k, id := c.First(); k != nil; k, id = c.Next() {
		typ, _, _ := bytes.Cut(k, []byte{0})
		key := string(resourceKey(string(typ), string(id)))
		if ranked[key] || t.b(bResources).Get([]byte(key)) == nil {
			stale = append(stale, bytes.Clone(k))
			continue
		}
		ranked[key] = true
	}
	for _, k := range stale {
		if err := ranks.Delete(k); err != nil {
			return err
		}
	}
	type unranked struct {
		typ, id string
		at      time.Time
	}
	var late []unranked
	var lastID uint64
	b := t.b(bResources)
	rc := b.Bucket.Cursor()
	for key, stored := rc.First(); key != nil; key, stored = rc.Next() {
		r, err := decodeRecord[store.Resource](bResources, key, stored)
		if err != nil {
			warn("resource %q does not read: %v; it is left out of the indexes", key, err)
			continue
		}
		if !bytes.Equal(resourceKey(r.Type, r.ID), key) {
			warn("resource record %q holds %s/%s; it is left out of the indexes", key, r.Type, r.ID)
			continue
		}
		for param, values := range r.Index {
			for _, v := range values {
				if v != "" && !bytes.ContainsRune([]byte(v), 0) {
					if err := t.b(bResIndex).Put(resIndexKey(r.Type, param, v, r.ID), nil); err != nil {
						return err
					}
				}
			}
		}
		if n, ok := store.ParseID(store.KindResource, r.ID); ok {
			lastID = max(lastID, n)
		}
		if !ranked[string(key)] {
			first := r.LastUpdated
			for v := 1; v < r.Version; v++ {
				if old, err := getJSON[store.Resource](t.b(bHistory), historyKey(key, uint64(v))); err == nil {
					first = old.LastUpdated
					break
				}
			}
			late = append(late, unranked{r.Type, r.ID, first})
		}
	}
	if lastID > b.Sequence() {
		if err := b.SetSequence(lastID); err != nil {
			return err
		}
	}
	slices.SortStableFunc(late, func(a, b unranked) int { return a.at.Compare(b.at) })
	for _, r := range late {
		rank := ranks.Sequence() + 1
		if err := ranks.SetSequence(rank); err != nil {
			return err
		}
		if err := ranks.Put(resOrderKey(r.typ, rank), []byte(r.id)); err != nil {
			return err
		}
	}
	return nil
}

// decodeRecord verifies a stored value and decodes its JSON.
func decodeRecord[T any](id byte, key, stored []byte) (*T, error) {
	v, err := unseal(id, key, stored)
	if err != nil {
		return nil, err
	}
	out := new(T)
	return out, json.Unmarshal(v, out)
}
