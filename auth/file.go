package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// secretFile returns the contents of the secret file at path, creating it with generate's
// bytes (mode 0600) when it does not exist; created says which. A file that others
// than its owner may read or write is refused, as ssh refuses such a key. The file
// appears whole or not at all: it is written and synced under a temporary name first,
// then linked into place, which fails if another process was faster, whose file is
// then read.
func secretFile(path string, generate func() ([]byte, error)) (data []byte, created bool, err error) {
	data, err = readSecret(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return data, false, err
	}
	data, err = generate()
	if err != nil {
		return nil, false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, false, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, false, err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, false, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, false, err
	}
	if err := tmp.Close(); err != nil {
		return nil, false, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		data, err = readSecret(path)
		return data, false, err
	} else if err != nil {
		return nil, false, err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return data, true, nil
}

// readSecret reads a secret file that only its owner may read or write.
func readSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %04o, but it holds a secret: chmod 600 it", path, st.Mode().Perm())
	}
	data := make([]byte, min(st.Size(), 64<<10))
	n, err := f.ReadAt(data, 0)
	if err != nil && n < len(data) {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data[:n], nil
}
