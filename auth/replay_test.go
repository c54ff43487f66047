package auth

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// The replay cache refuses a jti twice while it is valid, and refuses new ones when
// full of valid ones rather than forget any; expired ones make room.
func TestReplayCache(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	c := newReplayCache(3)
	for i := range 3 {
		if err := c.add(fmt.Sprint(i), now.Add(time.Duration(i+1)*time.Minute), now); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.add("1", now.Add(time.Minute), now); !errors.Is(err, errReplayed) {
		t.Errorf("replay = %v, want errReplayed", err)
	}
	if err := c.add("x", now.Add(time.Minute), now); !errors.Is(err, errReplayFull) {
		t.Errorf("add to a full cache = %v, want errReplayFull", err)
	}
	later := now.Add(90 * time.Second) // "0" has expired
	if err := c.add("x", later.Add(time.Minute), later); err != nil {
		t.Errorf("add once one expired = %v", err)
	}
	if len(c.seen) != 3 {
		t.Errorf("%d entries, want 3", len(c.seen))
	}
}
