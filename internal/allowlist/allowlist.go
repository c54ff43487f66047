// Package allowlist decides whether radbridge may call a URL that a caller chose rather
// than the operator: the rest-hook endpoint of an R4 Subscription today, and any other
// URL a client can influence later (CDS Hooks or PAS endpoints). A URL may be called only
// when it lies under one of the prefixes the operator configured.
//
// # Matching
//
// A prefix is an absolute http or https URL with a host and without userinfo, query or
// fragment, such as "https://ehr.example.org/hooks". A URL is under it when
//   - the schemes are the same (https never allows http, nor the reverse);
//   - the hosts are the same, compared case-insensitively as whole names, so that
//     "https://ehr.example.org" allows neither "https://ehr.example.org.evil.test" nor
//     "https://evil.test/ehr.example.org";
//   - the ports are the same, an absent port being the scheme's default (80 or 443);
//   - the prefix's path is a prefix of the URL's on a segment boundary: "/hooks" allows
//     "/hooks", "/hooks/" and "/hooks/a", but not "/hooks2"; an empty path or "/" allows
//     every path of the origin.
//
// A URL is refused whatever the prefixes when it is not an absolute http or https URL
// with a host, or it carries userinfo ("https://ehr.example.org@evil.test" is a request
// to evil.test), a fragment, dot segments ("." or "..", also percent-encoded), an
// encoded slash or a backslash in its path: forms a server may resolve to a path the
// prefix does not cover. A query is allowed; it does not change where the request goes.
//
// # Caveats
//
// Hosts are compared as names, not addresses: a name the operator allows is trusted to
// resolve where the operator means. Internationalized names match only in the form the
// prefix is written in (punycode or not), and a trailing dot makes another name; both
// fail closed.
package allowlist

import (
	"fmt"
	"net/url"
	"strings"
)

// URLs is a list of allowed URL prefixes. The zero value allows nothing. It is not
// changed after New, and is safe for concurrent use.
type URLs struct {
	prefixes []prefix
}

// prefix is one allowed prefix, normalized.
type prefix struct {
	scheme, host, port string
	path               string // "" for the whole origin, else with no trailing slash
}

// New returns the list of prefixes, or an error naming the first that is not an
// absolute http or https URL with a host and without userinfo, query or fragment.
// An empty list allows nothing.
func New(prefixes []string) (*URLs, error) {
	a := &URLs{}
	for i, s := range prefixes {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("allowlist: prefix %d (%q): %w", i, s, err)
		}
		a.prefixes = append(a.prefixes, p)
	}
	return a, nil
}

func parsePrefix(s string) (prefix, error) {
	u, err := parse(s)
	if err != nil {
		return prefix{}, err
	}
	if u.RawQuery != "" || u.ForceQuery {
		return prefix{}, errQuery
	}
	p, err := normalize(u)
	if err != nil {
		return prefix{}, err
	}
	return p, nil
}

// Len returns the number of prefixes.
func (a *URLs) Len() int {
	if a == nil {
		return 0
	}
	return len(a.prefixes)
}

// Check returns nil when raw may be called, or an error wrapping ErrNotAllowed that says
// why not. The error does not quote raw, which may carry a token in its query.
func (a *URLs) Check(raw string) error {
	u, err := parse(raw)
	if err != nil {
		return err
	}
	c, err := normalize(u)
	if err != nil {
		return err
	}
	if a != nil {
		for _, p := range a.prefixes {
			if p.covers(c) {
				return nil
			}
		}
	}
	return errOutside
}

// Allows reports whether raw may be called: Check(raw) == nil.
func (a *URLs) Allows(raw string) bool { return a.Check(raw) == nil }

func (p prefix) covers(c prefix) bool {
	if p.scheme != c.scheme || p.host != c.host || p.port != c.port {
		return false
	}
	if p.path == "" {
		return true
	}
	rest, ok := strings.CutPrefix(c.path, p.path)
	return ok && (rest == "" || rest[0] == '/')
}

// parse parses an absolute http or https URL with a host, without userinfo or fragment.
func parse(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, errSyntax
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errScheme
	case u.Opaque != "" || u.Hostname() == "":
		return nil, errHost
	case u.User != nil:
		return nil, errUserinfo
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, errFragment
	}
	return u, nil
}

// normalize returns the parts of u that are compared, refusing paths that a server might
// resolve elsewhere.
func normalize(u *url.URL) (prefix, error) {
	escaped := strings.ToLower(u.EscapedPath())
	if strings.Contains(escaped, "%2f") || strings.Contains(escaped, "%5c") || strings.Contains(u.Path, `\`) {
		return prefix{}, errPath
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return prefix{}, errPath
		}
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return prefix{scheme: u.Scheme, host: strings.ToLower(u.Hostname()), port: port,
		path: strings.TrimRight(u.Path, "/")}, nil
}
