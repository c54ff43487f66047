package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/radbridge/radbridge/store"
)

func resourceKey(typ, id string) []byte { return []byte(typ + "/" + id) }

// Resource implements store.ReadTx.
func (t *tx) Resource(typ, id string) (*store.Resource, error) {
	return getJSON[store.Resource](t.b(bResources), resourceKey(typ, id))
}

// ResourceVersion implements store.ReadTx.
func (t *tx) ResourceVersion(typ, id string, version int) (*store.Resource, error) {
	if version < 1 {
		return nil, store.ErrNotFound
	}
	return getJSON[store.Resource](t.b(bHistory), append(append(resourceKey(typ, id), 0), u64(uint64(version))...))
}

// Resources implements store.ReadTx.
func (t *tx) Resources(typ string, limit int) ([]*store.Resource, int, error) {
	b := t.b(bResources)
	prefix := []byte(typ + "/")
	keys := func(yield func([]byte) bool) {
		c := b.Cursor()
		end := append(bytes.Clone(prefix), 0xff)
		k, _ := c.Seek(end)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			if !yield(k) {
				return
			}
		}
	}
	return collectCounted[store.Resource](b, keys, store.ClampLimit(limit), nil)
}

// FindResources implements store.ReadTx.
func (t *tx) FindResources(typ, param, value string) ([]string, error) {
	prefix := []byte(typ + "\x00" + param + "\x00" + value + "\x00")
	var ids []string
	c := t.b(bResIndex).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, string(k[len(prefix):]))
	}
	return ids, nil
}

func resIndexKey(typ, param, value, id string) []byte {
	return []byte(typ + "\x00" + param + "\x00" + value + "\x00" + id)
}

// PutResource implements store.Tx.
func (t *tx) PutResource(r *store.Resource) error {
	if r.Type == "" || r.ID == "" {
		return errors.New("bolt: PutResource needs a type and an id")
	}
	cur, err := t.Resource(r.Type, r.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		r.Version = 1
	case err != nil:
		return err
	default:
		r.Version = cur.Version + 1
	}
	idx := t.b(bResIndex)
	if cur != nil {
		for param, values := range cur.Index {
			for _, v := range values {
				if err := idx.Delete(resIndexKey(r.Type, param, v, r.ID)); err != nil {
					return err
				}
			}
		}
	}
	for param, values := range r.Index {
		for _, v := range values {
			if v == "" || strings.ContainsRune(v, 0) {
				continue
			}
			if err := idx.Put(resIndexKey(r.Type, param, v, r.ID), nil); err != nil {
				return err
			}
		}
	}
	key := resourceKey(r.Type, r.ID)
	if err := putJSON(t.b(bHistory), append(append(bytes.Clone(key), 0), u64(uint64(r.Version))...), r); err != nil {
		return fmt.Errorf("bolt: resource history: %w", err)
	}
	return putJSON(t.b(bResources), key, r)
}
