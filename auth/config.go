package auth

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Config configures an Authenticator.
type Config struct {
	// Off turns authentication off: every declared route is served to anyone, as if
	// with every scope. The caller allows it only on a loopback listener. Default:
	// false (on).
	Off bool
	// Tokens are the static tokens, each known by its SHA-256.
	Tokens []Token
	// Clients are the clients of the token endpoint.
	Clients []Client
	// Issuer is this server as the issuer and audience of its access tokens, an
	// absolute http(s) URL without a path, query or fragment ("https://rb.example.org");
	// the token URL is Issuer + "/auth/token". Default: "", which derives it from each
	// request (https when the connection is TLS, then the Host header).
	Issuer string
	// Dir is the data directory: the server's signing key (token-signing.key) lives
	// there, and the admin token file (admin.token) unless a token of Tokens has
	// ScopeAPIAdmin. Both are created on first start with mode 0600. Required.
	Dir string
	// AllowOrigins are the browser origins (exact: scheme://host[:port]) that may call
	// from a web page: CORS answers go to them, and their state-changing requests are not
	// refused as cross-origin. Default: none, and no CORS header is ever sent.
	AllowOrigins []string
	// ResourceTypes are the FHIR resource types served, listed in the SMART
	// configuration's scopes_supported. Default: none.
	ResourceTypes []string
	// Refuse writes a refusal (401 or 403) of r with msg, in the dialect of the route.
	// Default: the engine API's JSON error, {"error": msg}.
	Refuse func(w http.ResponseWriter, r *http.Request, status int, msg string)
	// Log receives one record per refusal and the admin token file's path. Default:
	// discarded.
	Log *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Token is a static token from the configuration.
type Token struct {
	// Name names the token in logs and namespaces the FHIR orders made with it.
	Name string
	// SHA256 is the token's SHA-256, 64 hex digits; the token itself is never
	// configured.
	SHA256 string
	// Scopes are what the token grants.
	Scopes []string
}

// Client is a client of the token endpoint (SMART Backend Services).
type Client struct {
	// ID is the client id, the iss and sub of its assertions.
	ID string
	// JWKS is the client's JSON Web Key Set (RFC 7517), JSON: RSA keys of at least 2048
	// bits or P-384 EC keys, each with a kid; private members are ignored.
	JWKS []byte
	// Scopes are what the client may be granted.
	Scopes []string
}

// Validate reports the first invalid field. It is fast: it parses the key sets but
// reads no file.
func (c Config) Validate() error {
	if c.Dir == "" {
		return errors.New("auth: Config.Dir is required")
	}
	if c.Issuer != "" {
		u, err := url.Parse(c.Issuer)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("auth.issuer %q: want an absolute http(s) URL without a path, such as https://rb.example.org", c.Issuer)
		}
	}
	for i, o := range c.AllowOrigins {
		if err := checkOrigin(o); err != nil {
			return fmt.Errorf("http.cors.allow_origins[%d]: %w", i, err)
		}
	}
	var names []string
	name := func(kind string, i int, n string) error {
		if n == "" {
			return fmt.Errorf("auth.%s[%d]: a name is required", kind, i)
		}
		if slices.Contains(names, n) {
			return fmt.Errorf("auth.%s[%d]: %q names another token or client too", kind, i, n)
		}
		names = append(names, n)
		return nil
	}
	for i, t := range c.Tokens {
		if err := name("tokens", i, t.Name); err != nil {
			return err
		}
		if b, err := hex.DecodeString(t.SHA256); err != nil || len(b) != 32 {
			return fmt.Errorf("auth.tokens[%d] (%s): sha256 must be the token's SHA-256 in 64 hex digits", i, t.Name)
		}
		if err := checkScopes(t.Scopes); err != nil {
			return fmt.Errorf("auth.tokens[%d] (%s): %w", i, t.Name, err)
		}
	}
	for i, cl := range c.Clients {
		if err := name("clients", i, cl.ID); err != nil {
			return err
		}
		if _, err := parseJWKS(cl.JWKS); err != nil {
			return fmt.Errorf("auth.clients[%d] (%s): jwks: %w", i, cl.ID, err)
		}
		if err := checkScopes(cl.Scopes); err != nil {
			return fmt.Errorf("auth.clients[%d] (%s): %w", i, cl.ID, err)
		}
	}
	return nil
}

func checkScopes(list []string) error {
	if len(list) == 0 {
		return errors.New("scopes: at least one is required")
	}
	for _, s := range list {
		if err := CheckScope(s); err != nil {
			return err
		}
	}
	return nil
}

// hasAdminToken reports whether a configured token holds ScopeAPIAdmin.
func (c Config) hasAdminToken() bool {
	for _, t := range c.Tokens {
		if slices.Contains(t.Scopes, ScopeAPIAdmin) {
			return true
		}
	}
	return false
}
