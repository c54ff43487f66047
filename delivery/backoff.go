package delivery

import (
	"math"
	"time"
)

// wait returns how long to wait after the n-th failed attempt (n >= 1): Initial ×
// Multiplier^(n-1), capped at Max, spread by ±Jitter using r, a uniform random number
// in [0, 1), and capped at Max again. b must have its defaults applied.
func (b Backoff) wait(n int, r float64) time.Duration {
	d := float64(b.Initial) * math.Pow(b.Multiplier, float64(max(n, 1)-1))
	d = min(d, float64(b.Max)) // also tames +Inf from a huge n
	d *= 1 + b.Jitter*(2*r-1)
	return min(time.Duration(d), b.Max)
}
