package rules

import (
	"strings"

	"github.com/radbridge/radbridge/order"
)

// signatureText says what signature evidence to send, in both dialects.
const signatureText = "The order carries no evidence that the ordering provider signed it: send the signer " +
	"(ORC-12), the time signed (ORC-9) and the authorization mode (ORC-30); in FHIR, the requester " +
	"and authoredOn, or a Provenance with a signature."

// checkSignature requires signature evidence (order.Signature.Present, which the
// mapping sets from ORC-12 + ORC-9 and ORC-30, or from a FHIR Provenance signature or
// requester + authoredOn). The finding points at the element most likely missing:
// the signature time (ORC-9 / ServiceRequest.authoredOn) when the signature has none
// (o.Authored does not count: the v2 mapping falls back to MSH-7 for it, which is not a
// signature time); else the signer (ORC-12 / ServiceRequest.requester) when neither the
// signature nor the order names one; else the authorization mode (ORC-30 /
// Provenance.signature).
func checkSignature(fs []order.Finding, o *order.Order) []order.Finding {
	s := &o.Signature
	if s.Present {
		return fs
	}
	loc, path := "ORC-30", "Provenance.signature"
	switch {
	case s.Time.IsZero():
		loc, path = "ORC-9", "ServiceRequest.authoredOn"
	case strings.TrimSpace(s.Signer) == "" && strings.TrimSpace(s.SignerNPI) == "" && !namesProvider(&o.Provider):
		loc, path = locProvider, fhirProvider
	}
	return append(fs, finding(CodeSignatureMissing, order.SeverityError, loc, path, signatureText))
}

func namesProvider(p *order.Provider) bool {
	return strings.TrimSpace(p.NPI) != "" || strings.TrimSpace(p.ID) != "" ||
		strings.TrimSpace(p.Family) != "" || strings.TrimSpace(p.Given) != ""
}
