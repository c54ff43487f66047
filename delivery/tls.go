package delivery

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSFiles names the PEM files of a destination's client TLS configuration (the
// `tls` block of a destination in radbridge's configuration).
type TLSFiles struct {
	// CA is the PEM file of the certificate authorities that may sign the
	// destination's certificate. They replace the system roots rather than add to
	// them, so a destination pinned to a private CA cannot be impersonated by a
	// certificate from a public one. Default (empty): the system roots.
	CA string
	// Cert and Key are the PEM files of the client certificate chain and its private
	// key, for mutual TLS. Set both or neither. Default: no client certificate.
	Cert, Key string
	// ServerName is the name the destination's certificate must carry. Default: the
	// host of the destination's address (the MLLP host:port or the FHIR URL).
	ServerName string
}

// Config reads the files into a client tls.Config: TLS 1.2 or later, the destination's
// certificate always verified. There is deliberately no way to skip verification: the
// items carry patient data.
func (f TLSFiles) Config() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}
	if f.CA != "" {
		pem, err := os.ReadFile(f.CA)
		if err != nil {
			return nil, fmt.Errorf("delivery: reading CA: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("delivery: reading CA: no PEM certificate in %s", f.CA)
		}
	}
	switch {
	case (f.Cert == "") != (f.Key == ""):
		return nil, errors.New("delivery: a client certificate needs both Cert and Key")
	case f.Cert != "":
		kp, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("delivery: loading client key pair: %w", err)
		}
		c.Certificates = []tls.Certificate{kp}
	}
	return c, nil
}

// clientTLS returns a copy of c that speaks TLS 1.2 or later; nil stays nil.
func clientTLS(c *tls.Config) *tls.Config {
	if c == nil {
		return nil
	}
	c = c.Clone()
	c.MinVersion = max(c.MinVersion, tls.VersionTLS12)
	return c
}
