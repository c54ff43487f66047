package bolt

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/radbridge/radbridge/store"
)

// FuzzCheckFile: whatever the bytes, the file check reports problems or none; it never
// panics, never reads past the file, and never loops.
func FuzzCheckFile(f *testing.F) {
	dir := f.TempDir()
	db, err := Open(Config{Dir: dir, NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	err = db.Update(f.Context(), func(tx store.Tx) error {
		for i := range 30 {
			if err := tx.PutMessage(&store.Message{Sender: "S", ControlID: string(rune('a' + i)), Dedupe: true}, bytes.Repeat([]byte{'x'}, i*40)); err != nil {
				return err
			}
		}
		return tx.PutResource(&store.Resource{Type: "Patient", ID: "p", JSON: []byte(`{}`)})
	})
	if err != nil {
		f.Fatal(err)
	}
	db.Close()
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	data = data[:(len(bytes.TrimRight(data, "\x00"))+PageSize-1)/PageSize*PageSize]
	if p, _ := checkFile(bytes.NewReader(data), int64(len(data)), true); len(p) > 0 {
		f.Fatalf("the intact file: %v", p)
	}
	f.Add(data)
	f.Add(data[:2*PageSize])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, values := range []bool{false, true} {
			checkFile(bytes.NewReader(data), int64(len(data)), values)
		}
	})
}
