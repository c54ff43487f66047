package bolt_test

import (
	"sync"
	"testing"
	"time"

	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
	"github.com/radbridge/radbridge/store/storetest"
)

// TestStoretest runs the conformance suite against the store as configured by default,
// and flushing after every group and never (so that reads find the writes in the open
// write transaction, or only in the B+tree file).
func TestStoretest(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flush time.Duration
	}{
		{"default", 0},
		{"flush every group", -1},
		{"flush on read only", time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Test(t, storetestBackend(bolt.Config{FlushInterval: tc.flush}))
		})
	}
}

// storetestBackend opens stores with cfg, each in a directory of its own.
func storetestBackend(cfg bolt.Config) storetest.Backend {
	var mu sync.Mutex
	dirs := map[store.Store]string{}
	open := func(t testing.TB, dir string) store.Store {
		t.Helper()
		c := cfg
		c.Dir = dir
		db, err := bolt.Open(c)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		dirs[db] = dir
		mu.Unlock()
		return db
	}
	return storetest.Backend{
		Open: func(t testing.TB) store.Store { return open(t, t.TempDir()) },
		Reopen: func(t testing.TB, st store.Store) store.Store {
			t.Helper()
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			dir := dirs[st]
			mu.Unlock()
			return open(t, dir)
		},
	}
}
