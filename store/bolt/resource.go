package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/radbridge/radbridge/store"
)

func resourceKey(typ, id string) []byte { return []byte(typ + "/" + id) }

// historyKey is the history key of one version of the resource under key.
func historyKey(key []byte, version uint64) []byte {
	b := make([]byte, 0, len(key)+9)
	return append(append(append(b, key...), 0), u64(version)...)
}

// resOrderKey is the resource_order key of the rank-th resource created (of any type):
// type\x00rank.
func resOrderKey(typ string, rank uint64) []byte {
	b := make([]byte, 0, len(typ)+9)
	return append(append(append(b, typ...), 0), u64(rank)...)
}

// Resource implements store.ReadTx.
func (t *tx) Resource(typ, id string) (*store.Resource, error) {
	return getJSON[store.Resource](t.b(bResources), resourceKey(typ, id))
}

// ResourceVersion implements store.ReadTx.
func (t *tx) ResourceVersion(typ, id string, version int) (*store.Resource, error) {
	if version < 1 {
		return nil, store.ErrNotFound
	}
	return getJSON[store.Resource](t.b(bHistory), historyKey(resourceKey(typ, id), uint64(version)))
}

// Resources implements store.ReadTx: newest first by creation, from resource_order.
func (t *tx) Resources(typ string, limit int) ([]*store.Resource, int, error) {
	if !validType(typ) {
		return []*store.Resource{}, 0, nil
	}
	ranks := t.b(bResOrder)
	prefix := append([]byte(typ), 0)
	keys := func(yield func([]byte) bool) {
		c := ranks.Cursor()
		// Every key of the type sorts before typ\x01.
		var k, id []byte
		if k, _ = c.Seek(append([]byte(typ), 1)); k == nil {
			k, id = c.Last()
		} else {
			k, id = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, id = c.Prev() {
			if !yield(resourceKey(typ, string(id))) {
				return
			}
		}
	}
	return collectCounted[store.Resource](t.b(bResources), keys, store.ClampLimit(limit), nil)
}

// FindResources implements store.ReadTx.
func (t *tx) FindResources(typ, param, value string) ([]string, error) {
	prefix := []byte(typ + "\x00" + param + "\x00" + value + "\x00")
	ids := []string{}
	c := t.b(bResIndex).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, string(k[len(prefix):]))
	}
	if t.bad != nil {
		return nil, t.bad
	}
	return ids, nil
}

func resIndexKey(typ, param, value, id string) []byte {
	return []byte(typ + "\x00" + param + "\x00" + value + "\x00" + id)
}

// validType reports whether typ can name resources: not empty, and without the bytes
// that separate the parts of their keys.
func validType(typ string) bool { return typ != "" && !strings.ContainsAny(typ, "/\x00") }

// PutResource implements store.Tx.
func (t *tx) PutResource(r *store.Resource) error {
	if !validType(r.Type) || r.ID == "" || strings.ContainsRune(r.ID, 0) {
		return fmt.Errorf("bolt: PutResource needs a type without / or NUL and an id without NUL, not %q, %q", r.Type, r.ID)
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
	} else if err := t.createResource(r); err != nil {
		return err
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
	if err := putJSON(t.b(bHistory), historyKey(key, uint64(r.Version)), r); err != nil {
		return fmt.Errorf("bolt: resource history: %w", err)
	}
	return putJSON(t.b(bResources), key, r)
}

// createResource ranks a new resource in resource_order and, when its id is one of the
// form store.KindResource IDs take (one the store handed out, or a client's PUT that
// looks like one), moves the kind's sequence past it, so that ReserveID never returns
// the id of a stored resource.
func (t *tx) createResource(r *store.Resource) error {
	ranks := t.b(bResOrder)
	rank := ranks.Sequence() + 1
	if err := ranks.SetSequence(rank); err != nil {
		return err
	}
	if err := ranks.Put(resOrderKey(r.Type, rank), []byte(r.ID)); err != nil {
		return err
	}
	n, ok := store.ParseID(store.KindResource, r.ID)
	if !ok {
		return nil
	}
	t.db.raise(store.KindResource, n)
	if b := t.b(bResources); n > b.Sequence() {
		return b.SetSequence(n)
	}
	return nil
}
