package delivery

import (
	"testing"
	"time"
)

func TestBackoff_wait(t *testing.T) {
	b := Config{Backoff: Backoff{Initial: time.Second, Max: time.Minute, Jitter: 0.2}}.withDefaults().Backoff
	for _, tc := range []struct {
		name string
		n    int
		r    float64
		want time.Duration
	}{
		{name: "first", n: 1, r: 0.5, want: time.Second},
		{name: "second", n: 2, r: 0.5, want: 2 * time.Second},
		{name: "sixth", n: 6, r: 0.5, want: 32 * time.Second},
		{name: "capped", n: 7, r: 0.5, want: time.Minute},
		{name: "huge attempt count", n: 1 << 30, r: 0.5, want: time.Minute},
		{name: "jitter low", n: 2, r: 0, want: 1600 * time.Millisecond},
		{name: "jitter high", n: 2, r: 0.999999, want: 2399999 * time.Microsecond},
		{name: "jitter never exceeds the cap", n: 10, r: 0.999999, want: time.Minute},
		{name: "jitter below the cap", n: 10, r: 0, want: 48 * time.Second},
		{name: "zero attempts as one", n: 0, r: 0.5, want: time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := b.wait(tc.n, tc.r)
			if d := got - tc.want; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("wait(%d, %v) = %v, want %v", tc.n, tc.r, got, tc.want)
			}
		})
	}
	if got := (Config{Backoff: Backoff{Jitter: -1}}.withDefaults().Backoff.wait(1, 0)); got != defaultInitialBackoff {
		t.Errorf("wait without jitter = %v, want %v", got, defaultInitialBackoff)
	}
}
