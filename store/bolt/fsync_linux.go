package bolt

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data, and its size only when that changed.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
