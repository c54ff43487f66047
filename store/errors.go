package store

import "errors"

// ErrNotFound means the record asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict means a write would break a uniqueness rule: a second message with the same
// sender and control ID, or a second order with the same key.
var ErrConflict = errors.New("conflict")

// ErrClosed means the store has been closed.
var ErrClosed = errors.New("store closed")

// ErrCorrupt means a stored record cannot be read back: its bytes fail to decode or to
// verify.
var ErrCorrupt = errors.New("stored record is corrupt")
