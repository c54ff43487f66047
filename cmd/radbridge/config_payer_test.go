package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// testJWKS is a JWKS with one new P-384 public key.
func testJWKS(t *testing.T) string {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Public(), KeyID: "k1"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConfig_PayerWorkflow(t *testing.T) {
	dir := t.TempDir()
	testJWKS := testJWKS(t)
	jwksFile := filepath.Join(dir, "ehr.jwks.json")
	if err := os.WriteFile(jwksFile, []byte(testJWKS), 0o600); err != nil {
		t.Fatal(err)
	}
	inline := strings.ReplaceAll(testJWKS, `"`, `'`)
	for _, tc := range []struct {
		name, yaml, wantErr string
	}{
		{name: "none", yaml: "data_dir: d\n"},
		{name: "payer with PAS and clocks", yaml: `prior_auth:
  payers:
    - id: AETNA01
      pas: {url: "https://payer.example.org/fhir", token_file: /run/secrets/aetna, inquire_after: 2h}
      decision: {expedited: 72h, standard: 168h}
      appeal_window: 1440h
`},
		{name: "bad PAS url", yaml: "prior_auth:\n  payers:\n    - {id: P, pas: {url: \"ftp://x\"}}\n", wantErr: "payers[0].pas.url"},
		{name: "clients", yaml: "cds_hooks:\n  base_url: https://radbridge.example.org\n  clients:\n    - {iss: 'https://ehr-a.example.org', jwks_file: " + jwksFile +
			"}\n    - {iss: 'https://ehr-b.example.org', jwks: " + inline + "}\n"},
		{name: "both jwks", yaml: "cds_hooks:\n  clients:\n    - {iss: x, jwks_file: " + jwksFile + ", jwks: " + inline + "}\n", wantErr: "exactly one of jwks and jwks_file"},
		{name: "missing file", yaml: "cds_hooks:\n  clients:\n    - {iss: x, jwks_file: " + filepath.Join(dir, "nope") + "}\n", wantErr: "jwks_file"},
		{name: "no iss", yaml: "cds_hooks:\n  clients:\n    - {jwks_file: " + jwksFile + "}\n", wantErr: "iss is empty"},
		{name: "unknown key", yaml: "cds_hooks:\n  client: []\n", wantErr: "field client not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "radbridge.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := loadConfig(path)
			if err == nil {
				c.defaults()
				err = c.validate()
			}
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("validate: %v", err)
			case tc.name == "payer with PAS and clocks":
				p := c.PriorAuth.Payers[0]
				if p.PAS == nil || p.PAS.InquireAfter != 2*time.Hour || p.DecisionWindow(true) != 72*time.Hour || p.Appeals() != 60*24*time.Hour {
					t.Errorf("payer profile %+v", p)
				}
			case tc.name == "clients":
				h, _ := c.cdsHooks()
				if len(h.Clients) != 2 || h.BaseURL != "https://radbridge.example.org" {
					t.Errorf("cds_hooks %+v", h)
				}
			}
		})
	}
}
