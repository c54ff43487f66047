package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func TestConfig_StoreFlushInterval(t *testing.T) {
	for _, tc := range []struct {
		yaml    string
		want    time.Duration
		wantErr string
	}{
		{"data_dir: d\n", 0, ""}, // the store's default
		{"store:\n  flush_interval: 5ms\n", 5 * time.Millisecond, ""},
		{"store:\n  flush_interval: -1s\n", 0, "store.flush_interval must not be negative"},
		{"store:\n  flush_intervall: 5ms\n", 0, "field flush_intervall not found"},
	} {
		path := filepath.Join(t.TempDir(), "radbridge.yaml")
		if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(path)
		if err == nil {
			c.defaults()
			err = c.validate()
		}
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.yaml, err)
		case c.Store.FlushInterval != tc.want:
			t.Errorf("%q: flush interval %v, want %v", tc.yaml, c.Store.FlushInterval, tc.want)
		}
	}
}

func TestConfig_MLLPLimits(t *testing.T) {
	type limits struct {
		maxSize, conns, perAddr int
		idle, read              time.Duration
		budget                  int64
	}
	for _, tc := range []struct {
		name    string
		yaml    string
		want    limits
		wantErr string
	}{
		{name: "defaults", yaml: "data_dir: d\n",
			want: limits{16 << 20, 256, 32, 5 * time.Minute, 2 * time.Minute, 64 << 20}},
		{name: "set", yaml: "mllp: {max_message_size: 1048576, max_conns: 10, max_conns_per_addr: 2, idle_timeout: 90s, read_timeout: 10s, frame_budget: 2097152}\n",
			want: limits{1 << 20, 10, 2, 90 * time.Second, 10 * time.Second, 2 << 20}},
		{name: "budget follows the size cap", yaml: "mllp: {max_message_size: 1048576}\n",
			want: limits{1 << 20, 256, 32, 5 * time.Minute, 2 * time.Minute, 4 << 20}},
		{name: "negative means none", yaml: "mllp: {max_conns: -1, max_conns_per_addr: -1, idle_timeout: -1s, read_timeout: -1s, frame_budget: -1}\n",
			want: limits{16 << 20, -1, -1, -time.Second, -time.Second, -1}},
		{name: "budget below the size cap", yaml: "mllp: {frame_budget: 1048576}\n",
			wantErr: "mllp.frame_budget 1048576 is below mllp.max_message_size 16777216"},
		{name: "negative size", yaml: "mllp: {max_message_size: -1}\n", wantErr: "mllp.max_message_size and shutdown_grace must not be negative"},
		{name: "unknown key", yaml: "mllp: {max_con: 3}\n", wantErr: "field max_con not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "radbridge.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := loadConfig(path)
			if err == nil {
				c.defaults()
				err = c.validate()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.yaml, err)
			}
			m := c.MLLP
			if got := (limits{m.MaxMessageSize, m.MaxConns, m.MaxConnsPerAddr, m.IdleTimeout, m.ReadTimeout, m.FrameBudget}); got != tc.want {
				t.Errorf("%q: mllp limits %+v, want %+v", tc.yaml, got, tc.want)
			}
		})
	}
}

func TestConfig_HTTPLargeBodies(t *testing.T) {
	for _, tc := range []struct {
		name      string
		yaml      string
		threshold int64
		slots     int
		wantErr   string
	}{
		{name: "defaults", yaml: "data_dir: d\n", threshold: 1 << 20, slots: max(runtime.NumCPU()/2, 1)},
		{name: "set", yaml: "http: {large_body: 65536, max_concurrent_large_bodies: 8}\n", threshold: 64 << 10, slots: 8},
		{name: "no cap", yaml: "http: {max_concurrent_large_bodies: -1}\n", threshold: 1 << 20, slots: -1},
		{name: "negative threshold", yaml: "http: {large_body: -1}\n", wantErr: "http.large_body must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "radbridge.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := loadConfig(path)
			if err == nil {
				c.defaults()
				err = c.validate()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.yaml, err)
			}
			if c.HTTP.LargeBody != tc.threshold || c.HTTP.MaxConcurrentLargeBodies != tc.slots {
				t.Errorf("%q: large_body %d, max_concurrent_large_bodies %d; want %d, %d",
					tc.yaml, c.HTTP.LargeBody, c.HTTP.MaxConcurrentLargeBodies, tc.threshold, tc.slots)
			}
		})
	}
}

func TestConfig_Auth(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := json.Marshal(jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	ecJWK := string(jwk)
	jwksFile := filepath.Join(dir, "client.jwks.json")
	if err := os.WriteFile(jwksFile, []byte(`{"keys":[`+ecJWK+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	hash := strings.Repeat("ab", 32)
	good := `auth:
  mode: on
  issuer: https://rb.example.org
  tokens:
    - {name: scraper, sha256: ` + hash + `, scopes: [radbridge/metrics.read]}
  clients:
    - id: inline-map
      jwks: {keys: [` + ecJWK + `]}
      scopes: [system/ServiceRequest.cruds]
    - id: inline-json
      jwks: '{"keys":[` + ecJWK + `]}'
      scopes: [system/*.rs]
    - {id: from-file, jwks_file: ` + jwksFile + `, scopes: [system/Task.read]}
http:
  cors: {allow_origins: ["https://console.example.org"]}
`
	for _, tc := range []struct {
		name, yaml, wantErr string
	}{
		{name: "good", yaml: good},
		{name: "defaults", yaml: "data_dir: d\n"},
		{name: "mode", yaml: "auth: {mode: maybe}\n", wantErr: `auth.mode "maybe": want on or off`},
		{name: "off elsewhere", yaml: "auth: {mode: off}\nhttp: {addr: \":8080\"}\n", wantErr: "auth.mode off needs a loopback http.addr"},
		{name: "both jwks", yaml: "auth: {clients: [{id: c, jwks: '{}', jwks_file: x, scopes: [system/*.rs]}]}\n", wantErr: "exactly one of jwks and jwks_file"},
		{name: "no jwks", yaml: "auth: {clients: [{id: c, scopes: [system/*.rs]}]}\n", wantErr: "exactly one of jwks and jwks_file"},
		{name: "missing jwks file", yaml: "auth: {clients: [{id: c, jwks_file: " + filepath.Join(dir, "none") + ", scopes: [system/*.rs]}]}\n", wantErr: "jwks_file"},
		{name: "bad hash", yaml: "auth: {tokens: [{name: t, sha256: secret, scopes: [radbridge/api.read]}]}\n", wantErr: "64 hex digits"},
		{name: "user scope", yaml: "auth: {tokens: [{name: t, sha256: " + hash + ", scopes: [user/*.read]}]}\n", wantErr: "not granted to backend clients"},
		{name: "unknown key", yaml: "auth: {token: []}\n", wantErr: "field token not found"},
		{name: "tls key alone", yaml: "http: {tls: {key: k.pem}}\n", wantErr: "http.tls: cert and key go together"},
		{name: "client CA alone", yaml: "http: {tls: {client_ca: ca.pem}}\n", wantErr: "http.tls.client_ca needs"},
		{name: "origin with a path", yaml: "http: {cors: {allow_origins: [\"https://a.example/app\"]}}\n", wantErr: "scheme://host[:port] exactly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "radbridge.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := loadConfig(path)
			if err == nil {
				c.defaults()
				err = c.validate()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ac, err := c.authConfig()
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "defaults" {
				if c.HTTP.Addr != "127.0.0.1:8080" || c.MLLP.Addr != ":2575" || ac.Off || len(ac.Tokens) != 0 {
					t.Errorf("defaults: http.addr %q, mllp.addr %q, auth off %v; want loopback HTTP, MLLP :2575, auth on", c.HTTP.Addr, c.MLLP.Addr, ac.Off)
				}
				return
			}
			if ac.Off || ac.Issuer != "https://rb.example.org" || len(ac.Tokens) != 1 || len(ac.Clients) != 3 || len(ac.AllowOrigins) != 1 {
				t.Errorf("auth config %+v", ac)
			}
		})
	}
}

// Without auth.issuer, the issuer is http.base_url's origin.
func TestConfig_AuthIssuerFromBaseURL(t *testing.T) {
	c := new(config)
	c.HTTP.BaseURL = "https://rb.example.org/fhir"
	c.defaults()
	ac, err := c.authConfig()
	if err != nil || ac.Issuer != "https://rb.example.org" {
		t.Errorf("issuer %q (%v), want https://rb.example.org", ac.Issuer, err)
	}
}

// max_orders_per_message reaches the engine: check, serve's offline twin, refuses a
// message with more orders than it allows.
func TestConfig_MaxOrdersPerMessage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "radbridge.yaml")
	if err := os.WriteFile(path, []byte("max_orders_per_message: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	msg := "MSH|^~\\&|EHR|HOSP_A|RB|IMG|20261122||ORM^O01|MX1|P|2.5.1\rPID|1||M1\r" +
		"ORC|NW|PX1\rOBR|1|PX1||70553^MRI^C4\rORC|NW|PX2\rOBR|2|PX2||70553^MRI^C4\r"
	file := filepath.Join(dir, "two.hl7")
	if err := os.WriteFile(file, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stdout, stderr := runCmd(t, "check", "--json", "--config", path, file)
	lines := decodeLines(t, stdout)
	if len(lines) != 1 || lines[0]["ack_code"] != "AR" || !strings.Contains(stdout, `"location":"ORC(2)"`) {
		t.Errorf("check with max_orders_per_message 1: %s %s, want AR at ORC(2)", stdout, stderr)
	}
	if err := os.WriteFile(path, []byte("max_orders_per_message: -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(path)
	if err == nil {
		c.defaults()
		err = c.validate()
	}
	if err == nil || !strings.Contains(err.Error(), "max_orders_per_message") {
		t.Errorf("max_orders_per_message -1: %v, want an error naming it", err)
	}
}

// TestConfig_PriorAuthExample loads the prior_auth example of rules.Config's doc
// comment (the config docs) with serve's strict decoder, and builds its checker.
func TestConfig_PriorAuthExample(t *testing.T) {
	src, err := os.ReadFile("../../rules/config.go")
	if err != nil {
		t.Fatal(err)
	}
	var yaml []string
	in := false
	for _, line := range strings.Split(string(src), "\n") {
		switch {
		case strings.HasPrefix(line, "//\tprior_auth:"):
			in = true
		case in && !strings.HasPrefix(line, "//\t"):
			in = false
		}
		if in {
			yaml = append(yaml, strings.TrimPrefix(line, "//\t"))
		}
	}
	if len(yaml) < 10 {
		t.Fatalf("no prior_auth example found in rules/config.go (%d lines)", len(yaml))
	}
	dir := t.TempDir()
	networks := filepath.Join(dir, "networks.csv")
	os.WriteFile(networks, []byte("payer,plan,network,facility_npi,effective_from,effective_to\n"), 0o600)
	doc := strings.ReplaceAll(strings.Join(yaml, "\n"), "/etc/radbridge/networks.csv", networks)
	path := filepath.Join(dir, "radbridge.yaml")
	os.WriteFile(path, []byte(doc), 0o600)
	c, err := loadConfig(path)
	if err != nil {
		t.Fatalf("loadConfig(example): %v\n%s", err, doc)
	}
	c.defaults()
	if err := c.validate(); err != nil {
		t.Fatalf("validate(example): %v", err)
	}
	if _, err := c.checker(); err != nil {
		t.Fatalf("checker(example): %v", err)
	}
	ppo := c.PriorAuth.Payers[0]
	if ppo.Match.PlanType != "PPO" || ppo.Match.PayerID != "KPWA" || len(ppo.ExemptSettings) != 4 ||
		ppo.ExemptSettings[0].Within != 24*time.Hour || ppo.Eligibility.URL == "" {
		t.Errorf("example PPO profile = %+v", ppo)
	}

	// An empty exempt_settings list is not the default list: it exempts nothing.
	os.WriteFile(path, []byte("prior_auth:\n  payers:\n    - id: P\n      exempt_settings: []\n"), 0o600)
	c, err = loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if es := c.PriorAuth.Payers[0].ExemptSettings; es == nil || len(es) != 0 {
		t.Errorf("exempt_settings: [] decodes to %#v, want an empty, non-nil list", es)
	}
}
