package engine

import (
	"fmt"
	"net/textproto"
	"slices"
	"strings"

	"github.com/radbridge/radbridge/internal/allowlist"
)

// SubscriptionPolicy is what the operator lets R4 rest-hook Subscriptions make
// radbridge do. A Subscription names where radbridge sends results and what it sends
// with them, so both are the operator's to allow, not the client's to choose.
type SubscriptionPolicy struct {
	// Allow lists the URL prefixes a channel endpoint must lie under (see package
	// internal/allowlist for the matching). Nil or empty: no endpoint is allowed, so
	// every Subscription is refused.
	Allow *allowlist.URLs
	// AllowHeaders lists the header names (case-insensitive) a channel may ask to have
	// sent with its notifications, such as "Authorization" for the subscriber's own
	// bearer token. Names that frame or route a request (Host, Content-Length,
	// Transfer-Encoding, ...) are invalid. Default: none; a Subscription with any
	// channel.header is refused.
	AllowHeaders []string
}

// reservedHeaders are the header names radbridge sets itself or that frame, route or
// negotiate a request: no Subscription may set them.
var reservedHeaders = []string{"Accept", "Accept-Encoding", "Connection", "Content-Encoding", "Content-Length", "Content-Type",
	"Cookie", "Expect", "Forwarded", "Host", "Idempotency-Key", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"}

// Validate names the first header name that cannot be allowed.
func (p SubscriptionPolicy) Validate() error {
	for i, h := range p.AllowHeaders {
		switch {
		case !validToken(h):
			return fmt.Errorf("engine: Subscriptions.AllowHeaders[%d] %q is not a header name", i, h)
		case slices.Contains(reservedHeaders, textproto.CanonicalMIMEHeaderKey(h)):
			return fmt.Errorf("engine: Subscriptions.AllowHeaders[%d] %q is set by radbridge or frames the request; it cannot be allowed", i, h)
		}
	}
	return nil
}

// check says what the policy refuses in s, or "" when it allows it. It never quotes a
// header value: those are the subscriber's secrets.
func (p SubscriptionPolicy) check(s subscription) (expression, problem string) {
	if p.Allow.Len() == 0 {
		return "Subscription.channel.endpoint", "radbridge accepts no Subscriptions here: no endpoint is allowed; an operator allows endpoints by URL prefix with fhir.subscriptions.allow in the configuration"
	}
	if err := p.Allow.Check(s.Channel.Endpoint); err != nil {
		return "Subscription.channel.endpoint", "the endpoint is not allowed (" + err.Error() + "): radbridge sends only to " +
			"endpoints under the prefixes an operator lists in fhir.subscriptions.allow; nothing is sent there"
	}
	for i, line := range s.Channel.Header {
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		expr := fmt.Sprintf("Subscription.channel.header[%d]", i)
		switch {
		case !ok || !validToken(name):
			return expr, "a channel header must read \"Name: value\""
		case !validFieldValue(value):
			return expr, "the value of header " + name + " holds control characters"
		case !slices.ContainsFunc(p.AllowHeaders, func(h string) bool { return strings.EqualFold(h, name) }):
			allowed := "none are allowed"
			if len(p.AllowHeaders) > 0 {
				allowed = "allowed: " + strings.Join(p.AllowHeaders, ", ")
			}
			return expr, "header " + name + " is not allowed in notifications (" + allowed + "); an operator allows header names with fhir.subscriptions.allow_headers"
		}
	}
	return "", ""
}

// headers returns the channel's headers as "Name: value" lines with canonical names,
// for a Subscription the policy allows.
func (s subscription) headers() []string {
	var out []string
	for _, line := range s.Channel.Header {
		name, value, _ := strings.Cut(line, ":")
		out = append(out, textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))+": "+strings.TrimSpace(value))
	}
	return out
}

// validToken reports whether s is an RFC 9110 token, the syntax of a header name.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validFieldValue reports whether s may be sent as a header value: no control
// characters but horizontal tab.
func validFieldValue(s string) bool {
	for _, c := range []byte(s) {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
