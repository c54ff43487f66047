package auth_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/auth"
)

// TestAdminToken_File: with no admin token in the configuration, the first start
// writes one (one line, 256 bits or more, mode 0600) and logs its path only; the next
// start takes the same one; it has every scope.
func TestAdminToken_File(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, auth.AdminTokenFile)
	s := newTestServer(t, auth.Config{Dir: dir})
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o, want 0600", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSuffix(string(b), "\n")
	if strings.ContainsAny(tok, " \n") || len(tok) < 43 { // 256 bits of base64
		t.Fatalf("admin token file holds %q, want one line of at least 43 characters", b)
	}
	logs := s.log.String()
	if !strings.Contains(logs, "admin token file created") || !strings.Contains(logs, path) || strings.Contains(logs, tok) {
		t.Errorf("log should name the file's path, never the token:\n%s", logs)
	}
	for _, tc := range []struct{ method, path string }{{"GET", "/read"}, {"POST", "/operate"}, {"POST", "/fhir/DiagnosticReport"}} {
		if r := s.do(t, tc.method, tc.path, "", bearer(tok)...); r.status != 200 || r.body != "ok admin" {
			t.Errorf("admin token: %s %s = %d %q, want 200 as admin", tc.method, tc.path, r.status, r.body)
		}
	}

	again := newTestServer(t, auth.Config{Dir: dir})
	if b2, _ := os.ReadFile(path); string(b2) != string(b) {
		t.Errorf("second start rewrote the admin token file")
	}
	if r := again.do(t, "GET", "/read", "", bearer(tok)...); r.status != 200 {
		t.Errorf("admin token after a restart = %d", r.status)
	}
	if !strings.Contains(again.log.String(), "admin token file in use") {
		t.Errorf("second start does not log the file in use:\n%s", again.log.String())
	}
}

// A configured token with radbridge/api.admin replaces the file; so does auth off.
func TestAdminToken_NotWhenConfigured(t *testing.T) {
	_, admin := testToken(t, "ops", auth.ScopeAPIAdmin)
	for name, cfg := range map[string]auth.Config{
		"configured": {Dir: t.TempDir(), Tokens: []auth.Token{admin}},
		"off":        {Dir: t.TempDir(), Off: true},
	} {
		if _, err := auth.New(cfg); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(cfg.Dir, auth.AdminTokenFile)); !os.IsNotExist(err) {
			t.Errorf("%s: admin token file made (%v)", name, err)
		}
	}
	_, reader := testToken(t, "reader", auth.ScopeAPIRead)
	dir := t.TempDir()
	if _, err := auth.New(auth.Config{Dir: dir, Tokens: []auth.Token{reader}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, auth.AdminTokenFile)); err != nil {
		t.Errorf("no admin token file though the configured token is not admin: %v", err)
	}
}

// Secret files others may read are refused.
func TestSecretFiles_Mode(t *testing.T) {
	for _, name := range []string{auth.AdminTokenFile, auth.SigningKeyFile} {
		dir := t.TempDir()
		if _, err := auth.New(auth.Config{Dir: dir, Log: slog.New(slog.DiscardHandler)}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want 0600", name, err, st.Mode())
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := auth.New(auth.Config{Dir: dir}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("%s readable by others: New = %v, want a refusal", name, err)
		}
	}
}
