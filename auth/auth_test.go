package auth_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/auth"
)

// testToken is a static token for the configuration: the token and its entry.
func testToken(t testing.TB, name string, scopes ...string) (string, auth.Token) {
	t.Helper()
	tok := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(tok))
	return tok, auth.Token{Name: name, SHA256: hex.EncodeToString(sum[:]), Scopes: scopes}
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testServer is a router of test routes behind an Authenticator, on a real listener.
type testServer struct {
	*httptest.Server
	auth *auth.Authenticator
	log  *syncBuffer
	// bodyRead counts the request body bytes the handlers read.
	mu       sync.Mutex
	bodyRead int
}

// newTestServer serves, behind auth.New(cfg) (Dir defaulted to a temporary directory):
//
//	GET  /public            Public, but off the allowlist
//	GET  /healthz           Public
//	GET  /read              radbridge/api.read
//	POST /operate           radbridge/api.operate (reads the body)
//	*    /fhir/{type}       the type's search (GET) or create (POST)
//	GET  /undeclared        nothing declared
//
// and the token endpoint.
func newTestServer(t testing.TB, cfg auth.Config) *testServer {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	s := &testServer{log: &syncBuffer{}}
	cfg.Log = slog.New(slog.NewTextHandler(s.log, nil))
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.auth = a
	ok := func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		s.bodyRead += int(n)
		s.mu.Unlock()
		p := auth.FromContext(r.Context())
		name := "(none)"
		if p != nil {
			name = p.Name
		}
		io.WriteString(w, "ok "+name)
	}
	r := mux.NewRouter()
	a.Routes(r)
	r.Handle("/public", auth.Public(http.HandlerFunc(ok))).Methods(http.MethodGet)
	r.Handle("/healthz", auth.Public(http.HandlerFunc(ok))).Methods(http.MethodGet)
	r.Handle("/read", auth.Require(auth.ScopeAPIRead, http.HandlerFunc(ok))).Methods(http.MethodGet)
	r.Handle("/operate", auth.Require(auth.ScopeAPIOperate, http.HandlerFunc(ok))).Methods(http.MethodPost)
	r.Handle("/fhir/{type}", auth.RequireFunc(func(r *http.Request) auth.Need {
		in := auth.Search
		if r.Method == http.MethodPost {
			in = auth.Create
		}
		return auth.NeedFHIR(mux.Vars(r)["type"], in)
	}, http.HandlerFunc(ok)))
	r.HandleFunc("/undeclared", ok)
	r.Use(a.Middleware)
	s.Server = httptest.NewServer(auth.SecurityHeaders(a.CORS(r)))
	t.Cleanup(s.Close)
	return s
}

// reply is an answer as do read it.
type reply struct {
	status int
	header http.Header
	body   string
}

// do sends a request; hdr holds header name/value pairs.
func (s *testServer) do(t testing.TB, method, path, body string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func TestMiddleware_Refusals(t *testing.T) {
	readTok, read := testToken(t, "reader", auth.ScopeAPIRead)
	srTok, sr := testToken(t, "sr-reader", "system/ServiceRequest.rs")
	adminTok, admin := testToken(t, "ops", auth.AllScopes()...)
	s := newTestServer(t, auth.Config{Tokens: []auth.Token{read, sr, admin}})
	for _, tc := range []struct {
		name         string
		method, path string
		hdr          []string
		status       int
		challenge    string // in WWW-Authenticate
		body         string // in the body
	}{
		{"no token", "GET", "/read", nil, 401, `Bearer realm="radbridge"`, "no bearer token"},
		{"unknown token", "GET", "/read", bearer("not-a-token"), 401, `error="invalid_token"`, "not valid"},
		{"not bearer", "GET", "/read", []string{"Authorization", "Basic " + readTok}, 401, `error="invalid_token"`, "Bearer"},
		{"two headers", "GET", "/read", append(bearer(readTok), bearer(readTok)...), 401, `error="invalid_token"`, "one"},
		{"cookie only", "GET", "/read", []string{"Cookie", "token=" + readTok}, 401, `realm="radbridge"`, "no bearer token"},
		{"scope", "GET", "/read", bearer(readTok), 200, "", "ok reader"},
		{"lowercase scheme", "GET", "/read", []string{"Authorization", "bearer " + readTok}, 200, "", "ok reader"},
		{"lacks scope", "POST", "/operate", bearer(readTok), 403, `error="insufficient_scope", scope="radbridge/api.operate"`, "needs radbridge/api.operate"},
		{"fhir search", "GET", "/fhir/ServiceRequest", bearer(srTok), 200, "", "ok sr-reader"},
		{"fhir create", "POST", "/fhir/ServiceRequest", bearer(srTok), 403, `scope="system/ServiceRequest.c"`, "needs system/ServiceRequest.c"},
		{"fhir other type", "GET", "/fhir/Task", bearer(srTok), 403, `scope="system/Task.s"`, ""},
		{"api scope is no fhir scope", "GET", "/fhir/ServiceRequest", bearer(readTok), 403, "", ""},
		{"undeclared, admin", "GET", "/undeclared", bearer(adminTok), 403, "", "declares no scope"},
		{"undeclared, anonymous", "GET", "/undeclared", nil, 401, `realm="radbridge"`, ""},
		{"public off the allowlist", "GET", "/public", bearer(adminTok), 403, "", "declares no scope"},
		{"public", "GET", "/healthz", nil, 200, "", "ok (none)"},
		{"token in the query", "GET", "/read?access_token=" + readTok, nil, 401, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, tc.method, tc.path, "", tc.hdr...)
			if r.status != tc.status || !strings.Contains(r.header.Get("WWW-Authenticate"), tc.challenge) || !strings.Contains(r.body, tc.body) {
				t.Errorf("%s %s = %d, WWW-Authenticate %q, %q; want %d, %q, %q", tc.method, tc.path, r.status,
					r.header.Get("WWW-Authenticate"), r.body, tc.status, tc.challenge, tc.body)
			}
			if r.status >= 400 && r.header.Get("Content-Type") != "application/json" {
				t.Errorf("refusal Content-Type %q, want the API's JSON error", r.header.Get("Content-Type"))
			}
			if tc.path != "/healthz" && r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", r.header.Get("Cache-Control"))
			}
		})
	}
	logs := s.log.String()
	for _, tok := range []string{readTok, srTok, adminTok} {
		if strings.Contains(logs, tok) {
			t.Fatalf("a token is in the log:\n%s", logs)
		}
	}
	for _, want := range []string{`route=/operate`, `token_name=reader`, `route=/undeclared`, `level=ERROR msg="http route declares no scope`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

// Every refusal is logged once, with no body.
func TestMiddleware_LogsEachRefusalOnce(t *testing.T) {
	readTok, read := testToken(t, "reader", auth.ScopeAPIRead)
	s := newTestServer(t, auth.Config{Tokens: []auth.Token{read}})
	s.do(t, "POST", "/operate", `{"secret":"DOE^JANE"}`, bearer(readTok)...)
	s.do(t, "POST", "/operate", `{"secret":"DOE^JANE"}`)
	logs := s.log.String()
	if n := strings.Count(logs, "http request refused"); n != 2 {
		t.Errorf("%d refusals logged for 2, log:\n%s", n, logs)
	}
	if strings.Contains(logs, "DOE") {
		t.Errorf("the body is in the log:\n%s", logs)
	}
}

// The check comes before the body is read: a refused request's body is never touched.
func TestMiddleware_BodyNotRead(t *testing.T) {
	readTok, read := testToken(t, "reader", auth.ScopeAPIRead)
	s := newTestServer(t, auth.Config{Tokens: []auth.Token{read}})
	body := strings.Repeat("x", 1<<20)
	for _, hdr := range [][]string{nil, bearer("bad"), bearer(readTok)} {
		if r := s.do(t, "POST", "/operate", body, hdr...); r.status != 401 && r.status != 403 {
			t.Fatalf("POST /operate = %d, want a refusal", r.status)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bodyRead != 0 {
		t.Errorf("handlers read %d bytes of refused bodies", s.bodyRead)
	}
}

func TestMiddleware_Off(t *testing.T) {
	s := newTestServer(t, auth.Config{Off: true})
	for _, path := range []string{"/read", "/fhir/ServiceRequest"} {
		if r := s.do(t, "GET", path, ""); r.status != 200 || r.body != "ok " {
			t.Errorf("auth off: GET %s = %d %q, want 200 with no principal name", path, r.status, r.body)
		}
	}
	if r := s.do(t, "GET", "/undeclared", ""); r.status != 403 {
		t.Errorf("auth off: an undeclared route = %d, want 403 still", r.status)
	}
	if r := s.do(t, "POST", "/operate", "{}", "Origin", "https://evil.example", "Content-Type", "text/plain"); r.status != 403 {
		t.Errorf("auth off: a foreign-origin POST = %d, want 403 still", r.status)
	}
}

// A page on a foreign origin cannot change state, with a token or without; CORS
// headers go to configured origins only.
func TestMiddleware_Browser(t *testing.T) {
	opTok, op := testToken(t, "operator", auth.ScopeAPIOperate, auth.ScopeAPIRead)
	s := newTestServer(t, auth.Config{Tokens: []auth.Token{op}})
	foreign := []string{"Origin", "https://evil.example", "Content-Type", "text/plain"}
	if r := s.do(t, "POST", "/operate", "{}", foreign...); r.status != 401 {
		t.Errorf("foreign text/plain POST without a token = %d, want 401", r.status)
	}
	r := s.do(t, "POST", "/operate", "{}", append(foreign, bearer(opTok)...)...)
	if r.status != 403 || !strings.Contains(r.body, "cross-origin") {
		t.Errorf("foreign text/plain POST with a token = %d %q, want 403 cross-origin", r.status, r.body)
	}
	if r := s.do(t, "POST", "/operate", "{}", append([]string{"Sec-Fetch-Site", "cross-site"}, bearer(opTok)...)...); r.status != 403 {
		t.Errorf("cross-site POST = %d, want 403", r.status)
	}
	if r := s.do(t, "POST", "/operate", "{}", append([]string{"Origin", s.URL}, bearer(opTok)...)...); r.status != 200 {
		t.Errorf("same-origin POST = %d %q, want 200", r.status, r.body)
	}
	if r := s.do(t, "GET", "/read", "", append([]string{"Origin", "https://evil.example"}, bearer(opTok)...)...); r.status != 200 {
		t.Errorf("foreign GET = %d, want 200 (nothing changes; the page cannot read it)", r.status)
	}
	pre := s.do(t, "OPTIONS", "/operate", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization")
	for _, r := range []reply{r, pre, s.do(t, "GET", "/read", "", append([]string{"Origin", "https://evil.example"}, bearer(opTok)...)...)} {
		for k := range r.header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("CORS not configured, yet %s: %s", k, r.header.Get(k))
			}
		}
	}
	if pre.status == http.StatusNoContent || pre.status == http.StatusOK {
		t.Errorf("preflight from a foreign origin = %d, want it not answered", pre.status)
	}
	for _, h := range []string{"X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options", "Content-Security-Policy"} {
		if r.header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if r.header.Get("Strict-Transport-Security") != "" {
		t.Error("Strict-Transport-Security over plain HTTP")
	}
}

func TestCORS_AllowedOrigin(t *testing.T) {
	const app = "https://app.example.org"
	opTok, op := testToken(t, "operator", auth.ScopeAPIOperate)
	s := newTestServer(t, auth.Config{Tokens: []auth.Token{op}, AllowOrigins: []string{app}})
	pre := s.do(t, "OPTIONS", "/operate", "", "Origin", app, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization,content-type")
	if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Origin") != app ||
		!strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		pre.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("preflight from %s = %d %v, want 204 allowing it, without credentials", app, pre.status, pre.header)
	}
	r := s.do(t, "POST", "/operate", "{}", append([]string{"Origin", app, "Sec-Fetch-Site", "cross-site"}, bearer(opTok)...)...)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("POST from %s = %d, Access-Control-Allow-Origin %q; want 200 and the origin", app, r.status, r.header.Get("Access-Control-Allow-Origin"))
	}
	other := s.do(t, "OPTIONS", "/operate", "", "Origin", "https://app.example.org.evil.example", "Access-Control-Request-Method", "POST")
	if other.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin allowed: %v", other.header)
	}
	if _, err := auth.New(auth.Config{Dir: t.TempDir(), AllowOrigins: []string{"https://app.example.org/"}}); err == nil {
		t.Error("an origin with a path was accepted")
	}
	if _, err := auth.New(auth.Config{Dir: t.TempDir(), AllowOrigins: []string{"*"}}); err == nil {
		t.Error("the origin * was accepted")
	}
}

func TestConfig_Validate(t *testing.T) {
	_, tok := testToken(t, "t", auth.ScopeAPIRead)
	for _, tc := range []struct {
		name string
		cfg  auth.Config
		want string
	}{
		{"no dir", auth.Config{}, "Dir is required"},
		{"short hash", auth.Config{Tokens: []auth.Token{{Name: "t", SHA256: "abcd", Scopes: []string{auth.ScopeAPIRead}}}}, "64 hex digits"},
		{"no name", auth.Config{Tokens: []auth.Token{{SHA256: tok.SHA256, Scopes: tok.Scopes}}}, "name is required"},
		{"no scopes", auth.Config{Tokens: []auth.Token{{Name: "t", SHA256: tok.SHA256}}}, "at least one"},
		{"patient scope", auth.Config{Tokens: []auth.Token{{Name: "t", SHA256: tok.SHA256, Scopes: []string{"patient/*.read"}}}}, "not granted to backend clients"},
		{"same name", auth.Config{Tokens: []auth.Token{tok, tok}}, "another token"},
		{"issuer with a path", auth.Config{Issuer: "https://rb.example.org/fhir"}, "without a path"},
		{"client without keys", auth.Config{Clients: []auth.Client{{ID: "c", JWKS: []byte(`{"keys":[]}`), Scopes: []string{"system/*.rs"}}}}, "no keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cfg.Dir == "" && tc.name != "no dir" {
				tc.cfg.Dir = t.TempDir()
			}
			if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// decodeJSON decodes a reply's body into v.
func decodeJSON(t testing.TB, r reply, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("body is not JSON (%v): %s", err, r.body)
	}
}

func TestRequire_UnknownScopePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Require with a scope nobody can hold did not panic")
		}
	}()
	auth.Require("radbridge/api.write", http.NotFoundHandler())
}
