package cdshooks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Client is a CDS client (an EHR) allowed to call the services: the issuer of its
// JWTs and the keys that sign them.
type Client struct {
	// Issuer is the JWT iss claim the client uses, matched exactly. Required, unique.
	Issuer string
	// JWKS is the client's JSON Web Key Set (RFC 7517) as JSON: its public keys (RSA,
	// EC or Ed25519; symmetric keys are refused). Required.
	JWKS []byte
}

// The JWT algorithms accepted: asymmetric signatures only, never none or HMAC (CDS Hooks
// 2.0 security: the service verifies the client's signature with its public key).
var algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

// Limits of the token check.
const (
	// leeway is the clock skew allowed on exp, iat and nbf.
	leeway = 30 * time.Second
	// maxLifetime is how far in the future exp may be: CDS Hooks asks clients for
	// tokens of at most five minutes.
	maxLifetime = 5 * time.Minute
	// defaultReplayCache bounds the jti replay cache (entries live until their exp).
	defaultReplayCache = 100_000
)

// Errors of the token check; each answers 401 (errReplayCacheFull 503).
var (
	errNoToken         = errors.New("no bearer token: sign the request with a JWT (CDS Hooks 2.0, Trusting CDS Clients)")
	errBadToken        = errors.New("the token is not a JWT signed with an asymmetric algorithm")
	errUnknownIssuer   = errors.New("the token's issuer is not an allowed client")
	errBadSignature    = errors.New("the token's signature does not verify with the issuer's keys")
	errClaims          = errors.New("the token's claims are not acceptable")
	errReplayed        = errors.New("the token was used before (jti)")
	errReplayCacheFull = errors.New("too many tokens in flight; try again later")
)

// keyring holds each client's public keys by issuer.
type keyring map[string]jose.JSONWebKeySet

func newKeyring(clients []Client) (keyring, error) {
	kr := keyring{}
	for i, c := range clients {
		if c.Issuer == "" {
			return nil, fmt.Errorf("cdshooks: clients[%d].iss is empty", i)
		}
		if _, dup := kr[c.Issuer]; dup {
			return nil, fmt.Errorf("cdshooks: clients[%d].iss %q is listed twice", i, c.Issuer)
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(c.JWKS, &set); err != nil {
			return nil, fmt.Errorf("cdshooks: clients[%d] (%s).jwks: %w", i, c.Issuer, err)
		}
		var pub jose.JSONWebKeySet
		for _, k := range set.Keys {
			p := k.Public()
			switch p.Key.(type) {
			case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
				pub.Keys = append(pub.Keys, p)
			default:
				return nil, fmt.Errorf("cdshooks: clients[%d] (%s).jwks: key %q is not an RSA, EC or Ed25519 key", i, c.Issuer, k.KeyID)
			}
		}
		if len(pub.Keys) == 0 {
			return nil, fmt.Errorf("cdshooks: clients[%d] (%s).jwks has no key", i, c.Issuer)
		}
		kr[c.Issuer] = pub
	}
	return kr, nil
}

// replayCache remembers the jti of every token accepted until the token expires.
type replayCache struct {
	mu   sync.Mutex
	seen map[string]time.Time // issuer|jti -> when it may be forgotten
	max  int
}

// add records key until forget; it reports errReplayed for a key it holds and
// errReplayCacheFull when it holds max live keys.
func (c *replayCache) add(key string, forget, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.seen[key]; ok && now.Before(t) {
		return errReplayed
	}
	if len(c.seen) >= c.max {
		for k, t := range c.seen {
			if !now.Before(t) {
				delete(c.seen, k)
			}
		}
		if len(c.seen) >= c.max {
			return errReplayCacheFull
		}
	}
	c.seen[key] = forget
	return nil
}

// verify checks the request's bearer JWT as CDS Hooks 2.0 asks: signed with an
// asymmetric algorithm by a key of an allowed issuer's JWKS (the kid header picks it),
// aud the service's URL, exp present and at most five minutes ahead, iat and nbf not in
// the future, and a jti not seen before. It reads only the header.
func (s *Service) verify(r *http.Request, aud string, now time.Time) (issuer string, err error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return "", errNoToken
	}
	tok, err := jwt.ParseSigned(strings.TrimSpace(raw), algorithms)
	if err != nil || len(tok.Headers) != 1 {
		return "", errBadToken
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return "", errBadToken
	}
	set, ok := s.keys[unverified.Issuer]
	if !ok {
		return "", errUnknownIssuer
	}
	keys := set.Keys
	if kid := tok.Headers[0].KeyID; kid != "" {
		keys = set.Key(kid)
	}
	var claims jwt.Claims
	verified := false
	for i := range keys {
		if tok.Claims(keys[i].Key, &claims) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return "", errBadSignature
	}
	switch {
	case claims.Expiry == nil:
		return "", fmt.Errorf("%w: no exp", errClaims)
	case claims.Expiry.Time().After(now.Add(maxLifetime + leeway)):
		return "", fmt.Errorf("%w: exp is more than five minutes ahead", errClaims)
	case claims.ID == "":
		return "", fmt.Errorf("%w: no jti", errClaims)
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: unverified.Issuer, AnyAudience: jwt.Audience{aud}, Time: now}, leeway); err != nil {
		return "", fmt.Errorf("%w: %w", errClaims, err)
	}
	if err := s.replay.add(claims.Issuer+"|"+claims.ID, claims.Expiry.Time().Add(leeway), now); err != nil {
		return "", err
	}
	return claims.Issuer, nil
}
