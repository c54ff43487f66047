package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/rules"
)

// config is the YAML configuration of `radbridge serve`; every field is optional (see
// DESIGN.md, "Configuration").
type config struct {
	MLLP struct {
		// Addr is the MLLP listen address. Default: ":2575".
		Addr string `yaml:"addr"`
		// MaxMessageSize is the largest frame accepted, in bytes; a larger one is answered
		// AR. Default: 16 MiB.
		MaxMessageSize int `yaml:"max_message_size"`
		// MaxConns caps concurrent connections; one beyond it is closed at once and
		// counted in radbridge_mllp_connections_refused_total{cap="max_conns"}. Default:
		// 256, tens of times what a site's interfaces use, and a quarter of the common
		// 1,024-descriptor limit, which leaves the rest to HTTP, the store and outbound
		// delivery. Negative means no cap.
		MaxConns int `yaml:"max_conns"`
		// MaxConnsPerAddr caps concurrent connections from one IP address, so that one
		// host (a sender reconnecting without closing, or a scanner) cannot lock the
		// others out; refusals are counted with cap="max_conns_per_addr". Default: 32,
		// room for an integration engine that carries many feeds from one address, and
		// at most an eighth of max_conns. Negative means no cap.
		MaxConnsPerAddr int `yaml:"max_conns_per_addr"`
		// IdleTimeout closes a connection that waits this long for its next frame.
		// Default: 5m; negative means never.
		IdleTimeout time.Duration `yaml:"idle_timeout"`
		// ReadTimeout closes a connection that takes longer than this to send one frame,
		// from its first byte to its end. Default: 2m; negative means never.
		ReadTimeout time.Duration `yaml:"read_timeout"`
		// FrameBudget bounds the bytes that frames still being read hold, over all
		// connections, beyond the first 64 KiB of each (and each connection's 32 KiB
		// read buffer); a connection whose frame would exceed it is closed without an
		// ACK, and the sender resends later. Default: 4 x max_message_size (64 MiB);
		// negative means no bound; a positive value must be at least max_message_size.
		FrameBudget int64 `yaml:"frame_budget"`
		// TLS enables TLS (and mutual TLS when client_ca is set). Default: plain TCP.
		TLS struct {
			Cert     string `yaml:"cert"`
			Key      string `yaml:"key"`
			ClientCA string `yaml:"client_ca"`
		} `yaml:"tls"`
	} `yaml:"mllp"`
	HTTP struct {
		// Addr is the HTTP listen address. Default: ":8080".
		Addr string `yaml:"addr"`
		// BaseURL is the FHIR base as clients reach it (behind a proxy), used in
		// Location headers and links. Default: derived from each request.
		BaseURL string `yaml:"base_url"`
		// LargeBody is the request body size, in bytes, above which a request counts
		// against max_concurrent_large_bodies. Default: 1 MiB (a FHIR order is a few
		// KB; a large one carries attachments).
		LargeBody int64 `yaml:"large_body"`
		// MaxConcurrentLargeBodies caps the requests with a body over large_body served
		// at once; one beyond it is answered 503 with Retry-After before its body is
		// read. A large FHIR create is CPU-bound and allocates some 30 times its body
		// while it is validated, mapped and stored, so running many at once only adds
		// memory and starves the MLLP listener. Default: half the CPUs, at least 1;
		// negative means no cap.
		MaxConcurrentLargeBodies int `yaml:"max_concurrent_large_bodies"`
	} `yaml:"http"`
	// DataDir holds the database. Default: "./data".
	DataDir string `yaml:"data_dir"`
	// Store tunes the embedded store.
	Store struct {
		// FlushInterval is how long acknowledged writes may stay in the write-ahead log
		// alone before they are written to the B+tree file (a read flushes sooner).
		// Default: 250ms (bolt.DefaultFlushInterval).
		FlushInterval time.Duration `yaml:"flush_interval"`
	} `yaml:"store"`
	// ProcessingIDs lists the MSH-11 values accepted. Default: P, T, D.
	ProcessingIDs []string `yaml:"processing_ids"`
	// MemoryLimit is the Go runtime's soft memory limit for serve, in bytes; GOMEMLIMIT
	// wins when set. serve collects garbage at GOGC=400, which lets the heap reach five
	// times the live data between collections: harmless while the live data is small,
	// gigabytes once large messages are in flight. Past the limit the collector runs
	// sooner instead. Default: 512 MiB, twice the largest live heap measured under the
	// load the default caps admit (make soak); raise it with mllp.frame_budget or
	// http.max_concurrent_large_bodies. Negative means no limit.
	MemoryLimit int64 `yaml:"memory_limit"`
	// ShutdownGrace is how long shutdown waits for in-flight messages. Default: 30s.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// Log configures logging.
	Log struct {
		// Level is debug, info, warn or error. Default: info.
		Level string `yaml:"level"`
		// Format is text or json. Default: text.
		Format string `yaml:"format"`
	} `yaml:"log"`
	// PriorAuth holds the payer profiles and decision deadlines of the prior-authorization
	// checks. Default: the code table's defaults, 7 days standard, 72 h expedited.
	PriorAuth rules.Config `yaml:"prior_auth"`
	// Destinations are where results go back to the ordering provider.
	Destinations []destination `yaml:"destinations"`
	// CDSHooks configures the CDS Hooks service (GET /cds-services, POST
	// /cds-services/{id}). Default: no clients.
	CDSHooks cdsHooksConfig `yaml:"cds_hooks"`
}

// destination is one place results are delivered to.
type destination struct {
	Name  string `yaml:"name"`
	Match struct {
		SendingFacility string `yaml:"sending_facility"`
		FHIRSource      string `yaml:"fhir_source"`
	} `yaml:"match"`
	MLLP string `yaml:"mllp"`
	FHIR string `yaml:"fhir"`
}

// delivery turns the destinations into the engine's routes and the delivery worker's
// configuration.
func (c *config) delivery() ([]engine.Route, delivery.Config) {
	var routes []engine.Route
	var dc delivery.Config
	for _, d := range c.Destinations {
		kind := "hl7v2"
		if d.FHIR != "" {
			kind = "fhir"
		}
		routes = append(routes, engine.Route{Destination: d.Name, Kind: kind, SendingFacility: d.Match.SendingFacility, FHIRSource: d.Match.FHIRSource})
		dc.Destinations = append(dc.Destinations, delivery.Destination{Name: d.Name, MLLP: d.MLLP, FHIR: d.FHIR})
	}
	return routes, dc
}

// defaults fills what the file and flags left unset.
func (c *config) defaults() {
	if c.MLLP.Addr == "" {
		c.MLLP.Addr = ":2575"
	}
	if c.MLLP.MaxMessageSize == 0 {
		c.MLLP.MaxMessageSize = mllp.DefaultMaxMessageSize
	}
	if c.MLLP.MaxConns == 0 {
		c.MLLP.MaxConns = 256
	}
	if c.MLLP.MaxConnsPerAddr == 0 {
		c.MLLP.MaxConnsPerAddr = 32
	}
	if c.MLLP.IdleTimeout == 0 {
		c.MLLP.IdleTimeout = 5 * time.Minute
	}
	if c.MLLP.ReadTimeout == 0 {
		c.MLLP.ReadTimeout = 2 * time.Minute
	}
	if c.MLLP.FrameBudget == 0 {
		c.MLLP.FrameBudget = 4 * int64(c.MLLP.MaxMessageSize)
	}
	if c.HTTP.Addr == "" {
		c.HTTP.Addr = ":8080"
	}
	if c.HTTP.LargeBody == 0 {
		c.HTTP.LargeBody = 1 << 20
	}
	if c.HTTP.MaxConcurrentLargeBodies == 0 {
		c.HTTP.MaxConcurrentLargeBodies = max(runtime.NumCPU()/2, 1)
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.MemoryLimit == 0 {
		c.MemoryLimit = 512 << 20
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = 30 * time.Second
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
}

// validate names the first field that cannot work.
func (c *config) validate() error {
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		return fmt.Errorf("log.format %q: want text or json", c.Log.Format)
	}
	if (c.MLLP.TLS.Cert == "") != (c.MLLP.TLS.Key == "") {
		return errors.New("mllp.tls: cert and key go together")
	}
	if c.MLLP.TLS.ClientCA != "" && c.MLLP.TLS.Cert == "" {
		return errors.New("mllp.tls.client_ca needs mllp.tls.cert and key")
	}
	if c.MLLP.MaxMessageSize < 0 || c.ShutdownGrace < 0 {
		return errors.New("mllp.max_message_size and shutdown_grace must not be negative")
	}
	if c.MLLP.FrameBudget > 0 && c.MLLP.FrameBudget < int64(c.MLLP.MaxMessageSize) {
		return fmt.Errorf("mllp.frame_budget %d is below mllp.max_message_size %d: a message of the maximum size could never be read",
			c.MLLP.FrameBudget, c.MLLP.MaxMessageSize)
	}
	if c.HTTP.LargeBody < 0 {
		return errors.New("http.large_body must not be negative")
	}
	if c.Store.FlushInterval < 0 {
		return errors.New("store.flush_interval must not be negative")
	}
	if err := c.PriorAuth.Validate(); err != nil {
		return fmt.Errorf("prior_auth: %w", err)
	}
	if _, err := c.cdsHooks(); err != nil {
		return err
	}
	if _, dc := c.delivery(); len(dc.Destinations) > 0 {
		if err := dc.Validate(); err != nil {
			return err
		}
	}
	for i, d := range c.Destinations {
		switch {
		case d.Name == "":
			return fmt.Errorf("destinations[%d].name is required", i)
		case (d.MLLP == "") == (d.FHIR == ""):
			return fmt.Errorf("destinations[%d] (%s): set exactly one of mllp and fhir", i, d.Name)
		case d.Match.SendingFacility == "" && d.Match.FHIRSource == "":
			return fmt.Errorf("destinations[%d] (%s): match needs sending_facility or fhir_source", i, d.Name)
		}
	}
	return nil
}

// loadConfig reads a YAML file strictly: an unknown key is an error, not a silent no-op.
func loadConfig(path string) (*config, error) {
	c := new(config)
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
