package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/gorilla/mux"
)

// The paths of the token endpoint and SMART discovery.
const (
	tokenPath     = "/auth/token"
	discoveryPath = "/.well-known/smart-configuration"
)

// The OAuth parameters of a SMART Backend Services token request.
const (
	grantClientCredentials = "client_credentials"
	assertionTypeJWT       = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

const (
	// maxAssertionLifetime is how far ahead a client assertion's exp may be (SMART
	// Backend Services: no more than five minutes in the future).
	maxAssertionLifetime = 5 * time.Minute
	// clockLeeway is the clock difference tolerated between a client and this server.
	clockLeeway = 30 * time.Second
	// maxTokenRequest bounds a token request's body.
	maxTokenRequest = 64 << 10
)

// Routes registers the token endpoint (POST /auth/token) and the SMART configuration
// (GET /.well-known/smart-configuration) on r, both public.
func (a *Authenticator) Routes(r *mux.Router) {
	r.Handle(discoveryPath, Public(http.HandlerFunc(a.discovery))).Methods(http.MethodGet)
	r.Handle(tokenPath, Public(http.HandlerFunc(a.token))).Methods(http.MethodPost)
}

// discovery serves the SMART configuration
// (https://hl7.org/fhir/smart-app-launch/STU2.2/conformance.html).
func (a *Authenticator) discovery(w http.ResponseWriter, r *http.Request) {
	scopes := slices.Clone(radbridgeScopes)
	for _, typ := range append([]string{"*"}, a.cfg.ResourceTypes...) {
		scopes = append(scopes, "system/"+typ+".cruds", "system/"+typ+".rs", "system/"+typ+".read", "system/"+typ+".write")
	}
	writeOAuthJSON(w, http.StatusOK, map[string]any{
		"issuer":                                a.issuer(r),
		"token_endpoint":                        a.TokenURL(r),
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{string(jose.RS384), string(jose.ES384)},
		"grant_types_supported":                            []string{grantClientCredentials},
		"scopes_supported":                                 scopes,
		"capabilities":                                     []string{"client-confidential-asymmetric", "permission-v1", "permission-v2"},
	})
}

// oauthError is an error answer of the token endpoint (RFC 6749, section 5.2).
type oauthError struct {
	status      int
	code        string // invalid_request, invalid_client, unsupported_grant_type, invalid_scope
	description string
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

func invalidRequest(format string, args ...any) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", fmt.Sprintf(format, args...)}
}

// invalidClient is a failed client authentication. Every fault of a client assertion
// is one (RFC 7523, section 3.2; SMART asymmetric client authentication): the
// assertion authenticates the client, it is not a grant.
func invalidClient(format string, args ...any) *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", fmt.Sprintf(format, args...)}
}

// token serves POST /auth/token: client_credentials for a client authenticated by a
// signed JWT assertion, answered with an access token for the scopes requested that
// the client may have.
func (a *Authenticator) token(w http.ResponseWriter, r *http.Request) {
	now := a.now()
	c, claimed, scopes, e := a.grant(w, r, now)
	if e != nil {
		attrs := []slog.Attr{slog.Int("status", e.status), slog.String("route", tokenPath), slog.String("remote_addr", r.RemoteAddr),
			slog.String("error", e.code), slog.String("reason", e.description)}
		if claimed != "" {
			attrs = append(attrs, slog.String("client_id", claimed))
		}
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "token request refused", attrs...)
		writeOAuthJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
		return
	}
	tok, err := a.key.issue(a.issuer(r), c.id, scopes, now)
	if err != nil {
		a.log.ErrorContext(r.Context(), "signing an access token failed", slog.String("client_id", c.id), slog.String("err", err.Error()))
		writeOAuthJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	a.log.InfoContext(r.Context(), "access token issued", slog.String("client_id", c.id), slog.String("scope", scopes.String()))
	writeOAuthJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "bearer",
		"expires_in": int(AccessTokenLifetime / time.Second), "scope": scopes.String()})
}

// grant checks a token request and returns the client and the scopes to grant, or
// the refusal; claimed is the client id the assertion claims, for the log.
func (a *Authenticator) grant(w http.ResponseWriter, r *http.Request, now time.Time) (c *client, claimed string, scopes Scopes, e *oauthError) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	if err := r.ParseForm(); err != nil {
		return nil, "", Scopes{}, invalidRequest("the body must be application/x-www-form-urlencoded parameters")
	}
	f := r.PostForm
	switch gt := f.Get("grant_type"); gt {
	case grantClientCredentials:
	case "":
		return nil, "", Scopes{}, invalidRequest("grant_type is required")
	default:
		return nil, "", Scopes{}, &oauthError{http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is granted here"}
	}
	if f.Get("client_assertion_type") != assertionTypeJWT {
		return nil, "", Scopes{}, invalidClient("client_assertion_type must be %s", assertionTypeJWT)
	}
	c, claimed, err := a.verifyAssertion(f.Get("client_assertion"), a.TokenURL(r), now)
	if err != nil {
		return nil, claimed, Scopes{}, invalidClient("%v", err)
	}
	if id := f.Get("client_id"); id != "" && id != c.id {
		return nil, claimed, Scopes{}, invalidClient("client_id is not the assertion's issuer")
	}
	requested := f.Get("scope")
	if requested == "" {
		return nil, claimed, Scopes{}, invalidRequest("scope is required")
	}
	if scopes = c.scopes.Intersect(ParseScopes(requested)); len(scopes.list) == 0 {
		return nil, claimed, Scopes{}, &oauthError{http.StatusBadRequest, "invalid_scope", "none of the scopes requested is granted to this client"}
	}
	return c, claimed, scopes, nil
}

// verifyAssertion checks a client assertion JWT (SMART Backend Services, "Authenticating
// to the token endpoint"): signed RS384 or ES384 by the key of the client's JWKS its kid
// names; iss and sub the client id; aud tokenURL; exp present and at most five minutes
// ahead; iat and nbf, when present, not in the future; a jti never seen before within
// its validity. It returns the client, and the client id claimed even when the
// assertion fails, for the log.
func (a *Authenticator) verifyAssertion(assertion, tokenURL string, now time.Time) (*client, string, error) {
	if assertion == "" {
		return nil, "", errors.New("client_assertion is required")
	}
	tok, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.RS384, jose.ES384})
	if err != nil {
		return nil, "", errors.New("the assertion is not a JWT signed RS384 or ES384")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, "", errors.New("the assertion's claims cannot be read")
	}
	claimed := unverified.Issuer
	if len(claimed) > 128 {
		claimed = claimed[:128]
	}
	c, ok := a.clients[unverified.Issuer]
	if !ok {
		return nil, claimed, errors.New("unknown client")
	}
	h := tok.Headers[0]
	if h.KeyID == "" {
		return nil, claimed, errors.New("the assertion names no key (kid)")
	}
	keys := c.keys.Key(h.KeyID)
	if len(keys) == 0 {
		return nil, claimed, errors.New("no key of the client's JWKS has kid " + h.KeyID)
	}
	var cl jwt.Claims
	verified := false
	for _, k := range keys {
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		if tok.Claims(k.Key, &cl) == nil {
			verified = true
			break
		}
	}
	switch {
	case !verified:
		return nil, claimed, errors.New("bad signature")
	case cl.Issuer != c.id || cl.Subject != c.id:
		return nil, claimed, errors.New("iss and sub must both be the client id")
	case !cl.Audience.Contains(tokenURL):
		return nil, claimed, errors.New("aud must be the token URL, " + tokenURL)
	case cl.Expiry == nil:
		return nil, claimed, errors.New("exp is required")
	case now.Add(-clockLeeway).After(cl.Expiry.Time()):
		return nil, claimed, errors.New("the assertion has expired")
	case cl.Expiry.Time().After(now.Add(maxAssertionLifetime + clockLeeway)):
		return nil, claimed, errors.New("exp is more than five minutes ahead")
	case cl.IssuedAt != nil && cl.IssuedAt.Time().After(now.Add(clockLeeway)):
		return nil, claimed, errors.New("iat is in the future")
	case cl.NotBefore != nil && cl.NotBefore.Time().After(now.Add(clockLeeway)):
		return nil, claimed, errors.New("nbf is in the future")
	case cl.ID == "" || len(cl.ID) > 256:
		return nil, claimed, errors.New("jti is required (at most 256 characters)")
	}
	if err := a.replay.add(c.id+"\x00"+cl.ID, cl.Expiry.Time().Add(clockLeeway), now); err != nil {
		return nil, claimed, err
	}
	return c, claimed, nil
}

// writeOAuthJSON writes an OAuth answer, never to be cached (RFC 6749, section 5.1).
func writeOAuthJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
