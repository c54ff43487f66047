package allowlist_test

import (
	"errors"
	"testing"

	"github.com/radbridge/radbridge/internal/allowlist"
)

func TestURLs_Check(t *testing.T) {
	a, err := allowlist.New([]string{"https://good.example.org/fhir", "http://127.0.0.1:9000/", "https://HOOKS.example.net"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url  string
		want bool
	}{
		{"https://good.example.org/fhir", true},
		{"https://good.example.org/fhir/", true},
		{"https://good.example.org/fhir/hook/7", true},
		{"https://good.example.org:443/fhir/hook", true},
		{"https://GOOD.Example.ORG/fhir/hook", true},
		{"https://good.example.org/fhir/hook?token=1", true},
		{"http://127.0.0.1:9000/anything", true},
		{"https://hooks.example.net/", true},
		{"https://hooks.example.net", true},

		// Another host that begins or ends like the allowed one.
		{"https://good.example.org.evil.com/fhir", false},
		{"https://evil.com/good.example.org/fhir", false},
		{"https://notgood.example.org/fhir", false},
		{"https://good.example.org./fhir", false},
		// Userinfo: the request goes to the host after the @.
		{"https://good.example.org@evil.com/fhir", false},
		{"https://good.example.org:443@evil.com/fhir", false},
		{"https://user:pw@good.example.org/fhir", false},
		{"https://good.example.org\\@evil.com/fhir", false},
		{"https://evil.com#@good.example.org/fhir", false},
		{"https://good.example.org%40evil.com/fhir", false},
		// Paths beside or outside the allowed one.
		{"https://good.example.org/fhirevil", false},
		{"https://good.example.org/", false},
		{"https://good.example.org/admin", false},
		{"https://good.example.org/fhir/../admin", false},
		{"https://good.example.org/fhir/%2e%2e/admin", false},
		{"https://good.example.org/fhir/./x", false},
		{"https://good.example.org/fhir%2F..%2Fadmin", false},
		{"https://good.example.org/fhir\\..\\admin", false},
		{"https://good.example.org/fhir/x#frag", false},
		// Another scheme or port.
		{"http://good.example.org/fhir", false},
		{"https://good.example.org:8443/fhir", false},
		{"http://127.0.0.1:9001/", false},
		{"http://127.0.0.1/", false},
		{"http://localhost:9000/", false},
		{"ftp://good.example.org/fhir", false},
		// Not absolute URLs.
		{"//good.example.org/fhir", false},
		{"https:good.example.org/fhir", false},
		{"/fhir", false},
		{"", false},
		{"https://good.example.org/\tfhir", false},
	}
	for _, tc := range tests {
		err := a.Check(tc.url)
		if got := err == nil; got != tc.want {
			t.Errorf("Check(%q) = %v, want allowed %v", tc.url, err, tc.want)
		}
		if err != nil && !errors.Is(err, allowlist.ErrNotAllowed) {
			t.Errorf("Check(%q) = %v, which is not ErrNotAllowed", tc.url, err)
		}
		if got := a.Allows(tc.url); got != tc.want {
			t.Errorf("Allows(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestURLs_Check_Empty(t *testing.T) {
	for _, a := range []*allowlist.URLs{nil, {}, mustNew(t, nil)} {
		if err := a.Check("https://good.example.org/fhir"); !errors.Is(err, allowlist.ErrNotAllowed) {
			t.Errorf("empty list: Check = %v, want ErrNotAllowed", err)
		}
		if a.Len() != 0 {
			t.Errorf("empty list: Len = %d", a.Len())
		}
	}
}

func TestNew_Invalid(t *testing.T) {
	for _, p := range []string{
		"good.example.org", "https://", "ftp://good.example.org", "https://u@good.example.org",
		"https://good.example.org/?a=1", "https://good.example.org/#x", "https://good.example.org/a/../b", "/fhir",
	} {
		if _, err := allowlist.New([]string{p}); err == nil {
			t.Errorf("New(%q) accepted it", p)
		}
	}
}

func mustNew(t *testing.T, prefixes []string) *allowlist.URLs {
	t.Helper()
	a, err := allowlist.New(prefixes)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
