package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/radbridge/radbridge/cdshooks"
)

// cdsHooksConfig is the cds_hooks section: the CDS Hooks service's clients.
type cdsHooksConfig struct {
	// BaseURL is radbridge's public base URL, the start of the aud its clients' JWTs
	// must carry ("<base_url>/cds-services/<id>"). Default: from each request's scheme
	// and Host; set it when radbridge is behind a proxy, and in production.
	BaseURL string `yaml:"base_url"`
	// Clients are the EHRs allowed to call the hooks, each with its JWT issuer and its
	// public keys: a JWKS inline (jwks) or in a file (jwks_file). Default: none, so
	// every hook call is refused (discovery stays open).
	Clients []cdsClient `yaml:"clients"`
}

type cdsClient struct {
	// Iss is the issuer its JWTs name (iss), e.g. the EHR's base URL. Required,
	// unique.
	Iss string `yaml:"iss"`
	// JWKS is its public key set, inline. Default: none; set this or jwks_file.
	JWKS map[string]any `yaml:"jwks"`
	// JWKSFile is a file holding its public key set as JSON. Default: none.
	JWKSFile string `yaml:"jwks_file"`
}

// cdsHooks builds the CDS Hooks service's configuration, reading the JWKS files.
func (c *config) cdsHooks() (cdshooks.Config, error) {
	out := cdshooks.Config{BaseURL: c.CDSHooks.BaseURL}
	for i, cl := range c.CDSHooks.Clients {
		var jwks []byte
		var err error
		switch {
		case (cl.JWKS == nil) == (cl.JWKSFile == ""):
			return out, fmt.Errorf("cds_hooks.clients[%d] (%s): set exactly one of jwks and jwks_file", i, cl.Iss)
		case cl.JWKSFile != "":
			if jwks, err = os.ReadFile(cl.JWKSFile); err != nil {
				return out, fmt.Errorf("cds_hooks.clients[%d].jwks_file: %w", i, err)
			}
		default:
			if jwks, err = json.Marshal(cl.JWKS); err != nil {
				return out, fmt.Errorf("cds_hooks.clients[%d].jwks: %w", i, err)
			}
		}
		out.Clients = append(out.Clients, cdshooks.Client{Issuer: cl.Iss, JWKS: jwks})
	}
	if err := out.Validate(); err != nil {
		return out, fmt.Errorf("cds_hooks: %w", err)
	}
	return out, nil
}
