package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/rules"
	"github.com/radbridge/radbridge/store/bolt"
)

// A failed store needs a restart: health and readiness say so, with the cause.
func TestHealth_StoreFailed(t *testing.T) {
	db, err := bolt.Open(bolt.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checker, err := rules.New(rules.Config{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Config{}, db, checker, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fh, err := fhir.NewHandler(fhir.Config{}, eng.FHIR(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var ready atomic.Bool
	ready.Store(true)
	var storeErr atomic.Pointer[error]
	srv := httptest.NewServer(httpRoutes(eng, checker, fh, prometheus.NewRegistry(), &ready, func() error {
		if p := storeErr.Load(); p != nil {
			return *p
		}
		return nil
	}))
	defer srv.Close()
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
	storeErr.Store(&fail)
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := get(p); code != http.StatusServiceUnavailable || !strings.Contains(body, "input/output error") {
			t.Errorf("%s on a failed store = %d %q, want 503 with the cause", p, code, body)
		}
	}
}
