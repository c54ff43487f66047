package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testPKI is a CA made in the test, with a server certificate for 127.0.0.1 and a
// client certificate it issued, in PEM files.
type testPKI struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	client                    tls.Certificate
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	writePEM := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	now := time.Now()
	caKey := newKey()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "radbridge test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		k := newKey()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	p := testPKI{caFile: writePEM("ca.pem", "CERTIFICATE", caDER), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	srvDER, srvKey := issue(2, "radbridge", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.certFile = writePEM("server.pem", "CERTIFICATE", srvDER)
	der, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	p.keyFile = writePEM("server.key", "PRIVATE KEY", der)
	cliDER, cliKey := issue(3, "ris-client", x509.ExtKeyUsageClientAuth, nil)
	p.client = tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}
	return p
}

// httpsClient is an HTTPS client that trusts the test CA, presenting certs.
func (p testPKI) httpsClient(maxVersion uint16, certs ...tls.Certificate) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: p.pool, Certificates: certs, MaxVersion: maxVersion}}}
}

// TestServe_HTTPS: serve answers HTTPS with the configured certificate, sends
// Strict-Transport-Security, and refuses TLS before 1.2; with client_ca, only clients
// with a certificate from that CA get an answer, and they still need a token.
func TestServe_HTTPS(t *testing.T) {
	pki := newTestPKI(t)
	t.Run("server certificate", func(t *testing.T) {
		cfg := new(config)
		cfg.HTTP.TLS.Cert, cfg.HTTP.TLS.Key = pki.certFile, pki.keyFile
		cfg.DataDir, cfg.MLLP.Addr, cfg.HTTP.Addr = t.TempDir(), loopbackPort(t), loopbackPort(t)
		token := serveConfigured(t, cfg, slog.New(slog.DiscardHandler), pki.httpsClient(0))
		base := "https://" + cfg.HTTP.Addr
		a := call(t, pki.httpsClient(0), "GET", base+"/api/orders", token, "")
		if a.status != 200 || a.header.Get("Strict-Transport-Security") == "" {
			t.Errorf("GET /api/orders over HTTPS = %d, Strict-Transport-Security %q; want 200 with HSTS", a.status, a.header.Get("Strict-Transport-Security"))
		}
		if a := call(t, pki.httpsClient(0), "GET", base+"/api/orders", "", ""); a.status != 401 {
			t.Errorf("GET /api/orders over HTTPS without a token = %d, want 401", a.status)
		}
		if _, err := pki.httpsClient(tls.VersionTLS11).Get(base + "/healthz"); err == nil {
			t.Error("a TLS 1.1 client was served")
		}
		if resp, err := http.Get("http://" + cfg.HTTP.Addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Error("plain HTTP was served on the HTTPS port")
			}
		}
	})
	t.Run("client certificates", func(t *testing.T) {
		cfg := new(config)
		cfg.HTTP.TLS.Cert, cfg.HTTP.TLS.Key, cfg.HTTP.TLS.ClientCA = pki.certFile, pki.keyFile, pki.caFile
		cfg.DataDir, cfg.MLLP.Addr, cfg.HTTP.Addr = t.TempDir(), loopbackPort(t), loopbackPort(t)
		token := serveConfigured(t, cfg, slog.New(slog.DiscardHandler), pki.httpsClient(0, pki.client))
		base := "https://" + cfg.HTTP.Addr
		if a := call(t, pki.httpsClient(0, pki.client), "GET", base+"/api/orders", token, ""); a.status != 200 {
			t.Errorf("with a client certificate and a token = %d, want 200", a.status)
		}
		if a := call(t, pki.httpsClient(0, pki.client), "GET", base+"/api/orders", "", ""); a.status != 401 {
			t.Errorf("with a client certificate, without a token = %d, want 401", a.status)
		}
		if resp, err := pki.httpsClient(0).Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			t.Errorf("a client without a certificate got %s", resp.Status)
		}
		other := newTestPKI(t) // a certificate from another CA
		cl := pki.httpsClient(0, other.client)
		if resp, err := cl.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			t.Errorf("a client with another CA's certificate got %s", resp.Status)
		}
	})
}
