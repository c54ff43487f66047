//go:build unix

package bolt

import (
	"errors"
	"os"
	"syscall"
)

// lockShared takes a shared lock on f, as bbolt's exclusive one excludes, without
// waiting: false when another process holds the file.
func lockShared(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

func unlock(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
