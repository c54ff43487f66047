package main

import (
	"crypto/tls"

	"github.com/radbridge/radbridge/delivery"
)

// destinationTLS is a destination's `tls` block: TLS 1.2 or later, the destination's
// certificate always verified. There is deliberately no insecure_skip_verify: results
// carry patient data, and a destination whose certificate does not verify gets nothing.
type destinationTLS struct {
	// CA is the PEM file of the CAs that may sign the destination's certificate; they
	// replace the system roots. Default: the system roots.
	CA string `yaml:"ca"`
	// Cert and Key are the PEM files of radbridge's client certificate and key, for
	// mutual TLS; both or neither. Default: no client certificate.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// ServerName is the name the destination's certificate must carry. Default: the
	// host of mllp or fhir.
	ServerName string `yaml:"server_name"`
}

// config reads the files; a nil block is no TLS.
func (t *destinationTLS) config() (*tls.Config, error) {
	if t == nil {
		return nil, nil
	}
	return delivery.TLSFiles{CA: t.CA, Cert: t.Cert, Key: t.Key, ServerName: t.ServerName}.Config()
}
