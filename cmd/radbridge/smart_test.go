package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/radbridge/radbridge/auth"
)

// signAssertion is a SMART Backend Services client assertion for client at tokenURL,
// signed with key and alg under kid; edit may change its claims.
func signAssertion(t *testing.T, key any, alg jose.SignatureAlgorithm, kid, client, tokenURL string, edit func(map[string]any)) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{"iss": client, "sub": client, "aud": tokenURL, "exp": now.Add(4 * time.Minute).Unix(),
		"iat": now.Unix(), "jti": rand.Text()}
	if edit != nil {
		edit(claims)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// requestToken posts a client_credentials token request.
func requestToken(t *testing.T, tokenURL, assertion, scope string) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(tokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("token answer is not JSON: %v", err)
	}
	return resp.StatusCode, m
}

// TestServe_SMARTBackendServices: two clients of a real serve, one with an ES384 key
// (jwks in the configuration) and one with an RS384 key (jwks_file), each get an access
// token from POST /auth/token, found through /.well-known/smart-configuration, and
// create a ServiceRequest with it; faulty assertions are refused with invalid_client.
func TestServe_SMARTBackendServices(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := func(key any, kid string) []byte {
		b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: kid, Use: "sig"}}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rsaFile := filepath.Join(t.TempDir(), "rsa-client.jwks.json")
	if err := os.WriteFile(rsaFile, jwks(&rsaKey.PublicKey, "rsa-1"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := new(config)
	cfg.Auth.Clients = []authClient{
		{ID: "ec-app", JWKS: jwksValue(jwks(&ecKey.PublicKey, "ec-1")), Scopes: []string{"system/ServiceRequest.cruds", "system/Task.rs"}},
		{ID: "rsa-app", JWKSFile: rsaFile, Scopes: []string{"system/*.cruds"}},
	}
	serveInProcess(t, cfg)
	base := "http://" + cfg.HTTP.Addr

	var disco struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	r := call(t, nil, "GET", base+"/.well-known/smart-configuration", "", "")
	if err := json.Unmarshal([]byte(r.body), &disco); err != nil || r.status != 200 || disco.TokenEndpoint != base+"/auth/token" {
		t.Fatalf("smart-configuration = %d %s", r.status, r.body)
	}
	tokenURL := disco.TokenEndpoint

	for i, tc := range []struct {
		client, kid string
		key         any
		alg         jose.SignatureAlgorithm
	}{
		{"ec-app", "ec-1", ecKey, jose.ES384},
		{"rsa-app", "rsa-1", rsaKey, jose.RS384},
	} {
		t.Run(tc.client, func(t *testing.T) {
			status, tok := requestToken(t, tokenURL, signAssertion(t, tc.key, tc.alg, tc.kid, tc.client, tokenURL, nil),
				"system/ServiceRequest.c system/ServiceRequest.r radbridge/api.admin")
			access, _ := tok["access_token"].(string)
			if status != 200 || access == "" || tok["scope"] != "system/ServiceRequest.c system/ServiceRequest.r" || tok["expires_in"] != auth.AccessTokenLifetime.Seconds() {
				t.Fatalf("token for %s = %d %v", tc.client, status, tok)
			}
			created := call(t, nil, "POST", base+"/fhir/ServiceRequest", access, string(benchResource("SM", i)))
			if created.status != http.StatusCreated {
				t.Fatalf("create with %s's access token = %d %s", tc.client, created.status, created.body)
			}
			if r := call(t, nil, "GET", base+"/fhir/ServiceRequest?identifier=SM0", access, ""); r.status != http.StatusForbidden {
				t.Errorf("search without system/ServiceRequest.s = %d, want 403", r.status)
			}
			if r := call(t, nil, "GET", base+"/api/orders", access, ""); r.status != http.StatusForbidden {
				t.Errorf("the API with a FHIR client's token = %d, want 403", r.status)
			}
		})
	}

	reused := signAssertion(t, ecKey, jose.ES384, "ec-1", "ec-app", tokenURL, nil)
	if status, _ := requestToken(t, tokenURL, reused, "system/Task.rs"); status != 200 {
		t.Fatalf("first use of an assertion = %d", status)
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"ec-1"}`))
	payload := strings.Split(signAssertion(t, ecKey, jose.ES384, "ec-1", "ec-app", tokenURL, nil), ".")[1]
	for name, assertion := range map[string]string{
		"alg none":    header + "." + payload + ".",
		"HS256":       signAssertion(t, []byte("a shared secret of thirty-two bytes!"), jose.HS256, "ec-1", "ec-app", tokenURL, nil),
		"wrong aud":   signAssertion(t, ecKey, jose.ES384, "ec-1", "ec-app", base+"/fhir", nil),
		"expired":     signAssertion(t, ecKey, jose.ES384, "ec-1", "ec-app", tokenURL, func(c map[string]any) { c["exp"] = time.Now().Add(-10 * time.Minute).Unix() }),
		"future iat":  signAssertion(t, ecKey, jose.ES384, "ec-1", "ec-app", tokenURL, func(c map[string]any) { c["iat"] = time.Now().Add(10 * time.Minute).Unix() }),
		"unknown kid": signAssertion(t, ecKey, jose.ES384, "ec-2", "ec-app", tokenURL, nil),
		"reused jti":  reused,
		"other's key": signAssertion(t, ecKey, jose.ES384, "rsa-1", "rsa-app", tokenURL, nil),
	} {
		if status, body := requestToken(t, tokenURL, assertion, "system/Task.rs"); status != 401 || body["error"] != "invalid_client" || body["access_token"] != nil {
			t.Errorf("%s: token = %d %v, want 401 invalid_client", name, status, body)
		}
	}
}
