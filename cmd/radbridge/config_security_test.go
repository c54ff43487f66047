package main

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/internal/testpki"
)

// loadTestConfig writes yaml to a file and loads, defaults and validates it.
func loadTestConfig(t *testing.T, yaml string) (*config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "radbridge.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	c.defaults()
	return c, c.validate()
}

func TestConfig_DestinationTLS(t *testing.T) {
	ca := testpki.NewCA(t, "EHR CA")
	cl := ca.Client(t, pkix.Name{CommonName: "radbridge"})
	c, err := loadTestConfig(t, `destinations:
  - name: ehr-a
    match: {sending_facility: HOSP_A}
    mllp: 127.0.0.1:6661
    tls: {ca: `+ca.File+`, cert: `+cl.CertFile+`, key: `+cl.KeyFile+`, server_name: ehr.example.org}
  - name: app-x
    match: {fhir_source: "https://app.example.org"}
    fhir: https://app.example.org/fhir
    tls: {ca: `+ca.File+`}
  - name: plain
    match: {sending_facility: HOSP_B}
    mllp: 127.0.0.1:6662
`)
	if err != nil {
		t.Fatal(err)
	}
	_, dc, err := c.delivery()
	if err != nil {
		t.Fatal(err)
	}
	mllpTLS, fhirTLS := dc.Destinations[0].TLS, dc.Destinations[1].TLS
	if mllpTLS == nil || mllpTLS.RootCAs == nil || len(mllpTLS.Certificates) != 1 || mllpTLS.ServerName != "ehr.example.org" ||
		mllpTLS.MinVersion != tls.VersionTLS12 || mllpTLS.InsecureSkipVerify {
		t.Errorf("mllp destination TLS = %+v, want the CA, a client certificate, the server name, TLS 1.2", mllpTLS)
	}
	if fhirTLS == nil || fhirTLS.RootCAs == nil || len(fhirTLS.Certificates) != 0 {
		t.Errorf("fhir destination TLS = %+v, want the CA and no client certificate", fhirTLS)
	}
	if dc.Destinations[2].TLS != nil {
		t.Errorf("destination without tls has TLS %+v", dc.Destinations[2].TLS)
	}

	for _, tc := range []struct{ name, tls, url, wantErr string }{
		{"no verification offered", "{insecure_skip_verify: true}", "mllp: h:1", "field insecure_skip_verify not found"},
		{"http url", "{ca: " + ca.File + "}", "fhir: http://app.example.org/fhir", "TLS needs an https FHIR URL"},
		{"missing ca", "{ca: " + t.TempDir() + "/none.pem}", "mllp: h:1", "destinations[0] (d).tls: delivery: reading CA"},
		{"cert without key", "{cert: " + cl.CertFile + "}", "mllp: h:1", "needs both Cert and Key"},
	} {
		_, err := loadTestConfig(t, "destinations:\n  - name: d\n    match: {sending_facility: A}\n    "+tc.url+"\n    tls: "+tc.tls+"\n")
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}
