package delivery

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"time"
)

// Defaults of the Config fields, as their comments state.
const (
	defaultInitialBackoff = time.Second
	defaultMaxBackoff     = 5 * time.Minute
	defaultMultiplier     = 2.0
	defaultJitter         = 0.2
	defaultMaxAttempts    = 20
	defaultRetryAfterCap  = 10 * time.Minute
	defaultPollInterval   = 30 * time.Second
	defaultTimeout        = 30 * time.Second
)

// Config configures a Worker. The zero value of every field but Destinations means
// its default; call Validate to check it.
type Config struct {
	// Destinations are where results are delivered. An item whose Destination names
	// none of them stays pending. Default: none (Run then only waits for ctx).
	Destinations []Destination

	// Backoff spaces the attempts of a failing item.
	Backoff Backoff

	// MaxAttempts is how many attempts an item gets before it becomes dead. Zero
	// means 20; negative is invalid.
	MaxAttempts int

	// RetryAfterCap caps how long a destination's Retry-After can make an item wait.
	// Zero means 10 minutes; negative is invalid.
	RetryAfterCap time.Duration

	// PollInterval is how often each destination's queue is read again even when
	// nothing calls Notify, a safety net; no wait between attempts is longer. Zero
	// means 30 seconds; negative is invalid.
	PollInterval time.Duration

	// Timeout bounds one attempt: connecting, sending, and reading the ACK or the
	// HTTP response. Zero means 30 seconds; negative is invalid.
	Timeout time.Duration
}

// Backoff is an exponential backoff with jitter and a cap: the wait after the n-th
// failed attempt is Initial × Multiplier^(n-1), at most Max, then spread by ±Jitter
// and capped at Max again.
type Backoff struct {
	// Initial is the wait after the first failed attempt. Zero means 1 second;
	// negative is invalid.
	Initial time.Duration
	// Max caps every wait. Zero means 5 minutes; negative, or less than Initial, is
	// invalid.
	Max time.Duration
	// Multiplier is the growth factor from one wait to the next. Zero means 2;
	// otherwise it must be at least 1.
	Multiplier float64
	// Jitter spreads each wait uniformly by up to this fraction either way, so that
	// the items of many destinations do not retry in lockstep. Zero means 0.2 (±20%);
	// negative means no jitter; 1 or more is invalid.
	Jitter float64
}

// Destination is one place results are delivered to. Set exactly one of MLLP and
// FHIR.
type Destination struct {
	// Name identifies the destination; outbox items name it in their Destination
	// field. Required and unique. It labels metrics and logs.
	Name string
	// MLLP is the host:port of an MLLP listener that takes ORU^R01 messages
	// ("hl7v2" items).
	MLLP string
	// FHIR is the base URL of a FHIR R4 server that takes DiagnosticReport POSTs
	// ("fhir" items), e.g. "https://ehr.example.org/fhir".
	FHIR string
	// TLS, when non-nil, is the client TLS configuration: MLLP over TLS, or the
	// trusted roots and client certificate for an https FHIR base (see TLSFiles).
	// Versions below TLS 1.2 are never used, and InsecureSkipVerify is invalid: the
	// destination's certificate is always verified. With FHIR it needs an https URL.
	// Default: nil, plain TCP for MLLP and the system roots for https.
	TLS *tls.Config
	// Hook, with FHIR, makes the destination an R4 rest-hook Subscription endpoint
	// (FHIR is then the channel endpoint). Default: nil, a FHIR server that takes
	// creates.
	Hook *Hook
}

// Validate reports the first field that cannot work, by name.
func (c Config) Validate() error {
	seen := make(map[string]bool, len(c.Destinations))
	for i, d := range c.Destinations {
		if err := d.validate(); err != nil {
			return fmt.Errorf("delivery: Config.Destinations[%d]%w", i, err)
		}
		if seen[d.Name] {
			return fmt.Errorf("delivery: Config.Destinations[%d].Name %q is used twice", i, d.Name)
		}
		seen[d.Name] = true
	}
	b := c.Backoff
	switch {
	case b.Initial < 0:
		return fmt.Errorf("delivery: Config.Backoff.Initial %v is negative", b.Initial)
	case b.Max < 0:
		return fmt.Errorf("delivery: Config.Backoff.Max %v is negative", b.Max)
	case b.Max != 0 && b.Max < or(b.Initial, defaultInitialBackoff):
		return fmt.Errorf("delivery: Config.Backoff.Max %v is less than Initial", b.Max)
	case b.Max == 0 && b.Initial > defaultMaxBackoff:
		return fmt.Errorf("delivery: Config.Backoff.Initial %v exceeds the default Max %v", b.Initial, defaultMaxBackoff)
	case b.Multiplier != 0 && !(b.Multiplier >= 1):
		return fmt.Errorf("delivery: Config.Backoff.Multiplier %v is less than 1", b.Multiplier)
	case !(b.Jitter < 1):
		return fmt.Errorf("delivery: Config.Backoff.Jitter %v is 1 or more", b.Jitter)
	case c.MaxAttempts < 0:
		return fmt.Errorf("delivery: Config.MaxAttempts %d is negative", c.MaxAttempts)
	case c.RetryAfterCap < 0:
		return fmt.Errorf("delivery: Config.RetryAfterCap %v is negative", c.RetryAfterCap)
	case c.PollInterval < 0:
		return fmt.Errorf("delivery: Config.PollInterval %v is negative", c.PollInterval)
	case c.Timeout < 0:
		return fmt.Errorf("delivery: Config.Timeout %v is negative", c.Timeout)
	}
	return nil
}

// validate checks one destination; its error starts with the field, as in
// ".MLLP: ...".
func (d Destination) validate() error {
	switch {
	case d.Name == "":
		return fmt.Errorf(".Name is empty")
	case (d.MLLP == "") == (d.FHIR == ""):
		return fmt.Errorf(" (%s): set exactly one of MLLP and FHIR", d.Name)
	case d.MLLP != "":
		host, port, err := net.SplitHostPort(d.MLLP)
		if err != nil || host == "" || port == "" {
			return fmt.Errorf(".MLLP %q (%s): want host:port", d.MLLP, d.Name)
		}
	default:
		u, err := url.Parse(d.FHIR)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf(".FHIR %q (%s): want an http or https base URL", d.FHIR, d.Name)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf(".FHIR %q (%s): a base URL has no query or fragment", d.FHIR, d.Name)
		}
		if d.TLS != nil && u.Scheme != "https" {
			return fmt.Errorf(".TLS (%s): TLS needs an https FHIR URL, not %s", d.Name, u.Scheme)
		}
	}
	if d.TLS != nil && d.TLS.InsecureSkipVerify {
		return fmt.Errorf(".TLS (%s): InsecureSkipVerify is not allowed: the destination's certificate must be verified", d.Name)
	}
	return nil
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	c.Backoff.Initial = or(c.Backoff.Initial, defaultInitialBackoff)
	c.Backoff.Max = or(c.Backoff.Max, defaultMaxBackoff)
	c.Backoff.Multiplier = or(c.Backoff.Multiplier, defaultMultiplier)
	switch {
	case c.Backoff.Jitter == 0:
		c.Backoff.Jitter = defaultJitter
	case c.Backoff.Jitter < 0:
		c.Backoff.Jitter = 0
	}
	c.MaxAttempts = or(c.MaxAttempts, defaultMaxAttempts)
	c.RetryAfterCap = or(c.RetryAfterCap, defaultRetryAfterCap)
	c.PollInterval = or(c.PollInterval, defaultPollInterval)
	c.Timeout = or(c.Timeout, defaultTimeout)
	return c
}

// or returns v, or def when v is zero.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
