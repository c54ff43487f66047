package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/radbridge/radbridge/auth"
)

// clientKeys are a SMART client's keys, made once for the package's tests (an RSA key
// takes a while under the race detector).
type clientKeys struct {
	ec  *ecdsa.PrivateKey
	rsa *rsa.PrivateKey
}

var testKeys = sync.OnceValue(func() clientKeys {
	ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		panic(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return clientKeys{ec: ec, rsa: rk}
})

// jwks is the public key set of k: the EC key as kid "ec-1", the RSA key as "rsa-1".
func (k clientKeys) jwks(t testing.TB) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &k.ec.PublicKey, KeyID: "ec-1", Algorithm: string(jose.ES384), Use: "sig"},
		{Key: &k.rsa.PublicKey, KeyID: "rsa-1"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign makes a client assertion signed by key with alg, naming kid.
func sign(t testing.TB, key any, alg jose.SignatureAlgorithm, kid string, claims any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// claims are a good assertion's claims for client at aud, at now.
func claims(client, aud string, now time.Time) map[string]any {
	return map[string]any{"iss": client, "sub": client, "aud": aud, "exp": now.Add(4 * time.Minute).Unix(),
		"iat": now.Unix(), "jti": rand.Text()}
}

// tokenRequest posts a client_credentials request with assertion and scope.
func (s *testServer) tokenRequest(t testing.TB, assertion, scope string, extra ...string) reply {
	t.Helper()
	f := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion": {assertion}, "scope": {scope}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return s.do(t, "POST", "/auth/token", f.Encode(), "Content-Type", "application/x-www-form-urlencoded")
}

// tokenAnswer is the token endpoint's answer.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func smartServer(t testing.TB, clk *clock) (*testServer, clientKeys) {
	t.Helper()
	keys := testKeys()
	cfg := auth.Config{Clients: []auth.Client{{ID: "app-1", JWKS: keys.jwks(t),
		Scopes: []string{"system/ServiceRequest.cruds", "system/Task.rs", auth.ScopeAPIRead}}}}
	if clk != nil {
		cfg.Now = clk.Now
	}
	return newTestServer(t, cfg), keys
}

// TestToken_ClientCredentials: an ES384 and an RS384 assertion each get a bearer
// access token of at most 300 s for the scopes requested that the client may have,
// which then passes the middleware.
func TestToken_ClientCredentials(t *testing.T) {
	s, keys := smartServer(t, nil)
	aud := s.URL + "/auth/token"
	for _, tc := range []struct {
		name string
		key  any
		alg  jose.SignatureAlgorithm
		kid  string
	}{
		{"ES384", keys.ec, jose.ES384, "ec-1"},
		{"RS384", keys.rsa, jose.RS384, "rsa-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.tokenRequest(t, sign(t, tc.key, tc.alg, tc.kid, claims("app-1", aud, time.Now())),
				"system/ServiceRequest.c system/Patient.rs radbridge/api.admin launch")
			var a tokenAnswer
			decodeJSON(t, r, &a)
			if r.status != 200 || a.AccessToken == "" || a.TokenType != "bearer" || a.ExpiresIn < 1 || a.ExpiresIn > 300 ||
				a.Scope != "system/ServiceRequest.c" || r.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("token = %d %+v (Cache-Control %q); want 200, a bearer token for system/ServiceRequest.c, at most 300 s",
					r.status, a, r.header.Get("Cache-Control"))
			}
			if got := s.do(t, "POST", "/fhir/ServiceRequest", "{}", bearer(a.AccessToken)...); got.status != 200 || got.body != "ok app-1" {
				t.Errorf("create with the access token = %d %q, want 200 as app-1", got.status, got.body)
			}
			if got := s.do(t, "GET", "/fhir/ServiceRequest", "", bearer(a.AccessToken)...); got.status != 403 {
				t.Errorf("search with a create-only token = %d, want 403", got.status)
			}
			if strings.Contains(s.log.String(), a.AccessToken) {
				t.Error("the access token is in the log")
			}
		})
	}
}

// Every faulty assertion is refused with the OAuth error RFC 6749 section 5.2 names.
func TestToken_Refusals(t *testing.T) {
	s, keys := smartServer(t, nil)
	aud := s.URL + "/auth/token"
	now := time.Now()
	good := func() map[string]any { return claims("app-1", aud, now) }
	with := func(k string, v any) map[string]any {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	other, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, err := x509.MarshalPKIXPublicKey(&keys.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ec := func(c map[string]any) string { return sign(t, keys.ec, jose.ES384, "ec-1", c) }
	replayed := ec(good())
	if r := s.tokenRequest(t, replayed, "system/Task.rs"); r.status != 200 {
		t.Fatalf("first use of an assertion = %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		name      string
		assertion string
		scope     string
		extra     []string
		status    int
		code      string
		why       string // in error_description
	}{
		{name: "alg none", assertion: unsigned(t, "none", good()), status: 401, code: "invalid_client", why: "RS384 or ES384"},
		{name: "HS256 with the public key as secret", assertion: sign(t, rsaPub, jose.HS256, "rsa-1", good()), status: 401, code: "invalid_client", why: "RS384 or ES384"},
		{name: "ES256", assertion: sign(t, mustP256(t), jose.ES256, "ec-1", good()), status: 401, code: "invalid_client", why: "RS384 or ES384"},
		{name: "wrong aud", assertion: ec(with("aud", "https://elsewhere.example/auth/token")), status: 401, code: "invalid_client", why: "aud"},
		{name: "aud of the FHIR base", assertion: ec(with("aud", s.URL+"/fhir")), status: 401, code: "invalid_client", why: "aud"},
		{name: "expired", assertion: ec(with("exp", now.Add(-5*time.Minute).Unix())), status: 401, code: "invalid_client", why: "expired"},
		{name: "no exp", assertion: ec(with("exp", nil)), status: 401, code: "invalid_client", why: "exp is required"},
		{name: "exp too far", assertion: ec(with("exp", now.Add(time.Hour).Unix())), status: 401, code: "invalid_client", why: "five minutes"},
		{name: "future iat", assertion: ec(with("iat", now.Add(10*time.Minute).Unix())), status: 401, code: "invalid_client", why: "iat"},
		{name: "no jti", assertion: ec(with("jti", nil)), status: 401, code: "invalid_client", why: "jti"},
		{name: "reused jti", assertion: replayed, status: 401, code: "invalid_client", why: "jti was used before"},
		{name: "unknown kid", assertion: sign(t, keys.ec, jose.ES384, "ec-9", good()), status: 401, code: "invalid_client", why: "kid ec-9"},
		{name: "no kid", assertion: sign(t, keys.ec, jose.ES384, "", good()), status: 401, code: "invalid_client", why: "kid"},
		{name: "bad signature", assertion: sign(t, other, jose.ES384, "ec-1", good()), status: 401, code: "invalid_client", why: "bad signature"},
		{name: "RSA key named by the EC kid", assertion: sign(t, keys.rsa, jose.RS384, "ec-1", good()), status: 401, code: "invalid_client", why: "bad signature"},
		{name: "tampered", assertion: tamper(ec(good())), status: 401, code: "invalid_client", why: "bad signature"},
		{name: "unknown client", assertion: ec(claims("app-2", aud, now)), status: 401, code: "invalid_client", why: "unknown client"},
		{name: "sub is not iss", assertion: ec(with("sub", "someone")), status: 401, code: "invalid_client", why: "iss and sub"},
		{name: "client_id of another", assertion: ec(good()), extra: []string{"client_id", "app-2"}, status: 401, code: "invalid_client", why: "client_id"},
		{name: "not a JWT", assertion: "secret", status: 401, code: "invalid_client", why: "not a JWT"},
		{name: "no assertion", assertion: "", status: 401, code: "invalid_client", why: "required"},
		{name: "other assertion type", assertion: ec(good()), extra: []string{"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"}, status: 401, code: "invalid_client", why: "jwt-bearer"},
		{name: "password grant", assertion: ec(good()), extra: []string{"grant_type", "password"}, status: 400, code: "unsupported_grant_type"},
		{name: "no grant type", assertion: ec(good()), extra: []string{"grant_type", ""}, status: 400, code: "invalid_request"},
		{name: "scope not allowed", assertion: ec(good()), scope: "system/DiagnosticReport.rs radbridge/api.admin", status: 400, code: "invalid_scope"},
		{name: "patient scope", assertion: ec(good()), scope: "patient/ServiceRequest.rs", status: 400, code: "invalid_scope"},
		{name: "no scope", assertion: ec(good()), scope: "-", status: 400, code: "invalid_request", why: "scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scope := tc.scope
			switch scope {
			case "":
				scope = "system/ServiceRequest.rs"
			case "-":
				scope = ""
			}
			r := s.tokenRequest(t, tc.assertion, scope, tc.extra...)
			var a tokenAnswer
			decodeJSON(t, r, &a)
			if r.status != tc.status || a.Error != tc.code || !strings.Contains(a.Description, tc.why) || a.AccessToken != "" {
				t.Errorf("token = %d %+v, want %d %s with %q", r.status, a, tc.status, tc.code, tc.why)
			}
		})
	}
	if n := strings.Count(s.log.String(), "token request refused"); n != 27 {
		t.Errorf("%d refusals logged, want 27 (one each)", n)
	}
}

// unsigned is an assertion with alg (none) and no signature.
func unsigned(t testing.TB, alg string, claims any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": alg, "kid": "ec-1", "typ": "JWT"})
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

// tamper changes a compact JWS's payload, keeping its signature.
func tamper(jws string) string {
	parts := strings.Split(jws, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), `"sub":"app-1"`, `"sub":"app-1" `, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

func mustP256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// An access token lasts its expires_in and no longer; it is good only on the server
// whose key signed it, for the audience it was issued to.
func TestAccessToken_Verify(t *testing.T) {
	clk := &clock{t: time.Now()}
	s, keys := smartServer(t, clk)
	r := s.tokenRequest(t, sign(t, keys.ec, jose.ES384, "ec-1", claims("app-1", s.URL+"/auth/token", clk.Now())), "system/*.rs")
	var a tokenAnswer
	decodeJSON(t, r, &a)
	if r.status != 200 || a.Scope != "system/ServiceRequest.rs system/Task.rs" {
		t.Fatalf("token = %d %+v, want system/*.rs narrowed to what app-1 may have", r.status, a)
	}
	if got := s.do(t, "GET", "/fhir/Task", "", bearer(a.AccessToken)...); got.status != 200 {
		t.Fatalf("fresh access token = %d %s", got.status, got.body)
	}
	if got := s.do(t, "GET", "/fhir/Task", "", "Authorization", "Bearer "+a.AccessToken, "Host", "other.example"); got.status != 401 {
		t.Errorf("access token at another audience = %d, want 401", got.status)
	}
	clk.Add(time.Duration(a.ExpiresIn)*time.Second + time.Second)
	got := s.do(t, "GET", "/fhir/Task", "", bearer(a.AccessToken)...)
	if got.status != 401 || !strings.Contains(got.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("expired access token = %d %q, want 401 invalid_token", got.status, got.header.Get("WWW-Authenticate"))
	}

	// Another server (another data directory, so another key) does not take it.
	clk.Add(-time.Duration(a.ExpiresIn) * time.Second)
	other := newTestServer(t, auth.Config{Now: clk.Now, Clients: []auth.Client{{ID: "app-1", JWKS: keys.jwks(t), Scopes: []string{"system/*.rs"}}}})
	if got := other.do(t, "GET", "/fhir/Task", "", "Authorization", "Bearer "+a.AccessToken, "Host", strings.TrimPrefix(s.URL, "http://")); got.status != 401 {
		t.Errorf("access token on another server = %d, want 401", got.status)
	}
	// An assertion is no access token, though the same client signed it.
	assertion := sign(t, keys.ec, jose.ES384, "ec-1", claims("app-1", s.URL, clk.Now()))
	if got := s.do(t, "GET", "/fhir/Task", "", bearer(assertion)...); got.status != 401 {
		t.Errorf("client assertion as a bearer token = %d, want 401", got.status)
	}
}

// The token's signing key is made once and kept: tokens survive a restart.
func TestAccessToken_KeyKept(t *testing.T) {
	keys := testKeys()
	cfg := auth.Config{Dir: t.TempDir(), Clients: []auth.Client{{ID: "app-1", JWKS: keys.jwks(t), Scopes: []string{"system/*.rs"}}}}
	s := newTestServer(t, cfg)
	r := s.tokenRequest(t, sign(t, keys.ec, jose.ES384, "ec-1", claims("app-1", s.URL+"/auth/token", time.Now())), "system/Task.rs")
	var a tokenAnswer
	decodeJSON(t, r, &a)
	restarted := newTestServer(t, cfg)
	host := strings.TrimPrefix(s.URL, "http://")
	if got := restarted.do(t, "GET", "/fhir/Task", "", "Authorization", "Bearer "+a.AccessToken, "Host", host); got.status != 200 {
		t.Errorf("access token after a restart on the same data directory = %d %s, want 200", got.status, got.body)
	}
}

func TestDiscovery(t *testing.T) {
	s := newTestServer(t, auth.Config{ResourceTypes: []string{"ServiceRequest"}})
	r := s.do(t, "GET", "/.well-known/smart-configuration", "")
	var d struct {
		TokenEndpoint string   `json:"token_endpoint"`
		AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
		Algs          []string `json:"token_endpoint_auth_signing_alg_values_supported"`
		Grants        []string `json:"grant_types_supported"`
		Scopes        []string `json:"scopes_supported"`
		Capabilities  []string `json:"capabilities"`
	}
	decodeJSON(t, r, &d)
	want := func(what string, got []string, items ...string) {
		t.Helper()
		for _, it := range items {
			if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+it+" ") {
				t.Errorf("%s %v lacks %s", what, got, it)
			}
		}
	}
	if r.status != 200 || d.TokenEndpoint != s.URL+"/auth/token" {
		t.Errorf("smart-configuration = %d, token_endpoint %q", r.status, d.TokenEndpoint)
	}
	want("token_endpoint_auth_methods_supported", d.AuthMethods, "private_key_jwt")
	want("token_endpoint_auth_signing_alg_values_supported", d.Algs, "RS384", "ES384")
	want("grant_types_supported", d.Grants, "client_credentials")
	want("scopes_supported", d.Scopes, "system/*.cruds", "system/ServiceRequest.rs", auth.ScopeAPIRead, auth.ScopePHIRead)
	want("capabilities", d.Capabilities, "client-confidential-asymmetric", "permission-v1", "permission-v2")
}

func TestClient_JWKSChecked(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  jose.JSONWebKey
		want string
	}{
		{"no kid", jose.JSONWebKey{Key: &testKeys().ec.PublicKey}, "kid"},
		{"P-256", jose.JSONWebKey{Key: &mustP256(t).PublicKey, KeyID: "k"}, "P-384"},
		{"RSA 1024", jose.JSONWebKey{Key: &small.PublicKey, KeyID: "k"}, "2048"},
		{"symmetric", jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "k"}, "RSA or EC"},
		{"encryption key", jose.JSONWebKey{Key: &testKeys().ec.PublicKey, KeyID: "k", Use: "enc"}, "use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{tc.key}})
			if err != nil {
				t.Fatal(err)
			}
			cfg := auth.Config{Dir: t.TempDir(), Clients: []auth.Client{{ID: "c", JWKS: b, Scopes: []string{"system/*.rs"}}}}
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want an error with %q", err, tc.want)
			}
		})
	}
}
