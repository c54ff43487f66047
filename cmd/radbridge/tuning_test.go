package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

// serve adds two Ps for the store's blocking file system calls, unless the operator
// chose GOMAXPROCS.
func TestAddSyncProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(2)
	t.Setenv("GOMAXPROCS", "")
	addSyncProcs()
	if got := runtime.GOMAXPROCS(0); got != 2+syncProcs {
		t.Errorf("GOMAXPROCS unset: %d Ps, want %d", got, 2+syncProcs)
	}
	runtime.GOMAXPROCS(3)
	t.Setenv("GOMAXPROCS", "3")
	addSyncProcs()
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Errorf("GOMAXPROCS=3 set: %d Ps, want the operator's 3", got)
	}
}

// serve and bench collect garbage at GOGC=400 unless the operator chose GOGC.
func TestRelaxGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	relaxGC()
	if got := debug.SetGCPercent(100); got != 400 {
		t.Errorf("GOGC unset: GC percent %d, want 400", got)
	}
	t.Setenv("GOGC", "50")
	relaxGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC=50 set: GC percent changed to %d", got)
	}
}

// serve sets a soft memory limit unless the operator chose GOMEMLIMIT or none.
func TestLimitMemory(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	const unlimited = math.MaxInt64
	for _, tc := range []struct {
		env   string
		limit int64
		want  int64
	}{
		{env: "", limit: 512 << 20, want: 512 << 20},
		{env: "", limit: -1, want: unlimited},
		{env: "1GiB", limit: 512 << 20, want: unlimited}, // the environment's, which the runtime read at start
	} {
		debug.SetMemoryLimit(unlimited)
		t.Setenv("GOMEMLIMIT", tc.env)
		limitMemory(tc.limit)
		if got := debug.SetMemoryLimit(-1); got != tc.want {
			t.Errorf("GOMEMLIMIT=%q, limit %d: memory limit %d, want %d", tc.env, tc.limit, got, tc.want)
		}
	}
}
