package auth

import (
	"fmt"
	"slices"
	"strings"
)

// radbridge's own scopes, for the engine API under /api and the metrics page.
const (
	// ScopeAPIRead reads the engine API: messages, orders, the outbox, the code check.
	ScopeAPIRead = "radbridge/api.read"
	// ScopeAPIOperate changes state through the engine API: reprocess a message, retry
	// or discard an outbox item, record an authorization decision or an appeal.
	ScopeAPIOperate = "radbridge/api.operate"
	// ScopeAPIAdmin administers the server: backups and configuration.
	ScopeAPIAdmin = "radbridge/api.admin"
	// ScopePHIRead shows patient identity and raw messages in the engine API; without
	// it they are masked.
	ScopePHIRead = "radbridge/phi.read"
	// ScopeMetricsRead reads /metrics, so that a metrics scraper needs no API access.
	ScopeMetricsRead = "radbridge/metrics.read"
)

// radbridgeScopes are the scopes of this server that are not FHIR's.
var radbridgeScopes = []string{ScopeAPIRead, ScopeAPIOperate, ScopeAPIAdmin, ScopePHIRead, ScopeMetricsRead}

// AllScopes returns every scope: radbridge's and system/*.cruds. The admin token has
// them all.
func AllScopes() []string {
	return append(slices.Clone(radbridgeScopes), "system/*.cruds")
}

// Interaction is a FHIR RESTful interaction by its letter in a SMART v2 scope.
type Interaction byte

// The interactions of SMART v2 scopes
// (https://hl7.org/fhir/smart-app-launch/STU2.2/scopes-and-launch-context.html).
const (
	Create Interaction = 'c' // create, conditional create
	Read   Interaction = 'r' // read, vread, history of an instance
	Update Interaction = 'u' // update, patch
	Delete Interaction = 'd' // delete
	Search Interaction = 's' // search, history of a type
)

// cruds is the order in which a v2 scope's letters must appear.
const cruds = "cruds"

// bit is the interaction's bit in an ops mask.
func (in Interaction) bit() uint8 {
	if i := strings.IndexByte(cruds, byte(in)); i >= 0 {
		return 1 << i
	}
	return 0
}

// fhirScope is a SMART system scope: a resource type (or "*") and the interactions it
// allows, as a mask of Interaction bits.
type fhirScope struct {
	typ string
	ops uint8
}

// parseFHIR parses a system/ scope in SMART v1 (read, write, *) or v2 (cruds letters,
// in that order) syntax. It reports false for anything else: user/ and patient/ scopes,
// which backend clients are never granted; granular v2 scopes (with a ?query), which
// this server does not enforce; and malformed ones.
func parseFHIR(s string) (fhirScope, bool) {
	rest, ok := strings.CutPrefix(s, "system/")
	if !ok {
		return fhirScope{}, false
	}
	typ, perm, ok := strings.Cut(rest, ".")
	if !ok || !validType(typ) {
		return fhirScope{}, false
	}
	switch perm {
	case "read":
		return fhirScope{typ, Read.bit() | Search.bit()}, true
	case "write":
		return fhirScope{typ, Create.bit() | Update.bit() | Delete.bit()}, true
	case "*":
		return fhirScope{typ, 1<<len(cruds) - 1}, true
	}
	var ops uint8
	last := -1
	for i := 0; i < len(perm); i++ {
		at := strings.IndexByte(cruds, perm[i])
		if at <= last {
			return fhirScope{}, false // unknown, repeated or out of order
		}
		last = at
		ops |= 1 << at
	}
	return fhirScope{typ, ops}, ops != 0
}

// validType reports whether s is "*" or shaped like a FHIR resource type name.
func validType(s string) bool {
	if s == "*" {
		return true
	}
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// String is the scope in v2 syntax.
func (f fhirScope) String() string {
	var b strings.Builder
	b.WriteString("system/" + f.typ + ".")
	for i := 0; i < len(cruds); i++ {
		if f.ops&(1<<i) != 0 {
			b.WriteByte(cruds[i])
		}
	}
	return b.String()
}

// CheckScope reports why s is not a scope this server grants, or nil when it is one:
// one of radbridge's, or a system/ scope in SMART v1 or v2 syntax.
func CheckScope(s string) error {
	if slices.Contains(radbridgeScopes, s) {
		return nil
	}
	if _, ok := parseFHIR(s); ok {
		return nil
	}
	switch {
	case strings.HasPrefix(s, "user/") || strings.HasPrefix(s, "patient/"):
		return fmt.Errorf("scope %q: user/ and patient/ scopes are not granted to backend clients; use system/", s)
	case strings.HasPrefix(s, "system/") && strings.Contains(s, "?"):
		return fmt.Errorf("scope %q: granular scopes (with a query) are not supported", s)
	case strings.HasPrefix(s, "radbridge/"):
		return fmt.Errorf("scope %q: unknown; radbridge's scopes are %s", s, strings.Join(radbridgeScopes, ", "))
	}
	return fmt.Errorf("scope %q: want a radbridge/ scope or system/TYPE.PERMISSIONS (SMART v1 read, write, * or v2 cruds letters)", s)
}

// Scopes is a set of granted scopes. The zero value grants nothing. A Scopes is
// immutable and safe for concurrent use.
type Scopes struct {
	list []string    // as granted, deduplicated
	fhir []fhirScope // the system/ scopes among them
}

// NewScopes returns the set of scopes in list. Scopes this server does not know are
// kept in the list but grant nothing.
func NewScopes(list []string) Scopes {
	var s Scopes
	for _, sc := range list {
		if sc == "" || slices.Contains(s.list, sc) {
			continue
		}
		s.list = append(s.list, sc)
		if f, ok := parseFHIR(sc); ok {
			s.fhir = append(s.fhir, f)
		}
	}
	return s
}

// ParseScopes splits an OAuth scope parameter (scopes separated by spaces).
func ParseScopes(param string) Scopes {
	return NewScopes(strings.Fields(param))
}

// Has reports whether scope, one of radbridge's, is granted.
func (s Scopes) Has(scope string) bool {
	return slices.Contains(radbridgeScopes, scope) && slices.Contains(s.list, scope)
}

// Permits reports whether the scopes allow interaction in on resources of type typ.
func (s Scopes) Permits(typ string, in Interaction) bool {
	return s.ops(typ)&in.bit() != 0
}

// ops is the mask of interactions the scopes allow on typ.
func (s Scopes) ops(typ string) uint8 {
	var ops uint8
	for _, f := range s.fhir {
		if f.typ == "*" || f.typ == typ {
			ops |= f.ops
		}
	}
	return ops
}

// AnyFHIR reports whether any system/ scope is granted.
func (s Scopes) AnyFHIR() bool { return len(s.fhir) > 0 }

// List returns the scopes as granted.
func (s Scopes) List() []string { return slices.Clone(s.list) }

// String is the scopes as an OAuth scope parameter.
func (s Scopes) String() string { return strings.Join(s.list, " ") }

// Intersect returns the scopes of requested that allowed grants: each radbridge scope
// that allowed holds, and of each system/ scope what allowed permits of it. A system/
// scope that allowed covers whole is granted as requested; one it covers in part is
// narrowed, in v2 syntax, to the interactions and types it does cover
// (system/*.cruds requested of a client allowed system/ServiceRequest.rs gives
// system/ServiceRequest.rs). Anything else is dropped.
func (s Scopes) Intersect(requested Scopes) Scopes {
	var out []string
	for _, sc := range requested.list {
		if s.Has(sc) {
			out = append(out, sc)
			continue
		}
		f, ok := parseFHIR(sc)
		if !ok {
			continue
		}
		if s.ops(f.typ)&f.ops == f.ops {
			out = append(out, sc)
			continue
		}
		for _, a := range s.fhir {
			typ := f.typ
			switch {
			case typ == "*":
				typ = a.typ
			case a.typ != "*" && a.typ != typ:
				continue
			}
			if ops := f.ops & a.ops; ops != 0 {
				out = append(out, fhirScope{typ, ops}.String())
			}
		}
	}
	return NewScopes(out)
}
