package auth

import "context"

// Principal is who made a request: a token from the configuration or the admin token
// file (by its name), or a client of the token endpoint (by its id).
type Principal struct {
	// Name is the token's name or the client's id; the FHIR handlers namespace a
	// client's orders by it. It is empty when authentication is off.
	Name string
	// Client is true for an access token issued to a client of POST /auth/token.
	Client bool
	// Scopes are what the token grants.
	Scopes Scopes
}

// Has reports whether p holds scope, one of radbridge's. A nil p holds nothing.
func (p *Principal) Has(scope string) bool {
	return p != nil && p.Scopes.Has(scope)
}

// Permits reports whether p may perform in on resources of type typ. A nil p may not.
func (p *Principal) Permits(typ string, in Interaction) bool {
	return p != nil && p.Scopes.Permits(typ, in)
}

type principalKey struct{}

// NewContext returns a context that carries p. The middleware puts the authenticated
// principal there; handlers read it with FromContext.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of a request, or nil when the request came
// through no authentication, which handlers treat as holding no scope.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
