package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/radbridge/radbridge/auth"
	"github.com/radbridge/radbridge/store/bolt"
)

// publicRoutes are the routes served without a token (DESIGN.md, "Security"), by path
// template.
var publicRoutes = []string{"/healthz", "/readyz", "/fhir/metadata", "/.well-known/smart-configuration", "/auth/token"}

// countingBody counts the bytes read from a request body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// probe is one request the route walk sends.
type probe struct {
	method, path, template string
}

// routeProbes walks r and returns a request for each method of each route, with its
// path variables filled in; a path prefix gets a path for each kind of FHIR request
// below it.
func routeProbes(t *testing.T, r *mux.Router) []probe {
	t.Helper()
	vars := regexp.MustCompile(`\{[^}]*\}`)
	var out []probe
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil { // a route for every method
			methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete}
		}
		paths := []string{vars.ReplaceAllStringFunc(tpl, func(v string) string {
			if v == "{type}" {
				return "ServiceRequest"
			}
			return "x1"
		})}
		if strings.HasSuffix(tpl, "/") && tpl != "/" { // PathPrefix
			paths = append(paths, tpl+"ServiceRequest", tpl+"ServiceRequest/x1", tpl+"ServiceRequest/_search", tpl+"Task", tpl+"Nope/x/y")
		}
		for _, m := range methods {
			for _, p := range paths {
				out = append(out, probe{method: m, path: p, template: tpl})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rawRequest sends method path with a body of size bytes (declared, or chunked) on a
// connection of its own, and returns the answer's status; it reads the answer while the
// body is still being sent, as a server that answers early is entitled to.
func rawRequest(t *testing.T, addr, method, path string, size int, chunked bool, hdr ...string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/fhir+json\r\n", method, path, addr)
	for i := 0; i+1 < len(hdr); i += 2 {
		fmt.Fprintf(&head, "%s: %s\r\n", hdr[i], hdr[i+1])
	}
	if chunked {
		head.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	} else {
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", size)
	}
	if _, err := io.WriteString(conn, head.String()); err != nil {
		t.Fatal(err)
	}
	sent := make(chan struct{})
	go func() { // stops when the server closes the connection, or ours closes
		defer close(sent)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for left := size; left > 0; left -= len(chunk) {
			var err error
			if chunked {
				_, err = fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
			} else {
				_, err = conn.Write(chunk)
			}
			if err != nil {
				return
			}
		}
		if chunked {
			io.WriteString(conn, "0\r\n\r\n")
		}
	}()
	defer func() { conn.Close(); <-sent }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestRoutes_AnonymousRefusedBeforeBody: every route of the router serve builds
// (httpRoutes, walked) refuses an anonymous request with 401 before it reads any of its
// 10 MB body, declared or chunked, except the public few, which read little of it.
func TestRoutes_AnonymousRefusedBeforeBody(t *testing.T) {
	db, eng := openEngine(t, bolt.Config{Dir: t.TempDir()})
	d := testDeps(t, eng, db, true, auth.Config{})
	// Large bodies are limited after authentication: a limit that peeks into a chunked
	// body above 1 KiB would read before the check if it came first.
	d.limit = limitLargeBodies(1<<10, 1, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	routes := httpRoutes(d.httpDeps)
	var read atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = countingBody{r.Body, &read}
		httpHandler(d.auth, routes).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")

	probes := routeProbes(t, routes)
	var public []string
	for _, p := range probes {
		if slices.Contains(publicRoutes, p.template) && !slices.Contains(public, p.template) {
			public = append(public, p.template)
		}
	}
	slices.Sort(public)
	if want := slices.Sorted(slices.Values(publicRoutes)); !slices.Equal(public, want) || len(probes) < 30 {
		t.Fatalf("the walk found %d requests, public routes %v; want more than 30 and %v", len(probes), public, want)
	}
	const size = 10 << 20
	for _, p := range probes {
		for _, chunked := range []bool{false, true} {
			read.Store(0)
			status := rawRequest(t, addr, p.method, p.path, size, chunked)
			n := read.Load()
			switch {
			case slices.Contains(publicRoutes, p.template):
				if status == http.StatusUnauthorized || n > 100<<10 {
					t.Errorf("public %s %s (chunked %v) = %d after reading %d bytes; want an answer without a token, reading little", p.method, p.path, chunked, status, n)
				}
			case status != http.StatusUnauthorized || n != 0:
				t.Errorf("%s %s (route %s, chunked %v) = %d after reading %d body bytes; want 401 before reading any", p.method, p.path, p.template, chunked, status, n)
			}
		}
	}
}

// A route added without a declared scope is refused to everyone, the admin too.
func TestRoutes_UndeclaredRouteRefused(t *testing.T) {
	db, eng := openEngine(t, bolt.Config{Dir: t.TempDir()})
	d := testDeps(t, eng, db, true, auth.Config{})
	routes := httpRoutes(d.httpDeps)
	routes.HandleFunc("/api/new-thing", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "served") })
	routes.Handle("/api/public-thing", auth.Public(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "served") })))
	srv := httptest.NewServer(httpHandler(d.auth, routes))
	t.Cleanup(srv.Close)
	token := adminToken(t, d.dataDir)
	for _, path := range []string{"/api/new-thing", "/api/public-thing"} {
		resp := getAuth(t, srv.URL+path, token)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || strings.Contains(string(b), "served") {
			t.Errorf("GET %s with the admin token = %d %s, want 403", path, resp.StatusCode, b)
		}
	}
}

// staticToken is a token for auth.tokens: the token and its configuration entry.
func staticToken(t *testing.T, name string, scopes ...string) (string, authToken) {
	t.Helper()
	tok := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(tok))
	return tok, authToken{Name: name, SHA256: hex.EncodeToString(sum[:]), Scopes: scopes}
}

// httpAnswer is an HTTP answer as call read it.
type httpAnswer struct {
	status int
	header http.Header
	body   string
}

// call sends method url with token (none when empty) and body; hdr holds header
// name/value pairs.
func call(t *testing.T, cl *http.Client, method, url, token, body string, hdr ...string) httpAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if cl == nil {
		cl = http.DefaultClient
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpAnswer{resp.StatusCode, resp.Header, string(b)}
}

// TestServe_Scopes: on a real serve, radbridge/api.read reads but cannot reprocess,
// retry, decide or back up; system/ServiceRequest.rs reads orders but cannot create
// one; system/ServiceRequest.c creates but cannot read. FHIR refusals are
// OperationOutcomes (security, forbidden), API refusals the API's JSON error.
func TestServe_Scopes(t *testing.T) {
	cfg := new(config)
	readTok, reader := staticToken(t, "reader", auth.ScopeAPIRead)
	rsTok, rs := staticToken(t, "sr-reader", "system/ServiceRequest.rs")
	cTok, c := staticToken(t, "sr-creator", "system/ServiceRequest.c")
	cfg.Auth.Tokens = append(cfg.Auth.Tokens, reader, rs, c)
	admin := serveInProcess(t, cfg)
	if admin == "" {
		t.Fatal("no admin token file: the configured tokens have no radbridge/api.admin")
	}
	base := "http://" + cfg.HTTP.Addr

	created := call(t, nil, "POST", base+"/fhir/ServiceRequest", cTok, string(benchResource("SC", 1)))
	if created.status != http.StatusCreated {
		t.Fatalf("create with system/ServiceRequest.c = %d %s", created.status, created.body)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(regexp.MustCompile(`ServiceRequest/[^/]+`).FindString(created.header.Get("Location")), "ServiceRequest/"), "/")
	var orders struct {
		Items []struct {
			ID      string `json:"id"`
			Patient string `json:"patient_id"`
		} `json:"items"`
	}
	srv := &server{web: cfg.HTTP.Addr, token: readTok}
	srv.getJSON(t, "/api/orders?placer=SC1", &orders)
	if len(orders.Items) != 1 || orders.Items[0].Patient != "(masked: needs radbridge/phi.read)" {
		t.Fatalf("orders read with radbridge/api.read: %+v, want one with its patient masked", orders)
	}
	orderID := orders.Items[0].ID
	var msgs struct {
		Items []struct{ ID string } `json:"items"`
	}
	srv.getJSON(t, "/api/messages", &msgs)

	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
		want                            string // in the body
	}{
		{"reader reprocesses", "POST", "/api/messages/" + msgs.Items[0].ID + "/reprocess", readTok, "", 403, `{"error":"this request needs radbridge/api.operate"}`},
		{"reader retries", "POST", "/api/outbox/x1/retry", readTok, "", 403, "radbridge/api.operate"},
		{"reader decides", "POST", "/api/orders/" + orderID + "/authorization", readTok, `{"decision":"approved"}`, 403, "radbridge/api.operate"},
		{"reader backs up", "GET", "/api/backup", readTok, "", 403, "radbridge/api.admin"},
		{"reader scrapes", "GET", "/metrics", readTok, "", 403, "radbridge/metrics.read"},
		{"reader uses FHIR", "GET", "/fhir/ServiceRequest/" + id, readTok, "", 403, `"code":"forbidden"`},
		{"rs reads", "GET", "/fhir/ServiceRequest/" + id, rsTok, "", 200, `"resourceType":"ServiceRequest"`},
		{"rs searches", "GET", "/fhir/ServiceRequest?identifier=SC1", rsTok, "", 200, `"total":1`},
		{"rs creates", "POST", "/fhir/ServiceRequest", rsTok, string(benchResource("SC", 2)), 403, `"code":"forbidden"`},
		{"rs updates", "PUT", "/fhir/ServiceRequest/" + id, rsTok, string(benchResource("SC", 1)), 403, "system/ServiceRequest.u"},
		{"rs reads Tasks", "GET", "/fhir/Task?based-on=ServiceRequest/" + id, rsTok, "", 403, "system/Task.s"},
		{"rs uses the API", "GET", "/api/orders", rsTok, "", 403, "radbridge/api.read"},
		{"c reads", "GET", "/fhir/ServiceRequest/" + id, cTok, "", 403, "system/ServiceRequest.r"},
		{"c searches", "GET", "/fhir/ServiceRequest", cTok, "", 403, "system/ServiceRequest.s"},
		{"c posts a transaction with a read", "POST", "/fhir", cTok, `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET","url":"ServiceRequest/` + id + `"}}]}`, 403, "system/ServiceRequest.r"},
		{"anonymous FHIR", "GET", "/fhir/ServiceRequest/" + id, "", "", 401, `"code":"security"`},
		{"anonymous API", "GET", "/api/orders", "", "", 401, `{"error":"authentication required: no bearer token"}`},
		{"bad token", "GET", "/api/orders", "x" + readTok, "", 401, "not valid"},
		{"admin backs up", "GET", "/api/backup", admin, "", 200, ""},
		{"admin scrapes", "GET", "/metrics", admin, "", 200, "radbridge_"},
		{"admin decides", "POST", "/api/orders/" + orderID + "/authorization", admin, `{"decision":"approved","number":"PA-1"}`, 409, "error"},
		{"public metadata", "GET", "/fhir/metadata", "", "", 200, "CapabilityStatement"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, nil, tc.method, base+tc.path, tc.token, tc.body)
			if a.status != tc.status || !strings.Contains(a.body, tc.want) {
				t.Errorf("%s %s = %d %.300s; want %d with %s", tc.method, tc.path, a.status, a.body, tc.status, tc.want)
			}
			switch {
			case a.status == 401 && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), `Bearer realm="radbridge"`):
				t.Errorf("401 with WWW-Authenticate %q", a.header.Get("WWW-Authenticate"))
			case a.status == 401 && tc.token != "" && !strings.Contains(a.header.Get("WWW-Authenticate"), `error="invalid_token"`):
				t.Errorf("401 for a bad token with WWW-Authenticate %q, want invalid_token", a.header.Get("WWW-Authenticate"))
			case a.status >= 400 && strings.HasPrefix(tc.path, "/fhir") && !strings.HasPrefix(a.header.Get("Content-Type"), "application/fhir+json"):
				t.Errorf("FHIR refusal Content-Type %q", a.header.Get("Content-Type"))
			case tc.token != "" && a.status != 401 && a.header.Get("Cache-Control") != "no-store":
				t.Errorf("authenticated answer with Cache-Control %q, want no-store", a.header.Get("Cache-Control"))
			}
			for _, h := range []string{"X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
				if a.header.Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}
		})
	}
}

// TestServe_ForeignOrigin: a page on another site that posts text/plain (a "simple"
// request, sent without a preflight) to record an authorization decision is refused:
// 401 without a token (no cookie or other ambient credential counts), 403 with one;
// nothing changes, and with no CORS configured no answer carries a CORS header.
func TestServe_ForeignOrigin(t *testing.T) {
	cfg := new(config)
	admin := serveInProcess(t, cfg)
	base := "http://" + cfg.HTTP.Addr
	noAuth := strings.Replace(string(benchResource("FO", 1)), `"supportingInfo"`, `"note"`, 1)
	noAuth = strings.Replace(noAuth, `[{"type":"ClaimResponse","identifier":{"value":"AUTH778899"},"display":"Prior authorization AUTH778899"}]`, `[{"text":"x"}]`, 1)
	if r := call(t, nil, "POST", base+"/fhir/ServiceRequest", admin, noAuth); r.status != http.StatusCreated {
		t.Fatalf("create = %d %s", r.status, r.body)
	}
	var orders struct {
		Items []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
	}
	srv := &server{web: cfg.HTTP.Addr, token: admin}
	srv.getJSON(t, "/api/orders?placer=FO1", &orders)
	if len(orders.Items) != 1 || orders.Items[0].Status != "pending-authorization" {
		t.Fatalf("order %+v, want one pending authorization", orders)
	}
	path := base + "/api/orders/" + orders.Items[0].ID + "/authorization"
	foreign := []string{"Origin", "https://evil.example", "Content-Type", "text/plain", "Sec-Fetch-Site", "cross-site"}
	for _, tc := range []struct {
		name   string
		token  string
		hdr    []string
		status int
	}{
		{"no token", "", foreign, 401},
		{"cookie", "", append(slices.Clone(foreign), "Cookie", "token="+admin), 401},
		{"token", admin, foreign, 403},
		{"token, Origin only", admin, []string{"Origin", "https://evil.example", "Content-Type", "text/plain"}, 403},
	} {
		a := call(t, nil, "POST", path, tc.token, `{"decision":"approved","number":"EVIL"}`, tc.hdr...)
		if a.status != tc.status {
			t.Errorf("%s: foreign POST = %d %s, want %d", tc.name, a.status, a.body, tc.status)
		}
		for k := range a.header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s: %s: %s with no CORS configured", tc.name, k, a.header.Get(k))
			}
		}
	}
	pre := call(t, nil, "OPTIONS", path, "", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if pre.header.Get("Access-Control-Allow-Origin") != "" || pre.status < 400 {
		t.Errorf("preflight from a foreign origin = %d %v, want a refusal without CORS headers", pre.status, pre.header)
	}
	srv.getJSON(t, "/api/orders?placer=FO1", &orders)
	if orders.Items[0].Status != "pending-authorization" {
		t.Errorf("after the foreign posts the order is %s", orders.Items[0].Status)
	}
	// The API itself, from no browser at all, records the decision.
	if a := call(t, nil, "POST", path, admin, `{"decision":"approved","number":"PA-9"}`, "Content-Type", "application/json"); a.status != 200 {
		t.Errorf("decision without an Origin = %d %s", a.status, a.body)
	}
}

// With http.cors.allow_origins, a page on that origin gets CORS answers and may post.
func TestServe_CORSAllowed(t *testing.T) {
	const app = "https://console.example.org"
	cfg := new(config)
	cfg.HTTP.CORS.AllowOrigins = []string{app}
	admin := serveInProcess(t, cfg)
	base := "http://" + cfg.HTTP.Addr
	pre := call(t, nil, "OPTIONS", base+"/fhir/ServiceRequest", "", "", "Origin", app, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization, content-type")
	if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("preflight from %s = %d %v", app, pre.status, pre.header)
	}
	a := call(t, nil, "POST", base+"/fhir/ServiceRequest", admin, string(benchResource("CO", 1)), "Origin", app, "Sec-Fetch-Site", "cross-site")
	if a.status != http.StatusCreated || a.header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("POST from %s = %d, Access-Control-Allow-Origin %q", app, a.status, a.header.Get("Access-Control-Allow-Origin"))
	}
}

// auth.mode off serves without tokens on loopback, and serve will not start with it on
// any other address.
func TestServe_AuthOff(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true}, {"[::1]:8080", true}, {"localhost:8080", true}, {"127.0.0.2:8080", true},
		{":8080", false}, {"0.0.0.0:8080", false}, {"[::]:8080", false}, {"192.0.2.10:8080", false}, {"rb.example.org:8080", false},
	} {
		cfg := new(config)
		cfg.Auth.Mode, cfg.HTTP.Addr = "off", tc.addr
		cfg.defaults()
		err := cfg.validate()
		if tc.ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), "auth.mode off needs a loopback http.addr")) {
			t.Errorf("auth off on %s: validate = %v, want ok %v", tc.addr, err, tc.ok)
		}
	}
	path := filepath.Join(t.TempDir(), "radbridge.yaml")
	if err := os.WriteFile(path, []byte("auth: {mode: off}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	if code := cmdServe(t.Context(), []string{"--config", path, "--data", t.TempDir(), "--http-addr", "0.0.0.0:0"}, io.Discard, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "auth.mode off needs a loopback http.addr") {
		t.Errorf("serve with auth off on 0.0.0.0 = exit %d, %q; want 2 with the reason", code, stderr.String())
	}

	cfg := new(config)
	cfg.Auth.Mode = "off"
	if token := serveInProcess(t, cfg); token != "" {
		t.Error("auth off made an admin token")
	}
	if a := call(t, nil, "GET", "http://"+cfg.HTTP.Addr+"/api/orders", "", ""); a.status != 200 {
		t.Errorf("auth off: GET /api/orders without a token = %d, want 200", a.status)
	}
}
