package mllp

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testPKI is a throwaway CA with one server and one client certificate.
type testPKI struct {
	pool           *x509.CertPool
	server, client tls.Certificate
	caPEM          []byte
	serverPEM      [2][]byte // certificate, key
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	caKey, caCert, caDER := issue(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Test CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}, nil, nil)
	p := &testPKI{pool: x509.NewCertPool(), caPEM: pemBlock("CERTIFICATE", caDER)}
	p.pool.AddCert(caCert)

	srvKey, _, srvDER := issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "radbridge.test"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}, caCert, caKey)
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	p.serverPEM = [2][]byte{pemBlock("CERTIFICATE", srvDER), pemBlock("EC PRIVATE KEY", keyDER)}

	cliKey, _, cliDER := issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "ris-client", Organization: []string{"Test Hospital"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}, caCert, caKey)
	p.client = tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}
	return p
}

// issue creates a P-256 key and a certificate for it from tmpl, signed by
// parent (self-signed when parent is nil).
func issue(t testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert, der
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// infoHandler answers "ok" and passes each ConnInfo on.
func infoHandler(infos chan<- ConnInfo) Handler {
	return HandlerFunc(func(_ context.Context, _ []byte, info ConnInfo) ([]byte, error) {
		infos <- info
		return []byte("ok"), nil
	})
}

func TestServer_TLS_Handshake(t *testing.T) {
	checkGoroutines(t)
	pki := newTestPKI(t)
	infos := make(chan ConnInfo, 1)
	addr := startServer(t, &Server{
		Handler:   infoHandler(infos),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{pki.server}, MinVersion: tls.VersionTLS12},
	})
	c := &Client{Addr: addr, TLSConfig: &tls.Config{RootCAs: pki.pool}}
	t.Cleanup(func() { c.Close() })
	if ack, err := c.Send(t.Context(), []byte("MSH|tls")); err != nil || string(ack) != "ok" {
		t.Fatalf("Send() = %q, %v, want %q", ack, err, "ok")
	}
	if info := <-infos; info.TLS == nil || !info.TLS.HandshakeComplete || info.PeerSubject != "" || info.PeerCertificate != nil {
		t.Errorf("ConnInfo = %+v, want a completed TLS state and no peer subject", info)
	}
}

func TestServer_MTLS_PeerSubject(t *testing.T) {
	checkGoroutines(t)
	pki := newTestPKI(t)
	infos := make(chan ConnInfo, 1)
	addr := startServer(t, &Server{Handler: infoHandler(infos), TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{pki.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pki.pool,
	}})
	c := &Client{Addr: addr, TLSConfig: &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client}}}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Send(t.Context(), []byte("MSH|mtls")); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	info := <-infos
	if got, want := info.PeerSubject, "CN=ris-client,O=Test Hospital"; got != want {
		t.Errorf("PeerSubject = %q, want %q", got, want)
	}
	if info.PeerCertificate == nil || !bytes.Equal(info.PeerCertificate.Raw, pki.client.Certificate[0]) {
		t.Errorf("PeerCertificate = %v, want the client certificate", info.PeerCertificate)
	}
}

func TestServer_MTLS_RejectsMissingClientCert(t *testing.T) {
	checkGoroutines(t)
	pki := newTestPKI(t)
	infos := make(chan ConnInfo, 1)
	s := &Server{Handler: infoHandler(infos), TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{pki.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pki.pool,
	}}
	done := connDone(s)
	c := &Client{Addr: startServer(t, s), TLSConfig: &tls.Config{RootCAs: pki.pool}}
	t.Cleanup(func() { c.Close() })
	if ack, err := c.Send(t.Context(), []byte("MSH|anon")); err == nil {
		t.Fatalf("Send() without client certificate = %q, nil, want an error", ack)
	}
	recv(t, done)
	if st := s.Stats(); st.HandshakeErrors != 1 || st.Frames != 0 {
		t.Errorf("Stats() = %+v, want 1 handshake error, 0 frames", st)
	}
	if len(infos) != 0 {
		t.Error("handler was called for a rejected client")
	}
}

func TestTLSConfigFromFiles(t *testing.T) {
	checkGoroutines(t)
	pki := newTestPKI(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cert, key := write("server.pem", pki.serverPEM[0]), write("server.key", pki.serverPEM[1])
	ca, notPEM := write("ca.pem", pki.caPEM), write("empty.pem", []byte("not a certificate"))

	cfg, err := TLSConfigFromFiles(cert, key, ca)
	if err != nil {
		t.Fatalf("TLSConfigFromFiles() = %v", err)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("ClientAuth, MinVersion = %v, %v; want RequireAndVerifyClientCert, TLS 1.2", cfg.ClientAuth, cfg.MinVersion)
	}
	infos := make(chan ConnInfo, 1)
	c := &Client{
		Addr:      startServer(t, &Server{Handler: infoHandler(infos), TLSConfig: cfg}),
		TLSConfig: &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client}},
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Send(t.Context(), []byte("MSH|files")); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}

	for _, tc := range []struct{ name, cert, key, ca string }{
		{name: "missing cert", cert: filepath.Join(dir, "nope"), key: key},
		{name: "missing CA", cert: cert, key: key, ca: filepath.Join(dir, "nope")},
		{name: "CA without PEM", cert: cert, key: key, ca: notPEM},
	} {
		if _, err := TLSConfigFromFiles(tc.cert, tc.key, tc.ca); err == nil {
			t.Errorf("%s: TLSConfigFromFiles() = nil error, want one", tc.name)
		}
	}
}

func TestServer_ListenAndServeTLS_NoCertificate(t *testing.T) {
	s := &Server{Handler: echo, Addr: "127.0.0.1:0"}
	if err := s.ListenAndServeTLS("", ""); err == nil || errors.Is(err, ErrServerClosed) {
		t.Errorf("ListenAndServeTLS without certificate = %v, want a configuration error", err)
	}
}
