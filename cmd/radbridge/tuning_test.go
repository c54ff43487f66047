package main

import (
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
