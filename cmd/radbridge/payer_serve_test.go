package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/internal/enginetest"
)

// TestServe_payerWorkflow: radbridge serve with a payer profile whose PAS endpoint is a
// loopback payer approving with the corpus approval: an order sent over MLLP is
// submitted and approved, /metrics counts no overdue case for the payer, and CDS Hooks
// discovery is served without a token while a hook call without one is refused.
func TestServe_payerWorkflow(t *testing.T) {
	approval, err := os.ReadFile(filepath.Join("..", "..", "testdata", "priorauth", "pas", "br-payer__ClaimResponse-PractitionerRequestorResponseExample.json"))
	if err != nil {
		t.Fatal(err)
	}
	var auth atomic.Value
	payer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		var req struct {
			Entry []struct {
				Resource struct {
					Identifier []struct{ Value string } `json:"identifier"`
				} `json:"resource"`
			} `json:"entry"`
		}
		if r.URL.Path != "/fhir/Claim/$submit" || json.NewDecoder(r.Body).Decode(&req) != nil || len(req.Entry) == 0 {
			http.Error(w, "not a PAS request", http.StatusBadRequest)
			return
		}
		claim := req.Entry[0].Resource.Identifier[0].Value
		cr := strings.Replace(string(approval), `"request":{"reference":"Claim/ReferralAuthorizationExample"}`,
			`"request":{"identifier":{"value":"`+claim+`"}}`, 1)
		io.WriteString(w, `{"resourceType":"Bundle","type":"collection","entry":[{"resource":`+cr+`}]}`)
	}))
	defer payer.Close()
	dir := t.TempDir()
	token := filepath.Join(dir, "aetna.token")
	if err := os.WriteFile(token, []byte("t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "radbridge.yaml")
	if err := os.WriteFile(cfg, []byte(`prior_auth:
  payers:
    - id: AETNA01
      pas: {url: "`+payer.URL+`/fhir", token_file: `+token+`}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, filepath.Join(dir, "data"), "--config", cfg)
	orm := enginetest.RadiologyORM("PA-1", "PWF1", func(s string) string { return strings.Replace(s, "|AUTH-1", "", 1) })
	ack, err := (&mllp.Client{Addr: srv.mllp, CheckAck: hl7.CheckAck}).Send(t.Context(), orm)
	if err != nil {
		t.Fatalf("send: %v (%q)", err, ack)
	}
	deadline := time.Now().Add(15 * time.Second)
	var list struct {
		Items []struct {
			ID            string
			Status        string
			Authorization map[string]any
		}
	}
	for {
		srv.getJSON(t, "/api/orders?placer=PWF1", &list)
		if len(list.Items) == 1 && list.Items[0].Status == "ready" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(list.Items) != 1 || list.Items[0].Status != "ready" || list.Items[0].Authorization["status"] != "approved" ||
		list.Items[0].Authorization["number"] != "AUTH0001" || auth.Load() != "Bearer t0ken" {
		b, _ := os.ReadFile(srv.log.Name())
		t.Fatalf("orders %+v, payer saw Authorization %v\n%s", list.Items, auth.Load(), b)
	}
	mreq, err := http.NewRequest(http.MethodGet, "http://"+srv.web+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	mreq.Header.Set("Authorization", "Bearer "+srv.token)
	resp, err := http.DefaultClient.Do(mreq)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`radbridge_pa_overdue{payer="AETNA01"} 0`, `radbridge_pa_overdue{payer="other"} 0`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	var disc struct{ Services []struct{ ID string } }
	srv.getJSON(t, "/cds-services", &disc)
	if len(disc.Services) != 2 {
		t.Errorf("discovery %+v", disc)
	}
	resp, err = http.Post("http://"+srv.web+"/cds-services/radbridge-order-sign", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a hook call without a JWT answered %d, want 401", resp.StatusCode)
	}
}
