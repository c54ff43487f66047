package auth

import (
	"net/http"
	"slices"
	"strings"
)

// Need is what one request needs of its principal: a radbridge scope, a FHIR
// interaction on a resource type, or any system/ scope. The zero Need is met by no one.
type Need struct {
	scope   string
	typ     string
	in      Interaction
	anyFHIR bool
}

// NeedScope is a need for scope, one of radbridge's.
func NeedScope(scope string) Need { return Need{scope: scope} }

// NeedFHIR is a need for interaction in on resources of type typ.
func NeedFHIR(typ string, in Interaction) Need { return Need{typ: typ, in: in} }

// NeedAnyFHIR is a need for some system/ scope, whichever: POST /fhir, whose Bundle
// entries the handler checks one by one once it has read them.
func NeedAnyFHIR() Need { return Need{anyFHIR: true} }

// MetBy reports whether p meets n.
func (n Need) MetBy(p *Principal) bool {
	switch {
	case p == nil:
		return false
	case n.scope != "":
		return p.Has(n.scope)
	case n.typ != "":
		return p.Permits(n.typ, n.in)
	case n.anyFHIR:
		return p.Scopes.AnyFHIR()
	}
	return false
}

// String names the scope that meets n, for error messages.
func (n Need) String() string {
	switch {
	case n.scope != "":
		return n.scope
	case n.typ != "":
		return "system/" + n.typ + "." + string(rune(n.in))
	case n.anyFHIR:
		return "a system/ scope"
	}
	return "nothing this server grants"
}

// guarded is a route handler with what its requests need. The middleware reads it
// from the route; guarded itself only hands the request on.
type guarded struct {
	public bool
	need   func(*http.Request) Need
	next   http.Handler
}

func (g *guarded) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.next.ServeHTTP(w, r) }

// Public declares h a route anyone may use, with no token. Only the paths of a fixed
// allowlist are served so: /healthz, /readyz, /fhir/metadata,
// /.well-known/smart-configuration, /auth/token, GET /cds-services (and POST
// /cds-services/{id}, which checks its own JWT), /ui/login and
// /ui/assets/...; a route elsewhere declared Public is refused as if it had declared
// nothing.
func Public(h http.Handler) http.Handler { return &guarded{public: true, next: h} }

// Require declares that h's requests need scope, one of radbridge's; it panics on any
// other, which nobody could ever hold.
func Require(scope string, h http.Handler) http.Handler {
	if !slices.Contains(radbridgeScopes, scope) {
		panic("auth.Require: " + scope + " is not a radbridge scope")
	}
	n := NeedScope(scope)
	return &guarded{need: func(*http.Request) Need { return n }, next: h}
}

// RequireFunc declares that each request to h needs what need returns for it. need
// runs before the request's body is read and must not read it.
func RequireFunc(need func(*http.Request) Need, h http.Handler) http.Handler {
	return &guarded{need: need, next: h}
}

// publicPaths are the only paths that may be served without a token (DESIGN.md,
// "Security"): health and readiness, the FHIR CapabilityStatement, SMART discovery and
// the token endpoint, the CDS Hooks discovery document, and the web console's login
// page and assets. A prefix entry ends in "/".
var publicPaths = []struct {
	path    string
	methods string // "" means any
}{
	{path: "/healthz"},
	{path: "/readyz"},
	{path: "/fhir/metadata"},
	{path: "/.well-known/smart-configuration"},
	{path: "/auth/token"},
	{path: "/cds-services", methods: "GET HEAD"},
	// A CDS Hooks call carries the CDS client's JWT, not a token of ours (CDS Hooks 2.0
	// security); package cdshooks checks it before it reads the body.
	{path: "/cds-services/", methods: "POST"},
	{path: "/ui/login"},
	{path: "/ui/assets/"},
}

// publicPath reports whether r may be served without a token.
func publicPath(r *http.Request) bool {
	for _, p := range publicPaths {
		match := r.URL.Path == p.path
		if strings.HasSuffix(p.path, "/") {
			match = strings.HasPrefix(r.URL.Path, p.path) && len(r.URL.Path) > len(p.path)
		}
		if match && (p.methods == "" || strings.Contains(" "+p.methods+" ", " "+r.Method+" ")) {
			return true
		}
	}
	return false
}
