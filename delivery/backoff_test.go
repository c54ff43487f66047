package delivery

import (
	"net/http"
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

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{in: "", wantOK: false},
		{in: "120", want: 2 * time.Minute, wantOK: true},
		{in: " 0 ", want: 0, wantOK: true},
		{in: "99999999999999999999", want: time.Duration(1<<63-1) / time.Second * time.Second, wantOK: true},
		{in: "-5", wantOK: false},
		{in: "1.5", wantOK: false},
		{in: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second, wantOK: true},
		{in: "Tuesday, 01-Jan-30 12:01:00 GMT", want: time.Minute, wantOK: true}, // RFC 850, obsolete but allowed
		{in: now.Add(-time.Hour).Format(http.TimeFormat), want: 0, wantOK: true},
		{in: "tomorrow", wantOK: false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}
