package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// AdminTokenFile is the name of the admin token file in the data directory.
const AdminTokenFile = "admin.token"

// AdminTokenName is the admin token's name, in logs and as the FHIR client of the
// orders made with it.
const AdminTokenName = "admin"

// Authenticator checks the bearer tokens of requests against the routes' declared
// needs, and serves the token endpoint that issues access tokens. It is safe for
// concurrent use.
type Authenticator struct {
	cfg     Config
	tokens  []staticToken
	clients map[string]*client
	key     *signingKey
	replay  *replayCache
	cop     *http.CrossOriginProtection
	log     *slog.Logger
	now     func() time.Time
	refuse  func(w http.ResponseWriter, r *http.Request, status int, msg string)
}

// staticToken is a token known by its hash.
type staticToken struct {
	name   string
	sum    []byte // SHA-256 of the token
	scopes Scopes
}

// client is a client of the token endpoint.
type client struct {
	id     string
	keys   *jose.JSONWebKeySet
	scopes Scopes
}

// New validates cfg and returns an Authenticator. It reads the server's signing key
// from cfg.Dir, creating it on first start, and, unless a configured token has
// ScopeAPIAdmin or authentication is off, the admin token file too (logging its path,
// never its value); only the admin token's hash is kept.
func New(cfg Config) (*Authenticator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Authenticator{cfg: cfg, clients: map[string]*client{}, replay: newReplayCache(maxReplayEntries),
		cop: http.NewCrossOriginProtection(), log: cfg.Log, now: cfg.Now, refuse: cfg.Refuse}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.refuse == nil {
		a.refuse = jsonRefusal
	}
	for _, o := range cfg.AllowOrigins {
		if err := a.cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	for _, t := range cfg.Tokens {
		sum, _ := hex.DecodeString(t.SHA256) // checked by Validate
		a.tokens = append(a.tokens, staticToken{name: t.Name, sum: sum, scopes: NewScopes(t.Scopes)})
	}
	for _, c := range cfg.Clients {
		keys, _ := parseJWKS(c.JWKS) // checked by Validate
		a.clients[c.ID] = &client{id: c.ID, keys: keys, scopes: NewScopes(c.Scopes)}
	}
	var err error
	if a.key, _, err = loadSigningKey(cfg.Dir); err != nil {
		return nil, fmt.Errorf("auth: signing key: %w", err)
	}
	if !cfg.Off && !cfg.hasAdminToken() {
		if err := a.loadAdminToken(); err != nil {
			return nil, fmt.Errorf("auth: admin token: %w", err)
		}
	}
	return a, nil
}

// loadAdminToken reads the admin token file, creating it with a random token of 256
// bits on first start, and keeps its hash as a token with every scope.
func (a *Authenticator) loadAdminToken() error {
	path := filepath.Join(a.cfg.Dir, AdminTokenFile)
	data, created, err := secretFile(path, func() ([]byte, error) {
		return []byte(newToken() + "\n"), nil
	})
	if err != nil {
		return err
	}
	tok := strings.TrimSpace(string(data))
	if len(tok) < 32 || strings.ContainsAny(tok, " \t\r\n") {
		return fmt.Errorf("%s must hold one token of at least 32 characters on one line", path)
	}
	sum := sha256.Sum256([]byte(tok))
	a.tokens = append(a.tokens, staticToken{name: AdminTokenName, sum: sum[:], scopes: NewScopes(AllScopes())})
	msg := "admin token file in use"
	if created {
		msg = "admin token file created"
	}
	a.log.Info(msg, slog.String("path", path))
	return nil
}

// newToken returns a random token: 256 bits in unpadded base64url.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Errors of authentication, as the WWW-Authenticate error_description tells them.
var (
	errNoToken  = errors.New("no bearer token")
	errBadToken = errors.New("the token is not valid here")
)

// authenticate returns the principal of r's bearer token. Cookies and query
// parameters are never read.
func (a *Authenticator) authenticate(r *http.Request) (*Principal, error) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 {
		return nil, errNoToken
	}
	scheme, tok, _ := strings.Cut(vals[0], " ")
	tok = strings.TrimSpace(tok)
	if len(vals) > 1 || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, errors.New(`want one "Authorization: Bearer <token>" header`)
	}
	sum := sha256.Sum256([]byte(tok))
	var found *staticToken
	for i := range a.tokens { // every one, so that the time taken says nothing
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].sum) == 1 {
			found = &a.tokens[i]
		}
	}
	if found != nil {
		return &Principal{Name: found.name, Scopes: found.scopes}, nil
	}
	if strings.Count(tok, ".") != 2 {
		return nil, errBadToken
	}
	id, scopes, err := a.key.verify(tok, a.issuer(r), a.now())
	if err != nil {
		return nil, err
	}
	c, ok := a.clients[id]
	if !ok {
		return nil, errors.New("the token's client is no longer registered")
	}
	// A client's scopes may have been narrowed since the token was issued.
	return &Principal{Name: id, Client: true, Scopes: c.scopes.Intersect(scopes)}, nil
}

// issuer is this server as issuer and audience of its tokens.
func (a *Authenticator) issuer(r *http.Request) string {
	if a.cfg.Issuer != "" {
		return strings.TrimSuffix(a.cfg.Issuer, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// TokenURL is the URL of the token endpoint as r reached this server: the audience
// client assertions must name.
func (a *Authenticator) TokenURL(r *http.Request) string {
	return a.issuer(r) + tokenPath
}

// jsonRefusal is the default refusal: the engine API's JSON error.
func jsonRefusal(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
