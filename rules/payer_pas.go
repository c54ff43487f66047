package rules

import (
	"fmt"
	"net/url"
	"time"
)

// PAS is a payer's Da Vinci Prior Authorization Support (PAS) endpoint: radbridge
// POSTs the PAS Claim Bundle of an order that needs authorization to
// <URL>/Claim/$submit and reads the payer's ClaimResponse (package payer).
type PAS struct {
	// URL is the payer's FHIR base for PAS, e.g. "https://payer.example.org/fhir".
	// Required.
	URL string `json:"url" yaml:"url"`
	// TokenFile holds the bearer token sent to the payer (one line; read at start).
	// Default: none, no Authorization header.
	TokenFile string `json:"token_file,omitempty" yaml:"token_file,omitempty"`
	// InquireAfter is how long a pended request waits for the payer's notification
	// before radbridge asks with Claim/$inquire, and how long between inquiries.
	// Default: 4 hours; negative means never inquire.
	InquireAfter time.Duration `json:"inquire_after,omitempty" yaml:"inquire_after,omitempty"`
	// IdentifierSystem is the system of the Claim identifiers radbridge makes.
	// Default: "urn:radbridge:pas-claim".
	IdentifierSystem string `json:"identifier_system,omitempty" yaml:"identifier_system,omitempty"`
}

// DecisionWindows are how long a payer has to decide a prior-authorization request,
// counted from its submission (the CMS Interoperability and Prior Authorization final
// rule, CMS-0057-F: 72 hours expedited, 7 calendar days standard).
type DecisionWindows struct {
	// Expedited is the window for urgent, ASAP and stat orders. Default: 72 hours;
	// negative is invalid.
	Expedited time.Duration `json:"expedited,omitempty" yaml:"expedited,omitempty"`
	// Standard is the window for the others. Default: 7 days (168h); negative is
	// invalid.
	Standard time.Duration `json:"standard,omitempty" yaml:"standard,omitempty"`
}

// Defaults of the payer workflow fields.
const (
	DefaultInquireAfter = 4 * time.Hour
	DefaultAppealWindow = 180 * 24 * time.Hour
	DefaultClaimSystem  = "urn:radbridge:pas-claim"
)

// validateWorkflow checks the PAS, decision and appeal fields of a profile; it returns
// the bad field as ".pas.url" and the problem.
func (p PayerProfile) validateWorkflow() (field string, err error) {
	switch {
	case p.Decision.Expedited < 0:
		return ".decision.expedited", fmt.Errorf("%v is negative", p.Decision.Expedited)
	case p.Decision.Standard < 0:
		return ".decision.standard", fmt.Errorf("%v is negative", p.Decision.Standard)
	case p.AppealWindow < 0:
		return ".appeal_window", fmt.Errorf("%v is negative", p.AppealWindow)
	case p.PAS == nil:
		return "", nil
	}
	u, err := url.Parse(p.PAS.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return ".pas.url", fmt.Errorf("%q is not an http or https base URL", p.PAS.URL)
	}
	return "", nil
}

// DecisionWindow is how long the payer has to decide a request, expedited or not.
func (p PayerProfile) DecisionWindow(expedited bool) time.Duration {
	if expedited {
		return cmpOr(p.Decision.Expedited, DefaultDueExpedited)
	}
	return cmpOr(p.Decision.Standard, DefaultDueStandard)
}

// Appeals is how long after a denial an appeal may be filed.
func (p PayerProfile) Appeals() time.Duration { return cmpOr(p.AppealWindow, DefaultAppealWindow) }

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
