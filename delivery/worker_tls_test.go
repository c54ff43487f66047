package delivery_test

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/internal/testpki"
	"github.com/radbridge/radbridge/store"
)

// serveMLLPTLS serves h over TLS with cfg on a loopback address and shuts the server
// down on cleanup.
func serveMLLPTLS(t testing.TB, cfg *tls.Config, h mllp.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &mllp.Server{Handler: h, TLSConfig: cfg}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown() = %v", err)
			s.Close()
		}
		if err := <-errc; !errors.Is(err, mllp.ErrServerClosed) {
			t.Errorf("Serve() = %v, want ErrServerClosed", err)
		}
	})
	return ln.Addr().String()
}

// subjects passes each message to p and records the verified client certificate subject
// of its connection.
type subjects struct {
	p    *provider
	seen chan string
}

func (s subjects) ServeMLLP(ctx context.Context, msg []byte, info mllp.ConnInfo) ([]byte, error) {
	s.seen <- info.PeerSubject
	return s.p.ServeMLLP(ctx, msg, info)
}

// An ORU^R01 goes over mutual TLS to a destination whose certificate the configured CA
// signed, and the destination sees radbridge's client certificate.
func TestWorker_Run_MLLPOverTLS(t *testing.T) {
	checkGoroutines(t)
	ca := testpki.NewCA(t, "Provider CA")
	srvCert := ca.Server(t)
	client := ca.Client(t, pkix.Name{CommonName: "radbridge", Organization: []string{"Imaging"}})
	p := &provider{code: hl7.AA}
	seen := make(chan string, 4)
	addr := serveMLLPTLS(t, &tls.Config{Certificates: []tls.Certificate{srvCert.TLS}, ClientCAs: ca.Pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}, subjects{p, seen})

	files := delivery.TLSFiles{CA: ca.File, Cert: client.CertFile, Key: client.KeyFile}
	tc, err := files.Config()
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	st := openStore(t, t.TempDir())
	ids := putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, "", oru("T1"))
	w := newWorker(t, st, clk, delivery.Config{Destinations: []delivery.Destination{{Name: "ehr", MLLP: addr, TLS: tc}}}, delivery.Deps{})
	stop := run(t, w)
	clk.waitIdle(t)
	stop()

	if got := item(t, st, ids[0]); got.State != store.OutboxDelivered || got.Receipt != "AA" || got.Attempts != 1 {
		t.Fatalf("item = %+v, want delivered with AA at the first attempt", got)
	}
	if _, accepted, _ := p.counts(); !slices.Equal(accepted, []string{"T1"}) {
		t.Errorf("provider accepted %q, want [T1]", accepted)
	}
	if got, want := <-seen, "CN=radbridge,O=Imaging"; got != want {
		t.Errorf("provider saw client certificate %q, want %q", got, want)
	}
}

// A destination whose certificate does not verify against the configured CA gets
// nothing: every attempt fails in the handshake, the item is retried on the backoff
// schedule and is dead after MaxAttempts, with the reason in LastError.
func TestWorker_Run_MLLPOverTLS_Unverified(t *testing.T) {
	checkGoroutines(t)
	trusted := testpki.NewCA(t, "Provider CA")
	impostor := testpki.NewCA(t, "Impostor CA").Server(t)
	p := &provider{code: hl7.AA}
	addr := serveMLLPTLS(t, &tls.Config{Certificates: []tls.Certificate{impostor.TLS}, MinVersion: tls.VersionTLS12}, p)

	tc, err := delivery.TLSFiles{CA: trusted.File}.Config()
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	st := openStore(t, t.TempDir())
	ids := putItems(t, st, clk.Now(), "ehr", delivery.KindHL7v2, "", oru("U1"))
	w := newWorker(t, st, clk, delivery.Config{MaxAttempts: 2, Destinations: []delivery.Destination{{Name: "ehr", MLLP: addr, TLS: tc}}}, delivery.Deps{})
	stop := run(t, w)
	tm := clk.next(t) // attempt 1 failed
	wantWait(t, tm, time.Second)
	if got := item(t, st, ids[0]); got.State != store.OutboxPending || got.Attempts != 1 || !strings.Contains(got.LastError, "certificate") {
		t.Fatalf("after one attempt: item = %+v, want pending with a certificate error", got)
	}
	clk.fire(tm)
	clk.waitIdle(t)
	stop()
	if got := item(t, st, ids[0]); got.State != store.OutboxDead || got.Attempts != 2 || !strings.Contains(got.LastError, "certificate signed by unknown authority") {
		t.Errorf("after MaxAttempts: item = %+v, want dead with the verification error", got)
	}
	if received, _, _ := p.counts(); len(received) != 0 {
		t.Errorf("the unverified destination received %q", received)
	}
}

// A FHIR destination over https: the DiagnosticReport reaches a server whose
// certificate the configured CA signed, with radbridge's client certificate; a server
// with another CA's certificate gets nothing.
func TestHTTPSender_Send_TLS(t *testing.T) {
	ca := testpki.NewCA(t, "App CA")
	client := ca.Client(t, pkix.Name{CommonName: "radbridge"})
	var got []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		cn := ""
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
			cn = r.TLS.VerifiedChains[0][0].Subject.CommonName
		}
		got = append(got, r.URL.Path+" "+cn)
		w.WriteHeader(http.StatusCreated)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t).TLS}, ClientCAs: ca.Pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()
	impostor := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the impostor received %s %s", r.Method, r.URL.Path)
	}))
	impostor.TLS = &tls.Config{Certificates: []tls.Certificate{testpki.NewCA(t, "Impostor CA").Server(t).TLS}}
	impostor.StartTLS()
	defer impostor.Close()

	tc, err := delivery.TLSFiles{CA: ca.File, Cert: client.CertFile, Key: client.KeyFile}.Config()
	if err != nil {
		t.Fatal(err)
	}
	it := &store.OutboxItem{ID: "o1", Kind: delivery.KindFHIR, Payload: []byte(`{"resourceType":"DiagnosticReport","status":"final"}`)}
	s := delivery.NewHTTPSender(srv.URL+"/fhir", tc)
	defer s.Close()
	if receipt, err := s.Send(t.Context(), it); err != nil || receipt != "201" {
		t.Fatalf("Send() = %q, %v, want 201", receipt, err)
	}
	if want := []string{"/fhir/DiagnosticReport radbridge"}; !slices.Equal(got, want) {
		t.Errorf("server saw %q, want %q", got, want)
	}
	bad := delivery.NewHTTPSender(impostor.URL+"/fhir", tc)
	defer bad.Close()
	if _, err := bad.Send(t.Context(), it); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Send to the impostor = %v, want a certificate error", err)
	}
}

func TestTLSFiles_Config(t *testing.T) {
	ca := testpki.NewCA(t, "CA")
	leaf := ca.Client(t, pkix.Name{CommonName: "c"})
	c, err := delivery.TLSFiles{ServerName: "ehr.example.org"}.Config()
	if err != nil || c.RootCAs != nil || c.MinVersion != tls.VersionTLS12 || c.ServerName != "ehr.example.org" || c.InsecureSkipVerify {
		t.Errorf("no CA: Config() = %+v, %v; want system roots, TLS 1.2, the server name", c, err)
	}
	for _, f := range []delivery.TLSFiles{
		{Cert: leaf.CertFile},               // no key
		{Key: leaf.KeyFile},                 // no certificate
		{CA: leaf.KeyFile},                  // not a certificate
		{CA: t.TempDir() + "/missing.pem"},  // no file
		{Cert: leaf.CertFile, Key: ca.File}, // not its key
	} {
		if _, err := f.Config(); err == nil {
			t.Errorf("Config(%+v) accepted it", f)
		}
	}
}
