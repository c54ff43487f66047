package main

import (
	be "encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// crashImage writes n orders into a store, one Update each, and copies its files while
// it runs, as a crash would leave them: the acknowledged orders only in the log.
func crashImage(t *testing.T, n int) string {
	t.Helper()
	src := t.TempDir()
	db, err := bolt.Open(bolt.Config{Dir: src, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range n {
		o := &order.Order{Source: order.Source{Kind: order.SourceV2, SendingFacility: "F"}, Placer: fmt.Sprint("P", i), Status: order.StatusReceived}
		if err := db.Update(t.Context(), func(tx store.Tx) error { return tx.PutOrder(o) }); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	for _, name := range []string{bolt.FileName, bolt.WALFileName, bolt.IDsFileName} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRecoverCmd(t *testing.T) {
	dir := crashImage(t, 6)
	path := filepath.Join(dir, bolt.WALFileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Damage the payload of the third record (24-byte headers, the length below the
	// format bit).
	off := 0
	for range 2 {
		off += 24 + int(be.BigEndian.Uint32(data[off+4:off+8])&^(1<<31))
	}
	data[off+30] ^= 1
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "serve", "--data", dir, "--mllp-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	if code == 0 || !strings.Contains(stderr, "radbridge recover --data") {
		t.Errorf("serve on a damaged log: exit %d, stderr %q; want a failure naming recover", code, stderr)
	}
	code, stdout, stderr := runCmd(t, "recover", "--data", dir)
	if code != 0 || !strings.Contains(stdout, "lost: 1 records (3)") || !strings.Contains(stdout, "kept: 5 records (1-2, 4-6)") ||
		!strings.Contains(stdout, "the store opens") {
		t.Errorf("recover: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	db, err := bolt.Open(bolt.Config{Dir: dir})
	if err != nil {
		t.Fatalf("Open after recover: %v", err)
	}
	defer db.Close()
	if err := db.View(t.Context(), func(tx store.ReadTx) error {
		_, total, err := tx.Orders(store.OrderQuery{})
		if err == nil && total != 5 {
			t.Errorf("%d orders after recover, want 5", total)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func TestRecoverCmd_Usage(t *testing.T) {
	if code, _, _ := runCmd(t, "recover"); code != 2 {
		t.Errorf("recover without --data: exit %d, want 2", code)
	}
	if code, _, stderr := runCmd(t, "recover", "--data", filepath.Join(t.TempDir(), "none")); code != 1 || !strings.Contains(stderr, "no store") {
		t.Errorf("recover of an empty directory: exit %d, %q; want 1, no store", code, stderr)
	}
}

func TestVerifyCmd(t *testing.T) {
	dir := crashImage(t, 4)
	code, stdout, stderr := runCmd(t, "verify", "--data", dir)
	if code != 0 || !strings.Contains(stdout, "intact") || !strings.Contains(stdout, "note: the write-ahead log holds 4 records") {
		t.Errorf("verify of a crash image: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// A byte flipped in the first record's payload: the log lost an acknowledged record.
	path := filepath.Join(dir, bolt.WALFileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[40] ^= 1
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runCmd(t, "verify", "--data", dir)
	if code != 1 || !strings.Contains(stdout, "problem: bolt: write-ahead log") || !strings.Contains(stdout, "record 1 ") {
		t.Errorf("verify of a damaged log: exit %d\nstdout:\n%s", code, stdout)
	}
	if code, _, _ := runCmd(t, "verify"); code != 2 {
		t.Errorf("verify without --data: exit %d, want 2", code)
	}
}
