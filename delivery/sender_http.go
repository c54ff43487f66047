package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/radbridge/radbridge/store"
)

// maxDrain is how much of a response body HTTPSender reads so that the connection
// can be reused; a longer body is abandoned and its connection closed.
const maxDrain = 1 << 20

// HTTPSender sends "fhir" items to a FHIR R4 server: it POSTs the payload as
// application/fhir+json to {Base}/{resourceType} (a DiagnosticReport, or whatever
// resource the payload holds; a transaction or batch Bundle goes to {Base} itself),
// with the item's Key in the Idempotency-Key header (its ID when Key is empty).
//
// A 2xx answer is a delivery and its receipt is the status code ("201"). 5xx, 408,
// 429 and network errors are transient; a Retry-After header on them becomes a
// [*RetryAfterError]. Redirects are not followed, and 3xx and other 4xx answers are
// refusals ([*StatusError] wrapping [ErrRefused]). Response bodies are drained (up to
// 1 MiB) and closed, so connections are reused.
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
// the channel's header values ("Name: value"), added to every request.
type Hook struct {
	Payload bool
	Headers []string
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
	method, target, typ, body, err := s.request(it.Payload)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("fhir: %s %s: %w", method, typ, err)
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("Idempotency-Key", or(it.Key, it.ID))
	if s.Hook != nil {
		for _, h := range s.Hook.Headers {
			if name, value, ok := strings.Cut(h, ":"); ok && validType(strings.ReplaceAll(strings.TrimSpace(name), "-", "")) {
				req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
			}
		}
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("fhir: %s %s: %w", method, typ, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return strconv.Itoa(resp.StatusCode), nil
	}
	serr := &StatusError{Code: resp.StatusCode, Status: resp.Status}
	if !serr.Refused() {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		if wait, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now()); ok {
			return "", &RetryAfterError{Wait: wait, Err: serr}
		}
	}
	return "", serr
}

// Close closes the idle connections of the client's transport.
func (s *HTTPSender) Close() error {
	s.Client.CloseIdleConnections()
	return nil
}

// request returns the method, URL and body that deliver payload: a create (POST
// {Base}/{type}), or for a rest-hook an update (PUT {Base}/{type}/{id}) or an empty
// notification (POST {Base}).
func (s *HTTPSender) request(payload []byte) (method, url, typ string, body []byte, err error) {
	if s.Hook == nil {
		url, typ, err = s.target(payload)
		return http.MethodPost, url, typ, payload, err
	}
	if !s.Hook.Payload {
		return http.MethodPost, s.Base, "notification", nil, nil
	}
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if err := json.Unmarshal(payload, &head); err != nil || !validType(head.ResourceType) || head.ID == "" {
		return "", "", "", nil, errors.New("fhir: rest-hook payload needs a resourceType and an id")
	}
	return http.MethodPut, strings.TrimRight(s.Base, "/") + "/" + head.ResourceType + "/" + head.ID, head.ResourceType, payload, nil
}

// target returns the URL to POST payload to and the resource type it holds.
func (s *HTTPSender) target(payload []byte) (url, typ string, err error) {
	var head struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return "", "", fmt.Errorf("fhir: payload is not a FHIR resource: %w", err)
	}
	typ = head.ResourceType
	if !validType(typ) {
		return "", "", errors.New("fhir: payload has no valid resourceType")
	}
	base := strings.TrimRight(s.Base, "/")
	if typ == "Bundle" && (head.Type == "transaction" || head.Type == "batch") {
		return base, typ, nil
	}
	return base + "/" + typ, typ, nil
}

// validType reports whether s can be a FHIR resource type: a letter followed by
// letters, starting upper case, as in "DiagnosticReport".
func validType(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// parseRetryAfter reads a Retry-After header value (RFC 9110 §10.2.3): delay-seconds
// or an HTTP-date, which is turned into a wait from now. A date in the past is a wait
// of zero. ok is false when the value is absent or malformed.
func parseRetryAfter(v string, now time.Time) (wait time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		const maxSeconds = uint64(1<<63-1) / uint64(time.Second)
		n, err := strconv.ParseUint(v, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			n, err = maxSeconds, nil // absurdly long; the Worker's cap applies anyway
		}
		if err != nil {
			return 0, false
		}
		return time.Duration(min(n, maxSeconds)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
