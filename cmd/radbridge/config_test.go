package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfig_StoreFlushInterval(t *testing.T) {
	for _, tc := range []struct {
		yaml    string
		want    time.Duration
		wantErr string
	}{
		{"data_dir: d\n", 0, ""}, // the store's default
		{"store:\n  flush_interval: 5ms\n", 5 * time.Millisecond, ""},
		{"store:\n  flush_interval: -1s\n", 0, "store.flush_interval must not be negative"},
		{"store:\n  flush_intervall: 5ms\n", 0, "field flush_intervall not found"},
	} {
		path := filepath.Join(t.TempDir(), "radbridge.yaml")
		if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(path)
		if err == nil {
			c.defaults()
			err = c.validate()
		}
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.yaml, err)
		case c.Store.FlushInterval != tc.want:
			t.Errorf("%q: flush interval %v, want %v", tc.yaml, c.Store.FlushInterval, tc.want)
		}
	}
}
