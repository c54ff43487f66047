package bolt

import (
	"bytes"
	"slices"

	"github.com/radbridge/radbridge/store"
)

// OutboxItem implements store.ReadTx.
func (t *tx) OutboxItem(id string) (*store.OutboxItem, error) {
	k, err := parseKey(store.KindOutbox, id)
	if err != nil {
		return nil, store.ErrNotFound
	}
	return getJSON[store.OutboxItem](t.b(bOutbox), k)
}

// Outbox implements store.ReadTx: oldest first, so that a destination's items come in
// delivery order.
func (t *tx) Outbox(q store.OutboxQuery) ([]*store.OutboxItem, int, error) {
	limit := store.ClampLimit(q.Limit)
	items := t.b(bOutbox)
	if q.State == "" {
		keys := oldestFirst(items)
		match := func(it *store.OutboxItem) bool { return q.Destination == "" || it.Destination == q.Destination }
		return collectCounted[store.OutboxItem](items, keys, limit, match)
	}
	if q.Destination != "" {
		return collectCounted[store.OutboxItem](items, stateKeys(t.b(bOutboxState), q.State+"\x00"+q.Destination+"\x00"), limit, nil)
	}
	return collectCounted[store.OutboxItem](items, sortedStateKeys(t.b(bOutboxState), q.State+"\x00"), limit, nil)
}

// PutOutbox implements store.Tx.
func (t *tx) PutOutbox(it *store.OutboxItem) error {
	items := t.b(bOutbox)
	items.FillPercent = appendFill
	key, fresh, err := t.newKey(store.KindOutbox, items, &it.ID)
	if err != nil {
		return err
	}
	var prev *store.OutboxItem
	if !fresh {
		if prev, err = getJSON[store.OutboxItem](items, key); err != nil {
			return err
		}
	}
	idx := t.b(bOutboxState)
	if prev != nil {
		if err := idx.Delete(outboxStateKey(prev, key)); err != nil {
			return err
		}
	}
	if err := idx.Put(outboxStateKey(it, key), nil); err != nil {
		return err
	}
	return putJSON(items, key, it)
}

// outboxStateKey is state\x00destination\x00seq: items of one state and destination
// sort in delivery order.
func outboxStateKey(it *store.OutboxItem, key []byte) []byte {
	b := make([]byte, 0, len(it.State)+len(it.Destination)+2+len(key))
	b = append(append(b, it.State...), 0)
	b = append(append(b, it.Destination...), 0)
	return append(b, key...)
}

// oldestFirst yields every key of b in ascending order.
func oldestFirst(b *bucket) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if !yield(k) {
				return
			}
		}
	}
}

// stateKeys yields, oldest first, the record keys under an outbox_state prefix
// "state\x00destination\x00"; the record key is the last 8 bytes.
func stateKeys(idx *bucket, prefix string) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		p := []byte(prefix)
		c := idx.Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			if len(k) >= 8 && !yield(k[len(k)-8:]) {
				return
			}
		}
	}
}

// sortedStateKeys yields, oldest first, the record keys of every destination under an
// outbox_state prefix "state\x00", whose entries sort by destination first.
func sortedStateKeys(idx *bucket, prefix string) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		var keys [][]byte
		for k := range stateKeys(idx, prefix) {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, bytes.Compare)
		for _, k := range keys {
			if !yield(k) {
				return
			}
		}
	}
}
