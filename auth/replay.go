package auth

import (
	"errors"
	"sync"
	"time"
)

// maxReplayEntries bounds the assertions remembered at once. Each lives at most
// maxAssertionLifetime (plus the leeway), so the bound is a rate: some 30 token
// requests a second, over all clients, sustained for five minutes.
const maxReplayEntries = 10000

var (
	errReplayed   = errors.New("jti was used before")
	errReplayFull = errors.New("too many assertions in flight; retry in a minute")
)

// replayCache remembers the jti of each accepted assertion until the assertion
// expires, so that none is accepted twice. It holds at most max entries; when full of
// unexpired ones it refuses new assertions rather than forget one that could then be
// replayed. It is safe for concurrent use.
type replayCache struct {
	mu   sync.Mutex
	max  int
	seen map[string]time.Time // client id + NUL + jti -> expiry
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, seen: map[string]time.Time{}}
}

// add records key until exp; it fails if key is recorded and unexpired at now, or if
// the cache is full.
func (c *replayCache) add(key string, exp, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if until, ok := c.seen[key]; ok && !now.After(until) {
		return errReplayed
	}
	if len(c.seen) >= c.max {
		for k, until := range c.seen {
			if now.After(until) {
				delete(c.seen, k)
			}
		}
		if len(c.seen) >= c.max {
			return errReplayFull
		}
	}
	c.seen[key] = exp
	return nil
}
