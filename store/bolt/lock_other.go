//go:build !unix

package bolt

import "os"

// lockShared is a no-op where flock is not available: bbolt's own lock still keeps a
// second process out, and the check before it may then read a file being written.
func lockShared(*os.File) (bool, error) { return true, nil }

func unlock(*os.File) {}
