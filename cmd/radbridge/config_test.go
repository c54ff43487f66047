package main

import (
	"os"
	"path/filepath"
	"runtime"
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

func TestConfig_MLLPLimits(t *testing.T) {
	type limits struct {
		maxSize, conns, perAddr int
		idle, read              time.Duration
		budget                  int64
	}
	for _, tc := range []struct {
		name    string
		yaml    string
		want    limits
		wantErr string
	}{
		{name: "defaults", yaml: "data_dir: d\n",
			want: limits{16 << 20, 256, 32, 5 * time.Minute, 2 * time.Minute, 64 << 20}},
		{name: "set", yaml: "mllp: {max_message_size: 1048576, max_conns: 10, max_conns_per_addr: 2, idle_timeout: 90s, read_timeout: 10s, frame_budget: 2097152}\n",
			want: limits{1 << 20, 10, 2, 90 * time.Second, 10 * time.Second, 2 << 20}},
		{name: "budget follows the size cap", yaml: "mllp: {max_message_size: 1048576}\n",
			want: limits{1 << 20, 256, 32, 5 * time.Minute, 2 * time.Minute, 4 << 20}},
		{name: "negative means none", yaml: "mllp: {max_conns: -1, max_conns_per_addr: -1, idle_timeout: -1s, read_timeout: -1s, frame_budget: -1}\n",
			want: limits{16 << 20, -1, -1, -time.Second, -time.Second, -1}},
		{name: "budget below the size cap", yaml: "mllp: {frame_budget: 1048576}\n",
			wantErr: "mllp.frame_budget 1048576 is below mllp.max_message_size 16777216"},
		{name: "negative size", yaml: "mllp: {max_message_size: -1}\n", wantErr: "mllp.max_message_size and shutdown_grace must not be negative"},
		{name: "unknown key", yaml: "mllp: {max_con: 3}\n", wantErr: "field max_con not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "radbridge.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := loadConfig(path)
			if err == nil {
				c.defaults()
				err = c.validate()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.yaml, err)
			}
			m := c.MLLP
			if got := (limits{m.MaxMessageSize, m.MaxConns, m.MaxConnsPerAddr, m.IdleTimeout, m.ReadTimeout, m.FrameBudget}); got != tc.want {
				t.Errorf("%q: mllp limits %+v, want %+v", tc.yaml, got, tc.want)
			}
		})
	}
}

func TestConfig_HTTPLargeBodies(t *testing.T) {
	for _, tc := range []struct {
		name      string
		yaml      string
		threshold int64
		slots     int
		wantErr   string
	}{
		{name: "defaults", yaml: "data_dir: d\n", threshold: 1 << 20, slots: max(runtime.NumCPU()/2, 1)},
		{name: "set", yaml: "http: {large_body: 65536, max_concurrent_large_bodies: 8}\n", threshold: 64 << 10, slots: 8},
		{name: "no cap", yaml: "http: {max_concurrent_large_bodies: -1}\n", threshold: 1 << 20, slots: -1},
		{name: "negative threshold", yaml: "http: {large_body: -1}\n", wantErr: "http.large_body must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "radbridge.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := loadConfig(path)
			if err == nil {
				c.defaults()
				err = c.validate()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.yaml, err)
			}
			if c.HTTP.LargeBody != tc.threshold || c.HTTP.MaxConcurrentLargeBodies != tc.slots {
				t.Errorf("%q: large_body %d, max_concurrent_large_bodies %d; want %d, %d",
					tc.yaml, c.HTTP.LargeBody, c.HTTP.MaxConcurrentLargeBodies, tc.threshold, tc.slots)
			}
		})
	}
}

// max_orders_per_message reaches the engine: check, serve's offline twin, refuses a
// message with more orders than it allows.
func TestConfig_MaxOrdersPerMessage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "radbridge.yaml")
	if err := os.WriteFile(path, []byte("max_orders_per_message: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	msg := "MSH|^~\\&|EHR|HOSP_A|RB|IMG|20261122||ORM^O01|MX1|P|2.5.1\rPID|1||M1\r" +
		"ORC|NW|PX1\rOBR|1|PX1||70553^MRI^C4\rORC|NW|PX2\rOBR|2|PX2||70553^MRI^C4\r"
	file := filepath.Join(dir, "two.hl7")
	if err := os.WriteFile(file, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stdout, stderr := runCmd(t, "check", "--json", "--config", path, file)
	lines := decodeLines(t, stdout)
	if len(lines) != 1 || lines[0]["ack_code"] != "AR" || !strings.Contains(stdout, `"location":"ORC(2)"`) {
		t.Errorf("check with max_orders_per_message 1: %s %s, want AR at ORC(2)", stdout, stderr)
	}
	if err := os.WriteFile(path, []byte("max_orders_per_message: -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(path)
	if err == nil {
		c.defaults()
		err = c.validate()
	}
	if err == nil || !strings.Contains(err.Error(), "max_orders_per_message") {
		t.Errorf("max_orders_per_message -1: %v, want an error naming it", err)
	}
}
