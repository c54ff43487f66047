package fhir

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Defaults applied by NewHandler to zero Config fields.
const (
	// DefaultMaxBodyBytes is the request body limit when Config.MaxBodyBytes is zero.
	DefaultMaxBodyBytes = 4 << 20
	// DefaultCount is the search page size when Config.DefaultCount is zero.
	DefaultCount = 20
	// DefaultMaxCount is the largest search page when Config.MaxCount is zero.
	DefaultMaxCount = 100
)

// Config configures a Handler. The zero value is usable: every field has a default.
type Config struct {
	// BaseURL is the FHIR base as clients reach it, e.g. "https://rb.example.org/fhir".
	// It is used in Location headers, Bundle fullUrls, paging links and the
	// CapabilityStatement. It must be an absolute http(s) URL without query or
	// fragment. Default: "", which derives the base from each request (http or https
	// by whether the connection is TLS, the Host header, then "/fhir"); set it when
	// the server runs behind a proxy.
	BaseURL string
	// MaxBodyBytes caps a request body; larger bodies are answered 413.
	// Default: 4 MiB when zero. Negative is invalid.
	MaxBodyBytes int64
	// DefaultCount is the search page size when the request has no _count.
	// Default: 20 when zero.
	DefaultCount int
	// MaxCount is the largest page size; a larger _count is lowered to it.
	// Default: 100 when zero.
	MaxCount int
	// SoftwareVersion is reported in CapabilityStatement.software.version.
	// Default: "dev" when empty.
	SoftwareVersion string
	// Now is the clock, used for CapabilityStatement.date and Bundle timestamps.
	// Default: time.Now when nil.
	Now func() time.Time
}

// Validate reports the first invalid field. It does not apply defaults.
func (c Config) Validate() error {
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil {
			return fmt.Errorf("fhir config: BaseURL: %w", err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("fhir config: BaseURL must be an absolute http(s) URL without query or fragment")
		}
	}
	if c.MaxBodyBytes < 0 {
		return errors.New("fhir config: MaxBodyBytes must not be negative")
	}
	if c.DefaultCount < 0 {
		return errors.New("fhir config: DefaultCount must not be negative")
	}
	if c.MaxCount < 0 {
		return errors.New("fhir config: MaxCount must not be negative")
	}
	if c.DefaultCount > 0 && c.MaxCount > 0 && c.DefaultCount > c.MaxCount {
		return errors.New("fhir config: DefaultCount must not exceed MaxCount")
	}
	return nil
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxCount == 0 {
		c.MaxCount = DefaultMaxCount
	}
	if c.DefaultCount == 0 {
		c.DefaultCount = min(DefaultCount, c.MaxCount)
	}
	if c.SoftwareVersion == "" {
		c.SoftwareVersion = "dev"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
