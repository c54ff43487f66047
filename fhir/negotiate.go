package fhir

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/radbridge/radbridge/auth"
)

// formatKind classifies a media type or _format value.
type formatKind int

const (
	formatOther formatKind = iota
	formatJSON
	formatXML
	formatAny
)

// classify maps a media type (parameters already removed) or _format value to its kind.
func classify(s string) formatKind {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "json", "application/json", mediaFHIRJSON, "application/json+fhir", "text/json":
		return formatJSON
	case "xml", "application/xml", "application/fhir+xml", "application/xml+fhir", "text/xml":
		return formatXML
	case "*/*", "application/*":
		return formatAny
	}
	return formatOther
}

// negotiate checks that the client can take JSON: _format wins over Accept
// (https://hl7.org/fhir/R4/http.html#mime-type). It answers 406 otherwise.
func negotiate(r *http.Request) *Error {
	if f := r.URL.Query()["_format"]; len(f) > 0 {
		// An unescaped '+' (application/fhir+json) arrives as a space.
		v := strings.ReplaceAll(f[0], " ", "+")
		mt, _, err := mime.ParseMediaType(v)
		if err != nil {
			mt = v
		}
		switch classify(mt) {
		case formatJSON:
			return nil
		case formatXML:
			return errorf(http.StatusNotAcceptable, "not-supported", "", "_format=%s: this server speaks JSON only (application/fhir+json)", f[0])
		}
		return errorf(http.StatusNotAcceptable, "not-supported", "", "_format=%s is not supported; use json", f[0])
	}
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		return nil
	}
	for _, h := range accept {
		for part := range strings.SplitSeq(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok && strings.Trim(q, "0.") == "" {
				continue // q=0 means "not acceptable"
			}
			if k := classify(mt); (k == formatJSON || k == formatAny) && r4(params) {
				return nil
			}
		}
	}
	return errorf(http.StatusNotAcceptable, "not-supported", "",
		"Accept %q: this server answers application/fhir+json only", strings.Join(accept, ", "))
}

// checkContentType accepts application/fhir+json and application/json (and the DSTU2
// application/json+fhir) with an optional UTF-8 charset; anything else is 415.
func checkContentType(r *http.Request) *Error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return errorf(http.StatusUnsupportedMediaType, "not-supported", "", "Content-Type is required: application/fhir+json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return errorf(http.StatusUnsupportedMediaType, "not-supported", "", "Content-Type %q cannot be parsed", ct)
	}
	switch classify(mt) {
	case formatJSON:
	case formatXML:
		return errorf(http.StatusUnsupportedMediaType, "not-supported", "", "Content-Type %s: this server reads JSON only (application/fhir+json)", mt)
	default:
		return errorf(http.StatusUnsupportedMediaType, "not-supported", "", "Content-Type %s is not supported; use application/fhir+json", mt)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return errorf(http.StatusUnsupportedMediaType, "not-supported", "", "charset %s is not supported; FHIR JSON is UTF-8", cs)
	}
	if !r4(params) {
		return errorf(http.StatusUnsupportedMediaType, "not-supported", "", "fhirVersion %s is not supported; this server is FHIR 4.0", params["fhirversion"])
	}
	return nil
}

// r4 reports whether the fhirVersion media-type parameter, if any, names R4
// (https://hl7.org/fhir/R4/versioning.html#mt-version).
func r4(params map[string]string) bool {
	v, ok := params["fhirversion"] // mime.ParseMediaType lower-cases parameter names
	return !ok || v == "4.0" || strings.HasPrefix(v, "4.0.")
}

// readBody reads a JSON request body after the Content-Type check. The body is
// already limited by the limitBody middleware; exceeding it is 413. A UTF-8 byte
// order mark is dropped.
func readBody(r *http.Request) ([]byte, *Error) {
	if e := checkContentType(r); e != nil {
		return nil, e
	}
	b, err := readAll(r.Body, r.ContentLength)
	if err != nil {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, errorf(http.StatusRequestEntityTooLarge, "too-long", "", "request body exceeds %d bytes", mbe.Limit)
		}
		return nil, errorf(http.StatusBadRequest, "structure", "", "reading request body failed")
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errorf(http.StatusBadRequest, "required", "", "request body is empty")
	}
	return b, nil
}

// readAll reads body to its end. A body of declared length (which limitBody has
// checked against the limit) is read into one buffer of exactly that size, where
// io.ReadAll would grow one by doubling: for a 2.7 MB body, 2.7 MB allocated
// instead of about 6 MB. net/http stops the body at its declared length.
func readAll(body io.Reader, length int64) ([]byte, error) {
	if length <= 0 {
		return io.ReadAll(body)
	}
	b := make([]byte, length)
	n, err := io.ReadFull(body, b)
	return b[:n], err
}

// Return preferences (https://hl7.org/fhir/R4/http.html#ops, RFC 7240).
const (
	returnRepresentation = "representation"
	returnMinimal        = "minimal"
	returnOutcome        = "OperationOutcome"
)

// prefer holds the Prefer header values the handlers honour.
type prefer struct {
	Return string // representation (default), minimal or OperationOutcome
	Strict bool   // handling=strict: unknown search parameters are errors
}

// parsePrefer reads every Prefer header. Unknown preferences are ignored, as RFC 7240
// requires.
func parsePrefer(r *http.Request) prefer {
	p := prefer{Return: returnRepresentation}
	for _, h := range r.Header.Values("Prefer") {
		for tok := range strings.SplitSeq(h, ",") {
			tok, _, _ = strings.Cut(tok, ";") // preference parameters are not used
			k, v, _ := strings.Cut(strings.TrimSpace(tok), "=")
			v = strings.Trim(strings.TrimSpace(v), `"`)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "return":
				switch {
				case strings.EqualFold(v, returnMinimal):
					p.Return = returnMinimal
				case strings.EqualFold(v, returnOutcome):
					p.Return = returnOutcome
				case strings.EqualFold(v, returnRepresentation):
					p.Return = returnRepresentation
				}
			case "handling":
				p.Strict = strings.EqualFold(v, "strict")
			}
		}
	}
	return p
}

// normalizeIfMatch accepts W/"3", "3" and 3 and returns the weak form the Backend
// expects; ok is false for anything else.
func normalizeIfMatch(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", true
	}
	inner := strings.TrimPrefix(v, "W/")
	if strings.HasPrefix(inner, `"`) {
		if len(inner) < 3 || !strings.HasSuffix(inner, `"`) {
			return "", false
		}
		inner = inner[1 : len(inner)-1]
	} else if inner != v {
		return "", false
	}
	if !validID(inner) {
		return "", false
	}
	return `W/"` + inner + `"`, true
}

// validID reports whether s is a FHIR id: [A-Za-z0-9\-\.]{1,64}.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

type clientKey struct{}

// ContextWithClient returns a context that names the authenticated client for the
// FHIR handlers (CreateRequest.Client and friends). An authentication middleware in
// front of the Handler calls it; without it the client is the remote IP address.
func ContextWithClient(ctx context.Context, client string) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

// clientOf names the caller: the authenticated principal (auth.FromContext) or the
// client a middleware set with ContextWithClient, otherwise the remote IP (without
// the port, which changes per connection).
func clientOf(r *http.Request) string {
	if p := auth.FromContext(r.Context()); p != nil && p.Name != "" {
		return p.Name
	}
	if c, ok := r.Context().Value(clientKey{}).(string); ok && c != "" {
		return c
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
