package bolt_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// maxReserved reserves n IDs of each kind from several goroutines, none of them used,
// and returns the largest number of each kind.
func maxReserved(t *testing.T, db *bolt.DB, n int) map[store.Kind]uint64 {
	t.Helper()
	var mu sync.Mutex
	most := map[store.Kind]uint64{}
	var wg sync.WaitGroup
	for _, k := range []store.Kind{store.KindMessage, store.KindOrder, store.KindOutbox, store.KindResource} {
		for range 4 {
			wg.Go(func() {
				for range n / 4 {
					id, err := db.ReserveID(t.Context(), k)
					if err != nil {
						t.Error(err)
						return
					}
					num, _ := store.ParseID(k, id)
					mu.Lock()
					most[k] = max(most[k], num)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return most
}

// After a crash, no kind's sequence hands out an ID reserved before it, used or not,
// also when the reservations crossed several marks.
func TestDB_Crash_IDsNeverGoBack(t *testing.T) {
	for _, n := range []int{40, 3 * bolt.IDChunk} {
		dir := t.TempDir()
		db := openUnflushed(t, dir)
		putMessages(t, db, "I", 10)
		most := maxReserved(t, db, n)
		if err := bolt.Crash(db); err != nil {
			t.Fatal(err)
		}
		db = openDB(t, dir)
		for k, m := range most {
			if got, _ := store.ParseID(k, reserve(t, db, k)); got <= m {
				t.Errorf("after %d reservations and a crash, ReserveID(%s) = %d, not past %d", n, k, got, m)
			}
		}
		db.Close()
	}
}

// A clean Close leaves no gap: the sequences resume at the next ID.
func TestDB_Close_ExactMarks(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	most := maxReserved(t, db, 40)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir)
	for k, m := range most {
		if got, want := reserve(t, db, k), store.FormatID(k, m+1); got != want {
			t.Errorf("after a clean Close, ReserveID(%s) = %s, want %s", k, got, want)
		}
	}
}

// Both slots of the ids file hold the latest marks: damage to one leaves the other,
// damage to both makes Open refuse (the sequences could go back) and point at recover.
func TestOpen_IDsFileDamaged(t *testing.T) {
	dir := t.TempDir()
	db := openUnflushed(t, dir)
	putMessages(t, db, "D", 3)
	most := maxReserved(t, db, 8)
	if err := bolt.Crash(db); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, bolt.IDsFileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, slot := range []int{0, 1} {
		d := append([]byte(nil), data...)
		if len(d) <= slot*512+20 {
			t.Fatalf("ids file of %d bytes: slot %d missing", len(d), slot)
		}
		d[slot*512+20] ^= 1
		if err := os.WriteFile(path, d, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := bolt.Open(bolt.Config{Dir: dir})
		if err != nil {
			t.Fatalf("Open with slot %d of the ids file damaged: %v", slot, err)
		}
		for k, m := range most {
			if got, _ := store.ParseID(k, reserve(t, db, k)); got <= m {
				t.Errorf("slot %d damaged: ReserveID(%s) = %d, not past %d", slot, k, got, m)
			}
		}
		if err := bolt.Crash(db); err != nil {
			t.Fatal(err)
		}
		if data, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	for i := range data {
		data[i] ^= 0x55
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = bolt.Open(bolt.Config{Dir: dir})
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "radbridge recover") {
		t.Errorf("Open with both slots damaged = %v, want ErrCorrupt pointing at recover", err)
	}
}

// A backup holds no ids file: the copy of the marks in the B+tree file keeps the
// restored store's sequences past what was handed out when it was taken.
func TestDB_Backup_KeepsMarks(t *testing.T) {
	db := openDB(t, t.TempDir())
	most := maxReserved(t, db, 40)
	putMessages(t, db, "B", 2) // a flush after the reservations carries their marks
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	restored := openDB(t, dir)
	for k, m := range most {
		if got, _ := store.ParseID(k, reserve(t, restored, k)); got <= m {
			t.Errorf("restored backup: ReserveID(%s) = %d, not past %d", k, got, m)
		}
	}
}
