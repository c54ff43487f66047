package main

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/radbridge/radbridge/api"
	"github.com/radbridge/radbridge/auth"
	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/fhirserver"
	"github.com/radbridge/radbridge/rules"
	"github.com/radbridge/radbridge/store"
	"github.com/radbridge/radbridge/store/bolt"
)

// openEngine opens a store with cfg and an engine on it, closed at the end of the test.
func openEngine(t *testing.T, cfg bolt.Config) (*bolt.DB, *engine.Engine) {
	t.Helper()
	db, err := bolt.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	eng, err := engine.New(engine.Config{}, db, testChecker(t), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db, eng
}

func testChecker(t *testing.T) *rules.Checker {
	t.Helper()
	checker, err := rules.New(rules.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return checker
}

// routesServer serves httpHandler over eng and st on a test server, closed at the end
// of the test, with the configuration's tokens (auth.tokens) in ac and the admin token
// file in a temporary data directory; it returns the admin token too.
func routesServer(t *testing.T, eng *engine.Engine, st adminStore, ready bool) (*httptest.Server, string) {
	t.Helper()
	return routesServerAuth(t, eng, st, ready, auth.Config{})
}

func routesServerAuth(t *testing.T, eng *engine.Engine, st adminStore, ready bool, ac auth.Config) (*httptest.Server, string) {
	t.Helper()
	d := testDeps(t, eng, st, ready, ac)
	srv := httptest.NewServer(httpHandler(d.auth, httpRoutes(d.httpDeps)))
	t.Cleanup(srv.Close)
	return srv, adminToken(t, d.dataDir)
}

// testHTTPDeps are httpDeps with the data directory of their Authenticator.
type testHTTPDeps struct {
	httpDeps
	dataDir string
}

// testDeps is what httpRoutes serves: the FHIR and engine API handlers over eng and
// st, and an Authenticator with ac on a temporary data directory.
func testDeps(t *testing.T, eng *engine.Engine, st adminStore, ready bool, ac auth.Config) testHTTPDeps {
	t.Helper()
	fh, err := fhir.NewHandler(fhir.Config{}, fhirserver.New(eng, st), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Config{Engine: eng, Store: st, Preauth: testChecker(t)})
	if err != nil {
		t.Fatal(err)
	}
	ac.Dir, ac.Refuse, ac.ResourceTypes = t.TempDir(), authRefusal, fh.ResourceTypes()
	authn, err := auth.New(ac)
	if err != nil {
		t.Fatal(err)
	}
	r := new(atomic.Bool)
	r.Store(ready)
	return testHTTPDeps{httpDeps{api: a, fhir: fh, auth: authn, reg: prometheus.NewRegistry(), ready: r, store: st}, ac.Dir}
}

// adminToken returns the admin token serve created in dataDir, "" when there is none.
func adminToken(t *testing.T, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, auth.AdminTokenFile))
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// getAuth sends GET url with token as its bearer token.
func getAuth(t *testing.T, url, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// A failed store needs a restart: health and readiness say so, with the cause.
func TestHealth_StoreFailed(t *testing.T) {
	db, eng := openEngine(t, bolt.Config{Dir: t.TempDir()})
	st := &failingStore{DB: db}
	srv, _ := routesServer(t, eng, st, true)
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := get(p); code != http.StatusOK {
			t.Errorf("%s on a working store = %d %q", p, code, body)
		}
	}
	fail := errors.New("bolt: store failed, restart to recover: write-ahead log sync: input/output error")
	st.err.Store(&fail)
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := get(p); code != http.StatusServiceUnavailable || !strings.Contains(body, "input/output error") {
			t.Errorf("%s on a failed store = %d %q, want 503 with the cause", p, code, body)
		}
	}
}

// failingStore is the real store whose Err can be made to report a failure, which a
// real disk does not produce on demand.
type failingStore struct {
	*bolt.DB
	err atomic.Pointer[error]
}

func (s *failingStore) Err() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return s.DB.Err()
}

// GET /api/backup streams a database file that opens as a data directory of its own
// and holds what was acknowledged before it.
func TestAPI_Backup(t *testing.T) {
	db, eng := openEngine(t, bolt.Config{Dir: t.TempDir(), FlushInterval: time.Hour})
	ack, err := eng.HandleV2(t.Context(), []byte("MSH|^~\\&|EHR|HOSP_A|RADBRIDGE|IMG|20261101080000||ORM^O01|BK1|P|2.5.1\rPID|1||MRN1^^^HOSP_A^MR||DOE^JANE\rORC|NW|PL1\rOBR|1|PL1||70450^CT HEAD^C4\r"))
	if err != nil || !strings.Contains(string(ack), "MSA|A") {
		t.Fatalf("order not accepted: %q, %v", ack, err)
	}
	srv, token := routesServer(t, eng, db, false)
	resp := getAuth(t, srv.URL+"/api/backup", token)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("GET /api/backup = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	f.Close()
	copyDB, err := bolt.Open(bolt.Config{Dir: dir})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer copyDB.Close()
	err = copyDB.View(t.Context(), func(tx store.ReadTx) error {
		orders, n, err := tx.Orders(store.OrderQuery{Placer: "PL1"})
		if err != nil || n != 1 || orders[0].Placer != "PL1" {
			t.Errorf("orders in the backup: %d, %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// adminStore is a store with the administration methods the HTTP surface uses.
type adminStore interface {
	store.Store
	storeAdmin
}
