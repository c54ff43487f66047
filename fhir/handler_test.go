package fhir_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/auth"
	"github.com/radbridge/radbridge/fhir"
)

// testServer is a Handler over a memBackend behind a real HTTP listener.
type testServer struct {
	*httptest.Server
	be *memBackend
}

func newTestServer(t testing.TB, cfg fhir.Config) *testServer {
	t.Helper()
	return newScopedServer(t, cfg, auth.AllScopes()...)
}

// newScopedServer is newTestServer for a caller with scopes only.
func newScopedServer(t testing.TB, cfg fhir.Config, scopes ...string) *testServer {
	t.Helper()
	be := newMemBackend()
	h, err := fhir.NewHandler(cfg, be, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	r := mux.NewRouter()
	h.Routes(r)
	r.Use(withScopes(scopes...))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, be: be}
}

// withScopes is middleware that gives every request a principal with scopes, as the
// authentication middleware in front of the Handler does (package auth; its own tests
// and the server's cover the tokens).
func withScopes(scopes ...string) mux.MiddlewareFunc {
	p := &auth.Principal{Name: "test-client", Scopes: auth.NewScopes(scopes)}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), p)))
		})
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request; hdr holds header name/value pairs. Bodies are sent as
// application/fhir+json unless hdr sets Content-Type.
func (s *testServer) do(t testing.TB, method, path string, body []byte, hdr ...string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

type testOutcome struct {
	ResourceType string `json:"resourceType"`
	Issue        []struct {
		Severity    string   `json:"severity"`
		Code        string   `json:"code"`
		Diagnostics string   `json:"diagnostics"`
		Expression  []string `json:"expression"`
		Details     *struct {
			Coding []struct{ Code string } `json:"coding"`
		} `json:"details"`
	} `json:"issue"`
}

// wantOutcome checks that r is an OperationOutcome with the status, one issue at
// expression ("" for any; "-" for an issue without expression) whose diagnostics
// contain diag.
func wantOutcome(t testing.TB, r response, status int, expression, diag string) testOutcome {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/fhir+json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	var o testOutcome
	if err := json.Unmarshal(r.body, &o); err != nil || o.ResourceType != "OperationOutcome" || len(o.Issue) == 0 {
		t.Fatalf("body is not an OperationOutcome (%v): %s", err, r.body)
	}
	for _, is := range o.Issue {
		exprOK := expression == "" || (expression == "-" && len(is.Expression) == 0) ||
			(len(is.Expression) > 0 && is.Expression[0] == expression)
		if exprOK && strings.Contains(is.Diagnostics, diag) {
			return o
		}
	}
	t.Fatalf("no issue at %q with diagnostics containing %q: %s", expression, diag, r.body)
	return o
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ctHead(t testing.TB) []byte {
	return readFile(t, filepath.Join("..", "testdata", "fhir", "radbridge__servicerequest-ct-head.json"))
}

func TestHandler_Create_ReadBack(t *testing.T) {
	s := newTestServer(t, fhir.Config{BaseURL: "https://rb.example.org/fhir"})
	r := s.do(t, http.MethodPost, "/fhir/ServiceRequest", ctHead(t))
	if r.status != http.StatusCreated {
		t.Fatalf("POST status = %d, body %s", r.status, r.body)
	}
	if got, want := r.header.Get("Location"), "https://rb.example.org/fhir/ServiceRequest/1/_history/1"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got := r.header.Get("ETag"); got != `W/"1"` {
		t.Errorf(`ETag = %q, want W/"1"`, got)
	}
	if r.header.Get("Last-Modified") == "" {
		t.Error("no Last-Modified")
	}
	if ct := r.header.Get("Content-Type"); ct != "application/fhir+json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	g := s.do(t, http.MethodGet, "/fhir/ServiceRequest/1", nil)
	if g.status != http.StatusOK || g.header.Get("ETag") != `W/"1"` || !bytes.Equal(g.body, r.body) {
		t.Fatalf("GET = %d %q %s, want 200 with the created body", g.status, g.header.Get("ETag"), g.body)
	}
	if nm := s.do(t, http.MethodGet, "/fhir/ServiceRequest/1", nil, "If-None-Match", `W/"1"`); nm.status != http.StatusNotModified {
		t.Errorf("If-None-Match current version: status %d, want 304", nm.status)
	}
	if hd := s.do(t, http.MethodHead, "/fhir/ServiceRequest/1", nil); hd.status != http.StatusOK || len(hd.body) != 0 {
		t.Errorf("HEAD = %d with %d body bytes", hd.status, len(hd.body))
	}
	wantOutcome(t, s.do(t, http.MethodGet, "/fhir/ServiceRequest/99", nil), http.StatusNotFound, "", "not found")
	wantOutcome(t, s.do(t, http.MethodGet, "/fhir/ServiceRequest/a_b", nil), http.StatusBadRequest, "", "not a valid FHIR id")
}

// TestHandler_VRead_Location: the Location of a create names a version that reads
// back (vread), alone and in a batch; other versions are the backend's 404.
func TestHandler_VRead_Location(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	r := s.do(t, http.MethodPost, "/fhir/ServiceRequest", ctHead(t))
	loc := strings.TrimPrefix(r.header.Get("Location"), s.URL)
	if r.status != http.StatusCreated || loc != "/fhir/ServiceRequest/1/_history/1" {
		t.Fatalf("POST = %d, Location %q", r.status, r.header.Get("Location"))
	}
	g := s.do(t, http.MethodGet, loc, nil)
	if g.status != http.StatusOK || g.header.Get("ETag") != `W/"1"` || !bytes.Equal(g.body, r.body) {
		t.Fatalf("GET %s = %d %q %s, want 200 with the created body", loc, g.status, g.header.Get("ETag"), g.body)
	}
	wantOutcome(t, s.do(t, http.MethodGet, "/fhir/ServiceRequest/1/_history/2", nil), http.StatusNotFound, "", "not found")
	wantOutcome(t, s.do(t, http.MethodGet, "/fhir/ServiceRequest/1/_history/a_b", nil), http.StatusBadRequest, "", "not a valid FHIR id")
	wantOutcome(t, s.do(t, http.MethodPut, loc, ctHead(t)), http.StatusMethodNotAllowed, "", "not supported")
	batch := []byte(`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"ServiceRequest/1/_history/1"}},
	 {"request":{"method":"GET","url":"ServiceRequest/1/_history/3"}}]}`)
	b := decodeBundle(t, s.do(t, http.MethodPost, "/fhir", batch), "batch-response")
	if len(b.Entry) != 2 || b.Entry[0].Response.Status != "200 OK" || !bytes.Equal(b.Entry[0].Resource, r.body) || b.Entry[1].Response.Status != "404 Not Found" {
		t.Errorf("batch vread entries: %+v", b.Entry)
	}
}

func TestHandler_Create_Prefer(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	s.be.findings = []fhir.Issue{{Severity: "warning", Code: "required", Expression: "ServiceRequest.reasonCode",
		Diagnostics: "reason for exam missing", Details: "reason-missing"}}
	r := s.do(t, http.MethodPost, "/fhir/ServiceRequest", ctHead(t), "Prefer", "return=minimal")
	if r.status != http.StatusCreated || len(r.body) != 0 || r.header.Get("Location") == "" {
		t.Errorf("return=minimal: %d, %d body bytes, Location %q", r.status, len(r.body), r.header.Get("Location"))
	}
	r = s.do(t, http.MethodPost, "/fhir/ServiceRequest", ctHead(t), "Prefer", "return=OperationOutcome")
	o := wantOutcome(t, r, http.StatusCreated, "ServiceRequest.reasonCode", "reason for exam missing")
	if o.Issue[0].Severity != "information" || !strings.Contains(o.Issue[0].Diagnostics, "created ServiceRequest/2/_history/1") {
		t.Errorf("first issue = %+v, want the information issue naming the resource", o.Issue[0])
	}
	if d := o.Issue[1].Details; d == nil || len(d.Coding) != 1 || d.Coding[0].Code != "reason-missing" {
		t.Errorf("finding details = %+v, want code reason-missing", d)
	}
	r = s.do(t, http.MethodPost, "/fhir/ServiceRequest", ctHead(t), "Prefer", "respond-async, return=representation")
	if r.status != http.StatusCreated || !bytes.Contains(r.body, []byte(`"resourceType":"ServiceRequest"`)) {
		t.Errorf("return=representation: %d %s", r.status, r.body)
	}
}

// TestHandler_Create_ConditionalConcurrent proves the handler passes If-None-Exist
// through and maps Created to 201/200: 50 identical conditional creates, one resource.
func TestHandler_Create_ConditionalConcurrent(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	body := ctHead(t)
	const n = 50
	var wg sync.WaitGroup
	statuses := make([]int, n)
	locations := make([]string, n)
	for i := range n {
		wg.Go(func() {
			r := s.do(t, http.MethodPost, "/fhir/ServiceRequest", body,
				"If-None-Exist", "identifier=https://app.example.org/placer|ORD-2026-000417")
			statuses[i], locations[i] = r.status, r.header.Get("Location")
		})
	}
	wg.Wait()
	created := 0
	for i, st := range statuses {
		switch st {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("request %d: status %d", i, st)
		}
		if locations[i] != locations[0] {
			t.Errorf("request %d: Location %q, want %q", i, locations[i], locations[0])
		}
	}
	if created != 1 || len(s.be.byKey) != 1 {
		t.Errorf("%d answers 201 and %d resources stored, want 1 and 1", created, len(s.be.byKey))
	}
}

func TestHandler_Create_IfNoneExistInvalid(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	for _, tc := range []struct{ name, header, diag string }{
		{"unknown parameter", "placer=1", `parameter "placer" is not supported`},
		{"other type", "Patient?identifier=1", `names type "Patient"`},
		{"empty", "&", "must hold search parameters"},
		{"bad date", "authored=yesterday", "not a FHIR date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, http.MethodPost, "/fhir/ServiceRequest", ctHead(t), "If-None-Exist", tc.header)
			wantOutcome(t, r, http.StatusBadRequest, "", tc.diag)
		})
	}
	if r := s.do(t, http.MethodPost, "/fhir/ServiceRequest", ctHead(t), "If-None-Exist", "ServiceRequest?identifier=ORD-2026-000417"); r.status != http.StatusCreated {
		t.Errorf("If-None-Exist with a type prefix: status %d", r.status)
	}
	if n := s.be.calls.Load(); n != 1 {
		t.Errorf("backend called %d times, want 1", n)
	}
}

func TestHandler_Update_IfMatch(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	s.do(t, http.MethodPost, "/fhir/ServiceRequest", ctHead(t))
	body := bytes.Replace(ctHead(t), []byte(`"status": "active"`), []byte(`"id": "1", "status": "on-hold"`), 1)
	r := s.do(t, http.MethodPut, "/fhir/ServiceRequest/1", body, "If-Match", `W/"1"`)
	if r.status != http.StatusOK || r.header.Get("ETag") != `W/"2"` || !strings.HasSuffix(r.header.Get("Location"), "/ServiceRequest/1/_history/2") {
		t.Fatalf("PUT If-Match W/\"1\" = %d %q %q", r.status, r.header.Get("ETag"), r.header.Get("Location"))
	}
	wantOutcome(t, s.do(t, http.MethodPut, "/fhir/ServiceRequest/1", body, "If-Match", `W/"1"`), http.StatusPreconditionFailed, "", "version conflict")
	wantOutcome(t, s.do(t, http.MethodPut, "/fhir/ServiceRequest/1", body, "If-Match", `W/1`), http.StatusBadRequest, "", "If-Match")
	if r := s.do(t, http.MethodPut, "/fhir/ServiceRequest/1", body, "If-Match", `"2"`); r.status != http.StatusOK {
		t.Errorf(`If-Match "2" (strong form): status %d, want 200`, r.status)
	}
	wantOutcome(t, s.do(t, http.MethodPut, "/fhir/ServiceRequest/2", body), http.StatusBadRequest, "ServiceRequest.id", "does not match")
	wantOutcome(t, s.do(t, http.MethodPut, "/fhir/ServiceRequest/1", ctHead(t)), http.StatusBadRequest, "ServiceRequest.id", "must carry the resource id")
	newID := bytes.Replace(body, []byte(`"id": "1"`), []byte(`"id": "new-1"`), 1)
	if r := s.do(t, http.MethodPut, "/fhir/ServiceRequest/new-1", newID); r.status != http.StatusCreated {
		t.Errorf("update-as-create: status %d, want 201", r.status)
	}
}

func TestHandler_Negotiation(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	body := ctHead(t)
	for _, tc := range []struct {
		name, method, path string
		hdr                []string
		status             int
	}{
		{"fhir+xml body", "POST", "/fhir/ServiceRequest", []string{"Content-Type", "application/fhir+xml"}, 415},
		{"xml body", "POST", "/fhir/ServiceRequest", []string{"Content-Type", "text/xml"}, 415},
		{"form body", "POST", "/fhir/ServiceRequest", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415},
		{"latin-1 body", "POST", "/fhir/ServiceRequest", []string{"Content-Type", "application/fhir+json; charset=iso-8859-1"}, 415},
		{"json with charset", "POST", "/fhir/ServiceRequest", []string{"Content-Type", "application/json; charset=UTF-8"}, 201},
		{"accept xml", "GET", "/fhir/metadata", []string{"Accept", "application/fhir+xml"}, 406},
		{"accept json q=0", "GET", "/fhir/metadata", []string{"Accept", "application/fhir+json;q=0, application/xml"}, 406},
		{"_format=xml", "GET", "/fhir/metadata?_format=xml", nil, 406},
		{"_format=ttl", "GET", "/fhir/metadata?_format=ttl", nil, 406},
		{"_format wins over Accept", "GET", "/fhir/metadata?_format=json", []string{"Accept", "application/fhir+xml"}, 200},
		{"_format mime type", "GET", "/fhir/metadata?_format=application/fhir%2Bjson", nil, 200},
		{"_format unescaped +", "GET", "/fhir/metadata?_format=application/fhir+json", nil, 200},
		{"_format unescaped + xml", "GET", "/fhir/metadata?_format=application/fhir+xml", nil, 406},
		{"browser accept", "GET", "/fhir/metadata", []string{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, 200},
		{"accept json", "GET", "/fhir/metadata", []string{"Accept", "application/json"}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b []byte
			if tc.method == "POST" {
				b = body
			}
			r := s.do(t, tc.method, tc.path, b, tc.hdr...)
			if tc.status >= 400 {
				wantOutcome(t, r, tc.status, "", "")
			} else if r.status != tc.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tc.status, r.body)
			}
		})
	}
	if n := s.be.calls.Load(); n != 1 {
		t.Errorf("backend called %d times, want 1 (only the accepted create)", n)
	}
}

func TestHandler_Create_BodyTooLarge(t *testing.T) {
	s := newTestServer(t, fhir.Config{MaxBodyBytes: 1024})
	big := ctHead(t) // 2 KB
	wantOutcome(t, s.do(t, http.MethodPost, "/fhir/ServiceRequest", big), http.StatusRequestEntityTooLarge, "", "exceeds 1024 bytes")
	// Without Content-Length (chunked) the limit is hit while reading.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/fhir/ServiceRequest", io.MultiReader(bytes.NewReader(big)))
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantOutcome(t, response{resp.StatusCode, resp.Header, b}, http.StatusRequestEntityTooLarge, "", "exceeds 1024 bytes")
	wantOutcome(t, s.do(t, http.MethodPost, "/fhir", big), http.StatusRequestEntityTooLarge, "", "")
	if n := s.be.calls.Load(); n != 0 {
		t.Errorf("backend called %d times, want 0", n)
	}
}

func TestHandler_Routes_NotFoundAndMethods(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	wantOutcome(t, s.do(t, http.MethodGet, "/fhir/Medication/1", nil), http.StatusNotFound, "-", `"Medication" is not supported`)
	wantOutcome(t, s.do(t, http.MethodPost, "/fhir/Specimen", ctHead(t)), http.StatusNotFound, "-", `"Specimen" is not supported`)
	wantOutcome(t, s.do(t, http.MethodGet, "/fhir/ServiceRequest/1/_history", nil), http.StatusNotFound, "-", "no FHIR interaction")
	wantOutcome(t, s.do(t, http.MethodGet, "/fhir/ServiceRequest/_history", nil), http.StatusNotFound, "-", "no FHIR interaction")
	wantOutcome(t, s.do(t, http.MethodPost, "/fhir/ServiceRequest/$validate", ctHead(t)), http.StatusNotFound, "-", "no FHIR interaction")
	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/fhir/ServiceRequest/1", "GET, HEAD, PUT"},
		{"PATCH", "/fhir/ServiceRequest/1", "GET, HEAD, PUT"},
		{"PUT", "/fhir/DiagnosticReport/1", "GET, HEAD"},
		{"POST", "/fhir/Task", "GET, HEAD"},
		{"GET", "/fhir/Subscription", "POST"},
		{"GET", "/fhir", "POST"},
		{"POST", "/fhir/metadata", "GET, HEAD"},
		{"POST", "/fhir/Subscription/_search", ""},
		{"POST", "/fhir/Patient", ""}, // read-only: written by transactions only
		{"PUT", "/fhir/Patient/1", "GET, HEAD"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := s.do(t, tc.method, tc.path, nil)
			wantOutcome(t, r, http.StatusMethodNotAllowed, "-", "not supported")
			if got := r.header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
		})
	}
}

func TestNewHandler_Config(t *testing.T) {
	for _, cfg := range []fhir.Config{
		{BaseURL: "ftp://x/fhir"}, {BaseURL: "https://x/fhir?a=1"}, {MaxBodyBytes: -1},
		{DefaultCount: 50, MaxCount: 10}, {MaxCount: -1},
	} {
		if _, err := fhir.NewHandler(cfg, newMemBackend(), nil); err == nil {
			t.Errorf("NewHandler(%+v) succeeded, want an error", cfg)
		}
	}
	if _, err := fhir.NewHandler(fhir.Config{}, nil, nil); err == nil {
		t.Error("NewHandler with a nil Backend succeeded")
	}
}

// ExampleHandler_Routes mounts the FHIR API next to other routes.
func ExampleHandler_Routes() {
	h, err := fhir.NewHandler(fhir.Config{BaseURL: "https://rb.example.org/fhir"}, newMemBackend(), nil)
	if err != nil {
		panic(err)
	}
	r := mux.NewRouter()
	h.Routes(r)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/fhir/Medication", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output: 404 application/fhir+json; charset=utf-8
}

// failingBackend fails every call with err.
type failingBackend struct{ err error }

func (f failingBackend) Create(context.Context, fhir.CreateRequest) (fhir.Result, error) {
	return fhir.Result{}, f.err
}
func (f failingBackend) Update(context.Context, fhir.UpdateRequest) (fhir.Result, error) {
	return fhir.Result{}, f.err
}
func (f failingBackend) Read(context.Context, string, string) (fhir.Result, error) {
	return fhir.Result{}, f.err
}
func (f failingBackend) VRead(context.Context, string, string, string) (fhir.Result, error) {
	return fhir.Result{}, f.err
}
func (failingBackend) Observe(string, int, time.Time) {}
func (f failingBackend) Search(context.Context, string, fhir.Query) (fhir.SearchResult, error) {
	return fhir.SearchResult{}, f.err
}
func (f failingBackend) Transaction(context.Context, []fhir.Entry) ([]fhir.Result, error) {
	return nil, f.err
}

func TestHandler_BackendErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		diag   string
	}{
		{"unexpected error", errors.New("disk failed while storing Jane Doe"), 500, "internal error"},
		{"fhir.Error", &fhir.Error{Status: 409, Issues: []fhir.Issue{{Code: "conflict", Diagnostics: "illegal transition"}}}, 409, "illegal transition"},
		{"fhir.Error without issues", &fhir.Error{Status: 412}, 412, "Precondition Failed"},
		{"wrapped ErrNotFound", fmt.Errorf("read: %w", fhir.ErrNotFound), 404, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := fhir.NewHandler(fhir.Config{}, failingBackend{tc.err}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			s := &testServer{Server: srv}
			for _, req := range []struct{ method, path string }{
				{"POST", "/fhir/ServiceRequest"}, {"GET", "/fhir/ServiceRequest/1"}, {"GET", "/fhir/ServiceRequest"},
			} {
				var body []byte
				if req.method == "POST" {
					body = ctHead(t)
				}
				r := wantOutcome(t, s.do(t, req.method, req.path, body), tc.status, "", tc.diag)
				if b, _ := json.Marshal(r); bytes.Contains(b, []byte("Jane")) {
					t.Errorf("%s %s: the error text leaked: %s", req.method, req.path, b)
				}
			}
		})
	}
}

func TestHandler_FHIRVersion(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	wantOutcome(t, s.do(t, http.MethodGet, "/fhir/metadata", nil, "Accept", "application/fhir+json; fhirVersion=3.0"), http.StatusNotAcceptable, "-", "")
	wantOutcome(t, s.do(t, http.MethodPost, "/fhir/ServiceRequest", ctHead(t), "Content-Type", "application/fhir+json; fhirVersion=5.0"), http.StatusUnsupportedMediaType, "-", "fhirVersion 5.0")
	if r := s.do(t, http.MethodGet, "/fhir/metadata", nil, "Accept", "application/fhir+json; fhirVersion=4.0"); r.status != http.StatusOK {
		t.Errorf("fhirVersion=4.0: %d", r.status)
	}
}

func TestValidator(t *testing.T) {
	v, err := fhir.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	typ, verr := v.Validate([]byte(`{"resourceType":"ServiceRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"}}`))
	if typ != "ServiceRequest" || verr != nil {
		t.Errorf("valid ServiceRequest: %q, %v", typ, verr)
	}
	if _, verr := v.Validate([]byte(`{"resourceType":"ServiceRequest","status":"bogus","intent":"order","subject":{"reference":"Patient/1"}}`)); verr == nil || verr.Status != 422 || verr.Issues[0].Expression != "ServiceRequest.status" {
		t.Errorf("bad status: %+v", verr)
	}
	if _, verr := v.Validate([]byte(`{"resourceType":`)); verr == nil || verr.Status != 400 {
		t.Errorf("bad JSON: %+v", verr)
	}
}

// A condition no index serves is refused 412 before the body is read or the backend is
// asked; a type whose creates are not conditional says so.
func TestHandler_Create_IfNoneExistNotIndexed(t *testing.T) {
	s := newTestServer(t, fhir.Config{})
	r := s.do(t, http.MethodPost, "/fhir/ServiceRequest", ctHead(t), "If-None-Exist", "patient=Patient/p1&status=active")
	wantOutcome(t, r, http.StatusPreconditionFailed, "", "must name identifier")
	if n := s.be.calls.Load(); n != 0 {
		t.Errorf("backend called %d times, want 0", n)
	}
	r = s.do(t, http.MethodPost, "/fhir/DiagnosticReport", []byte(`{"resourceType":"DiagnosticReport","status":"final","code":{"text":"x"}}`), "If-None-Exist", "based-on=ServiceRequest/1")
	wantOutcome(t, r, http.StatusBadRequest, "", "conditional create is not supported for DiagnosticReport")
}

// BenchmarkHandler_CreateLarge posts a 2.7 MB ServiceRequest (the bench order with a
// contained Binary of clinical records) through the handler to the in-memory backend:
// what the HTTP side costs a large create before the engine's own work.
func BenchmarkHandler_CreateLarge(b *testing.B) {
	be := newMemBackend()
	h, err := fhir.NewHandler(fhir.Config{}, be, nil)
	if err != nil {
		b.Fatal(err)
	}
	body := largeServiceRequest(b, 2_700_000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/fhir/ServiceRequest", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/fhir+json")
		req.Header.Set("Prefer", "return=minimal")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			b.Fatalf("create: %d %s", w.Code, w.Body)
		}
		be.mu.Lock()
		clear(be.byKey) // keep the backend from growing over the run
		be.mu.Unlock()
	}
}

// largeServiceRequest is the bench ServiceRequest with a contained Binary holding
// base64 of pseudo-random bytes, about size bytes in all.
func largeServiceRequest(tb testing.TB, size int) []byte {
	tb.Helper()
	body, err := os.ReadFile("../testdata/fhir/radbridge__servicerequest-bench.json")
	if err != nil {
		tb.Fatal(err)
	}
	raw := make([]byte, (size-len(body))*3/4)
	for i := range raw {
		raw[i] = byte(i*7919 + i>>8)
	}
	bin := `{"resourceType":"Binary","id":"records","contentType":"application/pdf","data":"` + base64.StdEncoding.EncodeToString(raw) + `"},`
	body = bytes.Replace(body, []byte(`"contained":[`), []byte(`"contained":[`+bin), 1)
	return bytes.Replace(body, []byte(`"supportingInfo":[`), []byte(`"supportingInfo":[{"reference":"#records"},`), 1)
}

// TestHandler_Observe_EveryWriteAnswer: every answer to a write reaches Backend.Observe
// with its status, whoever gave it (negotiation, body limit, gate, router, Backend);
// reads and searches do not.
func TestHandler_Observe_EveryWriteAnswer(t *testing.T) {
	s := newTestServer(t, fhir.Config{MaxBodyBytes: 64 << 10})
	huge := bytes.Repeat([]byte(" "), 65<<10)
	tx := readFile(t, filepath.Join("..", "testdata", "fhir", "radbridge__transaction-order.json"))
	for _, tc := range []struct {
		method, path string
		body         []byte
		hdr          []string
		want         string // "" for none
	}{
		{"POST", "/fhir/ServiceRequest", ctHead(t), nil, "ServiceRequest 201"},
		{"GET", "/fhir/ServiceRequest/1", nil, nil, ""},
		{"GET", "/fhir/ServiceRequest?status=active", nil, nil, ""},
		{"POST", "/fhir/ServiceRequest/_search", []byte("status=active"), []string{"Content-Type", "application/x-www-form-urlencoded"}, ""},
		{"POST", "/fhir/ServiceRequest", []byte(`{"resourceType":"ServiceRequest"}`), nil, "ServiceRequest 422"},
		{"POST", "/fhir/ServiceRequest", []byte(`not json`), nil, "ServiceRequest 400"},
		{"POST", "/fhir/ServiceRequest", ctHead(t), []string{"If-None-Exist", "patient=Patient/1"}, "ServiceRequest 412"},
		{"POST", "/fhir/ServiceRequest", ctHead(t), []string{"Accept", "application/fhir+xml"}, "ServiceRequest 406"},
		{"POST", "/fhir/ServiceRequest", huge, nil, "ServiceRequest 413"},
		{"POST", "/fhir/ServiceRequest", ctHead(t), []string{"Content-Type", "text/plain"}, "ServiceRequest 415"},
		{"PUT", "/fhir/ServiceRequest/1", []byte(`{"resourceType":"ServiceRequest","id":"1","status":"active","intent":"order","subject":{"reference":"Patient/p1"}}`),
			[]string{"If-Match", `W/"7"`}, "ServiceRequest 412"},
		{"DELETE", "/fhir/ServiceRequest/1", nil, nil, "ServiceRequest 405"},
		{"POST", "/fhir/Patient", []byte(`{"resourceType":"Patient"}`), nil, "Patient 405"},
		{"POST", "/fhir/Medication", []byte(`{"resourceType":"Medication"}`), nil, "other 404"},
		{"POST", "/fhir", tx, nil, "Bundle 200"},
		{"POST", "/fhir", []byte(`{"resourceType":"Bundle","type":"collection"}`), nil, "Bundle 400"},
	} {
		s.do(t, tc.method, tc.path, tc.body, tc.hdr...)
		got := s.be.takeObserved()
		if want := []string{tc.want}; tc.want == "" && len(got) != 0 || tc.want != "" && !slices.Equal(got, want) {
			t.Errorf("%s %s %v: observed %q, want %q", tc.method, tc.path, tc.hdr, got, tc.want)
		}
	}
}
