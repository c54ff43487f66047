package allowlist

import "errors"

// ErrNotAllowed is matched (errors.Is) by every error of URLs.Check: the URL must not
// be called. The error's text says why.
var ErrNotAllowed = errors.New("URL not allowed")

// refusal is a reason to refuse a URL; it matches ErrNotAllowed.
type refusal string

func (r refusal) Error() string        { return string(r) }
func (r refusal) Is(target error) bool { return target == ErrNotAllowed }

// The reasons.
const (
	errSyntax   refusal = "not a valid URL"
	errScheme   refusal = "the scheme must be http or https"
	errHost     refusal = "the URL must be absolute, with a host"
	errUserinfo refusal = "userinfo (user@host) is not allowed"
	errFragment refusal = "a fragment (#...) is not allowed"
	errQuery    refusal = "a prefix has no query"
	errPath     refusal = "the path must not hold dot segments, encoded slashes or backslashes"
	errOutside  refusal = "not under any allowed prefix"
)
