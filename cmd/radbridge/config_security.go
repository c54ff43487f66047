package main

import (
	"crypto/tls"
	"fmt"
	"net/netip"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/internal/allowlist"
)

// destinationTLS is a destination's `tls` block: TLS 1.2 or later, the destination's
// certificate always verified. There is deliberately no insecure_skip_verify: results
// carry patient data, and a destination whose certificate does not verify gets nothing.
type destinationTLS struct {
	// CA is the PEM file of the CAs that may sign the destination's certificate; they
	// replace the system roots. Default: the system roots.
	CA string `yaml:"ca"`
	// Cert is the PEM file of radbridge's client certificate (chain), for mutual TLS;
	// set with key. Default: no client certificate.
	Cert string `yaml:"cert"`
	// Key is the PEM file of cert's private key. Default: none.
	Key string `yaml:"key"`
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

// senderRule is one entry of mllp.senders (engine.SenderRule): a connection that meets
// every condition the entry sets may send as facility. With the list set, a message
// whose MSH-4.1 no entry admits the connection for is answered AR and kept for audit.
type senderRule struct {
	// Facility is the MSH-4.1 value, exact. Required.
	Facility string `yaml:"facility"`
	// CIDRs are IP prefixes ("10.1.0.0/16") or addresses ("192.0.2.7") the connection
	// must come from. Default: any address.
	CIDRs []string `yaml:"cidrs"`
	// CertSubject is the verified client certificate's subject, in RFC 2253 form
	// ("CN=ris.hosp-a.example,O=Hospital A"), or its common name alone; it needs
	// mllp.tls.client_ca. Default: no certificate needed.
	CertSubject string `yaml:"cert_subject"`
}

// senders returns mllp.senders as the engine's rules.
func (c *config) senders() (engine.Senders, error) {
	var out engine.Senders
	for i, r := range c.MLLP.Senders {
		rule := engine.SenderRule{Facility: r.Facility, CertSubject: r.CertSubject}
		for _, s := range r.CIDRs {
			p, err := parsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("mllp.senders[%d].cidrs: %q is neither an IP prefix nor an address", i, s)
			}
			rule.CIDRs = append(rule.CIDRs, p)
		}
		out = append(out, rule)
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("mllp.senders: %w", err)
	}
	return out, nil
}

// parsePrefix reads "10.1.0.0/16", or an address as the prefix of that one address.
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// subscriptionsConfig is fhir.subscriptions: what R4 rest-hook Subscriptions may make
// radbridge call and send (engine.SubscriptionPolicy).
type subscriptionsConfig struct {
	// Allow lists URL prefixes ("https://app.example.org/hooks"); a channel endpoint must
	// lie under one: same scheme, host and port, and the prefix's path on a segment
	// boundary; userinfo, fragments, dot segments and encoded slashes are refused.
	// Default: none, so every Subscription is refused.
	Allow []string `yaml:"allow"`
	// AllowHeaders lists the header names a channel may ask to be sent with its
	// notifications (e.g. Authorization, for the subscriber's own token). Default: none;
	// a Subscription with any channel.header is refused.
	AllowHeaders []string `yaml:"allow_headers"`
}

// policy returns the engine's policy for the block.
func (s subscriptionsConfig) policy() (engine.SubscriptionPolicy, error) {
	urls, err := allowlist.New(s.Allow)
	if err != nil {
		return engine.SubscriptionPolicy{}, fmt.Errorf("fhir.subscriptions.allow: %w", err)
	}
	p := engine.SubscriptionPolicy{Allow: urls, AllowHeaders: s.AllowHeaders}
	if err := p.Validate(); err != nil {
		return engine.SubscriptionPolicy{}, fmt.Errorf("fhir.subscriptions.allow_headers: %w", err)
	}
	return p, nil
}

// validateSecurity checks the security settings added in wave 2.
func (c *config) validateSecurity() error {
	if _, err := c.senders(); err != nil {
		return err
	}
	if _, err := c.FHIR.Subscriptions.policy(); err != nil {
		return err
	}
	for i, r := range c.MLLP.Senders {
		if r.CertSubject != "" && c.MLLP.TLS.ClientCA == "" {
			return fmt.Errorf("mllp.senders[%d] (%s).cert_subject needs mllp.tls.client_ca: without it no client certificate is verified", i, r.Facility)
		}
	}
	return nil
}
