package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/radbridge/radbridge/auth"
	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/eligibility"
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
			// Cert is the PEM certificate (chain) the MLLP listener presents. Default:
			// none (plain TCP); set with key.
			Cert string `yaml:"cert"`
			// Key is the PEM private key of cert. Default: none.
			Key string `yaml:"key"`
			// ClientCA, when set, makes the listener require client certificates signed
			// by this PEM CA bundle (mutual TLS). Default: none (no client certificates).
			ClientCA string `yaml:"client_ca"`
		} `yaml:"tls"`
		// Senders, when set, says which connections may send as which sending facility
		// (see senderRule). Default: any connection, any facility.
		Senders []senderRule `yaml:"senders"`
	} `yaml:"mllp"`
	HTTP struct {
		// Addr is the HTTP listen address. Default: "127.0.0.1:8080", loopback only;
		// give a host or ":8080" to listen on other interfaces.
		Addr string `yaml:"addr"`
		// TLS serves HTTPS (TLS 1.2 or later) with the certificate chain and key in
		// these PEM files; with client_ca, clients must present a certificate that CA
		// issued. Default: plain HTTP.
		TLS struct {
			// Cert is the PEM certificate (chain) the HTTPS listener presents. Default:
			// none (plain HTTP); set with key.
			Cert string `yaml:"cert"`
			// Key is the PEM private key of cert. Default: none.
			Key string `yaml:"key"`
			// ClientCA, when set, makes the listener require client certificates signed
			// by this PEM CA bundle. Default: none (no client certificates).
			ClientCA string `yaml:"client_ca"`
		} `yaml:"tls"`
		// CORS lets web pages on other origins call the server.
		CORS struct {
			// AllowOrigins are the origins (exact: scheme://host[:port]) whose pages may
			// call: they get CORS answers, and their state-changing requests are not
			// refused as cross-origin. Default: none, and no CORS header is sent.
			AllowOrigins []string `yaml:"allow_origins"`
		} `yaml:"cors"`
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
	// Auth configures authentication (package auth; DESIGN.md, "Security").
	Auth struct {
		// Mode is on or off. Off serves every route to anyone and is accepted only on
		// a loopback http.addr. Default: on.
		Mode string `yaml:"mode"`
		// Issuer is this server's URL as the issuer and audience of its access tokens,
		// without a path ("https://rb.example.org"); client assertions name
		// Issuer + "/auth/token" as their audience. Default: http.base_url without its
		// path when set, otherwise the scheme and Host of each request.
		Issuer string `yaml:"issuer"`
		// Tokens are static bearer tokens, each by its SHA-256. When none has
		// radbridge/api.admin, serve creates <data_dir>/admin.token on first start.
		Tokens []authToken `yaml:"tokens"`
		// Clients are the SMART Backend Services clients of POST /auth/token.
		Clients []authClient `yaml:"clients"`
	} `yaml:"auth"`
	// DataDir holds the database, the token signing key and the admin token.
	// Default: "./data".
	DataDir string `yaml:"data_dir"`
	// Store tunes the embedded store.
	Store struct {
		// FlushInterval is how long acknowledged writes may stay in the write-ahead log
		// alone before they are written to the B+tree file (a read flushes sooner).
		// Default: 250ms (bolt.DefaultFlushInterval).
		FlushInterval time.Duration `yaml:"flush_interval"`
	} `yaml:"store"`
	// ProcessingIDs lists the MSH-11 values accepted (P production, T training, D
	// debugging); a message with another is answered AR with ERR 202 and not processed.
	// Default: [P], so that training and debugging messages stay out of a production
	// store; a test system sets e.g. [P, T].
	ProcessingIDs []string `yaml:"processing_ids"`
	// MaxOrdersPerMessage is the most orders one HL7 v2 message or FHIR transaction may
	// carry; one with more is refused whole (engine.Config.MaxOrdersPerMessage).
	// Default: 100.
	MaxOrdersPerMessage int `yaml:"max_orders_per_message"`
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
	// FHIR configures the FHIR API beyond the HTTP listener.
	FHIR struct {
		// Subscriptions says where R4 Subscriptions may send results (see
		// subscriptionsConfig). Default: nowhere; every Subscription is refused.
		Subscriptions subscriptionsConfig `yaml:"subscriptions"`
	} `yaml:"fhir"`
	// CDSHooks configures the CDS Hooks service (GET /cds-services, POST
	// /cds-services/{id}). Default: no clients.
	CDSHooks cdsHooksConfig `yaml:"cds_hooks"`
}

// destination is one place results are delivered to.
type destination struct {
	// Name names the destination in the outbox and the metrics. Required, unique.
	Name  string `yaml:"name"`
	Match struct {
		// SendingFacility takes the results of HL7 v2 orders whose MSH-4.1 is this value
		// (ignoring case). Default: none.
		SendingFacility string `yaml:"sending_facility"`
		// FHIRSource takes the results of FHIR orders whose ServiceRequest.meta.source
		// starts with this value. Default: none. One of the two is required.
		FHIRSource string `yaml:"fhir_source"`
	} `yaml:"match"`
	// MLLP is the HOST:PORT results go to as ORU^R01 over MLLP. Default: none; set
	// exactly one of mllp and fhir.
	MLLP string `yaml:"mllp"`
	// FHIR is the FHIR base URL results are POSTed to as DiagnosticReports. Default:
	// none.
	FHIR string `yaml:"fhir"`
	// TLS, when set, speaks TLS to the destination (see destinationTLS). Default: plain
	// TCP for mllp; the system roots and no client certificate for an https fhir URL.
	TLS *destinationTLS `yaml:"tls"`
}

// authToken is a static bearer token, known by its SHA-256 in hex.
type authToken struct {
	// Name names the token in logs and audit records (never its value). Required,
	// unique.
	Name string `yaml:"name"`
	// SHA256 is the token's SHA-256 in hex (sha256sum of the token without a newline).
	// Required.
	SHA256 string `yaml:"sha256"`
	// Scopes are what the token may do (e.g. radbridge/api.read, system/*.rs).
	// Required.
	Scopes []string `yaml:"scopes"`
}

// authClient is a client of the token endpoint: its key set inline (jwks, a mapping or
// a JSON string) or in a file (jwks_file), and the scopes it may be granted.
type authClient struct {
	// ID is the client_id: the iss and sub of its assertions. Required, unique.
	ID string `yaml:"id"`
	// JWKS is the client's public key set (RS384 or ES384 keys, each with a kid), as
	// a mapping or JSON text. Default: none; set this or jwks_file.
	JWKS jwksValue `yaml:"jwks"`
	// JWKSFile is a file holding the client's key set as JSON. Default: none.
	JWKSFile string `yaml:"jwks_file"`
	// Scopes are the most the client may be granted; a token request gets the
	// intersection with what it asks. Required.
	Scopes []string `yaml:"scopes"`
}

// jwksValue is a JSON Web Key Set written in the YAML file, as JSON text.
type jwksValue []byte

// UnmarshalYAML takes a JSON string or a YAML mapping.
func (j *jwksValue) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*j = []byte(n.Value)
		return nil
	}
	var v map[string]any
	if err := n.Decode(&v); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	*j = b
	return err
}

// authConfig is the configuration of the auth package: the key sets read from their
// files, the issuer derived from http.base_url when unset.
func (c *config) authConfig() (auth.Config, error) {
	ac := auth.Config{Off: c.Auth.Mode == "off", Issuer: c.Auth.Issuer, Dir: c.DataDir, AllowOrigins: c.HTTP.CORS.AllowOrigins}
	if ac.Issuer == "" && c.HTTP.BaseURL != "" {
		if u, err := url.Parse(c.HTTP.BaseURL); err == nil {
			ac.Issuer = u.Scheme + "://" + u.Host
		}
	}
	for _, t := range c.Auth.Tokens {
		ac.Tokens = append(ac.Tokens, auth.Token{Name: t.Name, SHA256: t.SHA256, Scopes: t.Scopes})
	}
	for i, cl := range c.Auth.Clients {
		jwks := []byte(cl.JWKS)
		switch {
		case (len(jwks) == 0) == (cl.JWKSFile == ""):
			return ac, fmt.Errorf("auth.clients[%d] (%s): set exactly one of jwks and jwks_file", i, cl.ID)
		case cl.JWKSFile != "":
			var err error
			if jwks, err = os.ReadFile(cl.JWKSFile); err != nil {
				return ac, fmt.Errorf("auth.clients[%d] (%s): jwks_file: %w", i, cl.ID, err)
			}
		}
		ac.Clients = append(ac.Clients, auth.Client{ID: cl.ID, JWKS: jwks, Scopes: cl.Scopes})
	}
	return ac, ac.Validate()
}

// loopback reports whether the listen address addr takes connections from this host
// only: 127.0.0.0/8, ::1 or localhost.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checker builds the prior-authorization checker serve, check and preauth share: the
// prior_auth configuration, with the eligibility client for payer profiles that name
// an eligibility service.
func (c *config) checker() (*rules.Checker, error) {
	var deps rules.Deps
	for _, p := range c.PriorAuth.Payers {
		if p.Eligibility.URL != "" {
			client, err := eligibility.New(eligibility.Config{}, nil)
			if err != nil {
				return nil, err
			}
			deps.Eligibility = client
			break
		}
	}
	ch, err := rules.NewWith(c.PriorAuth, deps)
	if err != nil {
		return nil, fmt.Errorf("prior_auth: %w", err)
	}
	return ch, nil
}

// delivery turns the destinations into the engine's routes and the delivery worker's
// configuration, reading their TLS files.
func (c *config) delivery() ([]engine.Route, delivery.Config, error) {
	var routes []engine.Route
	var dc delivery.Config
	for _, d := range c.Destinations {
		kind := "hl7v2"
		if d.FHIR != "" {
			kind = "fhir"
		}
		routes = append(routes, engine.Route{Destination: d.Name, Kind: kind, SendingFacility: d.Match.SendingFacility, FHIRSource: d.Match.FHIRSource})
		tc, err := d.TLS.config()
		if err != nil {
			return nil, delivery.Config{}, fmt.Errorf("destinations[%d] (%s).tls: %w", len(routes)-1, d.Name, err)
		}
		dc.Destinations = append(dc.Destinations, delivery.Destination{Name: d.Name, MLLP: d.MLLP, FHIR: d.FHIR, TLS: tc})
	}
	return routes, dc, nil
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
		c.HTTP.Addr = "127.0.0.1:8080"
	}
	if c.Auth.Mode == "" {
		c.Auth.Mode = "on"
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
	if c.MaxOrdersPerMessage < 0 {
		return errors.New("max_orders_per_message must not be negative")
	}
	if c.MLLP.FrameBudget > 0 && c.MLLP.FrameBudget < int64(c.MLLP.MaxMessageSize) {
		return fmt.Errorf("mllp.frame_budget %d is below mllp.max_message_size %d: a message of the maximum size could never be read",
			c.MLLP.FrameBudget, c.MLLP.MaxMessageSize)
	}
	if (c.HTTP.TLS.Cert == "") != (c.HTTP.TLS.Key == "") {
		return errors.New("http.tls: cert and key go together")
	}
	if c.HTTP.TLS.ClientCA != "" && c.HTTP.TLS.Cert == "" {
		return errors.New("http.tls.client_ca needs http.tls.cert and key")
	}
	switch c.Auth.Mode {
	case "on":
	case "off":
		if !loopback(c.HTTP.Addr) {
			return fmt.Errorf("auth.mode off needs a loopback http.addr (127.0.0.1, ::1 or localhost), not %q: "+
				"without authentication anyone who reaches the port reads patient data", c.HTTP.Addr)
		}
	default:
		return fmt.Errorf("auth.mode %q: want on or off", c.Auth.Mode)
	}
	if _, err := c.authConfig(); err != nil {
		return err
	}
	if c.HTTP.LargeBody < 0 {
		return errors.New("http.large_body must not be negative")
	}
	if c.Store.FlushInterval < 0 {
		return errors.New("store.flush_interval must not be negative")
	}
	if err := c.validateSecurity(); err != nil {
		return err
	}
	if err := c.PriorAuth.Validate(); err != nil {
		return fmt.Errorf("prior_auth: %w", err)
	}
	if _, err := c.cdsHooks(); err != nil {
		return err
	}
	if _, dc, err := c.delivery(); err != nil {
		return err
	} else if len(dc.Destinations) > 0 {
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
