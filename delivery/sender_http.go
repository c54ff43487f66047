package delivery

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/store"
)

// HTTPSender sends "fhir" items to a FHIR R4 server: it POSTs the payload as
// application/fhir+json to {Base}/{resourceType} (a DiagnosticReport, or whatever
// resource the payload holds; a transaction or batch Bundle goes to {Base} itself),
// with the item's Key in the Idempotency-Key header (its ID when Key is empty).
//
// A 2xx answer is a delivery and its receipt is the status code ("201"). 5xx other
// than 501, 408, 429 and network errors are transient; a Retry-After header on them
// becomes a [*RetryAfterError]. Redirects are not followed, and 3xx, 501 and other 4xx
// answers are refusals ([ErrRefused] wrapping a [*fhir.StatusError]). The exchange itself is the fhir
// package's Client.Do: response bodies are drained (up to 1 MiB) and closed, so
// connections are reused.
//
// Set the fields before the first Send; HTTPSender is then safe for concurrent use.
type HTTPSender struct {
	// Base is the FHIR base URL, e.g. "https://ehr.example.org/fhir". Required.
	Base string
	// Client sends the requests. It must not follow redirects of a POST (see
	// NewHTTPSender). Required.
	Client *http.Client
	// Now reads the clock, to turn a Retry-After date into a wait. Nil means time.Now.
	Now func() time.Time
	// Hook, when set, makes the sender notify an R4 Subscription's rest-hook endpoint
	// (Base) instead of creating resources: see Hook. Default: nil.
	Hook *Hook
}

// Hook is how an R4 rest-hook Subscription wants its notifications (FHIR R4
// subscription.html, "rest-hook"): with a payload, the resource is sent as an update,
// PUT [endpoint]/[type]/[id]; without one, an empty POST to the endpoint. Headers are
// the channel's header values ("Name: value"), added to every request; a line that is
// not a valid header, holds control characters or names a header the sender sets
// itself (Idempotency-Key, Content-Type, Accept) is left out. Which headers a
// Subscription may ask for at all is the engine's policy (engine.SubscriptionPolicy).
type Hook struct {
	Payload bool
	Headers []string
}

// hookHeader splits a channel header line into a canonical name and its value,
// reporting false for one that must not be sent.
func hookHeader(line string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(line, ":")
	name, value = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(value)
	if !ok || name == "" || strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		return "", "", false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return "", "", false
		}
	}
	switch name {
	case "Idempotency-Key", "Content-Type", "Accept", "Host", "Content-Length", "Transfer-Encoding", "Connection":
		return "", "", false
	}
	return name, value, true
}

var _ Sender = (*HTTPSender)(nil)

// NewHTTPSender returns an HTTPSender for base with its own connection pool and client
// TLS configuration (nil means the system roots). The requests have no timeout of
// their own: Send's ctx bounds them.
func NewHTTPSender(base string, tlsConfig *tls.Config) *HTTPSender {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if tlsConfig != nil {
		t.TLSClientConfig = tlsConfig.Clone()
	}
	return &HTTPSender{
		Base: base,
		Client: &http.Client{
			Transport:     t,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Send implements Sender.
func (s *HTTPSender) Send(ctx context.Context, it *store.OutboxItem) (string, error) {
	if it.Kind != "" && it.Kind != KindFHIR {
		return "", fmt.Errorf("delivery: %q item for a FHIR destination: %w", it.Kind, ErrKind)
	}
	method, path, typ, body, err := s.request(it.Payload)
	if err != nil {
		return "", err
	}
	h := http.Header{"Idempotency-Key": {or(it.Key, it.ID)}}
	if len(body) > 0 {
		h.Set("Content-Type", "application/fhir+json")
	}
	if s.Hook != nil {
		for _, v := range s.Hook.Headers {
			if name, value, ok := hookHeader(v); ok && h.Get(name) == "" {
				h.Add(name, value)
			}
		}
	}
	resp, err := (&fhir.Client{Base: s.Base, HTTP: s.Client}).Do(ctx, method, path, body, h)
	if err != nil {
		return "", fmt.Errorf("fhir: %s %s: %w", method, typ, err)
	}
	if resp.Status >= 200 && resp.Status < 300 {
		return strconv.Itoa(resp.Status), nil
	}
	serr := &fhir.StatusError{Status: resp.Status, Issues: resp.Issues}
	if !serr.Retryable() {
		return "", fmt.Errorf("%w: %w", ErrRefused, serr)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if wait, ok := fhir.ParseRetryAfter(resp.Header.Get("Retry-After"), now()); ok {
		serr.RetryAfter = wait
		return "", &RetryAfterError{Wait: wait, Err: serr}
	}
	return "", serr
}

// Close closes the idle connections of the client's transport.
func (s *HTTPSender) Close() error {
	s.Client.CloseIdleConnections()
	return nil
}

// request returns the method, the path under Base and the body that deliver payload:
// a create (POST {Base}/{type}), or for a rest-hook an update (PUT {Base}/{type}/{id})
// or an empty notification (POST {Base}).
func (s *HTTPSender) request(payload []byte) (method, path, typ string, body []byte, err error) {
	if s.Hook == nil {
		path, typ, err = target(payload)
		return http.MethodPost, path, typ, payload, err
	}
	if !s.Hook.Payload {
		return http.MethodPost, "", "notification", nil, nil
	}
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if err := json.Unmarshal(payload, &head); err != nil || !fhir.ValidResourceType(head.ResourceType) || head.ID == "" {
		return "", "", "", nil, errors.New("fhir: rest-hook payload needs a resourceType and an id")
	}
	return http.MethodPut, head.ResourceType + "/" + head.ID, head.ResourceType, payload, nil
}

// target returns the path under Base to POST payload to (the base itself for a
// transaction or batch Bundle) and the resource type it holds.
func target(payload []byte) (path, typ string, err error) {
	var head struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return "", "", fmt.Errorf("fhir: payload is not a FHIR resource: %w", err)
	}
	typ = head.ResourceType
	if !fhir.ValidResourceType(typ) {
		return "", "", errors.New("fhir: payload has no valid resourceType")
	}
	if typ == "Bundle" && (head.Type == "transaction" || head.Type == "batch") {
		return "", typ, nil
	}
	return typ, typ, nil
}
