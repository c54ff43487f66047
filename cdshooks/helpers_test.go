package cdshooks_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/cdshooks"
)

// ehr is a CDS client: an issuer with an ES384 key, publishing its JWKS.
type ehr struct {
	iss  string
	key  *ecdsa.PrivateKey
	kid  string
	jwks []byte
}

func newEHR(tb testing.TB, iss, kid string) *ehr {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Public(), KeyID: kid, Algorithm: string(jose.ES384), Use: "sig"}}}
	b, err := json.Marshal(set)
	if err != nil {
		tb.Fatal(err)
	}
	return &ehr{iss: iss, key: k, kid: kid, jwks: b}
}

var jtiSeq atomic.Int64

// token signs claims for aud, valid from now for five minutes, with a fresh jti;
// edit may change the claims first.
func (e *ehr) token(tb testing.TB, aud string, now time.Time, edit func(*jwt.Claims)) string {
	tb.Helper()
	c := jwt.Claims{Issuer: e.iss, Subject: e.iss, Audience: jwt.Audience{aud}, IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: "jti-" + strconv.FormatInt(jtiSeq.Add(1), 10)}
	if edit != nil {
		edit(&c)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES384, Key: e.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", e.kid))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := jwt.Signed(sig).Claims(c).Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// hmacToken is a JWT signed with HS256 (the client's JWKS used as the secret, the
// classic confusion attack); noneToken one with alg none.
func hmacToken(tb testing.TB, e *ehr, aud string, now time.Time) string {
	tb.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: e.jwks}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: e.iss, Audience: jwt.Audience{aud}, ID: "h1",
		Expiry: jwt.NewNumericDate(now.Add(time.Minute))}).Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func noneToken(e *ehr, aud string, now time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]any{"iss": e.iss, "aud": aud, "exp": now.Add(time.Minute).Unix(), "jti": "n1"})
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(claims) + "."
}

// hooks is the CDS Hooks service on a loopback server, with one allowed client.
type hooks struct {
	svc    *cdshooks.Service
	srv    *httptest.Server
	client *ehr
	now    time.Time
}

func newHooks(tb testing.TB, check cdshooks.Checker, now time.Time) *hooks {
	tb.Helper()
	e := newEHR(tb, "https://ehr.example.org", "ehr-key-1")
	svc, err := cdshooks.New(cdshooks.Config{Clients: []cdshooks.Client{{Issuer: e.iss, JWKS: e.jwks}}}, check,
		cdshooks.Deps{Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	r := mux.NewRouter()
	svc.Routes(r)
	srv := httptest.NewServer(r)
	tb.Cleanup(srv.Close)
	return &hooks{svc: svc, srv: srv, client: e, now: now}
}

// call POSTs body to service id with the given bearer token ("" for none).
func (h *hooks) call(tb testing.TB, id, token string, body []byte) (int, http.Header, []byte) {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, h.srv.URL+"/cds-services/"+id, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// sign calls service id with a valid token.
func (h *hooks) sign(tb testing.TB, id string, body []byte) (int, []byte) {
	tb.Helper()
	code, _, b := h.call(tb, id, h.client.token(tb, h.srv.URL+"/cds-services/"+id, h.now, nil), body)
	return code, b
}

func crdFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "priorauth", "crd", "davinci-crd__"+name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
