package auth

import (
	"slices"
	"strings"
	"testing"
)

// What each scope permits, written out letter by letter.
func TestScopes_Permits(t *testing.T) {
	all := []Interaction{Create, Read, Update, Delete, Search}
	for _, tc := range []struct {
		scope string
		typ   string
		want  string // the letters permitted on typ
	}{
		{"system/ServiceRequest.rs", "ServiceRequest", "rs"},
		{"system/ServiceRequest.rs", "Task", ""},
		{"system/ServiceRequest.c", "ServiceRequest", "c"},
		{"system/ServiceRequest.u", "ServiceRequest", "u"},
		{"system/ServiceRequest.d", "ServiceRequest", "d"},
		{"system/ServiceRequest.cruds", "ServiceRequest", "cruds"},
		{"system/ServiceRequest.cud", "ServiceRequest", "cud"},
		{"system/ServiceRequest.read", "ServiceRequest", "rs"},
		{"system/ServiceRequest.write", "ServiceRequest", "cud"},
		{"system/ServiceRequest.*", "ServiceRequest", "cruds"},
		{"system/*.rs", "Task", "rs"},
		{"system/*.cruds", "DiagnosticReport", "cruds"},
		{"system/*.read", "Subscription", "rs"},
		{"system/*.*", "Patient", "cruds"},
		// Not granted to backend clients, or not valid v2: nothing.
		{"user/ServiceRequest.rs", "ServiceRequest", ""},
		{"patient/ServiceRequest.read", "ServiceRequest", ""},
		{"patient/*.cruds", "ServiceRequest", ""},
		{"system/ServiceRequest.sr", "ServiceRequest", ""},
		{"system/ServiceRequest.rr", "ServiceRequest", ""},
		{"system/ServiceRequest.x", "ServiceRequest", ""},
		{"system/ServiceRequest.", "ServiceRequest", ""},
		{"system/ServiceRequest", "ServiceRequest", ""},
		{"system/serviceRequest.rs", "serviceRequest", ""},
		{"system/Observation.rs?category=laboratory", "Observation", ""},
		{"radbridge/api.read", "ServiceRequest", ""},
	} {
		s := NewScopes([]string{tc.scope})
		var got strings.Builder
		for _, in := range all {
			if s.Permits(tc.typ, in) {
				got.WriteByte(byte(in))
			}
		}
		if got.String() != tc.want {
			t.Errorf("%s on %s permits %q, want %q", tc.scope, tc.typ, got.String(), tc.want)
		}
	}
}

func TestScopes_Has(t *testing.T) {
	s := NewScopes([]string{ScopeAPIRead, "system/*.cruds", "radbridge/unknown"})
	for _, tc := range []struct {
		scope string
		want  bool
	}{
		{ScopeAPIRead, true},
		{ScopeAPIOperate, false},
		{ScopeAPIAdmin, false},
		{ScopePHIRead, false},
		{"radbridge/unknown", false},
		{"system/*.cruds", false}, // a FHIR scope, checked with Permits
	} {
		if got := s.Has(tc.scope); got != tc.want {
			t.Errorf("Has(%q) = %v, want %v", tc.scope, got, tc.want)
		}
	}
}

func TestScopes_Intersect(t *testing.T) {
	for _, tc := range []struct {
		allowed, requested, want string
	}{
		{"system/*.cruds radbridge/api.read", "system/ServiceRequest.rs", "system/ServiceRequest.rs"},
		{"system/ServiceRequest.rs", "system/ServiceRequest.read", "system/ServiceRequest.read"},
		{"system/ServiceRequest.rs", "system/ServiceRequest.cruds", "system/ServiceRequest.rs"},
		{"system/ServiceRequest.rs", "system/*.cruds", "system/ServiceRequest.rs"},
		{"system/ServiceRequest.rs system/Task.s", "system/*.rs", "system/ServiceRequest.rs system/Task.s"},
		{"system/ServiceRequest.c", "system/ServiceRequest.rs", ""},
		{"system/*.read", "system/Task.s radbridge/api.read", "system/Task.s"},
		{"radbridge/api.read radbridge/phi.read", "radbridge/api.read radbridge/api.admin", "radbridge/api.read"},
		{"system/*.cruds", "patient/ServiceRequest.rs user/*.cruds openid launch", ""},
	} {
		got := NewScopes(strings.Fields(tc.allowed)).Intersect(ParseScopes(tc.requested)).String()
		if got != tc.want {
			t.Errorf("%q ∩ %q = %q, want %q", tc.allowed, tc.requested, got, tc.want)
		}
	}
}

func TestCheckScope(t *testing.T) {
	for _, ok := range append(AllScopes(), "system/ServiceRequest.rs", "system/Task.read", "system/*.write", "system/ServiceRequest.c") {
		if err := CheckScope(ok); err != nil {
			t.Errorf("CheckScope(%q) = %v", ok, err)
		}
	}
	for scope, want := range map[string]string{
		"user/ServiceRequest.rs":          "not granted to backend clients",
		"patient/*.read":                  "not granted to backend clients",
		"system/Observation.rs?code=1234": "granular",
		"radbridge/api.write":             "unknown",
		"system/ServiceRequest.sr":        "want a radbridge/ scope",
		"openid":                          "want a radbridge/ scope",
	} {
		if err := CheckScope(scope); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckScope(%q) = %v, want an error with %q", scope, err, want)
		}
	}
}

func TestAllScopes(t *testing.T) {
	s := NewScopes(AllScopes())
	for _, sc := range radbridgeScopes {
		if !s.Has(sc) {
			t.Errorf("AllScopes lacks %s", sc)
		}
	}
	if !s.Permits("ServiceRequest", Delete) || !slices.Contains(AllScopes(), "system/*.cruds") {
		t.Error("AllScopes lacks system/*.cruds")
	}
}
