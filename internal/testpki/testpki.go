// Package testpki makes throwaway certificate authorities and certificates for tests
// that speak TLS over loopback: a CA, server certificates for 127.0.0.1 and localhost,
// and client certificates with a chosen subject, as values and as PEM files in a test's
// temporary directory. Only tests import it.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority that lives for one test.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// PEM is the CA certificate, PEM-encoded.
	PEM []byte
	// Pool holds the CA certificate alone.
	Pool *x509.CertPool
	// File is the path of PEM in the test's temporary directory.
	File string
}

// Leaf is a certificate issued by a CA, with its key.
type Leaf struct {
	Cert *x509.Certificate
	// TLS is the certificate and key for a tls.Config.
	TLS tls.Certificate
	// CertFile and KeyFile are the PEM files of the certificate and its key in the
	// test's temporary directory.
	CertFile, KeyFile string
}

var serial atomic.Int64

// NewCA returns a new CA named name (its subject's common name).
func NewCA(tb testing.TB, name string) *CA {
	tb.Helper()
	key, cert, der := issue(tb, &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}, nil, nil)
	ca := &CA{Cert: cert, key: key, PEM: pemBlock("CERTIFICATE", der), Pool: x509.NewCertPool()}
	ca.Pool.AddCert(cert)
	ca.File = writeFile(tb, "ca-*.pem", ca.PEM)
	return ca
}

// Server issues a server certificate for 127.0.0.1, ::1 and localhost.
func (ca *CA) Server(tb testing.TB) Leaf {
	tb.Helper()
	return ca.leaf(tb, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	})
}

// Client issues a client certificate with the given subject.
func (ca *CA) Client(tb testing.TB, subject pkix.Name) Leaf {
	tb.Helper()
	return ca.leaf(tb, &x509.Certificate{
		Subject:     subject,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	})
}

func (ca *CA) leaf(tb testing.TB, tmpl *x509.Certificate) Leaf {
	tb.Helper()
	key, cert, der := issue(tb, tmpl, ca.Cert, ca.key)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return Leaf{
		Cert:     cert,
		TLS:      tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert},
		CertFile: writeFile(tb, "cert-*.pem", pemBlock("CERTIFICATE", der)),
		KeyFile:  writeFile(tb, "key-*.pem", pemBlock("EC PRIVATE KEY", keyDER)),
	}
}

// issue creates a P-256 key and a certificate for it from tmpl, signed by parent
// (self-signed when parent is nil), valid from an hour ago for an hour.
func issue(tb testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano() + serial.Add(1))
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return key, cert, der
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func writeFile(tb testing.TB, pattern string, data []byte) string {
	tb.Helper()
	f, err := os.CreateTemp(tb.TempDir(), pattern)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := f.Chmod(0o600); err != nil {
		tb.Fatal(err)
	}
	return filepath.Clean(f.Name())
}
